"""Signals through `signal_broadcast` and the background job (`baton.signal.broadcast`, run
in-process): every subscription of the name, signal start events, signal ids applied once,
progress on the delivery row, and signals thrown by an instance."""
from __future__ import annotations

import pytest

from apps.definitions.errors import InvalidInput
from apps.events import services
from apps.events.models import SignalDelivery, SignalDeliveryState
from apps.events.services import signal_broadcast
from apps.instances import services as instances
from apps.instances.models import OutboxMessage, ProcessInstance
from tests.api.events.conftest import drain, model, reload, variables

pytestmark = pytest.mark.django_db

SIGNALS = '<bpmn:signal id="s_stop" name="stop"/>'

WAIT_STOP = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="s_stop"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
""", "stopper", SIGNALS)

STARTED_BY_STOP = model("""
    <bpmn:startEvent id="on_stop"><bpmn:signalEventDefinition signalRef="s_stop"/></bpmn:startEvent>
    <bpmn:userTask id="report"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="on_stop" targetRef="report"/>
    <bpmn:sequenceFlow id="f2" sourceRef="report" targetRef="end"/>
""", "reporter", SIGNALS)

THROW_STOP = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateThrowEvent id="shout"><bpmn:signalEventDefinition signalRef="s_stop"/></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="shout"/>
    <bpmn:sequenceFlow id="f2" sourceRef="shout" targetRef="end"/>
""", "shouter", SIGNALS)


def waiting(definition) -> ProcessInstance:
    instance = instances.instance_start(definition=definition)
    drain()
    return reload(instance)


def test_a_broadcast_reaches_every_waiting_instance_and_starts_every_signal_start(deploy, db_clock):
    waiter = deploy(WAIT_STOP)
    one, two = waiting(waiter), waiting(waiter)
    reporter = deploy(STARTED_BY_STOP)
    outcome = signal_broadcast(name="stop", variables={"reason": "maintenance"})
    delivery = SignalDelivery.objects.get()
    assert outcome == {"signal_id": None, "delivery_id": delivery.pk, "instances": 2, "starts": 1}
    assert delivery.state == SignalDeliveryState.RUNNING  # a background job does the work
    drain()
    assert reload(one).state == reload(two).state == "completed"
    assert variables(one)["reason"] == "maintenance"
    [started] = ProcessInstance.objects.filter(definition=reporter)
    assert reload(started).active_elements == ["report"] and variables(started) == {"reason": "maintenance"}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.delivered, delivery.started, delivery.starts_done) == (
        SignalDeliveryState.DONE, 2, [started.pk], 1)


def test_the_same_signal_id_is_broadcast_once(deploy, db_clock):
    instance = waiting(deploy(WAIT_STOP))
    first = signal_broadcast(name="stop", signal_id="maint-1")
    assert signal_broadcast(name="stop", signal_id="maint-1") == first
    drain()
    assert SignalDelivery.objects.count() == 1
    assert reload(instance).state == "completed"


def test_a_subscription_made_after_the_broadcast_is_not_reached(deploy, db_clock):
    definition = deploy(WAIT_STOP)
    signal_broadcast(name="stop")
    late = waiting(definition)
    drain()
    assert reload(late).state == "running"


def test_the_job_goes_on_where_it_stopped_and_a_second_run_repeats_nobody(deploy, db_clock, monkeypatch):
    definition = deploy(WAIT_STOP)
    instances_ = [waiting(definition) for _ in range(3)]
    outcome = signal_broadcast(name="stop")
    OutboxMessage.objects.filter(task_name=services.BROADCAST_TASK).update(sent_at=db_clock.now)  # run by hand
    original = services.PendingEvent.objects.create
    calls = []

    def dies_on_the_third(**kwargs):
        calls.append(kwargs["instance"].pk)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return original(**kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(services.PendingEvent.objects, "create", dies_on_the_third)
        with pytest.raises(RuntimeError):
            services.signal_deliver(delivery_id=outcome["delivery_id"])
    delivery = SignalDelivery.objects.get()
    assert delivery.delivered == 2 and delivery.instance_cursor == instances_[1].pk
    assert services.signal_deliver(delivery_id=delivery.pk) == 1  # the third only
    assert services.signal_deliver(delivery_id=delivery.pk) == 0  # done: nothing again
    drain()
    assert all(reload(i).state == "completed" for i in instances_)


def test_a_signal_thrown_by_an_instance_reaches_the_others_through_the_background_job(deploy, db_clock):
    waiter = waiting(deploy(WAIT_STOP))
    shouter = instances.instance_start(definition=deploy(THROW_STOP))
    drain()
    assert reload(shouter).state == "completed"
    assert reload(waiter).state == "completed"
    assert SignalDelivery.objects.get().origin_instance_id == shouter.pk


def test_bad_input_is_refused(db, db_clock):
    with pytest.raises(InvalidInput):
        signal_broadcast(name=" ")
    with pytest.raises(InvalidInput):
        signal_broadcast(name="stop", signal_id="")
