"""Engine-level guarantees: determinism, JSON state, chunking, the step cap, cancel."""
from __future__ import annotations

import json

import pytest

from orchestrator.errors import InvalidTransition, VariableError
from orchestrator.runtime.commands import CancelJob, ContinueLater, OpenIncident, command_from_dict
from orchestrator.runtime.engine import Engine
from orchestrator.runtime.events import (
    Cancel, Continue, JobCompleted, SetVariables, Start, event_from_dict,
)
from orchestrator.runtime.state import SCHEMA_VERSION, StateVersionError, migrate
from tests.engine.builder import Model, completed_ids, job_at


def _chain(n: int) -> Model:
    m = Model().start()
    ids = ["start"]
    for i in range(n):
        m.script(f"s{i}", "x = x + 1")
        ids.append(f"s{i}")
    m.end()
    m.chain(*ids, "end")
    return m


def _loop() -> Model:
    m = Model().start().xor("merge").script("inc", "n = n + 1").xor("again", default="again_out").end()
    m.chain("start", "merge", "inc", "again").flow("again", "merge", "n < limit").flow("again", "end")
    return m


def test_state_is_json_and_carries_its_schema_version():
    m = Model().start().user("u").end()
    m.chain("start", "u", "end")
    state = m.engine().start({"a": [1, {"b": None}]}).state
    assert state["schema_version"] == SCHEMA_VERSION
    assert json.loads(json.dumps(state)) == state


def test_a_step_is_deterministic_and_does_not_touch_the_callers_state():
    m = Model().start().par("f").user("a").user("b").par("j").end()
    m.chain("start", "f").flow("f", "a").flow("f", "b").chain("a", "j").chain("b", "j").chain("j", "end")
    engine = m.engine()
    state = engine.start().state
    before = json.dumps(state, sort_keys=True)
    job = job_at(state, "a")
    one = engine.handle(state, JobCompleted(job, {"v": 1}))
    two = engine.handle(json.loads(before), JobCompleted(job, {"v": 1}))
    assert json.dumps(state, sort_keys=True) == before
    assert one.state == two.state
    assert [c.to_dict() for c in one.commands] == [c.to_dict() for c in two.commands]


def test_a_step_survives_a_json_round_trip_between_events():
    m = Model().start().user("a").user("b").end()
    m.chain("start", "a", "b", "end")
    engine = m.engine()
    state = json.loads(json.dumps(engine.start().state))
    state = json.loads(json.dumps(engine.handle(state, JobCompleted(job_at(state, "a"), {})).state))
    done = engine.handle(state, JobCompleted(job_at(state, "b"), {}))
    assert done.status == "completed"


def test_chunking_stops_after_n_steps_and_continue_finishes_the_same_way():
    model = _chain(25)
    whole = model.engine(chunk_steps=None).start({"x": 0})
    chunked_engine = model.engine(chunk_steps=10)
    result = chunked_engine.start({"x": 0})
    rounds = 1
    while result.more_work:
        assert result.steps == 10
        assert isinstance(result.commands[-1], ContinueLater)
        result = chunked_engine.handle(result.state, Continue())
        rounds += 1
    assert rounds == 3  # 27 steps: 10 + 10 + 7
    assert result.status == "completed"
    assert result.state["variables"] == whole.state["variables"] == {"x": 25}
    assert result.state["steps"] == whole.state["steps"] == 27


def test_continue_with_nothing_queued_is_ignored():
    m = Model().start().user("u").end()
    m.chain("start", "u", "end")
    engine = m.engine()
    assert engine.handle(engine.start().state, Continue()).ignored == "nothing left to continue"


def test_a_runaway_loop_stops_at_the_step_cap_with_an_incident():
    result = _loop().engine(step_cap=500, chunk_steps=None).start({"n": 0, "limit": 10**9})
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert "cap of 500 steps" in incident.message
    assert result.status == "running"
    assert result.state["steps"] == 500


def test_a_ten_thousand_iteration_loop_and_a_ten_thousand_step_chain_finish():
    loop = _loop().engine(chunk_steps=None).start({"n": 0, "limit": 10_000})
    assert loop.status == "completed" and loop.state["variables"]["n"] == 10_000
    chain = _chain(10_000).engine(chunk_steps=None).start({"x": 0})
    assert chain.status == "completed" and chain.state["variables"]["x"] == 10_000
    # the state does not grow with the steps taken: no history is kept in it
    assert len(json.dumps(chain.state)) < 1_000


def test_cancel_removes_every_token_and_cancels_open_jobs():
    m = Model().start().par("f").service("job", "echo").user("person").par("j").end()
    m.chain("start", "f").flow("f", "job").flow("f", "person").chain("job", "j").chain("person", "j").chain("j", "end")
    engine = m.engine()
    state = engine.start().state
    cancelled = engine.handle(state, Cancel())
    assert cancelled.status == "cancelled"
    assert cancelled.state["tokens"] == {} and cancelled.state["jobs"] == {}
    assert sorted(c.element for c in cancelled.commands if isinstance(c, CancelJob)) == ["job", "person"]
    late = engine.handle(cancelled.state, JobCompleted(job_at(state, "job"), {"x": 1}))
    assert late.ignored == "the instance is cancelled"


def test_set_variables_validates_values_and_records_changes():
    m = Model().start().user("u").end()
    m.chain("start", "u", "end")
    engine = m.engine()
    state = engine.start({"a": 1, "b": 2}).state
    result = engine.handle(state, SetVariables(set={"a": 5}, delete=["b"]))
    assert result.state["variables"] == {"a": 5}
    assert result.changed_variables == {"a"} and result.deleted_variables == {"b"}
    with pytest.raises(VariableError, match="'bad'"):
        engine.handle(state, SetVariables(set={"bad": object()}))


def test_start_refuses_variables_that_cannot_be_stored():
    m = Model().start().end()
    m.chain("start", "end")
    with pytest.raises(VariableError, match="'when'"):
        m.engine().start({"when": {1, 2}})


def test_events_and_commands_round_trip_through_dicts():
    event = JobCompleted("7", {"a": 1})
    assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event
    assert event_from_dict(Start(variables={"x": 1}).to_dict()) == Start(variables={"x": 1})
    command = OpenIncident(incident="3", token="1", element="e", message="m")
    assert command_from_dict(json.loads(json.dumps(command.to_dict()))) == command


def test_an_event_without_state_is_refused():
    m = Model().start().end()
    m.chain("start", "end")
    with pytest.raises(InvalidTransition):
        m.engine().handle(None, Continue())


def test_state_from_a_newer_engine_is_refused():
    with pytest.raises(StateVersionError):
        migrate({"schema_version": SCHEMA_VERSION + 1})


def test_history_lists_flow_nodes_and_sequence_flows_in_order():
    m = Model().start().task("t").end()
    m.chain("start", "t", "end")
    history = m.engine().start().history
    assert [(h["event"], h["element"]) for h in history] == [
        ("started", "start"), ("completed", "start"), ("flow", "start_t"),
        ("started", "t"), ("completed", "t"), ("flow", "t_end"),
        ("started", "end"), ("completed", "end"),
    ]
    assert completed_ids(history) == ["start", "t", "end"]


def test_engine_can_be_built_once_and_reused_for_many_instances():
    engine: Engine = _chain(3).engine()
    results = [engine.start({"x": i}) for i in range(5)]
    assert [r.state["variables"]["x"] for r in results] == [3, 4, 5, 6, 7]


def test_chain_after_predicts_the_service_tasks_that_certainly_run_next():
    m = Model().start().service("a", "p1").script("calc", "x = 1").service("b", "p2").task("t").service("c", "p3")
    m.xor("choose").service("d", "p4").end()
    m.chain("start", "a", "calc", "b", "t", "c", "choose").flow("choose", "d").chain("d", "end")
    exe = m.engine().exe
    assert exe.chain_after("a") == ("b", "c")
    assert exe.chain_after("b") == ("c",)
    assert exe.chain_after("c") == ()  # a gateway comes next: the path is not certain
    assert exe.chain_after("a", limit=1) == ("b",)


def test_chain_after_stops_at_joins_conditions_and_waits():
    m = Model().start().service("a", "p").user("u").service("b", "p").par("j").service("c", "p").end()
    m.chain("start", "a", "u", "b", "j", "c", "end")
    exe = m.engine().exe
    assert exe.chain_after("a") == ()
    m2 = Model().start().service("a", "p").service("b", "p").end()
    m2.chain("start", "a").flow("a", "b", "x > 1").chain("b", "end")
    assert m2.engine().exe.chain_after("a") == ()


def test_set_variables_runs_no_queued_work_so_it_is_safe_where_no_user_code_may_run():
    model = _chain(5)
    engine = model.engine(chunk_steps=3)
    first = engine.start({"x": 0})
    assert first.more_work
    changed = engine.handle(first.state, SetVariables(set={"note": "hi"}))
    assert changed.steps == 0 and changed.state["queue"] == first.state["queue"]
    assert changed.state["variables"]["x"] == first.state["variables"]["x"]
    finished = engine.handle(changed.state, Continue())
    while finished.more_work:
        finished = engine.handle(finished.state, Continue())
    assert finished.state["variables"] == {"x": 5, "note": "hi"}
