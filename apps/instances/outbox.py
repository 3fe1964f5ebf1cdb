"""The transactional outbox: messages are rows written with the state change that needs them,
and published after commit with publisher confirms (a crash between commit and publish loses
nothing: the relay's sweep publishes what is left)."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.instances.models import OutboxMessage

log = logging.getLogger(__name__)


def add(task_name: str, kwargs: dict[str, Any], *, queue: str, task_id: str | None = None,
        options: dict[str, Any] | None = None) -> OutboxMessage:
    """Write a message in the current transaction; it is published once the transaction commits."""
    message = OutboxMessage.objects.create(task_name=task_name, kwargs=kwargs, queue=queue,
                                           task_id=task_id or str(uuid.uuid4()), options=options or {})
    transaction.on_commit(lambda: _publish_soon(message.pk))
    return message


CANVAS_PREFIX = "canvas:"


def add_canvas(kind: str, links: list[dict[str, Any]], *, callback: dict[str, Any] | None = None) -> OutboxMessage:
    """A flat chain or chord of Baton tasks as one outbox row (never nested canvases)."""
    assert kind in ("chain", "chord")
    return add(CANVAS_PREFIX + kind, {"links": links, "callback": callback}, queue=links[0]["queue"],
               task_id=links[0]["task_id"])


def _signature(app, link: dict[str, Any]):
    return app.signature(link["task"], kwargs=link["kwargs"], immutable=True).set(
        queue=link["queue"], **({"task_id": link["task_id"]} if link.get("task_id") else {}),
        **link.get("options", {}))


def _send(app, message: OutboxMessage, producer) -> None:
    if not message.task_name.startswith(CANVAS_PREFIX):
        app.send_task(message.task_name, kwargs=message.kwargs, task_id=message.task_id, queue=message.queue,
                      producer=producer, **message.options)
        return
    from celery import chain, chord

    links = [_signature(app, link) for link in message.kwargs["links"]]
    if message.task_name == CANVAS_PREFIX + "chain":
        chain(*links).apply_async(producer=producer)
    else:
        chord(links, _signature(app, message.kwargs["callback"])).apply_async()


def _publish_soon(message_id: int) -> None:
    try:
        publish_pending(ids=[message_id])
    except Exception:  # the broker is away: the sweep publishes it later
        log.warning("outbox message %s not published now; the relay sweep will retry", message_id, exc_info=True)


def publish_pending(*, ids: list[int] | None = None, limit: int = 500) -> int:
    """Publish unsent messages (all of them, or those named) and mark them sent."""
    from config.celery import app

    with transaction.atomic():
        query = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            query = query.filter(pk__in=ids)
        messages = list(query.order_by("id")[:limit])
        if not messages:
            return 0
        sent = []
        with app.producer_or_acquire() as producer:
            for message in messages:
                try:
                    _send(app, message, producer)
                except Exception as exc:
                    message.attempts += 1
                    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    message.save(update_fields=["attempts", "last_error"])
                    raise
                sent.append(message.pk)
        OutboxMessage.objects.filter(pk__in=sent).update(sent_at=timezone.now())
    return len(sent)
