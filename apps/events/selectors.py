"""Reading timers, subscriptions and messages. Writes go through `services.py`."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.events.models import EventSubscription, Message, SubscriptionKind, Timer, TimerState
from apps.instances.models import InstanceState


def message_waiting(*, name: str, key: str | None, tenant_id: str | None,
                    keys: Collection[str] | None = None) -> list[tuple[int, str]]:
    """(instance id, engine subscription) of every running instance waiting for this message,
    oldest subscription first, one per instance. A message without a key (`key` None) matches
    every subscription with its name; with a key, those with the same key. `keys`: only
    instances of these definition keys (None: of every key)."""
    query = EventSubscription.objects.filter(kind=SubscriptionKind.MESSAGE, name=name, instance__isnull=False,
                                             instance__tenant_id=tenant_id, instance__state=InstanceState.RUNNING)
    if keys is not None:
        query = query.filter(instance__definition__key__in=sorted(keys))
    if key is not None:
        query = query.filter(key=key)
    seen: dict[int, str] = {}
    for instance_id, subscription in query.order_by("id").values_list("instance_id", "subscription"):
        seen.setdefault(instance_id, subscription)
    return list(seen.items())


def messages_buffered(*, name: str, key: str | None, tenant_id: str | None, now: datetime) -> QuerySet[Message]:
    """Buffered messages, not expired, that a new subscription with this name and key takes,
    oldest first: those with the same key and those sent without one."""
    return (Message.objects.filter(buffered=True, name=name, tenant_id=tenant_id, expires_at__gt=now)
            .filter(Q(key__isnull=True) | Q(key=key) if key is not None else Q(key__isnull=True))
            .order_by("id"))


def start_subscriptions(*, kind: str, name: str, tenant_id: str | None,
                        keys: Collection[str] | None = None) -> QuerySet[EventSubscription]:
    """Message or signal start events with this name, of the latest versions (only those have
    rows: deploy replaces them, retire removes them); `keys`: of these definition keys only."""
    query = (EventSubscription.objects.filter(kind=kind, name=name, definition__isnull=False,
                                              definition__tenant_id=tenant_id, definition__retired=False)
             .select_related("definition").order_by("id"))
    return query.filter(definition__key__in=sorted(keys)) if keys is not None else query


def signal_waiting(*, name: str, tenant_id: str | None, keys: Collection[str] | None = None
                   ) -> QuerySet[EventSubscription]:
    """Subscriptions of running instances to this signal; `keys`: of these definition keys only."""
    query = EventSubscription.objects.filter(kind=SubscriptionKind.SIGNAL, name=name, instance__isnull=False,
                                             instance__tenant_id=tenant_id, instance__state=InstanceState.RUNNING)
    return query.filter(instance__definition__key__in=sorted(keys)) if keys is not None else query


def timers_of_instance(instance_id: int) -> QuerySet[Timer]:
    return Timer.objects.filter(instance_id=instance_id).order_by("due_at", "id")


def start_timers(*, key: str | None = None, state: str | None = TimerState.PENDING) -> QuerySet[Timer]:
    """Timers of start events (of the latest versions while pending), soonest first."""
    query = Timer.objects.filter(definition__isnull=False).select_related("definition")
    if key is not None:
        query = query.filter(definition__key=key)
    if state is not None:
        query = query.filter(state=state)
    return query.order_by("due_at", "id")
