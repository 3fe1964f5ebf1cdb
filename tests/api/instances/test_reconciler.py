"""The reconciler works from leases: healthy jobs are never touched; lost ones go out again; a
step lost in an outage is sent again for events left unapplied."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services
from apps.instances.models import Job, JobKind, JobState, OutboxMessage, PendingEvent
from tests.api.instances.test_behaviour_table import MODEL

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance():
    definition = ProcessDefinition.objects.get(pk=definition_deploy(data=MODEL).definitions[0].id)
    return services.instance_start(definition=definition, variables={"message": "hi", "divisor": 1})


def test_ten_thousand_healthy_queued_jobs_are_left_alone(instance):
    live = timezone.now() + timedelta(minutes=5)
    Job.objects.bulk_create([
        Job(instance=instance, kind=JobKind.SERVICE, element_id="call", task_name="echo",
            state=JobState.DISPATCHED, dispatched_at=timezone.now(), lease_expires_at=live)
        for _ in range(10_000)
    ], batch_size=2_000)
    before = OutboxMessage.objects.count()
    assert services.jobs_reconcile() == 0
    assert OutboxMessage.objects.count() == before


def test_a_job_whose_lease_ran_out_goes_out_again_and_is_written_down(instance):
    job = Job.objects.create(instance=instance, kind=JobKind.SERVICE, element_id="call", task_name="echo",
                             state=JobState.DISPATCHED, lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.jobs_reconcile() == 1
    job.refresh_from_db()
    assert (job.state, job.redispatches) == (JobState.DISPATCHED, 1)
    assert job.lease_expires_at > timezone.now()
    assert OutboxMessage.objects.filter(task_id=str(job.pk), task_name="baton.job.run").count() == 1
    assert instance.history.filter(element_type="redispatched", element_id="call").count() == 1


def test_events_left_unapplied_get_their_step_sent_again_unless_suspended(instance):
    PendingEvent.objects.filter(instance=instance).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.steps_reconcile(grace_seconds=30) == 1
    assert OutboxMessage.objects.filter(task_name="baton.instance.step", kwargs={"instance_id": instance.pk}).count() == 2
    assert services.steps_reconcile(grace_seconds=600) == 0  # not old enough yet
    services.instance_step(instance_id=instance.pk)
    services.instance_suspend(instance_id=instance.pk)
    PendingEvent.objects.create(instance=instance, event={"type": "continue"},
                                created_at=timezone.now() - timedelta(minutes=5))
    PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).update(
        created_at=timezone.now() - timedelta(minutes=5))
    assert services.steps_reconcile(grace_seconds=30) == 0
