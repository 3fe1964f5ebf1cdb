"""Baton's own retries, dispatched by the beat-driven sweep, and incidents when they are spent."""
from __future__ import annotations

from collections import Counter

import pytest

from apps.instances import services
from apps.instances.models import (
    FlowNodeInstance, Incident, InstanceState, Job, JobState, OperationLog, ProcessInstance, Variable,
)
from tests.integration import plugins_for_tests as plugins

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = plugins.FLAKY_OPTIONS["max_retries"] + 1


def instance_in(instance_id: int, state: str):
    return ProcessInstance.objects.filter(pk=instance_id, state=state).first()


def node_rows(instance_id: int) -> Counter:
    return Counter(FlowNodeInstance.objects.filter(instance_id=instance_id).exclude(element_type="sequenceFlow")
                   .values_list("element_id", "state"))


def test_a_failing_plugin_is_retried_by_the_sweep_until_it_succeeds(worker, start_beat, deploy, start, wait_until,
                                                                        run):
    start_beat()
    instance = start(deploy("flaky"), run=run, failures=ATTEMPTS - 1)

    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the flaky call succeeds at last",
               instance_id=instance.pk)

    job = Job.objects.get(instance_id=instance.pk)
    assert (job.state, job.attempt, job.max_attempts) == (JobState.COMPLETED, ATTEMPTS, ATTEMPTS)
    assert job.retry_delays == [0.5, 1.0]
    assert job.last_error == f"RuntimeError: planned failure {ATTEMPTS - 1} of {ATTEMPTS - 1}"
    assert plugins.calls(run) == [str(job.pk)] * ATTEMPTS
    assert Variable.objects.get(instance_id=instance.pk, name="call_result").value == {"succeeded_at": ATTEMPTS}
    assert not Incident.objects.filter(instance_id=instance.pk).exists()
    assert node_rows(instance.pk) == {("start", "completed"): 1, ("call", "completed"): 1, ("end", "completed"): 1}


def test_spent_attempts_open_an_incident_and_retrying_it_completes_the_instance(worker, start_beat, deploy, start,
                                                                                  wait_until, run):
    start_beat()
    instance = start(deploy("fixable"), run=run)

    incident = wait_until(lambda: Incident.objects.filter(instance_id=instance.pk).first(),
                          what="an incident opens once the attempts are spent", instance_id=instance.pk)

    failed = Job.objects.get(instance_id=instance.pk, element_id="call")
    assert (failed.state, failed.attempt) == (JobState.FAILED, ATTEMPTS)
    assert plugins.calls(run) == [str(failed.pk)] * ATTEMPTS
    assert incident.element_id == "call" and incident.job_id == failed.pk and incident.resolved_at is None
    assert f"not fixed yet (attempt {ATTEMPTS})" in incident.message
    held = ProcessInstance.objects.get(pk=instance.pk)
    assert (held.state, held.open_incidents, held.active_elements) == (InstanceState.RUNNING, 1, ["call"])

    plugins.fix(run)
    services.incident_retry(incident_id=incident.pk)

    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), what="the instance completes after the retry",
               instance_id=instance.pk)
    done = ProcessInstance.objects.get(pk=instance.pk)
    assert done.open_incidents == 0
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    retried = Job.objects.filter(instance_id=instance.pk, element_id="call").exclude(pk=failed.pk).get()
    after = Job.objects.get(instance_id=instance.pk, element_id="after", state=JobState.COMPLETED)
    assert (retried.state, retried.attempt) == (JobState.COMPLETED, 1)
    assert plugins.calls(run) == [str(failed.pk)] * ATTEMPTS + [str(retried.pk), str(after.pk)]
    assert OperationLog.objects.filter(instance_id=instance.pk, action="retry_incident").count() == 1
    rows = node_rows(instance.pk)
    assert rows[("call", "completed")] == 1 and rows[("after", "completed")] == 1 and rows[("end", "completed")] == 1
    assert rows[("call", "failed")] == 1
