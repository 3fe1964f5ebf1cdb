"""Timers through the services and the in-process workers: instance timers (boundary, catch),
the sweeper's claims, catch-up, suspended instances, and timer start events of the latest
version (replaced on deploy, removed on retire)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apps.definitions.services import definition_retire
from apps.events import services
from apps.events.models import Timer, TimerState
from apps.instances import services as instances
from apps.instances.models import PendingEvent, ProcessInstance, UserTask, UserTaskState
from tests.api.events.conftest import drain, model, reload, sweep

pytestmark = pytest.mark.django_db

BOUNDARY = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review"/>
    <bpmn:boundaryEvent id="late" attachedToRef="review">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT10S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="done"/>
    <bpmn:endEvent id="timed_out"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="timed_out"/>
""", "boundary")

CATCH = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT5S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
""", "catch")


def start_timer_model(cycle: str, process_id: str = "ticker", end: str = "end") -> str:
    return model(f"""
    <bpmn:startEvent id="tick">
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:endEvent id="{end}"/>
    <bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="{end}"/>
""", process_id)


def started(definition) -> ProcessInstance:
    instance = instances.instance_start(definition=definition)
    drain()
    return reload(instance)


# -- instance timers ----------------------------------------------------------------------------

def test_a_boundary_timer_is_a_row_due_at_the_database_time_plus_its_duration(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    [timer] = Timer.objects.filter(instance=instance)
    assert (timer.element, timer.state, timer.due_at) == ("late", TimerState.PENDING, db_clock.now + timedelta(seconds=10))
    assert timer.subscription and timer.definition_id is None


def test_nothing_fires_before_the_due_time(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    db_clock.advance(9.9)
    assert sweep() == 0
    assert reload(instance).active_elements == ["review"]


def test_a_due_boundary_timer_interrupts_the_activity(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    db_clock.advance(10)
    assert sweep() == 1
    instance = reload(instance)
    assert instance.state == "completed"
    assert list(instance.history.filter(element_id="timed_out").values_list("state", flat=True)) == ["completed"]
    assert UserTask.objects.get(instance=instance).state == UserTaskState.CANCELLED
    [timer] = Timer.objects.filter(instance=instance)
    assert timer.state == TimerState.FIRED and timer.fired_at == db_clock.now
    assert sweep() == 0  # fired once


def test_an_activity_that_completes_first_cancels_its_timer_in_the_same_transaction(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    instances.user_task_complete(task_id=UserTask.objects.get(instance=instance).pk)
    drain()
    assert reload(instance).state == "completed"
    assert Timer.objects.get(instance=instance).state == TimerState.CANCELLED
    db_clock.advance(60)
    assert sweep() == 0


def test_an_intermediate_timer_holds_the_token_until_due(deploy, db_clock):
    instance = started(deploy(CATCH))
    assert reload(instance).active_elements == ["wait"]
    db_clock.advance(5)
    sweep()
    assert reload(instance).state == "completed"


def test_a_cancelled_instance_cancels_its_timers(deploy, db_clock):
    instance = started(deploy(CATCH))
    instances.instance_cancel(instance_id=instance.pk)
    assert Timer.objects.get(instance=instance).state == TimerState.CANCELLED
    db_clock.advance(60)
    assert sweep() == 0


def test_a_timer_due_while_suspended_is_recorded_and_fires_on_resume(deploy, db_clock):
    instance = started(deploy(CATCH))
    instances.instance_suspend(instance_id=instance.pk)
    db_clock.advance(6)
    assert sweep() == 1
    assert reload(instance).active_elements == ["wait"]
    assert PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).count() == 1
    instances.instance_resume(instance_id=instance.pk)
    drain()
    assert reload(instance).state == "completed"


def test_an_instance_timer_that_fell_due_while_nothing_swept_fires_on_recovery(deploy, db_clock):
    instance = started(deploy(CATCH))
    db_clock.advance(3600)  # beat was down for an hour
    assert sweep() == 1
    assert reload(instance).state == "completed"


# -- the sweeper and a completion racing for one instance ---------------------------------------

def test_completion_first_the_claimed_timer_is_cancelled_and_its_fire_does_nothing(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    db_clock.advance(10)
    claim, ids = services.timers_claim(limit=10)
    assert len(ids) == 1 and Timer.objects.get(pk=ids[0]).state == TimerState.CLAIMED
    # The completion's step commits between the claim and the fire.
    instances.user_task_complete(task_id=UserTask.objects.get(instance=instance).pk)
    drain()
    assert Timer.objects.get(pk=ids[0]).state == TimerState.CANCELLED
    assert services.timer_fire(timer_id=ids[0], claim=claim) == "moved on"
    drain()
    instance = reload(instance)
    assert instance.state == "completed"
    assert list(instance.history.filter(element_type="endEvent").values_list("element_id", flat=True)) == ["done"]
    assert not PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).exists()


def test_timer_first_the_completion_that_follows_is_ignored_not_lost(deploy, db_clock):
    instance = started(deploy(BOUNDARY))
    db_clock.advance(10)
    claim, ids = services.timers_claim(limit=10)
    assert services.timer_fire(timer_id=ids[0], claim=claim) == "fired"
    # The person completes the task before a worker applied the timer: both are recorded, in order.
    instances.user_task_complete(task_id=UserTask.objects.get(instance=instance).pk)
    drain()
    instance = reload(instance)
    assert instance.state == "completed"
    assert list(instance.history.filter(element_type="endEvent").values_list("element_id", flat=True)) == ["timed_out"]
    outcomes = list(PendingEvent.objects.filter(instance=instance).order_by("id").values_list("outcome", flat=True))
    assert outcomes[-1].startswith("ignored")


def test_a_claim_is_fired_only_by_its_sweeper_and_a_dead_sweepers_claim_is_taken_again(deploy, db_clock, settings):
    instance = started(deploy(CATCH))
    db_clock.advance(5)
    dead_claim, ids = services.timers_claim(limit=10)
    assert ids
    assert services.timers_claim(limit=10)[1] == []  # claimed: not claimed twice
    db_clock.advance(settings.BATON_TIMER_CLAIM_LEASE + 1)
    claim, again = services.timers_claim(limit=10)
    assert again == ids and claim != dead_claim
    assert services.timer_fire(timer_id=ids[0], claim=dead_claim) == "moved on"  # the first sweeper woke up late
    assert services.timer_fire(timer_id=ids[0], claim=claim) == "fired"
    drain()
    assert reload(instance).state == "completed"


def test_a_timer_of_an_instance_busy_elsewhere_is_handed_back(deploy, db_clock, monkeypatch):
    instance = started(deploy(CATCH))
    db_clock.advance(5)
    claim, ids = services.timers_claim(limit=10)
    with monkeypatch.context() as patched:  # SKIP LOCKED finds the instance locked by a step
        patched.setattr(services, "_lock_instance", lambda instance_id, skip_locked=False: None)
        assert services.timer_fire(timer_id=ids[0], claim=claim) == "busy"
    assert Timer.objects.get(pk=ids[0]).state == TimerState.PENDING
    sweep()
    assert reload(instance).state == "completed"


# -- timer start events ---------------------------------------------------------------------------

def test_deploy_schedules_the_timer_start_events_of_the_new_version(deploy, db_clock):
    definition = deploy(start_timer_model("R/PT1H"))
    [timer] = Timer.objects.filter(definition=definition)
    assert (timer.element, timer.state, timer.repetitions) == ("tick", TimerState.PENDING, None)
    assert timer.due_at == db_clock.now + timedelta(hours=1)
    assert timer.instance_id is None


def test_a_due_start_timer_starts_an_instance_at_its_start_event_and_schedules_the_next(deploy, db_clock):
    definition = deploy(start_timer_model("R/PT1H"))
    db_clock.advance(3600)
    assert sweep() == 1
    instance = ProcessInstance.objects.get(definition=definition)
    assert instance.state == "completed"
    fired, following = Timer.objects.filter(definition=definition).order_by("id")
    assert (fired.state, fired.missed, fired.started_instance_id) == (TimerState.FIRED, 0, instance.pk)
    assert (following.state, following.repetition) == (TimerState.PENDING, 2)
    assert following.due_at == fired.due_at + timedelta(hours=1)


def test_catch_up_a_start_timer_that_fell_due_several_times_fires_once_and_counts_the_missed(deploy, db_clock):
    definition = deploy(start_timer_model("R/PT1S"))
    first_due = Timer.objects.get(definition=definition).due_at
    db_clock.advance(3.5)  # due at +1, +2 and +3 while nothing swept
    assert sweep() == 1
    assert sweep() == 0
    assert ProcessInstance.objects.filter(definition=definition).count() == 1
    fired, following = Timer.objects.filter(definition=definition).order_by("id")
    assert (fired.state, fired.missed) == (TimerState.FIRED, 2)
    assert following.state == TimerState.PENDING and following.repetition == 4
    assert following.due_at == first_due + timedelta(seconds=3)


def test_catch_up_counts_missed_repetitions_towards_a_bounded_cycle(deploy, db_clock):
    definition = deploy(start_timer_model("R3/PT1S"))
    db_clock.advance(10)
    assert sweep() == 1
    [fired] = Timer.objects.filter(definition=definition)
    assert fired.missed == 2  # R3: one fire, two missed, none left
    db_clock.advance(10)
    assert sweep() == 0


def test_a_new_version_replaces_the_start_timers_of_the_old_one(deploy, db_clock):
    first = deploy(start_timer_model("R/PT1H"))
    second = deploy(start_timer_model("R/PT2H"))
    assert second.version == 2
    assert Timer.objects.get(definition=first).state == TimerState.CANCELLED
    assert Timer.objects.get(definition=second).state == TimerState.PENDING
    third = deploy(start_timer_model("R/PT2H", end="finish"))  # the same timer in a changed model: replaced too
    assert Timer.objects.get(definition=second).state == TimerState.CANCELLED
    assert Timer.objects.filter(definition=third, state=TimerState.PENDING).count() == 1
    db_clock.advance(2 * 3600)
    assert sweep() == 1
    assert list(ProcessInstance.objects.values_list("definition_id", flat=True)) == [third.pk]


def test_a_version_without_timer_start_events_removes_them(deploy, db_clock):
    first = deploy(start_timer_model("R/PT1H"))
    deploy(model("""<bpmn:startEvent id="tick"/><bpmn:endEvent id="end"/>
                    <bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="end"/>""", "ticker"))
    assert Timer.objects.get(definition=first).state == TimerState.CANCELLED
    assert not Timer.objects.filter(state=TimerState.PENDING).exists()


def test_redeploying_the_same_model_keeps_the_schedule(deploy, db_clock):
    first = deploy(start_timer_model("R/PT1H"))
    assert deploy(start_timer_model("R/PT1H")).pk == first.pk
    assert Timer.objects.get(definition=first).state == TimerState.PENDING


def test_retire_removes_the_start_timers(deploy, db_clock):
    definition = deploy(start_timer_model("R/PT1H"))
    definition_retire(definition=definition)
    assert Timer.objects.get(definition=definition).state == TimerState.CANCELLED
    db_clock.advance(3600)
    assert sweep() == 0
    assert not ProcessInstance.objects.exists()


def test_a_start_timer_claimed_when_its_version_was_replaced_starts_nothing(deploy, db_clock):
    first = deploy(start_timer_model("R/PT1H"))
    db_clock.advance(3600)
    claim, ids = services.timers_claim(limit=10)
    second = deploy(start_timer_model("R/PT2H"))
    assert services.timer_fire(timer_id=ids[0], claim=claim) == "moved on"
    assert not ProcessInstance.objects.exists()
    assert Timer.objects.get(definition=first).state == TimerState.CANCELLED
    assert Timer.objects.get(definition=second).state == TimerState.PENDING


def test_an_unbounded_cycle_faster_than_the_minimum_interval_is_refused_at_deploy(deploy, db_clock):
    from apps.definitions.errors import DeploymentRefused

    with pytest.raises(DeploymentRefused) as refused:
        deploy(start_timer_model("R/PT0.5S"))
    assert "more often than the minimum interval" in str(refused.value.message) + str(refused.value.problems)
