"""Timers on the real stack: celery beat drives the sweep every second, a worker fires what is
due, PostgreSQL's clock decides when. Durations of a second or two."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from django_celery_beat.models import PeriodicTask

from apps.events.models import Timer, TimerState
from apps.instances.models import InstanceState, ProcessInstance

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="itest_timer_boundary" isExecutable="true">
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


def start_timer_model(process_id: str, cycle: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{process_id}" targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="tick">
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def completed(instance_id: int):
    return ProcessInstance.objects.filter(pk=instance_id, state=InstanceState.COMPLETED).first()


def test_a_timer_boundary_fires_after_about_a_second(start_worker, start_beat, deploy, start, wait_until):
    start_worker()
    start_beat()
    sweep = PeriodicTask.objects.get(name="baton-timers-sweep")  # installed by the DatabaseScheduler
    assert (sweep.task, sweep.enabled, sweep.expire_seconds, sweep.interval.every) == (
        "baton.timers.sweep", True, 2, 1)
    began = time.monotonic()
    instance = start(deploy(BOUNDARY))
    wait_until(lambda: completed(instance.pk), timeout=30, what="the timer interrupts the user task",
               instance_id=instance.pk)
    elapsed = time.monotonic() - began
    assert 1.0 <= elapsed < 10.0, elapsed
    assert list(ProcessInstance.objects.get(pk=instance.pk).history.filter(element_type="endEvent")
                .values_list("element_id", flat=True)) == ["timed_out"]
    [timer] = Timer.objects.filter(instance_id=instance.pk)
    assert timer.state == TimerState.FIRED
    assert timer.fired_at >= timer.due_at  # by the database's clock


def fired_rows(definition) -> list[Timer]:
    return list(Timer.objects.filter(definition=definition, state=TimerState.FIRED).order_by("repetition"))


def test_restart_start_timers_that_fell_due_while_beat_was_down_fire_once_then_on_schedule_with_two_beats(
        start_worker, start_beat, deploy, wait_until):
    start_worker(concurrency=4)
    every_second = deploy(start_timer_model("itest_tick_1s", "R/PT1S"))
    every_two = deploy(start_timer_model("itest_tick_2s", "R/PT2S"))
    first_beat = start_beat()
    wait_until(lambda: fired_rows(every_second) and fired_rows(every_two), timeout=30,
               what="both start timers fire while beat runs")
    first_beat.stop()
    time.sleep(1.5)  # a sweep already sent may still run
    stopped_at = {d.pk: len(fired_rows(d)) for d in (every_second, every_two)}
    time.sleep(5)  # beat is down: several repetitions of each fall due
    assert {d.pk: len(fired_rows(d)) for d in (every_second, every_two)} == stopped_at, "nothing fires without beat"

    start_beat()
    start_beat()  # two beats: every sweep is sent twice
    wait_until(lambda: len(fired_rows(every_second)) >= stopped_at[every_second.pk] + 4
               and len(fired_rows(every_two)) >= stopped_at[every_two.pk] + 2, timeout=60,
               what="both start timers fire again on schedule")

    for definition, period in ((every_second, 1), (every_two, 2)):
        rows = fired_rows(definition)
        repetitions = [row.repetition for row in rows]
        assert len(repetitions) == len(set(repetitions)), f"a repetition fired twice: {repetitions}"
        # Catch-up: the first fire after the gap fired once and counted the repetitions it skipped.
        recovery = rows[stopped_at[definition.pk]]
        assert recovery.missed >= (5 // period) - 1, (definition.key, recovery.missed)
        assert recovery.repetition == rows[stopped_at[definition.pk] - 1].repetition + \
            rows[stopped_at[definition.pk] - 1].missed + 1
        # One instance per fire, never two.
        started = Counter(ProcessInstance.objects.filter(definition=definition).values_list("pk", flat=True))
        assert len(started) == len(rows) == len({row.started_instance_id for row in rows})
        assert Timer.objects.filter(definition=definition, state=TimerState.PENDING).count() == 1
