"""/healthz and /readyz, at the site root: no authentication, and nothing but the status.

- /healthz: the process answers (no dependency is checked).
- /readyz: the database, the broker and the cache answer; otherwise 503. Which one failed is
  logged, never shown.
"""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

OK = {"status": "ok"}
UNAVAILABLE = {"status": "unavailable"}
BROKER_TIMEOUT_SECONDS = 2


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    return JsonResponse(OK)


@never_cache
@require_GET
def readyz(request) -> JsonResponse:
    for name, check in (("database", _database), ("broker", _broker), ("cache", _cache)):
        try:
            check()
        except Exception as exc:
            log.warning("readyz: the %s is unavailable: %s: %s", name, type(exc).__name__, exc)
            return JsonResponse(UNAVAILABLE, status=503)
    return JsonResponse(OK)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)


def _cache() -> None:
    cache.set("baton:readyz", "1", timeout=10)
    if cache.get("baton:readyz") != "1":
        raise RuntimeError("the cache did not keep a value")
