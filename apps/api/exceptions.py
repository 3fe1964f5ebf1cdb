"""The API's one exception handler: every error has one shape,

    {"message": "...", "errors": [{"element": ..., "line": ..., "message": ...}], "code": "..."}

- `ApplicationError` (apps.definitions.errors) keeps its `code` and its problems as `errors`:
  400 for a refused deployment or invalid input, 404 not found, 409 conflict.
- Serializer validation errors are 400 `invalid_input`, one entry per message with the field's
  name (dotted for nested fields) as `element` and `line` null.
- DRF's own errors (401, 403, 404, 405, 406, 415, 429, malformed JSON) keep their status and code.
- An unavailable database, broker or cache is 503 `unavailable`, never a 500.
- A body over the limits is 413 `too_large`.
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.definitions.errors import ApplicationError, Conflict, DeploymentRefused, InvalidInput, NotFound

log = logging.getLogger(__name__)

APPLICATION_STATUS: dict[type[ApplicationError], int] = {
    DeploymentRefused: status.HTTP_400_BAD_REQUEST,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
}

UNAVAILABLE = "a service Baton needs (database, broker or cache) is unavailable; try again later"


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """Connection errors of the database, the broker (kombu, amqp) and the cache (redis)."""
    from amqp.exceptions import ConnectionError as AmqpConnectionError
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (DatabaseOperationalError, DatabaseInterfaceError, KombuOperationalError, AmqpConnectionError,
            RedisConnectionError, RedisTimeoutError, ConnectionError)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "this Idempotency-Key was already used for a different request"
    default_code = "idempotency_key_reused"


class IdempotencyKeyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "a request with this Idempotency-Key is still running; retry later"
    default_code = "idempotency_key_in_progress"


def error_body(message: str, code: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"message": message, "errors": errors or [], "code": code}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: a Response in the one shape, or None for a bug (a real 500)."""
    response = _handle(exc)
    if response is not None:
        set_rollback()
    return response


def _handle(exc: Exception) -> Response | None:
    if isinstance(exc, DjangoValidationError):  # a model's full_clean() in a service
        exc = exceptions.ValidationError(get_error_detail(exc))
    if isinstance(exc, ApplicationError):
        code = next((APPLICATION_STATUS[cls] for cls in type(exc).__mro__ if cls in APPLICATION_STATUS),
                    status.HTTP_400_BAD_REQUEST)
        return Response(error_body(exc.message, exc.code, [p.to_dict() for p in exc.problems]), status=code)
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail, []))
        first = errors[0] if errors else {"element": None, "message": "invalid input"}
        message = f"{first['element']}: {first['message']}" if first["element"] else first["message"]
        return Response(error_body(message, "invalid_input", errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = "%d" % exc.wait
        errors = list(_flatten(exc.detail, [])) if isinstance(exc.detail, (dict, list)) else []
        message = str(exc.detail) if not errors else errors[0]["message"]
        return Response(error_body(message, _code_of(exc)), status=exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        return Response(error_body("not found", "not_found"), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("you may not do this", "permission_denied"), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(PayloadTooLarge.default_detail, PayloadTooLarge.default_code),
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body(str(exc) or "bad request", "bad_request"), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, _unavailable_errors()):
        log.warning("API request failed: a service is unavailable: %s: %s", type(exc).__name__, exc)
        return Response(error_body(UNAVAILABLE, "unavailable"), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})
    return None


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _flatten(detail: Any, path: list[str]):
    """Serializer errors as `{"element", "line", "message"}`, element the dotted field path."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, path if key == "non_field_errors" else [*path, str(key)])
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                yield from _flatten(item, [*path, str(index)])
            else:
                yield {"element": ".".join(path) or None, "line": None, "message": str(item)}
    else:
        yield {"element": ".".join(path) or None, "line": None, "message": str(detail)}
