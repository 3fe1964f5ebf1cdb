"""Every change to a process instance goes through this module.

Each write locks the instance row first and its child rows after (always in that order),
applies one engine step, writes the history, the operation log and the messages to send (an
outbox row in the same transaction), and bumps the revision. The web process only records
events (`PendingEvent`) and enqueues a step: user code (scripts, conditions) runs on workers.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.definitions.engines import engine_for
from apps.definitions.errors import Conflict, InvalidInput, NotFound
from apps.definitions.models import ProcessDefinition
from apps.instances import calls, outbox
from apps.instances.models import (
    FlowNodeInstance, Incident, InstanceState, Job, JobKind, JobState, OperationLog, PendingEvent, ProcessInstance,
    UserTask, UserTaskState, Variable,
)
from apps.instances.retries import retry_policy
from orchestrator.errors import VariableError
from orchestrator.runtime.commands import (
    CancelJob, ContinueLater, CreateUserTask, OpenIncident, ResolveIncident, RunScriptTask, RunServiceTask,
    StartCallActivity,
)
from orchestrator.runtime.engine import StepResult
from orchestrator.runtime.events import (
    Cancel, Continue, EngineEvent, JobCompleted, JobFailed, RetryIncident, SetVariables, Start, event_from_dict,
)
from orchestrator.runtime.variables import decode_variables, encode_variables, encode_value

log = logging.getLogger(__name__)
_MISSING = object()

STEP_TASK = "baton.instance.step"
JOB_TASK = "baton.job.run"
ENGINE_QUEUE = "baton.engine"
STARTS_QUEUE = "baton.starts"
PLUGINS_QUEUE = "baton.plugins"
SCRIPTS_QUEUE = "baton.scripts"

_STATUS_TO_STATE = {
    "running": InstanceState.RUNNING, "completed": InstanceState.COMPLETED,
    "terminated": InstanceState.TERMINATED, "cancelled": InstanceState.CANCELLED,
}


# -- reading and locking -----------------------------------------------------------------------------

def _lock_instance(instance_id: int) -> ProcessInstance:
    try:
        return ProcessInstance.objects.select_for_update().select_related("definition").get(pk=instance_id)
    except ProcessInstance.DoesNotExist:
        raise NotFound(f"no process instance {instance_id}") from None


def _load_state(instance: ProcessInstance) -> dict[str, Any]:
    state = dict(instance.engine_state)
    state["variables"] = dict(instance.variables.values_list("name", "value"))
    return state


def _check_variables(values: dict[str, Any], *, what: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    try:
        encoded = encode_variables(values)
    except VariableError as exc:
        raise InvalidInput(f"{what}: {exc.message}") from None
    limit = settings.BATON_MAX_VARIABLE_BYTES
    for name, value in encoded.items():
        size = len(str(value).encode("utf-8"))
        if size > limit:
            raise InvalidInput(f"{what}: variable {name!r} is {size:,} bytes, over the limit of {limit:,}")
    return encoded


def _log(action: str, *, instance: ProcessInstance | None = None, user=None, actor: str = "", **details: Any) -> None:
    OperationLog.objects.create(
        action=action, instance=instance, user=user if getattr(user, "is_authenticated", False) else None,
        actor=actor or (getattr(user, "username", "") if user is not None else "system"),
        user_task=details.pop("user_task", None), incident=details.pop("incident", None), details=details,
    )


def _enqueue_step(instance: ProcessInstance, *, queue: str = ENGINE_QUEUE) -> None:
    outbox.add(STEP_TASK, {"instance_id": instance.pk}, queue=queue)


def _record(instance: ProcessInstance, event: EngineEvent) -> None:
    PendingEvent.objects.create(instance=instance, event=event.to_dict())


# -- commands of the web process and the CLI (no user code runs here) -------------------------------

def instance_start(*, definition: ProcessDefinition, variables: dict[str, Any] | None = None,
                   business_key: str | None = None, user=None, start_event: str | None = None) -> ProcessInstance:
    """Create the instance and record its start; a worker runs the first step."""
    if definition.retired:
        raise Conflict(f"{definition} is retired; start its latest version")
    encoded = _check_variables(variables or {}, what="variables")
    with transaction.atomic():
        instance = ProcessInstance.objects.create(
            definition=definition, business_key=business_key, tenant_id=definition.tenant_id,
            started_by=user if getattr(user, "is_authenticated", False) else None,
            engine_state={}, active_elements=[],
        )
        Variable.objects.bulk_create([Variable(instance=instance, name=k, value=v) for k, v in encoded.items()])
        _record(instance, Start(variables={}, start_event=start_event))
        _log("start", instance=instance, user=user, business_key=business_key, variables=sorted(encoded))
        _enqueue_step(instance, queue=STARTS_QUEUE)
    return instance


def user_task_complete(*, task_id: int, variables: dict[str, Any] | None = None, user=None) -> UserTask:
    encoded = _check_variables(variables or {}, what="variables")
    task = UserTask.objects.filter(pk=task_id).only("instance_id").first()
    if task is None:
        raise NotFound(f"no user task {task_id}")
    with transaction.atomic():
        instance = _lock_instance(task.instance_id)
        task = UserTask.objects.select_for_update().get(pk=task_id)
        if task.state != UserTaskState.OPEN:
            raise Conflict(f"user task {task_id} is {task.state}, it cannot be completed")
        if instance.state != InstanceState.RUNNING:
            raise Conflict(f"the instance is {instance.state}")
        if task.form_fields is not None:
            undeclared = sorted(set(encoded) - set(task.form_fields))
            if undeclared:
                raise InvalidInput(f"fields not declared by the task's form: {', '.join(undeclared)}")
        task.state = UserTaskState.COMPLETED
        task.completed_at = timezone.now()
        task.completed_by = user if getattr(user, "is_authenticated", False) else None
        task.save(update_fields=["state", "completed_at", "completed_by"])
        _record(instance, JobCompleted(task.engine_job, decode_variables(encoded) if encoded else {}))
        _log("complete_task", instance=instance, user=user, user_task=task, variables=sorted(encoded))
        _enqueue_step(instance)
    return task


def instance_cancel(*, instance_id: int, user=None) -> ProcessInstance:
    """Cancelling runs no user code, so it takes effect at once: queued work then finds its
    job cancelled and calls nothing."""
    with transaction.atomic():
        instance = _lock_instance(instance_id)
        if instance.state != InstanceState.RUNNING:
            raise Conflict(f"the instance is already {instance.state}")
        if not instance.engine_state:
            # Cancelled before a worker ran its first step: there is no token to remove yet.
            PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).update(
                applied_at=timezone.now(), outcome="ignored: cancelled before it started")
            instance.state, instance.ended_at = InstanceState.CANCELLED, timezone.now()
            instance.revision += 1
            instance.save(update_fields=["state", "ended_at", "revision"])
        else:
            _apply(instance, Cancel())
        _log("cancel", instance=instance, user=user)
    return instance


def instance_suspend(*, instance_id: int, user=None) -> ProcessInstance:
    with transaction.atomic():
        instance = _lock_instance(instance_id)
        if instance.state != InstanceState.RUNNING:
            raise Conflict(f"the instance is {instance.state}; only running instances can be suspended")
        if instance.suspended:
            raise Conflict("the instance is already suspended")
        instance.suspended = True
        instance.revision += 1
        instance.save(update_fields=["suspended", "revision"])
        _log("suspend", instance=instance, user=user)
    return instance


def instance_resume(*, instance_id: int, user=None) -> ProcessInstance:
    """Resume: jobs held while suspended go out again, and what arrived meanwhile is applied."""
    with transaction.atomic():
        instance = _lock_instance(instance_id)
        if not instance.suspended:
            raise Conflict("the instance is not suspended")
        instance.suspended = False
        instance.revision += 1
        instance.save(update_fields=["suspended", "revision"])
        for job in Job.objects.select_for_update().filter(instance=instance, state=JobState.PENDING):
            _dispatch(job)
        _log("resume", instance=instance, user=user)
        _enqueue_step(instance)
    return instance


def instance_set_variables(*, instance_id: int, set: dict[str, Any] | None = None, delete: Iterable[str] = (),
                           user=None) -> ProcessInstance:
    encoded = _check_variables(set or {}, what="set")
    delete = list(delete)
    with transaction.atomic():
        instance = _lock_instance(instance_id)
        if instance.state != InstanceState.RUNNING:
            raise Conflict(f"the instance is {instance.state}")
        _apply(instance, SetVariables(set=decode_variables(encoded), delete=delete))
        _log("set_variables", instance=instance, user=user, set=sorted(encoded), delete=sorted(delete))
    return instance


def incident_retry(*, incident_id: int, user=None) -> Incident:
    """Retrying runs the element again, so the engine step happens on a worker."""
    incident = Incident.objects.filter(pk=incident_id).only("instance_id").first()
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    with transaction.atomic():
        instance = _lock_instance(incident.instance_id)
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.resolved_at is not None:
            raise Conflict(f"incident {incident_id} is already resolved")
        incident.resolved_at = timezone.now()
        incident.resolved_by = user if getattr(user, "is_authenticated", False) else None
        incident.save(update_fields=["resolved_at", "resolved_by"])
        instance.open_incidents = max(0, instance.open_incidents - 1)
        instance.save(update_fields=["open_incidents"])
        _record(instance, RetryIncident(incident.engine_incident))
        _log("retry_incident", instance=instance, user=user, incident=incident)
        _enqueue_step(instance)
    return incident


# -- worker side --------------------------------------------------------------------------------------

def instance_step(*, instance_id: int) -> int:
    """Apply the instance's pending events in order, one transaction each, then carry on with
    queued engine work in chunks. Returns the number of transactions that changed something."""
    applied = 0
    while True:
        with transaction.atomic():
            try:
                instance = _lock_instance(instance_id)
            except NotFound:
                return applied
            if instance.suspended:
                return applied
            pending = (PendingEvent.objects.select_for_update().filter(instance=instance, applied_at__isnull=True)
                       .order_by("id").first())
            if pending is not None:
                event = event_from_dict(pending.event)
                if instance.state != InstanceState.RUNNING and not isinstance(event, Start):
                    pending.outcome = f"ignored: the instance is {instance.state}"
                else:
                    outcome = _apply(instance, event)
                    pending.outcome = outcome or "applied"
                pending.applied_at = timezone.now()
                pending.save(update_fields=["applied_at", "outcome"])
                applied += 1
                continue
            if instance.state == InstanceState.RUNNING and instance.engine_state.get("queue"):
                _apply(instance, Continue())
                applied += 1
                continue
            return applied


def job_begin(*, job_id: str, redelivered: bool = False) -> Job | None:
    """Claim a job for running: None when the job must not run (finished, cancelled, held,
    already running under a live lease). Increments the attempt before the work runs.
    `redelivered`: the broker gave this message again because the worker holding it was lost,
    so a job still marked started is taken over (its next attempt) instead of skipped."""
    job = Job.objects.filter(pk=job_id).only("instance_id").first()
    if job is None:
        return None
    with transaction.atomic():
        instance = _lock_instance(job.instance_id)
        job = Job.objects.select_for_update().get(pk=job_id)
        now = timezone.now()
        if job.state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.RETRY):
            return None
        if job.state == JobState.PLANNED:
            # A chain link sent ahead whose element the instance did not reach (an earlier link
            # failed, or the instance went another way): it does nothing.
            job.state = JobState.CANCELLED
            job.last_error = "chain link not reached: the instance did not get to this element"
            job.save(update_fields=["state", "last_error"])
            return None
        if instance.state != InstanceState.RUNNING:
            job.state = JobState.CANCELLED
            job.save(update_fields=["state"])
            return None
        if instance.suspended:
            job.state = JobState.PENDING  # held; resume dispatches it again
            job.save(update_fields=["state"])
            return None
        if job.state == JobState.STARTED and job.lease_expires_at and job.lease_expires_at > now and not redelivered:
            return None  # a duplicate delivery while the first is still running
        job.attempt += 1
        if job.attempt > job.max_attempts:
            _fail_job(instance, job, f"gave up after {job.max_attempts} attempts: the worker was lost each time "
                                     "(killed, out of memory, or over its hard time limit)", now=now)
            return None
        job.state = JobState.STARTED
        job.started_at = job.heartbeat_at = now
        # Past its hard time limit the worker process is killed: a lease a minute longer than
        # that proves the job lost, without heartbeats.
        lease = (job.time_limit + 60) if job.time_limit else settings.BATON_JOB_LEASE_SECONDS
        job.lease_expires_at = now + timedelta(seconds=lease)
        job.save(update_fields=["state", "attempt", "started_at", "heartbeat_at", "lease_expires_at"])
    return job


def job_inputs(job: Job) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(input mapping or None, the decoded variables) for calling the job's plugin."""
    variables = dict(Variable.objects.filter(instance_id=job.instance_id).values_list("name", "value"))
    variables.update(job.locals or {})  # an inner instance's item and counters win over the process's
    return job.inputs, decode_variables(variables)


def job_complete(*, job_id: str, attempt: int, result: Any, deleted: list[str] | None = None) -> str | None:
    """Record a finished job and advance the instance; idempotent: a completion for a job that
    is already finished, cancelled or unknown is recorded and ignored."""
    job = Job.objects.filter(pk=job_id).only("instance_id").first()
    if job is None:
        return "unknown job"
    with transaction.atomic():
        instance = _lock_instance(job.instance_id)
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state != JobState.STARTED or job.attempt != attempt:
            _log("ignored_completion", instance=instance, actor="worker", job=str(job.pk), state=job.state,
                 attempt=attempt)
            return f"job is {job.state}"
        size = len(str(result).encode("utf-8"))
        if result is not None and size > settings.BATON_MAX_VARIABLE_BYTES:
            _fail_job(instance, job, f"the result is {size:,} bytes, over the limit of "
                                     f"{settings.BATON_MAX_VARIABLE_BYTES:,}", now=timezone.now())
            return "result too large"
        try:
            stored = encode_value("result", result) if result is not None else None
        except VariableError as exc:
            _fail_job(instance, job, f"cannot store the result: {exc.message}", now=timezone.now())
            return "result cannot be stored"
        job.state = JobState.COMPLETED
        job.finished_at = timezone.now()
        job.result = stored if deleted is None else {"set": stored, "deleted": deleted}
        job.save(update_fields=["state", "finished_at", "result"])
        event = JobCompleted(job.engine_job or "", result, list(deleted or []))
        if instance.suspended:
            _record(instance, event)  # applied on resume
            return "held: suspended"
        return _apply(instance, event)


def job_fail(*, job_id: str, attempt: int, error: str, retryable: bool = True, traceback: str = "",
             code: str | None = None, variables: dict[str, Any] | None = None) -> str:
    """A failed attempt: schedule the next one (Baton owns the attempts, not Celery), or open
    an incident when they are spent or the failure cannot get better by retrying.

    With `code`, the plugin threw a business error (`orchestrator.plugin.BpmnError`): never
    retried, it goes to the engine as JobFailed(code, variables), where an error boundary or event
    sub-process catches it; uncaught, it opens an incident naming the code."""
    job = Job.objects.filter(pk=job_id).only("instance_id").first()
    if job is None:
        return "unknown job"
    if code is not None:
        try:
            variables = decode_variables(_check_variables(variables or {}, what="the error's variables"))
        except InvalidInput as exc:  # the error cannot carry them: a technical failure, not a business one
            code, variables, error = None, None, f"BPMN error {code!r}: {exc.message}"
            retryable = False
    with transaction.atomic():
        instance = _lock_instance(job.instance_id)
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state != JobState.STARTED or job.attempt != attempt:
            return f"job is {job.state}"
        now = timezone.now()
        job.last_error = (f"BPMN error {code!r}: {error}" if code is not None else error)[:10_000]
        if code is not None:
            _fail_job(instance, job, error, now=now, traceback=job.last_error, code=code, variables=variables)
            return f"business error {code}"
        if retryable and job.attempt < job.max_attempts:
            delays = job.retry_delays or [0]
            delay = delays[min(job.attempt - 1, len(delays) - 1)]
            job.state = JobState.RETRY
            job.next_retry_at = now + timedelta(seconds=delay)
            job.save(update_fields=["state", "next_retry_at", "last_error"])
            return "retry scheduled"
        _fail_job(instance, job, error, now=now, traceback=traceback)
        return "incident"


def jobs_dispatch_due_retries(*, limit: int = 500) -> int:
    """Dispatch retries that are due (run by a beat-driven sweep)."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        due = list(Job.objects.select_for_update(skip_locked=True)
                   .filter(state=JobState.RETRY, next_retry_at__lte=now).order_by("next_retry_at")[:limit])
        for job in due:
            _dispatch(job)
            count += 1
    return count


def steps_reconcile(*, grace_seconds: int | None = None, limit: int = 500) -> int:
    """Send a step again for instances whose recorded events wait longer than a step takes:
    a step message lost in a database outage or a crash must not leave them unapplied for good.
    A suspended instance keeps its events until it is resumed."""
    grace = settings.BATON_PENDING_EVENT_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    stale = list(PendingEvent.objects.filter(applied_at__isnull=True, created_at__lt=cutoff,
                                             instance__suspended=False)
                 .values_list("instance_id", flat=True).distinct()[:limit])
    for instance_id in stale:
        with transaction.atomic():
            outbox.add(STEP_TASK, {"instance_id": instance_id}, queue=ENGINE_QUEUE)
    return len(stale)


def jobs_reconcile(*, limit: int = 500) -> int:
    """Re-dispatch jobs whose lease ran out: dispatched but never started, or started with a
    stale heartbeat. Works from leases only; healthy jobs (live leases) are never touched.
    Each job is handled in a transaction of its own that locks its instance first."""
    now = timezone.now()
    candidates = list(Job.objects.filter(state__in=[JobState.DISPATCHED, JobState.STARTED], lease_expires_at__lt=now)
                      .order_by("lease_expires_at").values_list("pk", "instance_id")[:limit])
    count = 0
    for job_id, instance_id in candidates:
        with transaction.atomic():
            instance = _lock_instance(instance_id)
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.state not in (JobState.DISPATCHED, JobState.STARTED) or not job.lease_expires_at \
                    or job.lease_expires_at >= timezone.now():
                continue  # it moved on meanwhile
            if job.redispatches >= settings.BATON_MAX_REDISPATCHES:
                _fail_job(instance, job, f"lost {job.redispatches} times: its messages never ran", now=now)
                continue
            job.redispatches += 1
            job.last_error = f"re-dispatched by the reconciler: lease expired at {job.lease_expires_at.isoformat()}"
            # (the instance lock is held: its steps cannot run meanwhile)
            # Links planned behind a lost chain will never arrive: the engine dispatches anew.
            Job.objects.filter(instance=instance, state=JobState.PLANNED).update(state=JobState.CANCELLED)
            _dispatch(job)
            _history_note(job, "redispatched")
            count += 1
    return count


# -- applying an engine step -------------------------------------------------------------------------

def _apply(instance: ProcessInstance, event: EngineEvent) -> str | None:
    from apps.events import clock, services as events
    from orchestrator.runtime.events import MessageReceived, SignalReceived

    engine = engine_for(instance.definition_id)
    now = clock.db_now()  # timers are computed from the database's clock, the same for every server
    if isinstance(event, Start):
        stored = dict(instance.variables.values_list("name", "value"))
        result = engine.handle(None, Start(variables=decode_variables(stored), start_event=event.start_event,
                                           called=event.called), now=now)
        # Start variables were stored when the instance was created: write only what the first
        # step's scripts changed or removed.
        final = result.state["variables"]
        result.changed_variables = {name for name, value in final.items() if stored.get(name, _MISSING) != value}
        result.deleted_variables = set(stored) - set(final)
    else:
        if isinstance(event, (MessageReceived, SignalReceived)) and event.variables:
            # Recorded in their stored (JSON) form; the engine takes Python values.
            event = type(event)(event.subscription, decode_variables(event.variables))
        result = engine.handle(_load_state(instance), event, now=now)
    if result.ignored:
        if isinstance(event, MessageReceived):
            events.message_returned(instance=instance, subscription=event.subscription)
        return f"ignored: {result.ignored}"
    _persist(instance, result)
    if instance.state != InstanceState.RUNNING:
        events.instance_ended(instance=instance, applying=event)
    return None


def _persist(instance: ProcessInstance, result: StepResult) -> None:
    now = timezone.now()
    state = result.state
    variables = state.pop("variables")
    if result.changed_variables:
        Variable.objects.bulk_create(
            [Variable(instance=instance, name=name, value=variables[name], updated_at=now)
             for name in sorted(result.changed_variables)],
            update_conflicts=True, unique_fields=["instance", "name"], update_fields=["value", "updated_at"],
        )
    if result.deleted_variables:
        Variable.objects.filter(instance=instance, name__in=result.deleted_variables).delete()
    _write_history(instance, result.history, now)
    new_jobs: list[Job] = []
    for command in result.commands:
        job = _carry_out(instance, command, now)
        if job is not None:
            new_jobs.append(job)
    if new_jobs and not instance.suspended:
        _send_jobs(instance, new_jobs, result)
    instance.engine_state = state
    instance.schema_version = state.get("schema_version", 1)
    instance.state = _STATUS_TO_STATE[state["status"]]
    if instance.state != InstanceState.RUNNING and instance.ended_at is None:
        instance.ended_at = now
    instance.active_elements = sorted({token["node"] for token in state["tokens"].values()})
    if instance.state != InstanceState.RUNNING:
        # Queued work of an ended instance must call nothing: chain links sent ahead included.
        Job.objects.filter(instance=instance, state__in=[JobState.PLANNED, JobState.PENDING, JobState.DISPATCHED,
                                                          JobState.RETRY]).update(state=JobState.CANCELLED,
                                                                                   finished_at=now)
    instance.revision += 1
    instance.save(update_fields=["engine_state", "schema_version", "state", "ended_at", "active_elements",
                                 "revision", "open_incidents"])
    if instance.state != InstanceState.RUNNING and instance.parent_id is not None:
        calls.child_ended(instance, result.commands)


def _carry_out(instance: ProcessInstance, command: Any, now) -> Job | None:
    """Write what one command asks for; returns a new service job still to be sent."""
    from apps.events import services as events
    from orchestrator.runtime.commands import (
        BroadcastSignal, Escalate, ScheduleTimer, SendMessage, Subscribe, Unsubscribe,
    )

    if isinstance(command, (ScheduleTimer, Subscribe, Unsubscribe, SendMessage, BroadcastSignal, Escalate)):
        # Timers, messages and signals: rows of apps.events, in this transaction.
        events.carry_out(instance, command, now)
        return None
    if isinstance(command, RunServiceTask):
        planned = (Job.objects.select_for_update()
                   .filter(instance=instance, element_id=command.element, state=JobState.PLANNED).first())
        if planned is not None and not instance.suspended:
            # Its chain link is already on the broker: bind it, send nothing.
            planned.engine_job, planned.inputs, planned.locals = command.job, command.inputs, command.locals
            planned.state, planned.dispatched_at = JobState.DISPATCHED, now
            planned.lease_expires_at = now + timedelta(seconds=settings.BATON_DISPATCH_LEASE_SECONDS)
            planned.save(update_fields=["engine_job", "inputs", "locals", "state", "dispatched_at", "lease_expires_at"])
            return None
        policy = retry_policy(command.plugin, command.retry_cycle)
        return Job.objects.create(
            instance=instance, kind=JobKind.SERVICE, engine_job=command.job, element_id=command.element,
            task_name=command.plugin, queue=command.queue or policy.queue or PLUGINS_QUEUE, inputs=command.inputs,
            locals=command.locals,
            max_attempts=policy.max_attempts, retry_delays=policy.delays,
            time_limit=command.time_limit or policy.time_limit,
            soft_time_limit=command.soft_time_limit or policy.soft_time_limit,
        )
    if isinstance(command, RunScriptTask):
        planned = (Job.objects.select_for_update()
                   .filter(instance=instance, element_id=command.element, state=JobState.PLANNED).first())
        if planned is not None and not instance.suspended:
            planned.engine_job, planned.state, planned.dispatched_at = command.job, JobState.DISPATCHED, now
            planned.locals = command.locals
            planned.lease_expires_at = now + timedelta(seconds=settings.BATON_DISPATCH_LEASE_SECONDS)
            planned.save(update_fields=["engine_job", "locals", "state", "dispatched_at", "lease_expires_at"])
            return None
        job = _script_job(instance, command.element, engine_job=command.job)
        if command.locals:
            job.locals = command.locals
            job.save(update_fields=["locals"])
        return job
    elif isinstance(command, CreateUserTask):
        UserTask.objects.create(
            instance=instance, engine_job=command.job, element_id=command.element, name=command.name or "",
            kind="userTask", assignee=command.assignee, candidate_groups=command.candidate_groups,
            candidate_users=command.candidate_users, form_fields=command.form_fields,
        )
    elif isinstance(command, StartCallActivity):
        calls.start_child(instance, command)
    elif isinstance(command, CancelJob):
        for child_id in calls.children_of_jobs(instance, [command.job]):
            instance_cancel(instance_id=child_id)  # parent before child: the lock order holds
        Job.objects.filter(instance=instance, engine_job=command.job).exclude(
            state__in=[JobState.COMPLETED, JobState.FAILED]).update(state=JobState.CANCELLED, finished_at=now)
        UserTask.objects.filter(instance=instance, engine_job=command.job, state=UserTaskState.OPEN).update(
            state=UserTaskState.CANCELLED)
    elif isinstance(command, OpenIncident):
        job = Job.objects.filter(instance=instance, engine_job=command.job).first() if command.job else None
        Incident.objects.create(instance=instance, engine_incident=command.incident, element_id=command.element,
                                job=job, message=command.message, traceback=job.last_error if job else "")
        instance.open_incidents += 1
    elif isinstance(command, ResolveIncident):
        updated = Incident.objects.filter(instance=instance, engine_incident=command.incident,
                                          resolved_at__isnull=True).update(resolved_at=now)
        instance.open_incidents = max(0, instance.open_incidents - updated)
    elif isinstance(command, ContinueLater):
        _enqueue_step(instance)
    return None


def _script_job(instance: ProcessInstance, element: str, *, engine_job: str | None = None,
                state: str = JobState.PENDING) -> Job:
    """A script job: attempts only guard against a lost worker; a script error is final."""
    return Job.objects.create(instance=instance, kind=JobKind.SCRIPT, engine_job=engine_job, element_id=element,
                              queue=SCRIPTS_QUEUE, max_attempts=settings.BATON_JOB_ATTEMPTS, retry_delays=[0.0],
                              state=state)


def _send_jobs(instance: ProcessInstance, jobs: list[Job], result: StepResult) -> None:
    """Send the step's new service jobs as flat canvases: a parallel fan-out as one chord whose
    callback only asks the engine to advance (the join is counted in the database, so a callback
    that fires twice or never changes nothing); a single job followed by a certain run of
    service tasks as one chain, its later links planned rows bound when the engine gets there."""
    now = timezone.now()
    for job in jobs:
        _mark_dispatched(job, now)
    if len(jobs) > 1:
        outbox.add_canvas("chord", [_link(job) for job in jobs],
                          callback={"task": STEP_TASK, "kwargs": {"instance_id": instance.pk}, "queue": ENGINE_QUEUE})
        return
    head = jobs[0]
    following = engine_for(instance.definition_id).exe.chain_after(head.element_id, limit=settings.BATON_CHAIN_LENGTH,
                                                                   scripts=True)
    if not following:
        outbox.add(JOB_TASK, {"job_id": str(head.pk)}, queue=head.queue or PLUGINS_QUEUE, task_id=str(head.pk),
                   options=_job_options(head))
        return
    links = [head]
    nodes = engine_for(instance.definition_id).process.flow_nodes
    for element in following:
        node = nodes[element]
        if node.kind.value == "scriptTask":
            links.append(_script_job(instance, element, state=JobState.PLANNED))
            continue
        policy = retry_policy(node.plugin, node.retry_cycle)  # type: ignore[attr-defined]
        links.append(Job.objects.create(
            instance=instance, kind=JobKind.SERVICE, element_id=element, task_name=node.plugin,  # type: ignore[attr-defined]
            queue=node.queue or policy.queue or PLUGINS_QUEUE,  # type: ignore[attr-defined]
            max_attempts=policy.max_attempts, retry_delays=policy.delays, state=JobState.PLANNED,
            time_limit=node.time_limit or policy.time_limit,  # type: ignore[attr-defined]
            soft_time_limit=node.soft_time_limit or policy.soft_time_limit,  # type: ignore[attr-defined]
        ))
    outbox.add_canvas("chain", [_link(job) for job in links])


def _link(job: Job) -> dict[str, Any]:
    return {"task": JOB_TASK, "kwargs": {"job_id": str(job.pk)}, "task_id": str(job.pk),
            "queue": job.queue or PLUGINS_QUEUE, "options": _job_options(job)}


def _job_options(job: Job) -> dict[str, float]:
    """The job's own time limits as Celery options: a time-out is a failed attempt."""
    options = {}
    if job.time_limit:
        options["time_limit"] = job.time_limit
    if job.soft_time_limit:
        options["soft_time_limit"] = job.soft_time_limit
    return options


def _mark_dispatched(job: Job, now) -> None:
    job.state = JobState.DISPATCHED
    job.dispatched_at = now
    job.lease_expires_at = now + timedelta(seconds=settings.BATON_DISPATCH_LEASE_SECONDS)
    job.next_retry_at = None
    job.save(update_fields=["state", "dispatched_at", "lease_expires_at", "next_retry_at"])


def _dispatch(job: Job) -> None:
    """Send one job on its own (a retry, a re-dispatch, a job held while suspended)."""
    _mark_dispatched(job, timezone.now())
    job.save(update_fields=["redispatches", "last_error"])
    outbox.add(JOB_TASK, {"job_id": str(job.pk)}, queue=job.queue or PLUGINS_QUEUE, task_id=str(job.pk),
               options=_job_options(job))


def _fail_job(instance: ProcessInstance, job: Job, error: str, *, now, traceback: str = "", code: str | None = None,
              variables: dict[str, Any] | None = None) -> None:
    job.state = JobState.FAILED
    job.finished_at = now
    job.last_error = (traceback or error)[:10_000]
    job.save(update_fields=["state", "finished_at", "last_error", "attempt"])
    _apply(instance, JobFailed(job.engine_job or "", error, code=code, variables=dict(variables or {})))


def _history_note(job: Job, what: str) -> None:
    FlowNodeInstance.objects.create(instance_id=job.instance_id, element_id=job.element_id, element_type=what,
                                    token="", state=FlowNodeInstance.State.TAKEN, started_at=timezone.now(),
                                    ended_at=timezone.now(), attempt=job.attempt, error=job.last_error[:1000])


def _write_history(instance: ProcessInstance, history: list[dict[str, Any]], now) -> None:
    """One row per flow node instance: rows started and ended in this step are written once;
    rows still active are updated when their node ends in a later step."""
    rows: dict[tuple[str, str], FlowNodeInstance] = {}
    new_rows: list[FlowNodeInstance] = []
    for entry in history:
        kind, element, token = entry["event"], entry["element"], entry["token"]
        if kind == "flow":
            new_rows.append(FlowNodeInstance(instance=instance, element_id=element, element_type="sequenceFlow",
                                             token=token, state=FlowNodeInstance.State.TAKEN, started_at=now,
                                             ended_at=now))
        elif kind == "started":
            row = FlowNodeInstance(instance=instance, element_id=element, element_type=entry["kind"], token=token,
                                   state=FlowNodeInstance.State.ACTIVE, started_at=now)
            rows[(token, element)] = row
            new_rows.append(row)
        elif kind in ("completed", "cancelled", "failed"):
            state = {"completed": FlowNodeInstance.State.COMPLETED, "cancelled": FlowNodeInstance.State.CANCELLED,
                     "failed": FlowNodeInstance.State.FAILED}[kind]
            row = rows.get((token, element))
            if row is not None:
                row.state, row.ended_at = state, now
                row.error = (entry.get("message") or "")[:1000]
            else:
                FlowNodeInstance.objects.filter(instance=instance, token=token, element_id=element,
                                                state=FlowNodeInstance.State.ACTIVE).update(
                    state=state, ended_at=now, error=(entry.get("message") or "")[:1000])
    if new_rows:
        FlowNodeInstance.objects.bulk_create(new_rows)


# -- claiming user tasks (the API checks who is offered a task; these check its state) ---------------

def user_task_claim(*, task_id: int, user) -> UserTask:
    """Assign an open user task to `user`. Claiming a task you already hold changes nothing;
    a task held by someone else is a conflict (they unclaim it first, or an operator does)."""
    task = UserTask.objects.filter(pk=task_id).only("instance_id").first()
    if task is None:
        raise NotFound(f"no user task {task_id}")
    username = user.get_username()
    with transaction.atomic():
        instance = _lock_instance(task.instance_id)
        task = UserTask.objects.select_for_update().get(pk=task_id)
        if task.state != UserTaskState.OPEN:
            raise Conflict(f"user task {task_id} is {task.state}, it cannot be claimed")
        if task.assignee == username:
            return task
        if task.assignee:
            raise Conflict(f"user task {task_id} is already claimed by {task.assignee}")
        task.assignee = username
        task.claimed_at = timezone.now()
        task.save(update_fields=["assignee", "claimed_at"])
        _log("claim_task", instance=instance, user=user, user_task=task)
    return task


def user_task_unclaim(*, task_id: int, user=None) -> UserTask:
    """Make an open, assigned user task unassigned again (offered to its candidates)."""
    task = UserTask.objects.filter(pk=task_id).only("instance_id").first()
    if task is None:
        raise NotFound(f"no user task {task_id}")
    with transaction.atomic():
        instance = _lock_instance(task.instance_id)
        task = UserTask.objects.select_for_update().get(pk=task_id)
        if task.state != UserTaskState.OPEN:
            raise Conflict(f"user task {task_id} is {task.state}, it cannot be unclaimed")
        if not task.assignee:
            raise Conflict(f"user task {task_id} is not claimed")
        previous = task.assignee
        task.assignee = None
        task.claimed_at = None
        task.save(update_fields=["assignee", "claimed_at"])
        _log("unclaim_task", instance=instance, user=user, user_task=task, previous_assignee=previous)
    return task
