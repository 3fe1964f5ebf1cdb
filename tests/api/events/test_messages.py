"""Messages through `message_correlate` and the in-process workers: delivery by name and key,
message ids applied once, the buffer (a message that arrives before its catch event), message
start events, several receivers, a race with a timer at an event-based gateway, and messages
thrown by an instance."""
from __future__ import annotations

import pytest

from apps.definitions.errors import Conflict, InvalidInput
from apps.events import services
from apps.events.models import EventSubscription, Message, Timer, TimerState
from apps.events.services import message_correlate
from apps.instances import services as instances
from apps.instances.models import PendingEvent, ProcessInstance
from tests.api.events.conftest import drain, model, reload, variables

pytestmark = pytest.mark.django_db

MESSAGES = '<bpmn:message id="m_paid" name="paid"/><bpmn:message id="m_order" name="order placed"/>'

WAIT_PAID = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
""", "waiter", MESSAGES)

RECEIVE_PAID = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:receiveTask id="receive" messageRef="m_paid"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="receive"/>
    <bpmn:sequenceFlow id="f2" sourceRef="receive" targetRef="end"/>
""", "receiver", MESSAGES)

ORDER_START = model("""
    <bpmn:startEvent id="placed"><bpmn:messageEventDefinition messageRef="m_order"/></bpmn:startEvent>
    <bpmn:userTask id="pack"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="placed" targetRef="pack"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pack" targetRef="end"/>
""", "orders", MESSAGES)

RACE = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:eventBasedGateway id="gw"/>
    <bpmn:intermediateCatchEvent id="on_paid"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="on_late">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT10S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="paid_end"/>
    <bpmn:endEvent id="late_end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="on_paid"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="on_late"/>
    <bpmn:sequenceFlow id="f4" sourceRef="on_paid" targetRef="paid_end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="on_late" targetRef="late_end"/>
""", "race", MESSAGES)

THROW_PAID = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateThrowEvent id="send"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send"/>
    <bpmn:sequenceFlow id="f2" sourceRef="send" targetRef="end"/>
""", "payer", MESSAGES)


def waiting(definition, business_key: str | None = "order-1") -> ProcessInstance:
    instance = instances.instance_start(definition=definition, business_key=business_key)
    drain()
    return reload(instance)


def received(instance: ProcessInstance) -> list[dict]:
    return [e.event for e in PendingEvent.objects.filter(instance=instance).order_by("id")
            if e.event["type"] == "message_received"]


def ended_at(instance: ProcessInstance) -> list[str]:
    return list(instance.history.filter(element_type="endEvent").values_list("element_id", flat=True))


# -- delivery ----------------------------------------------------------------------------------

def test_a_subscription_is_a_row_keyed_by_the_business_key(deploy, db_clock):
    instance = waiting(deploy(WAIT_PAID))
    [row] = EventSubscription.objects.filter(instance=instance)
    assert (row.kind, row.name, row.key, row.element) == ("message", "paid", "order-1", "wait")


def test_a_message_goes_to_the_instance_waiting_with_its_key(deploy, db_clock):
    definition = deploy(WAIT_PAID)
    other = waiting(definition, "order-2")
    instance = waiting(definition, "order-1")
    outcome = message_correlate(name="paid", correlation_key="order-1", variables={"amount": 10})
    assert outcome == {"delivered_to": [instance.pk], "started": [], "buffered": False}
    drain()
    assert reload(instance).state == "completed" and variables(instance)["amount"] == 10
    assert reload(other).state == "running"
    assert not EventSubscription.objects.filter(instance=instance).exists()


def test_a_receive_task_takes_a_message_too(deploy, db_clock):
    instance = waiting(deploy(RECEIVE_PAID))
    assert message_correlate(name="paid", correlation_key="order-1")["delivered_to"] == [instance.pk]
    drain()
    assert reload(instance).state == "completed"


def test_a_message_without_a_key_goes_to_the_one_instance_waiting_for_its_name(deploy, db_clock):
    instance = waiting(deploy(WAIT_PAID))
    assert message_correlate(name="paid")["delivered_to"] == [instance.pk]


def test_a_message_with_an_other_key_is_not_delivered(deploy, db_clock):
    instance = waiting(deploy(WAIT_PAID))
    assert message_correlate(name="paid", correlation_key="order-9") == {
        "delivered_to": [], "started": [], "buffered": True}
    drain()
    assert reload(instance).state == "running"


def test_a_message_delivered_twice_with_one_message_id_is_applied_once(deploy, db_clock):
    instance = waiting(deploy(WAIT_PAID))
    first = message_correlate(name="paid", correlation_key="order-1", variables={"n": 1}, message_id="pay-77")
    second = message_correlate(name="paid", correlation_key="order-1", variables={"n": 2}, message_id="pay-77")
    assert first == second == {"delivered_to": [instance.pk], "started": [], "buffered": False}
    drain()
    assert len(received(instance)) == 1 and variables(instance)["n"] == 1
    assert Message.objects.filter(message_id="pay-77").count() == 1


def test_a_buffered_message_id_repeated_is_buffered_once(deploy, db_clock):
    assert message_correlate(name="paid", correlation_key="k", message_id="m-1")["buffered"] is True
    assert message_correlate(name="paid", correlation_key="k", message_id="m-1")["buffered"] is True
    assert Message.objects.filter(buffered=True).count() == 1


def test_several_waiting_is_a_conflict_unless_correlated_to_all(deploy, db_clock):
    definition = deploy(WAIT_PAID)
    one, two = waiting(definition, "a"), waiting(definition, "b")
    with pytest.raises(Conflict) as refused:
        message_correlate(name="paid")
    assert "2 instances wait for message 'paid'" in refused.value.message
    outcome = message_correlate(name="paid", all=True, variables={"x": 1})
    assert sorted(outcome["delivered_to"]) == sorted([one.pk, two.pk])
    drain()
    assert reload(one).state == reload(two).state == "completed"


def test_bad_input_is_refused(db, db_clock):
    with pytest.raises(InvalidInput):
        message_correlate(name="")
    with pytest.raises(InvalidInput):
        message_correlate(name="paid", variables=["not", "an", "object"])
    with pytest.raises(InvalidInput):
        message_correlate(name="paid", ttl=-1)
    with pytest.raises(InvalidInput):
        message_correlate(name="paid", variables={"$bad": {"$type": "date", "value": "x"}})


# -- the buffer ----------------------------------------------------------------------------------

def test_a_message_that_arrives_before_its_subscription_is_buffered_then_delivered(deploy, db_clock):
    definition = deploy(WAIT_PAID)
    instance = instances.instance_start(definition=definition, business_key="order-1")  # its first step has not run
    outcome = message_correlate(name="paid", correlation_key="order-1", variables={"amount": 5})
    assert outcome == {"delivered_to": [], "started": [], "buffered": True}
    drain()  # the first step subscribes and finds the message in the buffer
    instance = reload(instance)
    assert instance.state == "completed" and variables(instance)["amount"] == 5
    message = Message.objects.get(name="paid")
    assert (message.buffered, message.consumed_by_id) == (False, instance.pk)


def test_a_buffered_message_goes_once_to_the_first_subscription(deploy, db_clock):
    definition = deploy(WAIT_PAID)
    message_correlate(name="paid")
    first = waiting(definition, "a")
    second = waiting(definition, "b")
    assert reload(first).state == "completed" and reload(second).state == "running"


def test_an_expired_message_is_not_delivered(deploy, db_clock):
    message_correlate(name="paid", correlation_key="order-1", ttl=10)
    db_clock.advance(11)
    instance = waiting(deploy(WAIT_PAID))
    assert reload(instance).state == "running"


def test_a_message_with_ttl_zero_is_not_kept(deploy, db_clock):
    assert message_correlate(name="paid", correlation_key="order-1", ttl=0)["buffered"] is False
    assert reload(waiting(deploy(WAIT_PAID))).state == "running"


def test_messages_are_forgotten_after_their_retention(deploy, db_clock, settings):
    message_correlate(name="paid", message_id="old", ttl=10)
    db_clock.advance(10 + settings.BATON_MESSAGE_RETENTION + 1)
    assert services.messages_purge() == 1
    assert not Message.objects.exists()


# -- message start events --------------------------------------------------------------------------

def test_a_message_start_event_starts_the_latest_version_with_the_message_variables(deploy, db_clock):
    deploy(ORDER_START)
    latest = deploy(ORDER_START.replace('id="pack"', 'id="pack" name="Pack it"'))
    outcome = message_correlate(name="order placed", correlation_key="A-17", variables={"qty": 2})
    [instance] = ProcessInstance.objects.all()
    assert outcome == {"delivered_to": [], "started": [instance.pk], "buffered": False}
    assert instance.definition_id == latest.pk and instance.business_key == "A-17"
    drain()
    instance = reload(instance)
    assert instance.active_elements == ["pack"] and variables(instance) == {"qty": 2}


def test_a_waiting_instance_wins_over_a_message_start_event(deploy, db_clock):
    starter = deploy(model("""
        <bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:startEvent>
        <bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>""", "starter", MESSAGES))
    instance = waiting(deploy(WAIT_PAID))
    assert message_correlate(name="paid", correlation_key="order-1")["delivered_to"] == [instance.pk]
    assert not ProcessInstance.objects.filter(definition=starter).exists()


def test_a_retired_version_is_not_started_by_its_message(deploy, db_clock):
    from apps.definitions.services import definition_retire

    definition_retire(definition=deploy(ORDER_START))
    assert message_correlate(name="order placed")["buffered"] is True
    assert not ProcessInstance.objects.exists()


# -- a timer and a message racing at an event-based gateway --------------------------------------

def test_race_the_timer_recorded_first_wins_and_the_message_goes_back_to_the_buffer(deploy, db_clock):
    instance = waiting(deploy(RACE))
    db_clock.advance(10)
    assert services.timers_sweep() == 1  # TimerFired recorded, not yet applied
    assert message_correlate(name="paid", correlation_key="order-1")["delivered_to"] == [instance.pk]
    drain()
    instance = reload(instance)
    assert instance.state == "completed" and ended_at(instance) == ["late_end"]
    message = Message.objects.get(name="paid")
    assert (message.buffered, message.consumed_by_id, message.redeliveries) == (True, None, 1)


def test_race_the_message_recorded_first_wins_and_the_timer_changes_nothing(deploy, db_clock):
    instance = waiting(deploy(RACE))
    message_correlate(name="paid", correlation_key="order-1", variables={"paid": True})
    db_clock.advance(10)
    services.timers_sweep()
    drain()
    instance = reload(instance)
    assert instance.state == "completed" and ended_at(instance) == ["paid_end"]
    assert variables(instance)["paid"] is True
    assert Timer.objects.get(instance=instance).state in (TimerState.FIRED, TimerState.CANCELLED)


def test_race_a_message_its_instance_ignored_goes_to_another_instance_waiting_for_it(deploy, db_clock):
    definition = deploy(RACE)
    first = waiting(definition, "order-1")
    db_clock.advance(10)
    services.timers_sweep()  # the first instance's timer: recorded, not yet applied
    assert message_correlate(name="paid", correlation_key="order-1")["delivered_to"] == [first.pk]
    second = instances.instance_start(definition=definition, business_key="order-1")  # waits for it too, soon
    drain()
    assert ended_at(reload(first)) == ["late_end"]
    assert ended_at(reload(second)) == ["paid_end"]
    message = Message.objects.get(name="paid")
    assert (message.consumed_by_id, message.redeliveries) == (second.pk, 1)
    # Its first answer stays what the sender was told.
    assert message.outcome == {"delivered_to": [first.pk], "started": [], "buffered": False}


# -- messages thrown by an instance ----------------------------------------------------------------

def test_a_message_thrown_by_an_instance_is_correlated_by_a_worker(deploy, db_clock):
    receiver = waiting(deploy(WAIT_PAID), "b-1")
    payer = instances.instance_start(definition=deploy(THROW_PAID))
    drain()
    assert reload(payer).state == "completed"
    assert reload(receiver).state == "completed"
    [message] = Message.objects.filter(name="paid")
    assert message.message_id.startswith(f"baton:{payer.pk}:") and message.consumed_by_id == receiver.pk
