"""The workers' part, run in this process: for tests, benches and tools that need an instance to
move without a broker. It calls the very functions the Celery tasks call (nothing is mocked):
apply pending events, then run every job dispatched, until nothing is left."""
from __future__ import annotations

from apps.instances import services, tasks
from apps.instances.models import Job, JobState, PendingEvent, ProcessInstance


def run_in_process(instance: ProcessInstance, *, rounds: int = 30) -> ProcessInstance:
    """Move one instance as far as workers would; returns it refreshed."""
    for _ in range(rounds):
        services.instance_step(instance_id=instance.pk)
        dispatched = list(Job.objects.filter(instance=instance, state=JobState.DISPATCHED))
        if not dispatched:
            break
        for job in dispatched:
            tasks.job_run(str(job.pk))
    instance.refresh_from_db()
    return instance


def run_all_in_process(*, rounds: int = 30) -> None:
    """Move every instance (parents and the children their call activities start)."""
    for _ in range(rounds):
        for instance_id in ProcessInstance.objects.values_list("pk", flat=True):
            services.instance_step(instance_id=instance_id)
        dispatched = list(Job.objects.filter(state=JobState.DISPATCHED))
        for job in dispatched:
            tasks.job_run(str(job.pk))
        if not dispatched and not PendingEvent.objects.filter(applied_at__isnull=True).exists():
            return
