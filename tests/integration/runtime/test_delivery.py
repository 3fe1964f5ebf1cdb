"""Messages delivered twice, completions racing each other, a cancel mid-chain, and a process that
dies between its commit and its publish: the instance advances exactly once, and queued work for
what was cancelled calls nothing."""
from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from apps.instances import outbox, services
from apps.instances.models import (
    FlowNodeInstance, InstanceState, Job, JobState, OperationLog, OutboxMessage, ProcessInstance, Variable,
)
from config import celery_app
from tests.integration import plugins_for_tests as plugins

pytestmark = pytest.mark.django_db(transaction=True)

REPO_ROOT = Path(__file__).resolve().parents[3]


def instance_in(instance_id: int, state: str):
    return ProcessInstance.objects.filter(pk=instance_id, state=state).first()


def job_at(instance_id: int, element: str, state: str):
    return Job.objects.filter(instance_id=instance_id, element_id=element, state=state).first()


def node_rows(instance_id: int) -> Counter:
    return Counter(FlowNodeInstance.objects.filter(instance_id=instance_id).exclude(element_type="sequenceFlow")
                   .values_list("element_id", flat=True))


def redeliver(job: Job, task_id: str | None = None) -> str:
    """Publish baton.job.run for the job again, as a duplicate delivery of its message would."""
    task_id = task_id or str(job.pk)
    celery_app.send_task("baton.job.run", kwargs={"job_id": str(job.pk)}, task_id=task_id, queue=job.queue)
    return task_id


def test_a_job_message_delivered_again_runs_the_plugin_once(worker, deploy, start, wait_until, run):
    instance = start(deploy("blocking"), run=run)
    running = wait_until(lambda: job_at(instance.pk, "wait", JobState.STARTED), what="the blocking job starts",
                         instance_id=instance.pk)
    wait_until(lambda: plugins.calls(run), what="the plugin is called")

    redeliver(running)  # while the first delivery runs
    wait_until(lambda: worker.task_results(str(running.pk)) == ["'skipped'"],
               what="the duplicate delivery is skipped while the first one runs", instance_id=instance.pk)
    plugins.release(run)
    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the instance completes",
               instance_id=instance.pk)
    after = Job.objects.get(instance_id=instance.pk, element_id="after")
    revision = ProcessInstance.objects.get(pk=instance.pk).revision
    redeliver(running)  # after the job completed
    redeliver(after)
    wait_until(lambda: worker.task_results(str(running.pk)).count("'skipped'") == 2
               and worker.task_results(str(after.pk)).count("'skipped'") == 1,
               what="the late duplicates are skipped", instance_id=instance.pk)

    assert plugins.calls(run) == [str(running.pk), str(after.pk)]
    assert {(job.element_id, job.state, job.attempt) for job in Job.objects.filter(instance_id=instance.pk)} == {
        ("wait", JobState.COMPLETED, 1), ("after", JobState.COMPLETED, 1)}
    assert ProcessInstance.objects.get(pk=instance.pk).revision == revision
    assert node_rows(instance.pk) == {"start": 1, "wait": 1, "after": 1, "end": 1}


def test_two_completions_racing_for_one_job_advance_the_instance_once(worker, deploy, start, wait_until, run):
    instance = start(deploy("blocking"), run=run)
    running = wait_until(lambda: job_at(instance.pk, "wait", JobState.STARTED), what="the blocking job starts",
                         instance_id=instance.pk)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def complete(name: str) -> None:
        try:  # a thread of its own: a database connection of its own
            barrier.wait(timeout=10)
            outcomes[name] = services.job_complete(job_id=str(running.pk), attempt=running.attempt,
                                                   result={"by": name})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, outcomes.values())) == ["None", "job is completed"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome is None)
    plugins.release(run)  # the worker's own completion comes last and is ignored too
    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the instance completes",
               instance_id=instance.pk)
    wait_until(lambda: OperationLog.objects.filter(instance_id=instance.pk, action="ignored_completion").count() == 2,
               what="the losing thread's and the worker's completions are ignored", instance_id=instance.pk)

    after = Job.objects.get(instance_id=instance.pk, element_id="after")
    assert Variable.objects.get(instance_id=instance.pk, name="wait_result").value == {"by": winner}
    assert plugins.calls(run) == [str(running.pk), str(after.pk)]
    assert node_rows(instance.pk) == {"start": 1, "wait": 1, "after": 1, "end": 1}
    assert Job.objects.get(pk=running.pk).result == {"by": winner}


def test_cancelling_during_link_2_of_a_chain_of_5_calls_nothing_after_it(worker, deploy, start, wait_until, run):
    instance = start(deploy("chain5"), run=run)
    link2 = wait_until(lambda: job_at(instance.pk, "link2", JobState.STARTED), what="link 2 runs",
                       instance_id=instance.pk)
    assert OutboxMessage.objects.filter(task_name=outbox.CANVAS_PREFIX + "chain").count() == 1
    planned = {job.element_id: job for job in Job.objects.filter(instance_id=instance.pk, state=JobState.PLANNED)}
    assert sorted(planned) == ["link3", "link4", "link5"]

    services.instance_cancel(instance_id=instance.pk)
    plugins.release(run)

    # Links 3 to 5 are still delivered by the chain; each finds its job cancelled and calls nothing.
    wait_until(lambda: all(worker.task_results(str(job.pk)) == ["'skipped'"] for job in planned.values()),
               what="links 3 to 5 arrive and are skipped", instance_id=instance.pk)
    link1 = Job.objects.get(instance_id=instance.pk, element_id="link1")
    assert plugins.calls(run) == [str(link1.pk), str(link2.pk)]
    assert ProcessInstance.objects.get(pk=instance.pk).state == InstanceState.CANCELLED
    assert {job.element_id: job.state for job in Job.objects.filter(instance_id=instance.pk)} == {
        "link1": JobState.COMPLETED, "link2": JobState.CANCELLED, "link3": JobState.CANCELLED,
        "link4": JobState.CANCELLED, "link5": JobState.CANCELLED}
    assert OperationLog.objects.filter(instance_id=instance.pk, action="ignored_completion").count() == 1
    assert not Variable.objects.filter(instance_id=instance.pk, name__startswith="link").exclude(
        name="link1_result").exists()


# Starts an instance and dies inside on_commit, after the commit and before the outbox publishes.
DIES_BETWEEN_COMMIT_AND_PUBLISH = """
import os, sys
import django
django.setup()
from django.db import transaction
from apps.definitions.models import ProcessDefinition
from apps.instances.services import instance_start

with transaction.atomic():
    transaction.on_commit(lambda: os._exit(17))  # runs first: before the outbox's publish hook
    instance = instance_start(definition=ProcessDefinition.objects.get(pk=int(sys.argv[1])),
                              variables={"run": sys.argv[2]})
    print(instance.pk, flush=True)
"""


def test_a_process_killed_between_commit_and_publish_loses_nothing(worker, start_beat, deploy, start, wait_until, run):
    definition = deploy("one_call")
    died = subprocess.run([sys.executable, "-c", DIES_BETWEEN_COMMIT_AND_PUBLISH, str(definition.pk), run],
                          env=worker.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert died.returncode == 17, died.stderr
    instance_id = int(died.stdout.split()[0])
    instance = ProcessInstance.objects.get(pk=instance_id)
    assert (instance.state, instance.revision) == (InstanceState.RUNNING, 0)
    unsent = OutboxMessage.objects.get(sent_at__isnull=True)
    assert (unsent.task_name, unsent.kwargs) == ("baton.instance.step", {"instance_id": instance_id})

    start_beat()  # its outbox relay sweep publishes what the dead process could not

    wait_until(lambda: instance_in(instance_id, InstanceState.COMPLETED), what="the instance completes",
               instance_id=instance_id)
    job = Job.objects.get(instance_id=instance_id)
    assert (job.state, job.attempt) == (JobState.COMPLETED, 1)
    assert plugins.calls(run) == [str(job.pk)]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert worker.task_results(unsent.task_id) == ["1"]
