"""Timers, message and signal subscriptions, buffered messages and signal deliveries.

The engine keeps what an instance waits for in its own state; these rows are the same
subscriptions seen from outside, so that a sweep, a correlation or a broadcast can find them
with an index instead of reading every instance. They are written only by `services.py`, in the
transaction of the step whose commands asked for them (ScheduleTimer, Subscribe, Unsubscribe),
or, for start events, by the deploy and retire of a definition.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.definitions.models import ProcessDefinition
from apps.instances.models import ProcessInstance


class TimerState(models.TextChoices):
    PENDING = "pending", "pending"  # waits for its due time
    CLAIMED = "claimed", "claimed"  # a sweeper took it; the event is being recorded
    FIRED = "fired", "fired"  # the event was recorded (instance timers) or the instance started
    CANCELLED = "cancelled", "cancelled"  # its activity ended first, the instance ended, or a new version replaced it


class Timer(models.Model):
    """One due time: of an instance's timer event (`instance`, `subscription`), or of a timer
    start event of the latest version of a process (`definition`, no instance). A cycle's next
    repetition is a new row; fired rows stay as the history of what fired when."""

    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="timers")
    definition = models.ForeignKey(ProcessDefinition, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="start_timers", help_text="Set for timer start events only.")
    subscription = models.CharField(max_length=64, blank=True, default="",
                                    help_text="The engine's subscription id (empty for start events).")
    element = models.CharField(max_length=255)
    due_at = models.DateTimeField()
    repetition = models.PositiveIntegerField(default=1, help_text="Which repetition of a cycle this is (1: the first).")
    repetitions = models.PositiveIntegerField(null=True, blank=True,
                                              help_text="Repetitions of the cycle in all; empty: unbounded.")
    spec = models.JSONField(null=True, blank=True, help_text="The timer as read (start events: for the next repetition).")
    state = models.CharField(max_length=16, choices=TimerState.choices, default=TimerState.PENDING)
    claim = models.UUIDField(null=True, blank=True, editable=False,
                             help_text="Set by the sweeper that claimed it; only that sweeper may fire it.")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    missed = models.PositiveIntegerField(default=0, help_text="Start events: repetitions that fell due while nothing "
                                                              "swept (beat or broker down), skipped by this fire.")
    started_instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", help_text="Start events: the instance this fire started.")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], name="timer_pending_due", condition=Q(state="pending")),
            models.Index(fields=["claimed_at"], name="timer_claimed", condition=Q(state="claimed")),
            models.Index(fields=["instance", "subscription"], name="timer_instance_subscription"),
        ]
        constraints = [
            models.CheckConstraint(name="timer_instance_xor_definition",
                                   condition=Q(instance__isnull=False, definition__isnull=True)
                                   | Q(instance__isnull=True, definition__isnull=False)),
        ]

    def __str__(self) -> str:
        owner = f"instance {self.instance_id}" if self.instance_id else f"definition {self.definition_id}"
        return f"timer {self.element} of {owner} due {self.due_at:%Y-%m-%d %H:%M:%S} ({self.state})"


class SubscriptionKind(models.TextChoices):
    MESSAGE = "message", "message"
    SIGNAL = "signal", "signal"


class EventSubscription(models.Model):
    """A message or signal someone waits for: a waiting instance (`instance`, `subscription`),
    or a message or signal start event of the latest version of a process (`definition`)."""

    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="event_subscriptions")
    definition = models.ForeignKey(ProcessDefinition, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="start_subscriptions", help_text="Set for start events only.")
    subscription = models.CharField(max_length=64, blank=True, default="",
                                    help_text="The engine's subscription id (empty for start events).")
    kind = models.CharField(max_length=16, choices=SubscriptionKind.choices)
    name = models.CharField(max_length=255)
    correlation_key = models.JSONField(null=True, blank=True,
                                       help_text="What a message must carry: the model's key, else the business key.")
    key = models.CharField(max_length=512, null=True, blank=True, editable=False,
                           help_text="The correlation key as compared (text); empty: none.")
    element = models.CharField(max_length=255)
    interrupting = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["kind", "name", "key"], name="subscription_lookup"),
            models.Index(fields=["instance", "subscription"], name="subscription_instance"),
        ]
        constraints = [
            models.CheckConstraint(name="subscription_instance_xor_definition",
                                   condition=Q(instance__isnull=False, definition__isnull=True)
                                   | Q(instance__isnull=True, definition__isnull=False)),
        ]

    def __str__(self) -> str:
        owner = f"instance {self.instance_id}" if self.instance_id else f"start of definition {self.definition_id}"
        return f"{self.kind} {self.name!r} at {self.element} ({owner})"


class Message(models.Model):
    """One correlated message: the buffer (nothing waited yet: kept until `expires_at` for the
    first subscription that matches) and the record that makes a `message_id` apply once
    (`outcome` is the first call's answer, returned again to a repeated one)."""

    name = models.CharField(max_length=255)
    correlation_key = models.JSONField(null=True, blank=True)
    key = models.CharField(max_length=512, null=True, blank=True, editable=False)
    variables = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                  help_text="The sender's id: a message with the same id is applied once.")
    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    buffered = models.BooleanField(default=False, help_text="Waiting in the buffer for a subscription.")
    consumed_by = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    consumed_at = models.DateTimeField(null=True, blank=True)
    subscription = models.CharField(max_length=64, blank=True, default="",
                                    help_text="The engine subscription it was delivered to.")
    redeliveries = models.PositiveIntegerField(default=0,
                                               help_text="Times it came back because its subscription closed first.")
    outcome = models.JSONField(default=dict, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Its sender (API): it reaches only processes they may "
                                                            "correlate. Empty: Baton itself, or the command line.")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["name", "key", "expires_at"], name="message_buffered",
                         condition=Q(buffered=True)),
            models.Index(fields=["expires_at"], name="message_expiry"),
            models.Index(fields=["consumed_by", "subscription"], name="message_consumed"),
        ]

    def __str__(self) -> str:
        return f"message {self.name!r} ({self.message_id or self.pk})"


class SignalDeliveryState(models.TextChoices):
    RUNNING = "running", "running"
    DONE = "done", "done"


class SignalDelivery(models.Model):
    """One broadcast of a signal, delivered as a background job: one instance per transaction,
    with its progress here, so a job that dies goes on where it stopped. Subscriptions created
    after the broadcast (ids above `subscriptions_upto`) are not reached: a signal is not kept."""

    name = models.CharField(max_length=255)
    variables = models.JSONField(default=dict, blank=True)
    signal_id = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                 help_text="The sender's id: a signal with the same id is broadcast once.")
    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    state = models.CharField(max_length=16, choices=SignalDeliveryState.choices, default=SignalDeliveryState.RUNNING)
    subscriptions_upto = models.BigIntegerField(default=0, help_text="Highest subscription id it may reach.")
    instance_cursor = models.BigIntegerField(default=0, help_text="Instances up to this id are done.")
    starts = models.JSONField(default=list, blank=True,
                              help_text="[definition id, start event] of every process it starts.")
    starts_done = models.PositiveIntegerField(default=0)
    instances_total = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0, help_text="Subscriptions the signal reached.")
    started = models.JSONField(default=list, blank=True, help_text="Ids of the instances it started.")
    outcome = models.JSONField(default=dict, blank=True, help_text="The reply of the broadcast call.")
    origin_instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", help_text="The instance that threw it, if any.")
    keys = models.JSONField(null=True, blank=True, help_text="The definition keys it may reach (its sender's "
                                                             "`signal` grants); empty: every key.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "signal deliveries"

    def __str__(self) -> str:
        return f"signal {self.name!r} ({self.state})"
