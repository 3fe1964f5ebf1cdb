"""`manage.py message NAME --key K --vars JSON`: the same correlation as the service, JSON out,
exit 2 with one line on stderr for bad input."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.instances import services as instances
from tests.api.events.conftest import drain, model, reload, variables

pytestmark = pytest.mark.django_db

WAIT_PAID = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
""", "waiter", '<bpmn:message id="m_paid" name="paid"/>')


def message(*arguments: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("message", *arguments, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_the_command_delivers_and_prints_one_json_object(deploy, db_clock):
    instance = instances.instance_start(definition=deploy(WAIT_PAID), business_key="order-1")
    drain()
    code, out, _ = message("paid", "--key", "order-1", "--vars", '{"amount": 3}', "--id", "cli-1")
    assert code == 0
    assert json.loads(out) == {"delivered_to": [instance.pk], "started": [], "buffered": False}
    drain()
    assert reload(instance).state == "completed" and variables(instance)["amount"] == 3
    assert json.loads(message("paid", "--key", "order-1", "--id", "cli-1")[1])["delivered_to"] == [instance.pk]


def test_nobody_waiting_the_command_buffers(db, db_clock):
    code, out, _ = message("paid", "--ttl", "60")
    assert (code, json.loads(out)) == (0, {"delivered_to": [], "started": [], "buffered": True})


@pytest.mark.parametrize("arguments, says", [
    (["paid", "--vars", "{nope"], "--vars is not valid JSON"),
    (["paid", "--vars", "[1]"], "--vars must be a JSON object"),
    (["paid", "--ttl", "-1"], "ttl must be a number of seconds >= 0"),
])
def test_bad_input_exits_2_with_one_line(db, db_clock, arguments, says):
    code, out, err = message(*arguments)
    assert code == 2 and out == ""
    assert err.startswith("message: ") and says in err and err.count("\n") <= 1
