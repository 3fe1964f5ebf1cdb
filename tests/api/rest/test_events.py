"""/api/v1/messages/ and /api/v1/signals/: correlate and broadcast through apps.events, scoped by
the `correlate` and `signal` grants per definition key."""
from __future__ import annotations

import pytest

from apps.events.models import Message, SignalDelivery
from apps.instances import services
from apps.instances.models import ProcessInstance
from tests.api.rest.conftest import API, HEAD, TAIL, assert_error, deploy, grant, work

pytestmark = pytest.mark.django_db

ROOTS = '  <bpmn:message id="m_paid" name="paid"/>\n  <bpmn:signal id="s_stop" name="stop"/>\n'


def waiting_process(key: str, definition: str) -> str:
    """start -> a catch event (message paid or signal stop) -> end."""
    return (HEAD + ROOTS + f'  <bpmn:process id="{key}" isExecutable="true">\n'
            '    <bpmn:startEvent id="start"/>\n'
            f'    <bpmn:intermediateCatchEvent id="wait">{definition}</bpmn:intermediateCatchEvent>\n'
            '    <bpmn:endEvent id="end"/>\n'
            '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>\n'
            '    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>\n'
            "  </bpmn:process>\n" + TAIL)


PAID = '<bpmn:messageEventDefinition messageRef="m_paid"/>'
STOP = '<bpmn:signalEventDefinition signalRef="s_stop"/>'


def waiting(key: str, definition: str, business_key: str | None = None) -> int:
    instance = services.instance_start(definition=deploy(waiting_process(key, definition), f"{key}.bpmn"),
                                       business_key=business_key)
    return work(instance.pk).pk


def drain_signals() -> None:
    from apps.events.services import signal_deliver

    for delivery in SignalDelivery.objects.all():
        signal_deliver(delivery_id=delivery.pk)


def test_a_message_reaches_the_instance_waiting_with_its_key(as_admin):
    instance = waiting("orders", PAID, "A-17")
    response = as_admin.post(f"{API}/messages/", {"name": "paid", "correlation_key": "A-17",
                                                  "variables": {"amount": 3}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"delivered_to": [instance], "started": [], "buffered": False}
    assert work(instance).state == "completed"


def test_a_message_id_is_applied_once_and_nobody_waiting_buffers(as_admin):
    body = {"name": "paid", "message_id": "pay-1", "ttl": 60}
    first = as_admin.post(f"{API}/messages/", body, format="json")
    second = as_admin.post(f"{API}/messages/", body, format="json")
    assert first.json() == second.json() == {"delivered_to": [], "started": [], "buffered": True}
    assert Message.objects.count() == 1


def test_several_waiting_is_a_409_unless_all(as_admin):
    one, two = waiting("a", PAID), waiting("b", PAID)
    assert_error(as_admin.post(f"{API}/messages/", {"name": "paid"}, format="json"), 409, "conflict")
    response = as_admin.post(f"{API}/messages/", {"name": "paid", "all": True}, format="json")
    assert sorted(response.json()["delivered_to"]) == sorted([one, two])


def test_bad_message_input_is_a_400(as_admin):
    for body in ({}, {"name": ""}, {"name": "paid", "variables": [1]}, {"name": "paid", "ttl": -1},
                 {"name": "paid", "ttl": 10**12}, {"name": "x" * 256}):
        assert_error(as_admin.post(f"{API}/messages/", body, format="json"), 400, "invalid_input")


def test_a_message_reaches_only_processes_the_caller_may_correlate(as_alice, alice):
    grant(alice, "correlate", "mine")
    mine, theirs = waiting("mine", PAID), waiting("theirs", PAID)
    response = as_alice.post(f"{API}/messages/", {"name": "paid"}, format="json")  # one waits that alice may reach
    assert response.json()["delivered_to"] == [mine]
    assert work(theirs).state == "running"


def test_a_buffered_message_reaches_only_processes_its_sender_may_correlate(as_alice, alice):
    grant(alice, "correlate", "mine")
    assert as_alice.post(f"{API}/messages/", {"name": "paid"}, format="json").json()["buffered"] is True
    theirs = waiting("theirs", PAID)
    mine = waiting("mine", PAID)
    assert ProcessInstance.objects.get(pk=theirs).state == "running"
    assert ProcessInstance.objects.get(pk=mine).state == "completed"


def test_without_a_correlate_or_signal_grant_it_is_a_403(as_bob, bob):
    grant(bob, "start", "*")
    body = assert_error(as_bob.post(f"{API}/messages/", {"name": "paid"}, format="json"), 403, "permission_denied")
    assert "messages" in body["message"]
    assert_error(as_bob.post(f"{API}/signals/", {"name": "stop"}, format="json"), 403, "permission_denied")
    assert not Message.objects.exists() and not SignalDelivery.objects.exists()


def test_anonymous_is_a_401(db):
    from rest_framework.test import APIClient

    assert APIClient().post(f"{API}/messages/", {"name": "paid"}, format="json").status_code == 401


def test_a_signal_is_accepted_and_reaches_every_waiting_instance(as_admin):
    one, two = waiting("a", STOP), waiting("b", STOP)
    response = as_admin.post(f"{API}/signals/", {"name": "stop", "signal_id": "s-1"}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["instances"], body["starts"], body["signal_id"]) == (2, 0, "s-1")
    assert as_admin.post(f"{API}/signals/", {"name": "stop", "signal_id": "s-1"}, format="json").json() == body
    drain_signals()
    assert work(one).state == work(two).state == "completed"


def test_a_signal_reaches_only_processes_the_caller_may_signal(as_alice, alice):
    grant(alice, "signal", "mine")
    mine, theirs = waiting("mine", STOP), waiting("theirs", STOP)
    assert as_alice.post(f"{API}/signals/", {"name": "stop"}, format="json").json()["instances"] == 1
    drain_signals()
    assert work(mine).state == "completed" and work(theirs).state == "running"
