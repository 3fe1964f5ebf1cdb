"""`manage.py start KEY ...` and `manage.py instance ID ...`.

No worker runs here: `start` only records the start. Where an instance must be somewhere known,
the test runs `instance_step`, the worker's own code, in-process. The assertions are on rows,
never on the broker (the on-commit publish never fires inside a test transaction).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.definitions.engines import _engine
from apps.definitions.services import definition_deploy, definition_retire
from apps.instances.management.commands.instance import NO_INSTANCE, NOT_AN_ID
from apps.instances.management.commands.start import (
    ALL_RETIRED, BAD_VARS_JSON, NEGATIVE_WAIT, STILL_BUSY, UNKNOWN_KEY, VARS_NOT_OBJECT,
)
from apps.instances.models import Incident, OutboxMessage, PendingEvent, ProcessInstance
from apps.instances.services import instance_start, instance_step

pytestmark = pytest.mark.django_db

ROUTE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="route" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="which"/>
    <bpmn:userTask id="big" name="Check a big amount"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="which"/>
    <bpmn:sequenceFlow id="f2" sourceRef="which" targetRef="big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="which" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &lt;= 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="big" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

CONDITION_FAILED = "condition of sequence flow 'f2' failed: name 'amount' is not defined"


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Test transactions roll back, so a definition id can come back with another model: forget
    the engines built for the ids of other tests (in production a definition never changes)."""
    _engine.cache_clear()
    yield
    _engine.cache_clear()


def _deploy(name: str = "Route"):
    result = definition_deploy(data=ROUTE.replace("{name}", name).encode(), source_name="route.bpmn", user=None)
    return result.definitions[0]


def _started(**variables) -> ProcessInstance:
    from apps.definitions.models import ProcessDefinition

    definition = ProcessDefinition.objects.get(pk=_deploy().id)
    instance = instance_start(definition=definition, variables=variables, business_key="B-1", user=None)
    instance_step(instance_id=instance.pk)  # what the worker does with the start
    return ProcessInstance.objects.get(pk=instance.pk)


def _call(command: str, *args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


# -- start -------------------------------------------------------------------------------------------

def test_start_records_the_instance_its_start_event_and_the_step_message():
    definition = _deploy()

    status, out, err = _call("start", "route", "--vars", '{"amount": 500}', "--business-key", "B-1", "--json")

    assert (status, err) == (0, "")
    instance = ProcessInstance.objects.get()
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "id": instance.pk, "definition": {"key": "route", "version": 1}, "state": "running", "suspended": False,
        "business_key": "B-1", "variables": {"amount": 500}, "active": [], "incidents": [],
        "started_at": instance.started_at.isoformat().replace("+00:00", "Z"), "ended_at": None,
    }
    assert instance.definition_id == definition.id and instance.business_key == "B-1"
    events = PendingEvent.objects.filter(instance=instance)
    assert [(event.event["type"], event.applied_at) for event in events] == [("start", None)]
    message = OutboxMessage.objects.get(task_name="baton.instance.step")
    assert (message.kwargs, message.queue) == ({"instance_id": instance.pk}, "baton.starts")


def test_start_uses_the_latest_version_that_is_not_retired():
    from apps.definitions.models import ProcessDefinition

    first = _deploy("Route")
    second = _deploy("Route, changed")
    assert (first.version, second.version) == (1, 2)

    _call("start", "route", "--json")
    definition_retire(definition=ProcessDefinition.objects.get(pk=second.id))
    _, out, _ = _call("start", "route", "--json")

    assert [i.definition.version for i in ProcessInstance.objects.order_by("id")] == [2, 1]
    assert json.loads(out)["definition"] == {"key": "route", "version": 1}


def test_start_refuses_an_unknown_key_with_one_line():
    status, out, err = _call("start", "nope", "--json")

    assert (status, out) == (2, "")
    assert err == f"start: {UNKNOWN_KEY.format(key='nope')}\n"
    assert not ProcessInstance.objects.exists()


def test_start_refuses_a_key_whose_every_version_is_retired():
    from apps.definitions.models import ProcessDefinition

    definition_retire(definition=ProcessDefinition.objects.get(pk=_deploy().id))

    status, _, err = _call("start", "route")

    assert status == 2
    assert err == f"start: {ALL_RETIRED.format(key='route')}\n"


@pytest.mark.parametrize("text, message", [
    ("{amount", BAD_VARS_JSON.format(error="Expecting property name enclosed in double quotes at character 1")),
    ("[1, 2]", VARS_NOT_OBJECT.format(kind="an array")),
    ("null", VARS_NOT_OBJECT.format(kind="null")),
])
def test_start_refuses_bad_vars_with_one_line(text, message):
    _deploy()

    status, out, err = _call("start", "route", "--vars", text, "--json")

    assert (status, out) == (2, "")
    assert err == f"start: {message}\n"
    assert not ProcessInstance.objects.exists()


def test_start_refuses_vars_that_cannot_be_stored():
    _deploy()

    status, _, err = _call("start", "route", "--vars", '{"due": {"$type": "date", "value": "2024-05-01"}}')

    assert status == 2
    assert err.startswith("start: variables: variable 'due': ") and err.count("\n") == 1
    assert not ProcessInstance.objects.exists()


def test_start_refuses_a_negative_wait():
    _deploy()

    status, _, err = _call("start", "route", "--wait", "-1")

    assert status == 2 and err == f"start: {NEGATIVE_WAIT.format(value=-1.0)}\n"


def test_start_wait_on_an_instance_nobody_advances_prints_it_running_after_the_wait():
    _deploy()

    began = time.monotonic()
    status, out, err = _call("start", "route", "--vars", '{"amount": 5}', "--wait", "0.5", "--json")
    took = time.monotonic() - began

    assert status == 0
    instance = ProcessInstance.objects.get()
    data = json.loads(out)
    assert (data["id"], data["state"], data["active"]) == (instance.pk, "running", [])
    assert err == f"start: {STILL_BUSY.format(id=instance.pk, seconds=0.5)}\n"
    assert 0.5 <= took < 5
    assert PendingEvent.objects.get(instance=instance).applied_at is None  # the command ran no step


def test_start_prints_a_summary_for_people():
    _deploy()

    status, out, _ = _call("start", "route", "--vars", '{"amount": 5}', "--business-key", "B-1")

    instance = ProcessInstance.objects.get()
    assert status == 0
    assert out.splitlines()[0] == f"instance {instance.pk}: route v1, running"
    assert "  business key  B-1" in out.splitlines()
    assert "  variables     amount = 5" in out.splitlines()


# -- instance ----------------------------------------------------------------------------------------

def test_instance_shows_an_instance_waiting_for_a_person():
    instance = _started(amount=500)

    status, out, err = _call("instance", str(instance.pk), "--json")

    assert (status, err) == (0, "")
    assert json.loads(out) == {
        "id": instance.pk, "definition": {"key": "route", "version": 1}, "state": "running", "suspended": False,
        "business_key": "B-1", "variables": {"amount": 500}, "active": [{"id": "big", "type": "userTask"}],
        "incidents": [], "started_at": instance.started_at.isoformat().replace("+00:00", "Z"), "ended_at": None,
    }


def test_instance_history_lists_the_rows_in_order_under_history():
    instance = _started(amount=500)

    status, out, _ = _call("instance", str(instance.pk), "--history", "--json")

    assert status == 0
    history = json.loads(out)["history"]
    assert [(r["element_id"], r["element_type"], r["state"]) for r in history] == [
        ("start", "startEvent", "completed"), ("f1", "sequenceFlow", "taken"),
        ("which", "exclusiveGateway", "completed"), ("f2", "sequenceFlow", "taken"), ("big", "userTask", "active"),
    ]
    assert set(history[0]) == {"element_id", "element_type", "token", "state", "started_at", "ended_at",
                               "duration_ms", "attempt", "error"}
    assert (history[-1]["ended_at"], history[-1]["duration_ms"]) == (None, None)
    assert isinstance(history[0]["duration_ms"], int) and history[0]["ended_at"].endswith("Z")


def test_instance_shows_an_open_incident_with_its_own_id():
    instance = _started()  # no amount: the gateway's condition fails

    _, out, _ = _call("instance", str(instance.pk), "--json")

    incident = Incident.objects.get(instance=instance)
    data = json.loads(out)
    assert data["state"] == "running"
    assert data["active"] == [{"id": "which", "type": "exclusiveGateway"}]
    assert data["incidents"] == [{"id": incident.pk, "element": "which", "message": CONDITION_FAILED}]


def test_instance_shows_a_completed_instance_with_its_end_time():
    instance = _started(amount=5)

    _, out, _ = _call("instance", str(instance.pk), "--json")

    data = json.loads(out)
    assert (data["state"], data["active"], data["incidents"]) == ("completed", [], [])
    assert data["ended_at"] == instance.ended_at.isoformat().replace("+00:00", "Z")


def test_typed_variables_keep_their_type_in_json_and_read_as_iso_text_for_people():
    from apps.definitions.models import ProcessDefinition

    definition = ProcessDefinition.objects.get(pk=_deploy().id)
    instance = instance_start(definition=definition, user=None, business_key=None, variables={
        "due": dt.date(2024, 5, 1), "price": Decimal("12.50"),
        "at": dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone.utc),
    })

    _, out, _ = _call("instance", str(instance.pk), "--json")
    _, text, _ = _call("instance", str(instance.pk))

    assert json.loads(out)["variables"] == {
        "at": {"$type": "datetime", "value": "2024-05-01T09:30:00+00:00"},
        "due": {"$type": "date", "value": "2024-05-01"},
        "price": {"$type": "decimal", "value": "12.50"},
    }
    lines = text.splitlines()
    assert lines[lines.index('  variables     at = "2024-05-01T09:30:00+00:00"') + 1:][:2] == [
        '                due = "2024-05-01"', '                price = "12.50"',
    ]


def test_instance_summary_for_people():
    instance = _started()

    status, out, _ = _call("instance", str(instance.pk))

    incident = Incident.objects.get(instance=instance)
    assert status == 0
    assert out.splitlines() == [
        f"instance {instance.pk}: route v1, running",
        "  business key  B-1",
        f"  started       {instance.started_at.isoformat().replace('+00:00', 'Z')}",
        "  active        which (exclusiveGateway)",
        f"  incidents     #{incident.pk} at which: {CONDITION_FAILED}",
        "  variables     none",
    ]


def test_instance_history_for_people_is_a_table():
    instance = _started(amount=500)

    _, out, _ = _call("instance", str(instance.pk), "--history")

    lines = out.splitlines()
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["element", "type", "token", "state", "started", "ms", "attempt", "error"]
    assert [line.split()[:2] for line in table[1:]] == [
        ["start", "startEvent"], ["f1", "sequenceFlow"], ["which", "exclusiveGateway"], ["f2", "sequenceFlow"],
        ["big", "userTask"],
    ]
    assert table[0].index("state") == table[-1].index("active")  # aligned columns


@pytest.mark.parametrize("text, message", [("999999", NO_INSTANCE.format(id=999999)),
                                           ("x1", NOT_AN_ID.format(text="x1"))])
def test_instance_refuses_an_unknown_id_with_one_line(text, message):
    status, out, err = _call("instance", text, "--json")

    assert (status, out) == (2, "")
    assert err == f"instance: {message}\n"
