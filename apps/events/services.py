"""Timers, messages and signals: every write of `apps.events` goes through this module.

Locks, in the one order every path keeps (docs/runtime.md, "Timers, messages and signals"):

1. a process definition row (deploy, retire, firing a start timer), or one instance row (a step,
   a delivery), never two instance rows;
2. then that owner's timer rows and subscription rows;
3. then, last, the lock of one message or signal *name* (`_lock_name`: a PostgreSQL advisory
   lock held to the end of the transaction; on SQLite every writer is serialised already). It
   makes "nobody waits yet, so buffer the message" and "subscribe, then look in the buffer" see
   each other: a message that arrives before its catch event is committed is never lost.

Nothing here locks an instance while holding the name lock, or a second instance while holding
one: a message sent by an instance goes out through the outbox (`baton.message.correlate`), a
signal through a background job that takes one instance per transaction.

The sweeper claims due timers with `SELECT ... FOR UPDATE SKIP LOCKED` and a compare-and-set
(a claim id) in one short transaction, then fires each in a transaction of its own; a claim
whose sweeper died is taken again after `BATON_TIMER_CLAIM_LEASE` seconds, and only the holder
of the current claim may fire. Due times and claims use the database's clock (`clock.db_now`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q

from apps.access.models import Action
from apps.access.selectors import grant_scope, user_may
from apps.definitions.engines import engine_for
from apps.definitions.errors import ApplicationError, Conflict, DeploymentRefused, InvalidInput, NotFound
from apps.definitions.models import ProcessDefinition
from apps.definitions.selectors import definition_latest
from apps.events import selectors
from apps.events import clock
from apps.events.models import (
    EventSubscription, Message, SignalDelivery, SignalDeliveryState, SubscriptionKind, Timer, TimerState,
)
from apps.instances import outbox
from apps.instances.models import InstanceState, OperationLog, PendingEvent, ProcessInstance
from apps.instances.services import ENGINE_QUEUE, STEP_TASK, instance_start
from orchestrator.bpmn.model import EventType
from orchestrator.errors import BatonError, VariableError
from orchestrator.runtime import timers
from orchestrator.runtime.commands import (
    BroadcastSignal, Command, Escalate, ScheduleTimer, SendMessage, Subscribe, Unsubscribe,
)
from orchestrator.runtime.events import MessageReceived, SignalReceived, TimerFired
from orchestrator.runtime.variables import decode_variables, encode_variables

log = logging.getLogger(__name__)

CORRELATE_TASK = "baton.message.correlate"
BROADCAST_TASK = "baton.signal.broadcast"

# How often a delivery starts over when the instances it found stopped waiting meanwhile.
_CORRELATE_ATTEMPTS = 5
# How often a message comes back (its subscription closed before the event was applied) before
# it stays where it is.
_MAX_REDELIVERIES = 3
# Messages removed per sweep once their retention ran out.
_PURGE_BATCH = 500
_KEY_MAX = 512

# -- messages of errors (reused by the tests) ------------------------------------------------------

NAME_REQUIRED = "{what} name must be a non-empty string of at most 255 characters"
ID_INVALID = "{what} must be a non-empty string of at most 255 characters"
TTL_INVALID = "ttl must be a number of seconds >= 0, not {value!r}"
SEVERAL_WAITING = ("{count} instances wait for message {name!r}{key}; give a correlation key that tells them apart, "
                   "or correlate to all of them")
SEVERAL_STARTS = ("{count} processes start with message {name!r} ({keys}); a message starts one of them only when "
                  "correlated to all")
KEEPS_CHANGING = "the instances waiting for message {name!r} kept changing; try again"
NO_GRANT = "you may not {action} to any process"


# -- helpers --------------------------------------------------------------------------------------

def _lock_name(kind: str, name: str) -> None:
    """Serialise the check-then-write on one message or signal name (see the module docstring)."""
    if connection.vendor != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE serialises every writer already
    digest = hashlib.blake2b(f"baton:{kind}:{name}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def correlation_text(value: Any) -> str | None:
    """A correlation key as compared: text as it is, a whole number as its digits (so that the
    key 42 of a model matches "42" from the command line), anything else as canonical JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = json.dumps(value)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    if len(text) > _KEY_MAX:
        text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InvalidInput(NAME_REQUIRED.format(what=what))
    return name


def _check_id(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidInput(ID_INVALID.format(what=what))
    return value


def _check_variables(values: Any) -> dict[str, Any]:
    """The stored (JSON) form of variables given as plain JSON or in the typed form
    (`{"$type": "date", ...}`), refused with the variable's name when they cannot be stored."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput("variables must be a JSON object")
    try:
        encoded = encode_variables(decode_variables(values))
    except (VariableError, ValueError, TypeError) as exc:
        raise InvalidInput(f"variables: {getattr(exc, 'message', exc)}") from None
    limit = settings.BATON_MAX_VARIABLE_BYTES
    for name, value in encoded.items():
        size = len(json.dumps(value).encode("utf-8"))
        if size > limit:
            raise InvalidInput(f"variables: variable {name!r} is {size:,} bytes, over the limit of {limit:,}")
    return encoded


def _keys_of(user, action: Action) -> frozenset[str] | None:
    """The definition keys a caller may reach with a message or signal: None for every key (Baton
    itself, the command line, a superuser, a `*` grant); PermissionDenied (403) for none."""
    if user is None:
        return None
    scope = grant_scope(user=user, action=action)
    if scope.every_key:
        return None
    if not scope.keys:
        raise PermissionDenied(NO_GRANT.format(action="send messages" if action == Action.CORRELATE
                                               else "broadcast signals"))
    return scope.keys


def _sender(user):
    return user if getattr(user, "is_authenticated", False) else None


def _business_key(value: Any) -> str | None:
    text = correlation_text(value)
    return text if text is not None and len(text) <= 255 else None


def _lock_instance(instance_id: int, *, skip_locked: bool = False) -> ProcessInstance | None:
    query = ProcessInstance.objects.select_for_update(skip_locked=skip_locked).filter(pk=instance_id)
    return query.first()


def _record(instance: ProcessInstance, event: Any) -> None:
    """Record an engine event for the instance and ask for a step (none while suspended: resume
    asks for one)."""
    PendingEvent.objects.create(instance=instance, event=event.to_dict())
    if not instance.suspended:
        outbox.add(STEP_TASK, {"instance_id": instance.pk}, queue=ENGINE_QUEUE)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.BATON_TIMEZONE)


def _name_of(definition_ref: str | None, root_elements, node) -> str:
    """A message or signal's name as the engine computes it: the root element's name, else its id."""
    root = root_elements.get(definition_ref or "")
    return (root.name if root is not None and root.name else definition_ref) or node.name or node.id


# -- the commands of an engine step ---------------------------------------------------------------

def carry_out(instance: ProcessInstance, command: Command, now: datetime) -> None:
    """Write what one event command of a step asks for, in the step's transaction (the caller
    holds the instance lock)."""
    if isinstance(command, ScheduleTimer):
        _timer_schedule(instance, command)
    elif isinstance(command, Subscribe):
        _subscribe(instance, command)
    elif isinstance(command, Unsubscribe):
        Timer.objects.filter(instance=instance, subscription=command.subscription,
                             state__in=[TimerState.PENDING, TimerState.CLAIMED]).update(state=TimerState.CANCELLED)
        EventSubscription.objects.filter(instance=instance, subscription=command.subscription).delete()
    elif isinstance(command, SendMessage):
        # Correlated by a worker after commit: never lock another instance while holding this one.
        outbox.add(CORRELATE_TASK, {
            "name": command.name, "correlation_key": command.correlation_key,
            "variables": encode_variables(command.variables or {}),
            "message_id": f"baton:{instance.pk}:{uuid.uuid4().hex}", "tenant_id": instance.tenant_id,
            "origin_instance": instance.pk,
        }, queue=ENGINE_QUEUE)
    elif isinstance(command, BroadcastSignal):
        signal_broadcast(name=command.name, variables=encode_variables(command.variables or {}),
                         tenant_id=instance.tenant_id, origin=instance)
    elif isinstance(command, Escalate):
        OperationLog.objects.create(action="escalation_uncaught", instance=instance, actor="engine",
                                    details={"code": command.code, "element": command.element})
    else:
        raise TypeError(f"apps.events cannot carry out {type(command).__name__}")


def _timer_schedule(instance: ProcessInstance, command: ScheduleTimer) -> Timer:
    due = datetime.fromisoformat(command.due)
    if due.tzinfo is None:
        raise ValueError(f"ScheduleTimer.due must carry an offset, not {command.due!r}")
    # A subscription has one due time at a time: a new one replaces what was still pending.
    Timer.objects.filter(instance=instance, subscription=command.subscription,
                         state=TimerState.PENDING).update(state=TimerState.CANCELLED)
    return Timer.objects.create(instance=instance, subscription=command.subscription, element=command.element,
                                due_at=due, repetition=command.repetition, repetitions=command.repetitions)


def _subscribe(instance: ProcessInstance, command: Subscribe) -> None:
    key_value = command.correlation_key if command.correlation_key is not None else (
        instance.business_key if command.kind == SubscriptionKind.MESSAGE else None)
    key = correlation_text(key_value)
    EventSubscription.objects.create(instance=instance, subscription=command.subscription, kind=command.kind,
                                     name=command.name, correlation_key=key_value, key=key, element=command.element,
                                     interrupting=command.interrupting)
    if command.kind != SubscriptionKind.MESSAGE:
        return
    _lock_name("message", command.name)
    now = clock.db_now()
    candidates = selectors.messages_buffered(name=command.name, key=key, tenant_id=instance.tenant_id, now=now)
    # A message sent through the API reaches only processes its sender may correlate.
    buffered = next((message for message in candidates.select_for_update()[:20]
                     if message.sent_by_id is None or user_may(user=message.sent_by, action=Action.CORRELATE,
                                                               key=instance.definition.key)), None)
    if buffered is None:
        return
    buffered.buffered = False
    buffered.consumed_by, buffered.consumed_at, buffered.subscription = instance, now, command.subscription
    buffered.save(update_fields=["buffered", "consumed_by", "consumed_at", "subscription"])
    _record(instance, MessageReceived(command.subscription, dict(buffered.variables)))


def instance_ended(*, instance: ProcessInstance, applying: Any = None) -> None:
    """The instance ended (completed, terminated, cancelled): nothing of it waits any more. Called
    in the transaction of the step that ended it; `applying` is the event that step applied."""
    Timer.objects.filter(instance=instance, state__in=[TimerState.PENDING, TimerState.CLAIMED]).update(
        state=TimerState.CANCELLED)
    EventSubscription.objects.filter(instance=instance).delete()
    # Messages delivered but not yet applied will be ignored (the instance ended): they go back.
    # The event being applied is still unapplied (its row is marked after the step): not that one.
    current = applying.subscription if isinstance(applying, MessageReceived) else None
    for event in (PendingEvent.objects.filter(instance=instance, applied_at__isnull=True,
                                              event__type=MessageReceived.type)
                  .order_by("id").values_list("event", flat=True)):
        if event["subscription"] == current:
            current = None
            continue
        message_returned(instance=instance, subscription=event["subscription"])


def message_returned(*, instance: ProcessInstance, subscription: str) -> None:
    """The engine ignored a message delivered to `subscription` (the subscription closed before
    the event was applied: another event won the race). The message is not lost: it goes back
    to correlation, to another instance waiting for it or to the buffer."""
    message = (Message.objects.select_for_update().filter(consumed_by=instance, subscription=subscription)
               .order_by("-id").first())
    if message is None or message.redeliveries >= _MAX_REDELIVERIES:
        return
    message.consumed_by, message.consumed_at, message.subscription = None, None, ""
    message.redeliveries += 1
    message.save(update_fields=["consumed_by", "consumed_at", "subscription", "redeliveries"])
    outbox.add(CORRELATE_TASK, {"redeliver": message.pk}, queue=ENGINE_QUEUE)


# -- messages -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Incoming:
    name: str
    key: str | None
    correlation_key: Any
    variables: dict[str, Any]
    message_id: str | None
    ttl: float
    tenant_id: str | None
    keys: frozenset[str] | None = None  # definition keys it may reach (None: every key)
    sender: Any = None


def message_correlate(*, name: str, correlation_key: Any = None, variables: dict[str, Any] | None = None,
                      message_id: str | None = None, ttl: float | None = None, all: bool = False, user=None,
                      tenant_id: str | None = None) -> dict[str, Any]:
    """Deliver a message: to the instance waiting for it (to every one with `all`), else start an
    instance at a message start event of the latest version of a process, else keep it for `ttl`
    seconds (default BATON_MESSAGE_TTL) for the first subscription that matches.

    A subscription matches a message with the same name and correlation key; a message without a
    key matches every subscription with its name. A waiting instance wins over a start event.
    Several waiting instances (or several processes starting with it) without `all`: Conflict.
    The same `message_id` is applied once: a repeated call gets the first call's answer.

    With `user` (the API), it reaches only processes whose key the user may `correlate`; a user
    who may correlate to none is refused (PermissionDenied). Without (Baton itself, the command
    line), every process.

    Returns `{"delivered_to": [instance ids], "started": [instance ids], "buffered": bool}`.
    """
    name = _check_name(name, "a message")
    message_id = _check_id(message_id, "message_id")
    if ttl is None:
        ttl = settings.BATON_MESSAGE_TTL
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl >= 0:
        raise InvalidInput(TTL_INVALID.format(value=ttl))
    incoming = _Incoming(name=name, key=correlation_text(correlation_key), correlation_key=correlation_key,
                         variables=_check_variables(variables), message_id=message_id, ttl=float(ttl),
                         tenant_id=tenant_id, keys=_keys_of(user, Action.CORRELATE), sender=_sender(user))
    if message_id is not None:
        first = Message.objects.filter(message_id=message_id).first()
        if first is not None:
            return dict(first.outcome)
    try:
        return _correlate(incoming, all=all, user=user)
    except IntegrityError:
        # The same message_id, committed by a concurrent call meanwhile: its answer is ours.
        first = Message.objects.filter(message_id=message_id).first() if message_id else None
        if first is None:
            raise
        return dict(first.outcome)


def _correlate(incoming: _Incoming, *, all: bool, user) -> dict[str, Any]:
    for _ in range(_CORRELATE_ATTEMPTS):
        waiting = selectors.message_waiting(name=incoming.name, key=incoming.key, tenant_id=incoming.tenant_id,
                                            keys=incoming.keys)
        if waiting:
            if len(waiting) > 1 and not all:
                shown = f" with key {incoming.correlation_key!r}" if incoming.key is not None else ""
                raise Conflict(SEVERAL_WAITING.format(count=len(waiting), name=incoming.name, key=shown))
            outcome = _deliver(incoming, waiting, all=all)
        else:
            outcome = _start_or_buffer(incoming, all=all, user=user)
        if outcome is not None:
            return outcome
    raise Conflict(KEEPS_CHANGING.format(name=incoming.name))


def _deliver(incoming: _Incoming, waiting: list[tuple[int, str]], *, all: bool,
             message: Message | None = None) -> dict[str, Any] | None:
    """One transaction per instance: lock it, check it still waits, record the event. None when
    none of them waits any more (the caller looks again). `message` is one coming back
    (`message_redeliver`): its first answer stays as it was."""
    returning = message is not None
    delivered: list[int] = []
    outcome: dict[str, Any] | None = None
    for instance_id, subscription in waiting:
        with transaction.atomic():
            instance = _lock_instance(instance_id)
            _lock_name("message", incoming.name)
            if incoming.message_id is not None and message is None:
                first = Message.objects.filter(message_id=incoming.message_id).first()
                if first is not None:
                    return dict(first.outcome)
            still = (instance is not None and instance.state == InstanceState.RUNNING
                     and EventSubscription.objects.filter(instance_id=instance_id, subscription=subscription,
                                                          kind=SubscriptionKind.MESSAGE).exists())
            if not still:
                continue
            _record(instance, MessageReceived(subscription, dict(incoming.variables)))
            now = clock.db_now()
            delivered.append(instance_id)
            outcome = {"delivered_to": list(delivered), "started": [], "buffered": False}
            if message is None:
                message = Message.objects.create(
                    name=incoming.name, correlation_key=incoming.correlation_key, key=incoming.key,
                    variables=incoming.variables, message_id=incoming.message_id, tenant_id=incoming.tenant_id,
                    expires_at=now + timedelta(seconds=incoming.ttl), consumed_by=instance, consumed_at=now,
                    subscription=subscription, outcome=outcome, sent_by=incoming.sender)
            elif returning:
                message.consumed_by, message.consumed_at, message.subscription = instance, now, subscription
                message.buffered = False
                message.save(update_fields=["consumed_by", "consumed_at", "subscription", "buffered"])
            else:  # `all`: the next instance of the same call
                message.outcome = outcome
                message.save(update_fields=["outcome"])
        if not all:
            break
    return outcome


def _start_or_buffer(incoming: _Incoming, *, all: bool, user) -> dict[str, Any] | None:
    with transaction.atomic():
        _lock_name("message", incoming.name)
        if incoming.message_id is not None:
            first = Message.objects.filter(message_id=incoming.message_id).first()
            if first is not None:
                return dict(first.outcome)
        if selectors.message_waiting(name=incoming.name, key=incoming.key, tenant_id=incoming.tenant_id,
                                     keys=incoming.keys):
            return None  # someone subscribed meanwhile: deliver to it
        now = clock.db_now()
        starts = list(selectors.start_subscriptions(kind=SubscriptionKind.MESSAGE, name=incoming.name,
                                                    tenant_id=incoming.tenant_id, keys=incoming.keys))
        if len(starts) > 1 and not all:
            keys = ", ".join(sorted(s.definition.key for s in starts))
            raise Conflict(SEVERAL_STARTS.format(count=len(starts), name=incoming.name, keys=keys))
        started = []
        for start in starts:
            instance = instance_start(definition=start.definition, variables=decode_variables(incoming.variables),
                                      business_key=_business_key(incoming.correlation_key), user=user,
                                      start_event=start.element)
            started.append(instance.pk)
        buffered = not started and incoming.ttl > 0
        outcome = {"delivered_to": [], "started": started, "buffered": buffered}
        if started or buffered or incoming.message_id is not None:
            Message.objects.create(
                name=incoming.name, correlation_key=incoming.correlation_key, key=incoming.key,
                variables=incoming.variables, message_id=incoming.message_id, tenant_id=incoming.tenant_id,
                expires_at=now + timedelta(seconds=incoming.ttl), buffered=buffered,
                consumed_by_id=started[0] if started else None, consumed_at=now if started else None,
                outcome=outcome, sent_by=incoming.sender)
        return outcome


def message_redeliver(*, message_pk: int) -> dict[str, Any] | None:
    """A message its instance did not take (`message_returned`): to another instance waiting for
    it, else back into the buffer until it expires. It starts no instance: its first delivery
    already went to a waiting one."""
    message = Message.objects.filter(pk=message_pk).first()
    if message is None or message.consumed_by_id is not None or message.buffered:
        return None
    keys = _keys_of(message.sent_by, Action.CORRELATE) if message.sent_by_id else None
    incoming = _Incoming(name=message.name, key=message.key, correlation_key=message.correlation_key,
                         variables=dict(message.variables), message_id=message.message_id, ttl=0.0,
                         tenant_id=message.tenant_id, keys=keys, sender=message.sent_by)
    for _ in range(_CORRELATE_ATTEMPTS):
        waiting = selectors.message_waiting(name=message.name, key=message.key, tenant_id=message.tenant_id,
                                            keys=keys)
        if waiting:
            outcome = _deliver(incoming, waiting[:1], all=False, message=message)
            if outcome is not None:
                return outcome
            message.refresh_from_db()
            continue
        with transaction.atomic():
            _lock_name("message", message.name)
            if selectors.message_waiting(name=message.name, key=message.key, tenant_id=message.tenant_id,
                                         keys=keys):
                continue
            Message.objects.filter(pk=message.pk, consumed_by__isnull=True).update(buffered=True)
            return {"delivered_to": [], "started": [], "buffered": True}
    return None


def messages_purge(*, limit: int = _PURGE_BATCH) -> int:
    """Forget messages whose TTL ran out more than BATON_MESSAGE_RETENTION seconds ago (until then
    they answer a repeated message_id and show in the admin)."""
    cutoff = clock.db_now() - timedelta(seconds=settings.BATON_MESSAGE_RETENTION)
    ids = list(Message.objects.filter(expires_at__lt=cutoff).order_by("expires_at").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    return Message.objects.filter(pk__in=ids).delete()[0]


# -- signals --------------------------------------------------------------------------------------

def signal_broadcast(*, name: str, variables: dict[str, Any] | None = None, signal_id: str | None = None, user=None,
                     tenant_id: str | None = None, origin: ProcessInstance | None = None) -> dict[str, Any]:
    """Broadcast a signal: every subscription with its name (as they are now) gets it, and every
    process with a signal start event of that name starts. The work runs as a background job
    (`baton.signal.broadcast`), one instance per transaction; the answer says how many it
    reaches: `{"signal_id", "delivery_id", "instances", "starts"}`. The same `signal_id` is
    broadcast once: a repeated call gets the first answer. With `user` (the API), it reaches only
    processes whose key the user may `signal`."""
    name = _check_name(name, "a signal")
    signal_id = _check_id(signal_id, "signal_id")
    encoded = _check_variables(variables)
    keys = _keys_of(user, Action.SIGNAL)
    if signal_id is not None:
        first = SignalDelivery.objects.filter(signal_id=signal_id).first()
        if first is not None:
            return dict(first.outcome)
    try:
        with transaction.atomic():
            upto = EventSubscription.objects.aggregate(top=Max("id"))["top"] or 0
            waiting = selectors.signal_waiting(name=name, tenant_id=tenant_id, keys=keys).filter(id__lte=upto)
            instances = waiting.values("instance_id").distinct().count()
            starts = [[s.definition_id, s.element] for s in selectors.start_subscriptions(
                kind=SubscriptionKind.SIGNAL, name=name, tenant_id=tenant_id, keys=keys)]
            delivery = SignalDelivery.objects.create(
                name=name, variables=encoded, signal_id=signal_id, tenant_id=tenant_id, subscriptions_upto=upto,
                starts=starts, instances_total=instances, origin_instance=origin,
                keys=sorted(keys) if keys is not None else None)
            delivery.outcome = {"signal_id": signal_id, "delivery_id": delivery.pk, "instances": instances,
                                "starts": len(starts)}
            delivery.save(update_fields=["outcome"])
            outbox.add(BROADCAST_TASK, {"delivery_id": delivery.pk}, queue=ENGINE_QUEUE)
    except IntegrityError:
        first = SignalDelivery.objects.filter(signal_id=signal_id).first() if signal_id else None
        if first is None:
            raise
        return dict(first.outcome)
    return dict(delivery.outcome)


def signal_deliver(*, delivery_id: int) -> int:
    """The background job of a broadcast: deliver to one instance per transaction, then start
    one instance per transaction, recording the progress on the delivery row, so that a job run
    twice or killed half way neither skips nor repeats anyone. Returns how many it reached now."""
    delivery = SignalDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.state == SignalDeliveryState.DONE:
        return 0
    reached = 0
    while True:
        next_instance = (selectors.signal_waiting(name=delivery.name, tenant_id=delivery.tenant_id,
                                                  keys=delivery.keys)
                         .filter(id__lte=delivery.subscriptions_upto, instance_id__gt=delivery.instance_cursor)
                         .order_by("instance_id").values_list("instance_id", flat=True).first())
        if next_instance is None:
            break
        with transaction.atomic():
            instance = _lock_instance(next_instance)
            delivery = SignalDelivery.objects.select_for_update().get(pk=delivery_id)
            if delivery.instance_cursor >= next_instance:
                continue  # a twin run did it
            if instance is not None and instance.state == InstanceState.RUNNING:
                subscriptions = list(EventSubscription.objects.filter(
                    instance=instance, kind=SubscriptionKind.SIGNAL, name=delivery.name,
                    id__lte=delivery.subscriptions_upto).order_by("id").values_list("subscription", flat=True))
                for subscription in subscriptions:
                    PendingEvent.objects.create(instance=instance, event=SignalReceived(
                        subscription, dict(delivery.variables)).to_dict())
                if subscriptions and not instance.suspended:
                    outbox.add(STEP_TASK, {"instance_id": instance.pk}, queue=ENGINE_QUEUE)
                delivery.delivered += len(subscriptions)
                reached += 1 if subscriptions else 0
            delivery.instance_cursor = next_instance
            delivery.save(update_fields=["instance_cursor", "delivered"])
    while True:
        with transaction.atomic():
            delivery = SignalDelivery.objects.select_for_update().get(pk=delivery_id)
            if delivery.starts_done >= len(delivery.starts):
                delivery.state = SignalDeliveryState.DONE
                delivery.finished_at = clock.db_now()
                delivery.save(update_fields=["state", "finished_at"])
                return reached
            definition_id, element = delivery.starts[delivery.starts_done]
            definition = ProcessDefinition.objects.filter(pk=definition_id).first()
            try:
                with transaction.atomic():
                    if definition is None:
                        raise NotFound(f"definition {definition_id} was deleted")
                    instance = instance_start(definition=definition, variables=decode_variables(delivery.variables),
                                              start_event=element)
                delivery.started = [*delivery.started, instance.pk]
                reached += 1
            except ApplicationError as exc:
                delivery.error = f"{delivery.error}\nstart of definition {definition_id}: {exc.message}".strip()
            delivery.starts_done += 1
            delivery.save(update_fields=["started", "starts_done", "error"])


# -- start events of a definition -----------------------------------------------------------------

def definition_events_install(*, definition: ProcessDefinition) -> None:
    """A new latest version of a process: its timer start events are scheduled and its message
    and signal start events subscribed; those of the key's other versions are removed. Runs in
    the deploy's transaction, which holds the lock on the key's latest version."""
    others = ProcessDefinition.objects.filter(key=definition.key, tenant_id=definition.tenant_id).exclude(
        pk=definition.pk)
    Timer.objects.filter(definition__in=others, state__in=[TimerState.PENDING, TimerState.CLAIMED]).update(
        state=TimerState.CANCELLED)
    EventSubscription.objects.filter(definition__in=others).delete()
    engine = engine_for(definition.pk)
    process = engine.process
    now = clock.db_now()
    tz = _tz()
    for start in process.start_events(None):
        if not start.event_definitions:
            continue
        event = start.event_definitions[0]
        if event.type is EventType.TIMER:
            try:
                spec = timers.read_timer(event, element_id=start.id, variables={}, tz=tz,
                                         evaluate=lambda expression, node=start.id: engine.exe.evaluate(
                                             node, expression, {}),
                                         min_interval=timedelta(seconds=settings.BATON_MIN_TIMER_INTERVAL))
                due = timers.first_due(spec, now=now, tz=tz)
            except BatonError as exc:
                raise DeploymentRefused(f"{definition.key}: timer start event {start.id!r}: {exc.message}",
                                        problems=[exc.to_problem()]) from None
            Timer.objects.create(definition=definition, element=start.id, due_at=due, repetition=1,
                                 repetitions=spec.repetitions, spec=timers.spec_to_dict(spec))
        elif event.type in (EventType.MESSAGE, EventType.SIGNAL):
            kind = SubscriptionKind.MESSAGE if event.type is EventType.MESSAGE else SubscriptionKind.SIGNAL
            EventSubscription.objects.create(definition=definition, kind=kind, element=start.id,
                                             name=_name_of(event.ref, engine.exe.root_elements, start))


def definition_events_remove(*, definition: ProcessDefinition) -> None:
    """A retired version starts nothing any more: its start timers and subscriptions go."""
    Timer.objects.filter(definition=definition, state__in=[TimerState.PENDING, TimerState.CLAIMED]).update(
        state=TimerState.CANCELLED)
    EventSubscription.objects.filter(definition=definition).delete()


# -- timers: the sweeper --------------------------------------------------------------------------

def timers_claim(*, limit: int) -> tuple[uuid.UUID, list[int]]:
    """Claim up to `limit` due timers (and claims whose sweeper died) in one short transaction.
    SKIP LOCKED lets sweepers in other processes claim other rows meanwhile; the update is a
    compare-and-set on the state, so that on SQLite too a row is claimed once."""
    claim = uuid.uuid4()
    with transaction.atomic():
        now = clock.db_now()
        stale = now - timedelta(seconds=settings.BATON_TIMER_CLAIM_LEASE)
        due = Q(state=TimerState.PENDING, due_at__lte=now) | Q(state=TimerState.CLAIMED, claimed_at__lt=stale)
        ids = list(Timer.objects.select_for_update(skip_locked=True).filter(due).order_by("due_at")
                   .values_list("pk", flat=True)[:limit])
        if not ids:
            return claim, []
        Timer.objects.filter(due, pk__in=ids).update(state=TimerState.CLAIMED, claim=claim, claimed_at=now)
    return claim, list(Timer.objects.filter(claim=claim).order_by("due_at").values_list("pk", flat=True))


def timer_fire(*, timer_id: int, claim: uuid.UUID) -> str:
    """Fire one claimed timer in a transaction of its own; only the current claim may."""
    timer = Timer.objects.filter(pk=timer_id).only("instance_id", "definition_id").first()
    if timer is None:
        return "gone"
    if timer.instance_id is not None:
        return _fire_instance_timer(timer.pk, timer.instance_id, claim)
    return _fire_start_timer(timer.pk, timer.definition_id, claim)


def _fire_instance_timer(timer_id: int, instance_id: int, claim: uuid.UUID) -> str:
    with transaction.atomic():
        instance = _lock_instance(instance_id, skip_locked=True)
        if instance is None and ProcessInstance.objects.filter(pk=instance_id).exists():
            # A step holds the instance now: hand the timer back, the next sweep fires it.
            Timer.objects.filter(pk=timer_id, claim=claim, state=TimerState.CLAIMED).update(
                state=TimerState.PENDING, claim=None, claimed_at=None)
            return "busy"
        timer = Timer.objects.select_for_update().filter(pk=timer_id).first()
        if timer is None or timer.state != TimerState.CLAIMED or timer.claim != claim:
            return "moved on"  # cancelled by a step meanwhile, or claimed again after a lease ran out
        now = clock.db_now()
        if instance is None or instance.state != InstanceState.RUNNING:
            timer.state = TimerState.CANCELLED
            timer.save(update_fields=["state"])
            return "instance ended"
        # Suspended or not, the event is recorded: a suspended instance applies it on resume.
        _record(instance, TimerFired(timer.subscription))
        timer.state, timer.fired_at = TimerState.FIRED, now
        timer.save(update_fields=["state", "fired_at"])
    return "fired"


def _fire_start_timer(timer_id: int, definition_id: int, claim: uuid.UUID) -> str:
    with transaction.atomic():
        definition = ProcessDefinition.objects.select_for_update().filter(pk=definition_id).first()
        timer = Timer.objects.select_for_update().filter(pk=timer_id).first()
        if timer is None or timer.state != TimerState.CLAIMED or timer.claim != claim:
            return "moved on"
        latest = definition_latest(definition.key, tenant_id=definition.tenant_id) if definition else None
        if definition is None or latest is None or latest.pk != definition.pk:
            timer.state = TimerState.CANCELLED  # a newer version replaced it, or it was retired
            timer.save(update_fields=["state"])
            return "replaced"
        now = clock.db_now()
        missed, following = _next_start_due(timer, now)
        try:
            with transaction.atomic():
                instance = instance_start(definition=definition, start_event=timer.element)
        except ApplicationError as exc:
            log.error("timer start event %s of %s could not start an instance: %s", timer.element, definition,
                      exc.message)
            instance = None
        timer.state, timer.fired_at, timer.missed, timer.started_instance = TimerState.FIRED, now, missed, instance
        timer.save(update_fields=["state", "fired_at", "missed", "started_instance"])
        if following is not None:
            Timer.objects.create(definition=definition, element=timer.element, due_at=following,
                                 repetition=timer.repetition + missed + 1, repetitions=timer.repetitions,
                                 spec=timer.spec)
    return "started" if instance is not None else "failed"


def _next_start_due(timer: Timer, now: datetime) -> tuple[int, datetime | None]:
    """(repetitions missed, the next due time after now): a start timer that fell due several
    times while nothing swept fires once, and the repetitions in between count as missed."""
    if not timer.spec:
        return 0, None
    spec = timers.spec_from_dict(timer.spec)
    tz = _tz()
    fired = timer.repetition
    following = timers.next_due(spec, previous_due=timer.due_at, fired=fired, tz=tz)
    missed = 0
    while following is not None and following <= now:
        missed += 1
        following = timers.next_due(spec, previous_due=following, fired=fired + missed, tz=tz)
    return missed, following


def timers_sweep(*, batch: int | None = None, budget_seconds: float = 5.0) -> int:
    """Claim and fire due timers, batch after batch, for at most about `budget_seconds`; then
    forget expired messages. Safe to run in several processes at once. Returns timers fired."""
    batch = batch or settings.BATON_TIMER_BATCH
    deadline = time.monotonic() + budget_seconds
    fired = 0
    while True:
        claim, ids = timers_claim(limit=batch)
        for timer_id in ids:
            try:
                outcome = timer_fire(timer_id=timer_id, claim=claim)
            except Exception:  # left claimed: the next sweeper takes it again once its claim lease ran out
                log.exception("timer %s could not be fired; it is retried after its claim lease", timer_id)
                connection.close_if_unusable_or_obsolete()
                continue
            fired += outcome in ("fired", "started")
        if len(ids) < batch or time.monotonic() > deadline:
            break
    messages_purge()
    return fired
