"""Script tasks: variables as names, assignment and del, incidents on failure, retry."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orchestrator.runtime.commands import OpenIncident, ResolveIncident
from orchestrator.runtime.events import RetryIncident, SetVariables
from orchestrator.runtime.variables import decode_value
from tests.engine.builder import Model, completed_ids


def _one_script(source: str) -> Model:
    m = Model().start().script("s", source).end()
    m.chain("start", "s", "end")
    return m


def test_assignments_become_variables_and_del_removes_them():
    result = _one_script("total = price * qty\ndel scratch").engine().start({"price": 3, "qty": 4, "scratch": 1})
    assert result.status == "completed"
    assert result.state["variables"] == {"price": 3, "qty": 4, "total": 12}
    assert result.changed_variables == {"total"}
    assert result.deleted_variables == {"scratch"}


def test_in_place_changes_to_a_dict_are_stored_and_functions_are_not():
    source = "def helper():\n    return 1\ntestvar['new'] = 'Test'\nsample = [x for x in items if x > helper()]"
    result = _one_script(source).engine().start({"testvar": {"a": 1}, "items": [1, 2, 3]})
    assert result.state["variables"] == {"testvar": {"a": 1, "new": "Test"}, "items": [1, 2, 3], "sample": [2, 3]}


def test_dates_and_decimals_round_trip_exactly():
    source = "due = start + timedelta(days=2)\nday = due.date()\nprice = Decimal('19.99') * 2"
    result = _one_script(source).engine().start({"start": dt.datetime(2026, 3, 28, 9, 30, tzinfo=dt.timezone.utc)})
    variables = {k: decode_value(v) for k, v in result.state["variables"].items()}
    assert variables["due"] == dt.datetime(2026, 3, 30, 9, 30, tzinfo=dt.timezone.utc)
    assert variables["day"] == dt.date(2026, 3, 30)
    assert variables["price"] == Decimal("39.98") and type(variables["price"]) is Decimal


def test_a_script_error_opens_an_incident_naming_the_element_and_retry_runs_it_again():
    engine = _one_script("ratio = a / b").engine()
    failed = engine.start({"a": 1, "b": 0})
    assert failed.status == "running"
    [incident] = [c for c in failed.commands if isinstance(c, OpenIncident)]
    assert incident.element == "s"
    assert "division by zero" in incident.message
    fixed = engine.handle(failed.state, SetVariables(set={"b": 4}))
    retried = engine.handle(fixed.state, RetryIncident(incident.incident))
    assert retried.status == "completed"
    assert retried.state["variables"]["ratio"] == 0.25
    assert [c for c in retried.commands if isinstance(c, ResolveIncident)]
    assert completed_ids(retried.history) == ["s", "end"]


def test_a_value_that_cannot_be_stored_fails_naming_the_variable():
    result = _one_script("bag = {1, 2}").engine().start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert "'bag'" in incident.message and "set" in incident.message
    assert result.state["variables"] == {}


def test_a_script_in_groovy_fails_when_reached():
    m = Model().start().node("scriptTask", "g", scriptFormat="groovy", body="<bpmn:script>x = 1</bpmn:script>").end()
    m.chain("start", "g", "end")
    result = m.engine().start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "g" and "groovy" in incident.message


def test_with_script_jobs_the_engine_asks_for_the_script_and_applies_its_result():
    from orchestrator.runtime.commands import RunScriptTask
    from orchestrator.runtime.events import JobCompleted

    engine = _one_script("total = price * qty\ndel scratch").engine(script_jobs=True)
    first = engine.start({"price": 3, "qty": 4, "scratch": 1})
    [command] = [c for c in first.commands if isinstance(c, RunScriptTask)]
    assert command.element == "s" and first.state["variables"] == {"price": 3, "qty": 4, "scratch": 1}
    outcome = engine.execute_script("s", {"price": 3, "qty": 4, "scratch": 1})
    done = engine.handle(first.state, JobCompleted(command.job, outcome.set, list(outcome.deleted)))
    assert done.status == "completed"
    assert done.state["variables"] == {"price": 3, "qty": 4, "total": 12}


def test_with_script_jobs_a_script_that_cannot_compile_fails_in_the_step():
    engine = _one_script("import os").engine(script_jobs=True)
    result = engine.start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "s" and "import" in incident.message
