"""Baton's internal Celery tasks: thin adapters that take ids and call a service.

Their names start with `baton.`, so no BPMN model can ever name one as a plugin. Each is
idempotent: it re-reads the database, which is the source of truth, and a duplicated, late or
lost message can neither lose nor double-advance an instance.
"""
from __future__ import annotations

import logging
import time
import traceback as tb
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, connection

from apps.definitions.engines import engine_for
from apps.instances import outbox, services
from apps.instances.models import Job, JobKind
from orchestrator.errors import BatonError

log = logging.getLogger(__name__)

# A serialisation failure, a deadlock, a lock timeout or a lost connection is retried, with
# backoff over about half a minute (a PostgreSQL restart or fail-over), without spending one of the
# job's business attempts. What still fails is found again: the reconciler re-sends steps for
# pending events and re-dispatches jobs whose lease ran out.
_DB_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


def _with_db_retries(fn, **kwargs: Any):
    for delay in (*_DB_RETRY_DELAYS, None):
        try:
            return fn(**kwargs)
        except (OperationalError, InterfaceError):
            if delay is None:
                raise
            log.warning("transient database error in %s; retrying in %.1f s", fn.__name__, delay, exc_info=True)
            connection.close()
            time.sleep(delay)
    return None


@shared_task(name="baton.instance.step", acks_late=True, ignore_result=True)
def instance_step(instance_id: int) -> int:
    """Apply the instance's pending events and continue its queued engine work."""
    return _with_db_retries(services.instance_step, instance_id=instance_id) or 0


@shared_task(name="baton.job.run", bind=True, acks_late=True, ignore_result=True)
def job_run(self, job_id: str) -> str:
    """Run one service-task job: claim it (checking its row first, so queued work for a
    cancelled, suspended or interrupted job calls nothing), call the plugin outside any
    transaction, then record the outcome and advance the instance."""
    # A redelivered message means the worker that had it was lost (killed, out of memory, over
    # its hard limit): its job is taken over even though its lease still runs.
    redelivered = bool((getattr(self.request, "delivery_info", None) or {}).get("redelivered"))
    job = _with_db_retries(services.job_begin, job_id=job_id, redelivered=redelivered)
    if job is None:
        return "skipped"
    if job.kind == JobKind.SCRIPT:
        return _run_script(job)
    from apps.plugins.registry import worker_plugins
    from config.celery import app
    from orchestrator.plugin import BpmnError

    plugins = worker_plugins()
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
    except BpmnError as exc:  # a business outcome, not a failure: never retried, caught by the model
        return _with_db_retries(services.job_fail, job_id=job_id, attempt=job.attempt, retryable=False,
                                error=exc.message or f"plugin {job.task_name!r} threw BPMN error {exc.code!r}",
                                code=exc.code, variables=exc.variables)
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
    return services.jobs_reconcile() + services.steps_reconcile()


from apps.instances import bulk  # noqa: E402,F401  (registers baton.admin.bulk in every worker)
