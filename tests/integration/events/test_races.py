"""Races on PostgreSQL, with threads of this process standing in for web processes, sweepers and
workers (each thread has its own connection): a sweeper and completions racing for the same
instances, two sweepers at once, and messages racing the subscriptions they are meant for. No
deadlock, no lost step, nothing applied twice."""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Callable

import pytest
from django.db import connection

from apps.definitions.errors import Conflict
from apps.events import services as events
from apps.events.models import Message, Timer, TimerState
from apps.instances import services
from apps.instances.models import InstanceState, PendingEvent, ProcessInstance, UserTask

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="itest_race_boundary" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review"/>
    <bpmn:boundaryEvent id="late" attachedToRef="review">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="done"/>
    <bpmn:endEvent id="timed_out"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="timed_out"/>
  </bpmn:process>
</bpmn:definitions>"""

WAIT_PAID = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d2" targetNamespace="t">
  <bpmn:message id="m_paid" name="itest race paid"/>
  <bpmn:process id="itest_race_waiter" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

INSTANCES = 40


def in_threads(*work: Callable[[], None]) -> list[BaseException]:
    """Run each callable in a thread of its own (own connection); the exceptions they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(fn):
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def settle(ids: list[int]) -> None:
    """What the workers would still do: apply every recorded event."""
    for instance_id in ids:
        services.instance_step(instance_id=instance_id)


def ended_at(instance_id: int) -> list[str]:
    return list(ProcessInstance.objects.get(pk=instance_id).history.filter(element_type="endEvent")
                .values_list("element_id", flat=True))


def test_sweepers_and_completions_racing_for_the_same_instances(deploy):
    definition = deploy(BOUNDARY)
    ids = []
    for _ in range(INSTANCES):
        instance = services.instance_start(definition=definition)
        services.instance_step(instance_id=instance.pk)
        ids.append(instance.pk)
    time.sleep(1.2)  # every timer is due now
    tasks = list(UserTask.objects.filter(instance_id__in=ids).values_list("pk", "instance_id"))

    refused = []

    def complete():
        for task_id, instance_id in tasks:
            try:
                services.user_task_complete(task_id=task_id)
            except Conflict:  # the timer won: the task was cancelled (the API answers 409)
                refused.append(instance_id)
            services.instance_step(instance_id=instance_id)

    def sweep():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Timer.objects.filter(
                instance_id__in=ids, state__in=[TimerState.PENDING, TimerState.CLAIMED]).exists():
            events.timers_sweep(batch=5)
            for instance_id in ids[::-1]:
                services.instance_step(instance_id=instance_id)

    errors = in_threads(complete, sweep, sweep)
    assert errors == []
    settle(ids)
    ends = Counter()
    for instance_id in ids:
        instance = ProcessInstance.objects.get(pk=instance_id)
        assert instance.state == InstanceState.COMPLETED
        [end] = ended_at(instance_id)  # one path, once
        ends[end] += 1
        [timer] = Timer.objects.filter(instance_id=instance_id)
        if end == "timed_out":
            assert timer.state == TimerState.FIRED
        else:  # cancelled by the completion's step, or fired after the completion was recorded (then ignored)
            assert timer.state in (TimerState.CANCELLED, TimerState.FIRED) and instance_id not in refused
        assert not PendingEvent.objects.filter(instance_id=instance_id, applied_at__isnull=True).exists()
    assert sum(ends.values()) == INSTANCES


def test_messages_racing_their_subscriptions_are_never_lost(deploy):
    definition = deploy(WAIT_PAID)
    ids = [services.instance_start(definition=definition, business_key=f"k{n}").pk for n in range(INSTANCES)]

    def subscribe():
        for instance_id in ids:
            services.instance_step(instance_id=instance_id)  # the first step subscribes

    def send():
        for n in range(INSTANCES):
            events.message_correlate(name="itest race paid", correlation_key=f"k{n}", variables={"n": n})

    errors = in_threads(subscribe, send)
    assert errors == []
    settle(ids)
    for n, instance_id in enumerate(ids):
        assert ProcessInstance.objects.get(pk=instance_id).state == InstanceState.COMPLETED, n
    assert not Message.objects.filter(buffered=True).exists()
    assert Message.objects.filter(consumed_by_id__in=ids).count() == INSTANCES
