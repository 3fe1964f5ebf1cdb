"""Operator actions over many instances at once: cancel, suspend, resume, retry incidents.

A handful (`INLINE_LIMIT` or fewer) is applied in the request. More go out as background jobs:
`bulk_enqueue` writes one `OperationLog` row for the whole operation and one outbox message per
`CHUNK` targets (`baton.admin.bulk` on `baton.maintenance`), in one transaction. A worker then
applies each target through the same service the admin and the API call, **one instance per
transaction** (a bulk operation never holds many instance locks, and one refused target does
not undo the others), and writes the progress into the operation's log row:

    {"action": "cancel", "total": 1200, "done": 1180, "failed": 20, "state": "finished",
     "chunks": 3, "progress": {"0": {"position": 500, "done": 498, "failed": 2}, ...},
     "errors": [{"id": 17, "error": "the instance is already cancelled"}, ...]}

A chunk message delivered twice resumes from the position its progress says; a target applied
just before a worker died is refused the second time (already cancelled) and counted as failed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterable

from celery import shared_task
from django.db import OperationalError, transaction

from apps.definitions.errors import ApplicationError, Conflict
from apps.instances import outbox, services
from apps.instances.models import Incident, OperationLog

log = logging.getLogger(__name__)

BULK_TASK = "baton.admin.bulk"
BULK_QUEUE = "baton.maintenance"
INLINE_LIMIT = 20  # at most this many targets are applied in the request itself
CHUNK = 500  # targets per background message
PROGRESS_EVERY = 50  # targets between two progress writes
MAX_ERRORS = 100  # errors kept in the log row (the counts stay exact)
_DB_RETRIES = 5


def _retry_instance_incidents(*, instance_id: int, user=None) -> None:
    open_ids = list(Incident.objects.filter(instance_id=instance_id, resolved_at__isnull=True)
                    .order_by("opened_at", "id").values_list("pk", flat=True))
    if not open_ids:
        raise Conflict(f"instance {instance_id} has no open incident")
    for incident_id in open_ids:
        services.incident_retry(incident_id=incident_id, user=user)


# action -> (what it targets, the service call for one target)
ACTIONS: dict[str, tuple[str, Callable[..., object]]] = {
    "cancel": ("instance", lambda target, user: services.instance_cancel(instance_id=target, user=user)),
    "suspend": ("instance", lambda target, user: services.instance_suspend(instance_id=target, user=user)),
    "resume": ("instance", lambda target, user: services.instance_resume(instance_id=target, user=user)),
    "retry_incidents": ("instance", lambda target, user: _retry_instance_incidents(instance_id=target, user=user)),
    "retry_incident": ("incident", lambda target, user: services.incident_retry(incident_id=target, user=user)),
}


@dataclass
class BulkOutcome:
    """What an inline bulk action did: targets applied, and (id, reason) for each refused one."""

    done: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def _apply_one(action: str, target: int, user) -> str | None:
    """Apply the action to one target in its own transaction(s); the refusal message, or None."""
    _, call = ACTIONS[action]
    for attempt in range(_DB_RETRIES):
        try:
            call(target, user)
            return None
        except ApplicationError as exc:
            return exc.message
        except OperationalError as exc:  # a lock timeout or a serialisation failure: try again
            if attempt == _DB_RETRIES - 1:
                return f"database error: {exc}"
            transaction.get_connection().close()
        except Exception as exc:  # one target's bug must not stop the others: recorded, logged
            log.exception("bulk %s of %s failed", action, target)
            return f"internal error: {type(exc).__name__}: {exc}"
    return None


def bulk_apply(*, action: str, ids: Iterable[int], user=None) -> BulkOutcome:
    """Apply an action to a few targets now, each through its service in its own transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}")
    outcome = BulkOutcome()
    for target in ids:
        error = _apply_one(action, target, user)
        if error is None:
            outcome.done += 1
        else:
            outcome.failed.append((target, error))
    return outcome


def bulk_enqueue(*, action: str, ids: Iterable[int], user=None) -> OperationLog:
    """Record a bulk operation and send its chunks to the background (outbox rows, one transaction)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}")
    target_kind, _ = ACTIONS[action]
    with transaction.atomic():
        operation = OperationLog.objects.create(
            action=f"bulk_{action}", user=user if getattr(user, "is_authenticated", False) else None,
            actor=getattr(user, "username", "") or "system",
            details={"action": action, "targets": target_kind, "total": 0, "done": 0, "failed": 0, "chunks": 0,
                     "state": "queued", "progress": {}, "errors": []},
        )
        total = chunks = 0
        iterator = iter(ids)
        while True:
            chunk = [int(target) for target in islice(iterator, CHUNK)]
            if not chunk:
                break
            outbox.add(BULK_TASK, {"operation_id": operation.pk, "chunk": chunks, "ids": chunk}, queue=BULK_QUEUE)
            total += len(chunk)
            chunks += 1
        operation.details.update(total=total, chunks=chunks, state="queued" if chunks else "finished")
        operation.save(update_fields=["details"])
    return operation


def bulk_run_chunk(*, operation_id: int, chunk: int, ids: list[int]) -> int:
    """Apply one chunk of a bulk operation (a worker runs this); returns the targets applied now."""
    operation = OperationLog.objects.filter(pk=operation_id).select_related("user").first()
    if operation is None or operation.details.get("action") not in ACTIONS:
        log.warning("bulk operation %s not found or unknown; chunk %s ignored", operation_id, chunk)
        return 0
    action, user = operation.details["action"], operation.user
    position = int(operation.details.get("progress", {}).get(str(chunk), {}).get("position", 0))
    done = failed = 0
    errors: list[dict] = []
    for index in range(position, len(ids)):
        error = _apply_one(action, ids[index], user)
        if error is None:
            done += 1
        else:
            failed += 1
            errors.append({"id": ids[index], "error": error})
        if (index + 1 - position) % PROGRESS_EVERY == 0 or index + 1 == len(ids):
            _record_progress(operation_id, chunk, index + 1, done, failed, errors)
            done = failed = 0
            errors = []
    return len(ids) - position


def _record_progress(operation_id: int, chunk: int, position: int, done: int, failed: int, errors: list[dict]) -> None:
    """Add to the operation's counts, in a short transaction of its own (no instance lock is held)."""
    with transaction.atomic():
        operation = OperationLog.objects.select_for_update().get(pk=operation_id)
        details = dict(operation.details)
        progress = dict(details.get("progress") or {})
        mine = dict(progress.get(str(chunk)) or {"position": 0, "done": 0, "failed": 0})
        mine.update(position=position, done=mine["done"] + done, failed=mine["failed"] + failed)
        progress[str(chunk)] = mine
        details["progress"] = progress
        details["done"] = sum(p["done"] for p in progress.values())
        details["failed"] = sum(p["failed"] for p in progress.values())
        details["errors"] = (list(details.get("errors") or []) + errors)[:MAX_ERRORS]
        finished = sum(p["position"] for p in progress.values()) >= details.get("total", 0)
        details["state"] = "finished" if finished else "running"
        operation.details = details
        operation.save(update_fields=["details"])


@shared_task(name=BULK_TASK, acks_late=True, ignore_result=True)
def admin_bulk(operation_id: int, chunk: int, ids: list[int]) -> int:
    """One chunk of an operator's bulk action (see the module docstring)."""
    return bulk_run_chunk(operation_id=operation_id, chunk=chunk, ids=ids)
