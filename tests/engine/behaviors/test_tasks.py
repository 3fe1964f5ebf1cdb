"""Task and manual task pass the token on; user and receive tasks wait."""
from __future__ import annotations

from orchestrator.runtime.commands import CreateUserTask, Subscribe
from orchestrator.runtime.events import JobCompleted, MessageReceived
from tests.engine.builder import Model, completed_ids, job_at


def test_task_and_manual_task_pass_through():
    m = Model().start().task("t").node("manualTask", "m").end()
    m.chain("start", "t", "m", "end")
    result = m.engine().start()
    assert result.status == "completed"
    assert completed_ids(result.history) == ["start", "t", "m", "end"]


def test_user_task_waits_and_its_completion_sets_variables():
    m = Model().start().user("approve", name="Approve", camunda__assignee="kermit",
                              camunda__candidateGroups="management, sales").end()
    m.chain("start", "approve", "end")
    engine = m.engine()
    first = engine.start({"amount": 10})
    assert first.status == "running"
    [command] = [c for c in first.commands if isinstance(c, CreateUserTask)]
    assert (command.element, command.name, command.assignee) == ("approve", "Approve", "kermit")
    assert command.candidate_groups == ["management", "sales"]
    done = engine.handle(first.state, JobCompleted(command.job, {"approved": True}))
    assert done.status == "completed"
    assert done.state["variables"] == {"amount": 10, "approved": True}
    assert done.changed_variables == {"approved"}


def test_receive_task_waits_for_its_message():
    m = Model().start().node("receiveTask", "wait", messageRef="m1").end()
    m.extra_root = '<bpmn:message id="m1" name="payment received"/>\n'
    m.chain("start", "wait", "end")
    engine = m.engine()
    first = engine.start()
    [command] = [c for c in first.commands if isinstance(c, Subscribe)]
    assert (command.kind, command.name, command.element) == ("message", "payment received", "wait")
    done = engine.handle(first.state, MessageReceived(command.subscription, {"paid": 5}))
    assert done.status == "completed" and done.state["variables"] == {"paid": 5}


def test_completing_the_same_user_task_twice_advances_once():
    m = Model().start().user("u").script("count", "n = n + 1").user("later").end()
    m.chain("start", "u", "count", "later", "end")
    engine = m.engine()
    first = engine.start({"n": 0})
    job = job_at(first.state, "u")
    once = engine.handle(first.state, JobCompleted(job, {}))
    twice = engine.handle(once.state, JobCompleted(job, {}))
    assert once.state["variables"]["n"] == 1
    assert twice.ignored is not None and "not open" in twice.ignored
    assert twice.state["variables"]["n"] == 1
