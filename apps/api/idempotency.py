"""`Idempotency-Key`: a retried POST (or PATCH) gets the first answer, not a second effect.

Keys are scoped per user and remembered for `BATON_IDEMPOTENCY_TTL` seconds. A request's
fingerprint is the sha256 of its method, path and body (for a multipart upload: its fields and
the files' contents, so that a client's new multipart boundary is not a different body).

- First request with a key: runs; its answer (status and JSON body) is stored, unless it is a
  5xx (the database or the broker was away: a retry should run again).
- Same key, same fingerprint: the stored answer, same status and body, with
  `Idempotent-Replayed: true`; nothing runs.
- Same key, another fingerprint (another body or endpoint): 422 `idempotency_key_reused`.
- Same key while the first request still runs: 409 `idempotency_key_in_progress`. A request
  that crashed holds its key for `LOCK_SECONDS` at most.

Expired keys of a user are deleted when that user next sends a key.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from apps.api.exceptions import IdempotencyKeyInProgress, IdempotencyKeyReused, exception_handler
from apps.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# How long a request that never finished (its process died) keeps its key from being reused.
LOCK_SECONDS = 60


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


def fingerprint(request) -> str:
    """sha256 of the method, the path with its query and the (parsed) body."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    data = request.data  # parsing errors (malformed JSON) surface here, before any key is taken
    if isinstance(data, (bytes, bytearray)):
        digest.update(bytes(data))
    elif hasattr(data, "lists"):  # a QueryDict: form fields and, for multipart, files
        for name, values in sorted(data.lists()):
            digest.update(json.dumps(name).encode())
            for value in values:
                if hasattr(value, "chunks"):
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(json.dumps(str(value)).encode())
    else:
        digest.update(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode())
    return digest.hexdigest()


def idempotency_claim(*, user, key: str, fingerprint: str) -> IdempotencyRecord | StoredAnswer:
    """Take the key for this request (a record to finish later), or the stored answer to replay."""
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(user=user, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, fingerprint=fingerprint, locked_until=now + timedelta(seconds=LOCK_SECONDS),
                    expires_at=now + timedelta(seconds=settings.BATON_IDEMPOTENCY_TTL),
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.select_for_update().get(user=user, key=key)
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.status_code is not None:
            return StoredAnswer(record.status_code, record.body)
        if record.locked_until > now:
            raise IdempotencyKeyInProgress()
        record.locked_until = now + timedelta(seconds=LOCK_SECONDS)  # its first request died: run again
        record.save(update_fields=["locked_until"])
        return record


def idempotency_finish(*, record: IdempotencyRecord, status_code: int, body: Any) -> None:
    record.status_code = status_code
    record.body = body
    record.save(update_fields=["status_code", "body"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a key whose request failed on our side, so that a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotent(handler: Callable) -> Callable:
    """Decorate a viewset's POST or PATCH handler to honour the `Idempotency-Key` header."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({HEADER: [f"must be 1 to {MAX_KEY_LENGTH} characters"]})
        claimed = idempotency_claim(user=request.user, key=key, fingerprint=fingerprint(request))
        if isinstance(claimed, StoredAnswer):
            return Response(claimed.body, status=claimed.status_code, headers={REPLAYED_HEADER: "true"})
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            response = exception_handler(exc, view.get_exception_handler_context())
            if response is None:  # a bug: it answers 500, and a retry runs again
                idempotency_release(record=claimed)
                raise
        if response.status_code >= 500 or not isinstance(response, Response):
            idempotency_release(record=claimed)
        else:
            idempotency_finish(record=claimed, status_code=response.status_code, body=_json(response.data))
        return response

    return wrapper


def _json(data: Any) -> Any:
    """The answer's data as stored JSON (what the JSON renderer would have written)."""
    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(data, cls=JSONEncoder))
