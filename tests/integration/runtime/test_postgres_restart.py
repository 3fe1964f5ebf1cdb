"""PostgreSQL restarted while plugins run: every worker connection dies under it. The task retries
its database work on a new connection (a transient error, not one of the job's business
attempts), so every instance completes and every job stays at attempt 1.

The conftest runs this after every other integration test (marker `restarts_postgres`)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from apps.instances.models import FlowNodeInstance, Incident, InstanceState, Job, JobState, ProcessInstance
from tests.integration import plugins_for_tests as plugins

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.restarts_postgres]

INSTANCES = 4  # two block in the worker's two processes while PostgreSQL restarts, two wait on the queue
RESTART_SECONDS = 120


def restart_postgres() -> None:
    versions = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RESTART_SECONDS)
    if done.returncode != 0:
        pytest.fail(f"PostgreSQL: {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}",
                    pytrace=False)


def test_instances_complete_across_a_postgres_restart_without_spending_attempts(worker, deploy, start, wait_until,
                                                                                 run):
    definition = deploy("blocking")
    ids = [start(definition, run=run).pk for _ in range(INSTANCES)]
    wait_until(lambda: Job.objects.filter(instance_id__in=ids, element_id="wait", state=JobState.STARTED).count() == 2
               and len(plugins.calls(run)) == 2, what="two plugins are running")

    restart_postgres()
    wait_until(lambda: ProcessInstance.objects.filter(pk__in=ids).count() == INSTANCES,
               what="PostgreSQL answers again")
    plugins.release(run)

    for instance_id in ids:
        wait_until(lambda: ProcessInstance.objects.filter(pk=instance_id, state=InstanceState.COMPLETED).exists(),
                   what=f"instance {instance_id} completes", instance_id=instance_id)
    completed = Job.objects.filter(instance_id__in=ids, state=JobState.COMPLETED)
    assert sorted(completed.values_list("element_id", flat=True)) == ["after"] * INSTANCES + ["wait"] * INSTANCES
    assert set(completed.values_list("attempt", flat=True)) == {1}
    assert not Job.objects.filter(instance_id__in=ids, state__in=[JobState.RETRY, JobState.FAILED]).exists()
    assert not Incident.objects.filter(instance_id__in=ids).exists()
    assert not FlowNodeInstance.objects.filter(instance_id__in=ids, element_type="redispatched").exists()
    rows = FlowNodeInstance.objects.filter(instance_id__in=ids).exclude(element_type="sequenceFlow")
    assert rows.count() == 4 * INSTANCES  # start, wait, after, end: once each
    assert len(plugins.calls(run)) == 2 * INSTANCES
    # The restart really cut the connections of the two running jobs, and the tasks retried.
    assert worker.log_text().count("transient database error in job_complete") >= 2
