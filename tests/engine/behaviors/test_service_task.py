"""Service tasks: a job per visit, results merged, failures as incidents, duplicates ignored."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident, RunServiceTask
from orchestrator.runtime.events import JobCompleted, JobFailed, RetryIncident
from tests.engine.builder import Model


def _model() -> Model:
    m = Model().start().service("call", "billing.charge").end()
    m.chain("start", "call", "end")
    return m


def test_asks_for_the_plugin_and_merges_its_result():
    engine = _model().engine()
    first = engine.start({"amount": 5})
    [command] = [c for c in first.commands if isinstance(c, RunServiceTask)]
    assert (command.plugin, command.element, command.inputs) == ("billing.charge", "call", None)
    assert first.state["jobs"] == {command.job: command.token}
    done = engine.handle(first.state, JobCompleted(command.job, {"receipt": "r-1"}))
    assert done.status == "completed"
    assert done.state["variables"] == {"amount": 5, "receipt": "r-1"}
    assert done.state["jobs"] == {}


def test_a_result_variable_holds_the_whole_result():
    m = Model().start().service("call", "echo", baton__resultVariable="reply").end()
    m.chain("start", "call", "end")
    engine = m.engine()
    first = engine.start()
    done = engine.handle(first.state, JobCompleted(first.commands[0].job, {"echo": "hi"}))
    assert done.state["variables"] == {"reply": {"echo": "hi"}}


def test_a_result_that_is_not_a_dict_opens_an_incident():
    engine = _model().engine()
    first = engine.start()
    bad = engine.handle(first.state, JobCompleted(first.commands[0].job, ["not", "a", "dict"]))  # type: ignore[arg-type]
    [incident] = [c for c in bad.commands if isinstance(c, OpenIncident)]
    assert "expected a dict" in incident.message and incident.element == "call"


def test_a_failed_job_opens_an_incident_and_retry_dispatches_a_new_job():
    engine = _model().engine()
    first = engine.start()
    job = first.commands[0].job
    failed = engine.handle(first.state, JobFailed(job, "HTTP 503 after 3 attempts"))
    [incident] = [c for c in failed.commands if isinstance(c, OpenIncident)]
    assert (incident.element, incident.job, incident.message) == ("call", job, "HTTP 503 after 3 attempts")
    retried = engine.handle(failed.state, RetryIncident(incident.incident))
    [again] = [c for c in retried.commands if isinstance(c, RunServiceTask)]
    assert again.job != job and again.element == "call"
    late = engine.handle(retried.state, JobCompleted(job, {"x": 1}))
    assert late.ignored is not None and late.state["variables"] == {}


def test_duplicate_completion_is_ignored():
    engine = _model().engine()
    first = engine.start()
    job = first.commands[0].job
    done = engine.handle(first.state, JobCompleted(job, {"n": 1}))
    again = engine.handle(done.state, JobCompleted(job, {"n": 2}))
    assert again.ignored is not None
    assert again.state["variables"] == {"n": 1}


def test_an_unbound_service_task_fails_when_reached():
    m = Model().start().node("serviceTask", "java", camunda__class="org.example.Delegate").end()
    m.chain("start", "java", "end")
    result = m.engine().start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "java" and "not bound to a plugin" in incident.message
