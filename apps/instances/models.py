"""Process instances and everything that hangs off them.

The instance row is kept small (its engine state holds tokens, scopes and joins, never the
variables or the history), so that a step writes what changed: variables, jobs, user tasks,
incidents and history live in rows of their own. Every write goes through `services.py`.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.definitions.models import ProcessDefinition


class InstanceState(models.TextChoices):
    RUNNING = "running", "running"  # tokens are in the process, moving, waiting or held by an incident
    COMPLETED = "completed", "completed"  # the last token reached an end event
    TERMINATED = "terminated", "terminated"  # a terminate end event ended it
    CANCELLED = "cancelled", "cancelled"  # an operator or the API ended it


class ProcessInstance(models.Model):
    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances")
    state = models.CharField(max_length=16, choices=InstanceState.choices, default=InstanceState.RUNNING)
    suspended = models.BooleanField(default=False)
    business_key = models.CharField(max_length=255, null=True, blank=True)
    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    parent_element = models.CharField(max_length=255, null=True, blank=True)
    parent_job = models.CharField(max_length=32, null=True, blank=True,
                                  help_text="The engine job of the call activity that started this instance.")
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="descendants")
    revision = models.PositiveIntegerField(default=0, help_text="Incremented by every step: compare-and-set.")
    engine_state = models.JSONField(default=dict, help_text="Tokens, scopes and joins (variables live in rows).")
    schema_version = models.PositiveSmallIntegerField(default=1)
    active_elements = models.JSONField(default=list, help_text="Element ids that hold a token.")
    open_incidents = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-started_at"], name="instance_state_started"),
            models.Index(fields=["definition", "state"], name="instance_definition_state"),
            models.Index(fields=["business_key"], name="instance_business_key"),
            models.Index(fields=["-started_at"], name="instance_started"),
            models.Index(fields=["open_incidents"], name="instance_with_incidents", condition=Q(open_incidents__gt=0)),
        ]

    def __str__(self) -> str:
        return f"instance {self.pk} of {self.definition_id}"


class Variable(models.Model):
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=255)
    value = models.JSONField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "name"], name="variable_unique_name")]

    def __str__(self) -> str:
        return self.name


class JobKind(models.TextChoices):
    SERVICE = "service", "service task"
    SCRIPT = "script", "script task"
    CONTINUATION = "continuation", "engine continuation"


class JobState(models.TextChoices):
    PLANNED = "planned", "planned"  # a chain link sent ahead; bound when the engine reaches its element
    PENDING = "pending", "pending"  # created, not yet handed to the broker
    DISPATCHED = "dispatched", "dispatched"  # in the outbox or on the broker
    STARTED = "started", "started"  # a worker runs it now (heartbeat, lease)
    RETRY = "retry", "waiting to retry"  # failed; next_retry_at says when
    COMPLETED = "completed", "completed"
    FAILED = "failed", "failed"  # attempts spent: an incident is open
    CANCELLED = "cancelled", "cancelled"  # its token was removed; queued work does nothing


class Job(models.Model):
    """One unit of work. Its id is the Celery task id, chosen before publishing so that a
    re-publish reuses it; `attempt` is incremented before the work runs, so that a message
    that kills its worker ends as an incident after N attempts instead of looping."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    engine_job = models.CharField(max_length=32, null=True, blank=True, help_text="The engine's id for the job.")
    element_id = models.CharField(max_length=255, blank=True, default="")
    task_name = models.CharField(max_length=255, blank=True, default="")
    queue = models.CharField(max_length=255, blank=True, default="")
    inputs = models.JSONField(null=True, blank=True)
    locals = models.JSONField(null=True, blank=True,
                              help_text="The token's own variables (a multi-instance item), over the process's.")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    retry_delays = models.JSONField(default=list, blank=True, help_text="Seconds to wait before attempts 2, 3, ...")
    time_limit = models.FloatField(null=True, blank=True, help_text="Hard limit in seconds (element, else plugin).")
    soft_time_limit = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    redispatches = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["state", "next_retry_at"], name="job_retry_due"),
            models.Index(fields=["state", "lease_expires_at"], name="job_lease"),
            models.Index(fields=["instance", "state"], name="job_instance_state"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["instance", "engine_job"], name="job_unique_engine_job",
                                    condition=Q(engine_job__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.task_name or self.kind} ({self.state})"


class UserTaskState(models.TextChoices):
    OPEN = "open", "open"
    COMPLETED = "completed", "completed"
    CANCELLED = "cancelled", "cancelled"


class UserTask(models.Model):
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="user_tasks")
    engine_job = models.CharField(max_length=32)
    element_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    kind = models.CharField(max_length=32, default="userTask")
    assignee = models.CharField(max_length=150, null=True, blank=True)
    candidate_groups = models.JSONField(default=list, blank=True)
    candidate_users = models.JSONField(default=list, blank=True)
    form_fields = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=UserTaskState.choices, default=UserTaskState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["state", "assignee"], name="usertask_state_assignee")]
        constraints = [models.UniqueConstraint(fields=["instance", "engine_job"], name="usertask_unique_job")]

    def __str__(self) -> str:
        return self.name or self.element_id


class Incident(models.Model):
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="incidents")
    engine_incident = models.CharField(max_length=32)
    element_id = models.CharField(max_length=255)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    message = models.TextField()
    traceback = models.TextField(blank=True, default="")
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["resolved_at"], name="incident_open", condition=Q(resolved_at__isnull=True))]

    def __str__(self) -> str:
        return f"incident at {self.element_id}"


class FlowNodeInstance(models.Model):
    """History: one row per flow node instance, and one per sequence flow taken."""

    class State(models.TextChoices):
        ACTIVE = "active", "active"
        COMPLETED = "completed", "completed"
        CANCELLED = "cancelled", "cancelled"
        FAILED = "failed", "failed"
        TAKEN = "taken", "taken"  # sequence flows

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="history")
    element_id = models.CharField(max_length=255)
    element_type = models.CharField(max_length=64)
    token = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["instance", "token", "element_id"], name="history_open_row")]

    @property
    def duration(self):
        return self.ended_at - self.started_at if self.ended_at else None


class OperationLog(models.Model):
    """Who did what to which instance, task, incident or variable, and when."""

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150, blank=True, default="", help_text="Who, when not a user: worker, system.")
    action = models.CharField(max_length=64)
    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="operations")
    user_task = models.ForeignKey(UserTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]


class PendingEvent(models.Model):
    """An engine event recorded by the web process or held while the instance is suspended;
    a worker applies pending events in order (the web process never runs user code)."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="pending_events")
    event = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["instance"], name="pending_unapplied", condition=Q(applied_at__isnull=True))]


class OutboxMessage(models.Model):
    """A Celery message written in the same transaction as the state change that needs it; the
    relay publishes it with publisher confirms and marks it sent, so a crash between commit and
    publish loses nothing."""

    created_at = models.DateTimeField(auto_now_add=True)
    task_name = models.CharField(max_length=255)
    task_id = models.CharField(max_length=64)
    kwargs = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True, help_text="Celery options: time limits.")
    queue = models.CharField(max_length=255)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["id"], name="outbox_unsent", condition=Q(sent_at__isnull=True))]
