"""A parallel fan-out goes out as one Celery chord whose callback only asks for a step: the join
is counted in the database, so a callback that fires twice, or never, leaves the instance the same."""
from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from apps.instances import outbox
from apps.instances.models import FlowNodeInstance, InstanceState, Job, JobState, OutboxMessage, ProcessInstance
from config import celery_app
from tests.integration import plugins_for_tests as plugins

pytestmark = pytest.mark.django_db(transaction=True)

ENGINE_QUEUE = "baton.engine"
BRANCHES = ("left", "middle", "right")
ONE_ROW_EACH = {"start": 1, "fork": 1, "left": 1, "middle": 1, "right": 1, "join": 1, "after": 1, "end": 1}


def instance_in(instance_id: int, state: str):
    return ProcessInstance.objects.filter(pk=instance_id, state=state).first()


def node_rows(instance_id: int) -> Counter:
    return Counter(FlowNodeInstance.objects.filter(instance_id=instance_id).exclude(element_type="sequenceFlow")
                   .values_list("element_id", flat=True))


def fire_callback(instance_id: int) -> str:
    """What the chord's callback does: baton.instance.step for the instance, on the engine queue."""
    task_id = f"itest-callback-{uuid.uuid4()}"
    celery_app.send_task("baton.instance.step", kwargs={"instance_id": instance_id}, task_id=task_id,
                         queue=ENGINE_QUEUE)
    return task_id


def the_fan_out_went_out_as_one_chord(instance_id: int) -> None:
    chords = list(OutboxMessage.objects.filter(task_name=outbox.CANVAS_PREFIX + "chord"))
    assert len(chords) == 1
    branch_jobs = {str(job.pk) for job in Job.objects.filter(instance_id=instance_id, element_id__in=BRANCHES)}
    assert {link["kwargs"]["job_id"] for link in chords[0].kwargs["links"]} == branch_jobs
    assert chords[0].kwargs["callback"]["task"] == "baton.instance.step"
    assert chords[0].kwargs["callback"]["kwargs"] == {"instance_id": instance_id}


def test_a_chord_callback_fired_twice_changes_nothing(start_worker, deploy, start, wait_until, run):
    worker = start_worker(concurrency=4)  # three blocked branches, and room for the callbacks
    instance = start(deploy("fan_out_blocking"), run=run)
    wait_until(lambda: len(plugins.calls(run)) == 3, what="the three branches run", instance_id=instance.pk)
    before = ProcessInstance.objects.get(pk=instance.pk)

    early = [fire_callback(instance.pk), fire_callback(instance.pk)]  # mid-join, twice
    wait_until(lambda: all(worker.task_results(task_id) == ["0"] for task_id in early),
               what="both callbacks ran and applied nothing", instance_id=instance.pk)
    during = ProcessInstance.objects.get(pk=instance.pk)
    assert (during.revision, during.engine_state, during.active_elements) == (
        before.revision, before.engine_state, before.active_elements)

    plugins.release(run)
    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the instance completes",
               instance_id=instance.pk)
    done = ProcessInstance.objects.get(pk=instance.pk)
    late = [fire_callback(instance.pk), fire_callback(instance.pk)]  # after the end, twice
    wait_until(lambda: all(worker.task_results(task_id) == ["0"] for task_id in late),
               what="both late callbacks ran and applied nothing", instance_id=instance.pk)

    assert ProcessInstance.objects.get(pk=instance.pk).revision == done.revision
    assert node_rows(instance.pk) == ONE_ROW_EACH
    assert {(job.element_id, job.state, job.attempt) for job in Job.objects.filter(instance_id=instance.pk)} == {
        (name, JobState.COMPLETED, 1) for name in (*BRANCHES, "after")}
    assert len(plugins.calls(run)) == 4
    the_fan_out_went_out_as_one_chord(instance.pk)


def test_the_instance_completes_when_the_chord_callback_never_runs(start_worker, deploy, start, wait_until, run):
    worker = start_worker()
    # The worker stops taking the engine queue, where the chord's callback goes: it never runs.
    # Nothing else of this process goes there (its first step is on baton.starts).
    replies = celery_app.control.cancel_consumer(ENGINE_QUEUE, destination=[worker.node], reply=True, timeout=5)
    assert replies and "no longer consuming" in json.dumps(replies)

    instance = start(deploy("fan_out"), run=run)

    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the instance completes",
               instance_id=instance.pk)
    callback = wait_until(lambda: _take_one(ENGINE_QUEUE), what="the chord's callback waits in the engine queue")
    assert callback.headers["task"] == "baton.instance.step"
    assert callback.decode()[1] == {"instance_id": instance.pk}
    assert _take_one(ENGINE_QUEUE) is None, "one callback only"
    assert node_rows(instance.pk) == ONE_ROW_EACH
    assert {(job.element_id, job.state, job.attempt) for job in Job.objects.filter(instance_id=instance.pk)} == {
        (name, JobState.COMPLETED, 1) for name in (*BRANCHES, "after")}
    assert len(plugins.calls(run)) == 4
    the_fan_out_went_out_as_one_chord(instance.pk)


def _take_one(queue_name: str):
    """Take (and acknowledge) one message from the queue, or None when it is empty."""
    with celery_app.connection_for_write() as connection:
        queue = celery_app.amqp.queues[queue_name](connection.default_channel)
        message = queue.get(no_ack=False)
        if message is not None:
            message.ack()
        return message
