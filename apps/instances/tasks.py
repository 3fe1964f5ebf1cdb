"""Baton's internal Celery tasks: thin adapters that take ids and call a service.

Their names start with `baton.`, so no BPMN model can ever name one as a plugin. Each is
idempotent: it re-reads the database, which is the source of truth, and a duplicated, late or
lost message can neither lose nor double-advance an instance.
"""
from __future__ import annotations

import logging
import traceback as tb
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, transaction

from apps.definitions.engines import engine_for
from apps.instances import outbox, services
from apps.instances.models import Job, JobKind
from orchestrator.errors import BatonError

log = logging.getLogger(__name__)

# A serialisation failure, a deadlock or a lock timeout is retried at once, without spending one
# of the job's business attempts.
_TRANSIENT_DB_RETRIES = 5


def _with_db_retries(fn, **kwargs: Any):
    for attempt in range(_TRANSIENT_DB_RETRIES):
        try:
            return fn(**kwargs)
        except OperationalError:
            if attempt == _TRANSIENT_DB_RETRIES - 1:
                raise
            log.warning("transient database error in %s; retrying", fn.__name__, exc_info=True)
            transaction.get_connection().close()
    return None


@shared_task(name="baton.instance.step", acks_late=True, ignore_result=True)
def instance_step(instance_id: int) -> int:
    """Apply the instance's pending events and continue its queued engine work."""
    return _with_db_retries(services.instance_step, instance_id=instance_id) or 0


@shared_task(name="baton.job.run", acks_late=True, ignore_result=True)
def job_run(job_id: str) -> str:
    """Run one service-task job: claim it (checking its row first, so queued work for a
    cancelled, suspended or interrupted job calls nothing), call the plugin outside any
    transaction, then record the outcome and advance the instance."""
    job = _with_db_retries(services.job_begin, job_id=job_id)
    if job is None:
        return "skipped"
    if job.kind == JobKind.SCRIPT:
        return _run_script(job)
    from apps.plugins.registry import discover_plugins
    from config.celery import app

    plugins = discover_plugins()
    info = plugins.get(job.task_name)
    if info is None:
        return _with_db_retries(services.job_fail, job_id=job_id, attempt=job.attempt, retryable=False,
                                error=f"no plugin named {job.task_name!r} is installed on this worker")
    inputs, variables = services.job_inputs(job)
    if inputs is not None:
        kwargs = dict(inputs)
    elif info.takes_kwargs:
        kwargs = dict(variables)
    else:
        kwargs = {name: variables[name] for name in info.arguments if name in variables}
    if info.accepts_job_id:
        kwargs["baton_job_id"] = str(job.pk)
    try:
        result = app.tasks[job.task_name].run(**kwargs)
    except SoftTimeLimitExceeded:
        return _with_db_retries(services.job_fail, job_id=job_id, attempt=job.attempt,
                                error=f"plugin {job.task_name!r} ran over its time limit")
    except Exception as exc:  # the plugin's own failure: a failed attempt, retried by Baton
        return _with_db_retries(services.job_fail, job_id=job_id, attempt=job.attempt,
                                error=f"{type(exc).__name__}: {exc}", traceback=tb.format_exc(),
                                retryable=not isinstance(exc, (TypeError,)))
    if result is not None and not isinstance(result, dict):
        return _with_db_retries(services.job_fail, job_id=job_id, attempt=job.attempt, retryable=False,
                                error=f"plugin {job.task_name!r} returned {type(result).__name__}; "
                                      "a plugin returns a dict of variables or None")
    return _with_db_retries(services.job_complete, job_id=job_id, attempt=job.attempt, result=result) or "completed"


def _run_script(job: Job) -> str:
    """A script task's script, run in the sandbox outside any transaction; an error in it is
    final (scripts are deterministic: running it again would fail the same way)."""
    _, variables = services.job_inputs(job)
    try:
        outcome = engine_for(job.instance.definition_id).execute_script(job.element_id, variables)
    except BatonError as exc:
        return _with_db_retries(services.job_fail, job_id=str(job.pk), attempt=job.attempt, retryable=False,
                                error=f"script failed: {exc.message}")
    return _with_db_retries(services.job_complete, job_id=str(job.pk), attempt=job.attempt, result=outcome.set,
                            deleted=list(outcome.deleted)) or "completed"


@shared_task(name="baton.outbox.relay", ignore_result=True)
def outbox_relay() -> int:
    """Publish what the outbox still holds (normally published right after commit)."""
    total = 0
    while True:
        sent = outbox.publish_pending()
        total += sent
        if sent == 0:
            return total


@shared_task(name="baton.jobs.retry", ignore_result=True)
def jobs_retry() -> int:
    return services.jobs_dispatch_due_retries()


@shared_task(name="baton.jobs.reconcile", ignore_result=True)
def jobs_reconcile() -> int:
    return services.jobs_reconcile()


from apps.instances import bulk  # noqa: E402,F401  (registers baton.admin.bulk in every worker)
