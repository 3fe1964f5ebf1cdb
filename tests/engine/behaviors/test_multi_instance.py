"""Multi-instance activities (parallel and sequential) and standard loops."""
from __future__ import annotations

from orchestrator.runtime.commands import CancelJob, OpenIncident, RunServiceTask, Subscribe
from orchestrator.runtime.events import JobCompleted, MessageReceived
from tests.engine.builder import Model, completed_ids

MI = ('<bpmn:multiInstanceLoopCharacteristics isSequential="{seq}" camunda:collection="{coll}" '
      'camunda:elementVariable="item">{extra}</bpmn:multiInstanceLoopCharacteristics>')
IO = ('<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>'
      '<bpmn:outputDataItem id="result" name="result"/>')


def _mi_script(seq: bool, extra: str = "", coll: str = "${items}") -> Model:
    m = Model().start().node("scriptTask", "each", body=MI.format(seq=str(seq).lower(), coll=coll, extra=extra)
                             + "<bpmn:script>result = item * 10\nseen = seen + [loopCounter]</bpmn:script>").end()
    m.chain("start", "each", "end")
    return m


def test_parallel_multi_instance_runs_one_inner_instance_per_item_and_collects_in_item_order():
    result = _mi_script(False, IO).engine().start({"items": [1, 2, 3], "seen": []})
    assert result.status == "completed"
    assert result.state["variables"]["results"] == [10, 20, 30]
    assert result.state["variables"]["seen"] == [0, 1, 2]
    assert "item" not in result.state["variables"] and "result" not in result.state["variables"]
    assert completed_ids(result.history).count("each") == 4  # three inner instances, then the activity


def test_an_empty_collection_completes_at_once_with_an_empty_output():
    result = _mi_script(False, IO).engine().start({"items": [], "seen": []})
    assert result.status == "completed" and result.state["variables"]["results"] == []


def test_a_dict_collection_gives_a_dict_output_by_key():
    result = _mi_script(True, IO).engine().start({"items": {"a": 1, "b": 2}, "seen": []})
    assert result.state["variables"]["results"] == {"a": 10, "b": 20}


def test_cardinality():
    m = Model().start().node("scriptTask", "each", body=(
        '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality>'
        "</bpmn:multiInstanceLoopCharacteristics><bpmn:script>n = n + 1</bpmn:script>")).end()
    m.chain("start", "each", "end")
    assert m.engine().start({"n": 0}).state["variables"]["n"] == 3


def test_parallel_service_tasks_go_out_together_each_with_only_its_item():
    m = Model().start().node("serviceTask", "charge", baton__task="pay", body=MI.format(seq="false", coll="${items}",
                                                                                       extra=IO)).end()
    m.chain("start", "charge", "end")
    engine = m.engine()
    first = engine.start({"items": ["a", "b", "c"]})
    commands = [c for c in first.commands if isinstance(c, RunServiceTask)]
    assert [c.locals["item"] for c in commands] == ["a", "b", "c"]
    assert all(c.inputs is None for c in commands)
    state = first.state
    for command in reversed(commands):  # complete in reverse order: outputs still in item order
        state = engine.handle(state, JobCompleted(command.job, {"result": command.locals["item"].upper()})).state
    assert state["status"] == "completed"
    assert state["variables"]["results"] == ["A", "B", "C"]


def test_sequential_multi_instance_runs_one_at_a_time():
    m = Model().start().node("userTask", "review", body=MI.format(seq="true", coll="${items}", extra="")).end()
    m.chain("start", "review", "end")
    engine = m.engine()
    state = engine.start({"items": [1, 2]}).state
    jobs = list(state["jobs"])
    assert len(jobs) == 1
    state = engine.handle(state, JobCompleted(jobs[0], {})).state
    assert len(state["jobs"]) == 1 and state["status"] == "running"
    state = engine.handle(state, JobCompleted(next(iter(state["jobs"])), {})).state
    assert state["status"] == "completed"


def test_completion_condition_ends_early_and_cancels_the_rest():
    m = Model().start().node("userTask", "vote", body=MI.format(
        seq="false", coll="${voters}",
        extra="<bpmn:completionCondition>nrOfCompletedInstances &gt;= 2</bpmn:completionCondition>")).end()
    m.chain("start", "vote", "end")
    engine = m.engine()
    state = engine.start({"voters": ["a", "b", "c", "d"]}).state
    jobs = list(state["jobs"])
    state = engine.handle(state, JobCompleted(jobs[0], {})).state
    done = engine.handle(state, JobCompleted(jobs[1], {}))
    assert done.status == "completed"
    assert sorted(c.job for c in done.commands if isinstance(c, CancelJob)) == sorted(jobs[2:])


def test_an_interrupting_boundary_on_a_multi_instance_activity_stops_every_inner_instance():
    m = Model().start().node("userTask", "vote", body=MI.format(seq="false", coll="${voters}", extra=""))
    m.extra_root = '<bpmn:message id="m" name="stop"/>'
    m.node("boundaryEvent", "stop", attachedToRef="vote", body='<bpmn:messageEventDefinition messageRef="m"/>')
    m.end().end("stopped")
    m.chain("start", "vote", "end").chain("stop", "stopped")
    engine = m.engine()
    first = engine.start({"voters": ["a", "b", "c"]})
    assert len([c for c in first.commands if isinstance(c, Subscribe)]) == 1  # the body watches, once
    sub = next(c for c in first.commands if isinstance(c, Subscribe))
    done = engine.handle(first.state, MessageReceived(sub.subscription))
    assert done.status == "completed" and "stopped" in completed_ids(done.history)
    assert len([c for c in done.commands if isinstance(c, CancelJob)]) == 3
    assert done.state["tokens"] == {}


def test_multi_instance_sub_process_items_are_local_to_each_instance():
    m = Model().start().node("subProcess", "per_item", body=MI.format(seq="false", coll="${items}", extra=IO)).end()
    m.chain("start", "per_item", "end")
    m.start("s_in", scope="per_item").script("double", "result = item * 2", scope="per_item")
    m.end("e_in", scope="per_item")
    m.chain("s_in", "double", "e_in")
    result = m.engine().start({"items": [1, 2, 3]})
    assert result.status == "completed"
    assert result.state["variables"] == {"items": [1, 2, 3], "results": [2, 4, 6]}


def test_a_bad_collection_opens_an_incident_naming_it():
    result = _mi_script(False, coll="${count}").engine().start({"count": 5, "seen": []})
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "each" and "not a list or dict" in incident.message


def _loop(extra: str, test_before: bool = False) -> Model:
    body = (f'<bpmn:standardLoopCharacteristics testBefore="{str(test_before).lower()}" {extra}>'
            "<bpmn:loopCondition>not done</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
            "<bpmn:script>n = n + 1\ndone = n &gt;= stop_at</bpmn:script>")
    m = Model().start().node("scriptTask", "work", body=body).end()
    m.chain("start", "work", "end")
    return m


def test_standard_loop_runs_while_its_condition_holds_up_to_its_maximum():
    assert _loop('loopMaximum="3"').engine().start({"n": 0, "stop_at": 99, "done": False}).state["variables"]["n"] == 3
    assert _loop("").engine().start({"n": 0, "stop_at": 2, "done": False}).state["variables"]["n"] == 2
    assert _loop("", test_before=True).engine().start({"n": 0, "stop_at": 2, "done": True}).state["variables"]["n"] == 0
    assert _loop("").engine().start({"n": 0, "stop_at": 1, "done": True}).state["variables"]["n"] == 1  # tests after


def test_a_simulation_with_copied_state_applies_every_answer_of_a_step():
    """Three service jobs answered in one go: each answer goes to the newest state."""
    from orchestrator.runtime.engine import Engine, EngineOptions
    from orchestrator.runtime.simulator import Simulation

    m = Model().start().node("serviceTask", "charge", baton__task="pay", body=MI.format(seq="false", coll="${items}",
                                                                                       extra=IO)).end()
    m.chain("start", "charge", "end")
    engine = Engine.for_definitions(m.definitions(), "p", options=EngineOptions(copy_state=True))
    from datetime import datetime, timezone

    run = Simulation(engine, {"pay": {"result": 1}}, {}, None, datetime(2026, 1, 1, tzinfo=timezone.utc))
    run.begin({"items": ["a", "b", "c"]}, None)
    assert run.result().state == "completed"
    assert run.state["variables"]["results"] == [1, 1, 1]
