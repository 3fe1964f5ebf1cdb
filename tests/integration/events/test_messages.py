"""Messages on the real stack: a message start event, a message delivered to a waiting instance,
and a message thrown by one instance and correlated by a worker to another."""
from __future__ import annotations

import pytest

from apps.events.models import Message
from apps.events.services import message_correlate
from apps.instances.services import instance_start
from apps.instances.models import InstanceState, ProcessInstance, Variable

pytestmark = pytest.mark.django_db(transaction=True)

DEFINITIONS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{pid}" targetNamespace="t">
  <bpmn:message id="m_order" name="itest order placed"/>
  <bpmn:message id="m_paid" name="itest paid"/>
  <bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""

ORDER_START = DEFINITIONS.format(pid="itest_orders", body="""
    <bpmn:startEvent id="placed"><bpmn:messageEventDefinition messageRef="m_order"/></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_paid"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="placed" targetRef="wait_paid"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_paid" targetRef="end"/>""")

PAYER = DEFINITIONS.format(pid="itest_payer", body="""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateThrowEvent id="pay"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pay"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="end"/>""")


def in_state(instance_id: int, state: str, active: list[str] | None = None):
    instance = ProcessInstance.objects.filter(pk=instance_id, state=state).first()
    if instance is not None and active is not None and instance.active_elements != active:
        return None
    return instance


def test_a_message_starts_an_instance_which_then_waits_for_and_takes_the_next(worker, deploy, wait_until):
    definition = deploy(ORDER_START)
    outcome = message_correlate(name="itest order placed", correlation_key="A-17", variables={"qty": 2})
    [instance] = ProcessInstance.objects.filter(definition=definition)
    assert outcome == {"delivered_to": [], "started": [instance.pk], "buffered": False}
    assert instance.business_key == "A-17"
    wait_until(lambda: in_state(instance.pk, InstanceState.RUNNING, ["wait_paid"]), what="it waits for the payment",
               instance_id=instance.pk)
    assert message_correlate(name="itest paid", correlation_key="A-17", variables={"paid": True},
                             message_id="pay-A-17")["delivered_to"] == [instance.pk]
    wait_until(lambda: in_state(instance.pk, InstanceState.COMPLETED), what="the payment completes it",
               instance_id=instance.pk)
    assert dict(Variable.objects.filter(instance_id=instance.pk).values_list("name", "value")) == {
        "qty": 2, "paid": True}


def test_a_message_thrown_by_an_instance_reaches_the_one_waiting(worker, deploy, wait_until):
    deploy(ORDER_START)
    message_correlate(name="itest order placed", correlation_key="B-1")
    [waiting] = ProcessInstance.objects.filter(definition__key="itest_orders")
    wait_until(lambda: in_state(waiting.pk, InstanceState.RUNNING, ["wait_paid"]), what="it waits",
               instance_id=waiting.pk)
    thrower = instance_start(definition=deploy(PAYER))
    wait_until(lambda: in_state(thrower.pk, InstanceState.COMPLETED), what="the payer completes",
               instance_id=thrower.pk)
    wait_until(lambda: in_state(waiting.pk, InstanceState.COMPLETED), what="the thrown message completes the order",
               instance_id=waiting.pk)
    assert Message.objects.get(consumed_by_id=waiting.pk, name="itest paid").message_id.startswith(
        f"baton:{thrower.pk}:")
