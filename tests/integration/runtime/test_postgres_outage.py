"""PostgreSQL away for a couple of seconds while a task writes: the task's outcome must not be lost.

Both tests FAIL on the current runtime (see the report): apps.instances.tasks._with_db_retries
retries an OperationalError 5 times at once, with no pause, so a database that is away for more
than a few milliseconds makes the task raise; with acks_late the failed message is acknowledged
and gone.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from apps.instances.models import InstanceState, Job, JobState, PendingEvent, ProcessInstance
from config import celery_app
from tests.integration import plugins_for_tests as plugins

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.restarts_postgres]

DEADLINE = 60  # generous; nothing here should need a lease (6 minutes) to run out


def postgres(action: str) -> None:
    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    done = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_job_that_finishes_while_postgres_is_down_still_completes_at_attempt_1(start_worker, deploy, start,
                                                                                   wait_until, run):
    worker = start_worker()
    instance = start(deploy("blocking"), run=run)
    job = wait_until(lambda: Job.objects.filter(instance_id=instance.pk, element_id="wait", state=JobState.STARTED)
                     .first(), what="the blocking job starts", instance_id=instance.pk)
    wait_until(lambda: plugins.calls(run), what="the plugin runs")

    postgres("stop")
    try:
        plugins.release(run)  # the plugin returns; job_complete finds no database and waits for it
        wait_until(lambda: "transient database error in job_complete" in worker.log_text(), timeout=30,
                   what="the job's task retries its completion, spending no attempt")
    finally:
        postgres("start")

    wait_until(lambda: ProcessInstance.objects.filter(pk=instance.pk, state=InstanceState.COMPLETED).exists(),
               timeout=DEADLINE, what="the instance completes", instance_id=instance.pk)
    job.refresh_from_db()
    assert (job.state, job.attempt) == (JobState.COMPLETED, 1)
    assert plugins.calls(run).count(str(job.pk)) == 1


def test_a_step_taken_while_postgres_is_down_is_applied_once_it_is_back(start_worker, deploy, start, wait_until,
                                                                          run):
    worker = start_worker()
    definition = deploy("one_call")
    celery_app.control.cancel_consumer("baton.starts", destination=[worker.node], reply=True, timeout=5)
    instance = start(definition, run=run)  # its first step waits on baton.starts

    postgres("stop")
    try:
        celery_app.control.add_consumer("baton.starts", destination=[worker.node], reply=True, timeout=5)
        wait_until(lambda: "transient database error in instance_step" in worker.log_text(), timeout=30,
                   what="the step's task waits for the database")
    finally:
        postgres("start")

    wait_until(lambda: ProcessInstance.objects.filter(pk=instance.pk, state=InstanceState.COMPLETED).exists(),
               timeout=DEADLINE, what="the instance starts and completes", instance_id=instance.pk)
    assert not PendingEvent.objects.filter(instance_id=instance.pk, applied_at__isnull=True).exists()
