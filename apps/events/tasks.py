"""Celery tasks of timers, messages and signals: thin adapters that call a service.

`baton.timers.sweep` runs every second from celery beat on its own queue (`baton.timers`). Its
beat entry expires after two seconds, so the queue never holds more than two of its runs, and a
Redis lock makes a run that overlaps another (a slow sweep, two beats) exit at once. Neither is
needed for correctness: claims in the database make a timer fire once whatever runs.
"""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, connection, transaction

from apps.definitions.errors import ApplicationError
from apps.events import services
from apps.instances.models import OperationLog

log = logging.getLogger(__name__)

# One lock per database: two Baton installations sharing a Redis never hold each other up.
SWEEP_LOCK = "baton:lock:timers.sweep:{database}"
# Seconds the lock outlives a sweep that died holding it: the sweep stops claiming after about
# five seconds, so a live one always finishes well within this.
SWEEP_LOCK_SECONDS = 30
_TRANSIENT_DB_RETRIES = 5
_redis_client = None


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.BATON_LOCK_URL, socket_connect_timeout=1, socket_timeout=2)
    return _redis_client


@contextmanager
def _only_one(name: str, seconds: int) -> Iterator[bool]:
    """True when this run holds the lock (or there is no Redis to ask: the database keeps runs
    correct anyway, the lock only saves work); False when another run holds it."""
    if not settings.BATON_LOCK_URL:
        yield True
        return
    import redis

    token = uuid.uuid4().hex
    try:
        acquired = bool(_redis().set(name, token, nx=True, ex=seconds))
    except redis.RedisError:
        log.warning("no Redis for the %s lock; running without it", name, exc_info=True)
        yield True
        return
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        try:
            # Delete only our own lock (it may have expired and been taken by another run).
            _redis().eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
                          "else return 0 end", 1, name, token)
        except redis.RedisError:
            log.warning("could not release the %s lock; it expires in %s s", name, seconds, exc_info=True)


def _with_db_retries(fn, **kwargs: Any):
    for attempt in range(_TRANSIENT_DB_RETRIES):
        try:
            return fn(**kwargs)
        except OperationalError:
            if attempt == _TRANSIENT_DB_RETRIES - 1:
                raise
            log.warning("transient database error in %s; retrying", fn.__name__, exc_info=True)
            transaction.get_connection().close()
    return None


@shared_task(name="baton.timers.sweep", ignore_result=True)
def timers_sweep() -> int:
    """Fire the timers that are due (instance timers record their event; start timers start an
    instance and schedule their next repetition)."""
    with _only_one(SWEEP_LOCK.format(database=connection.settings_dict["NAME"]), SWEEP_LOCK_SECONDS) as held:
        if not held:
            return 0
        return services.timers_sweep()


@shared_task(name="baton.message.correlate", acks_late=True, ignore_result=True)
def message_correlate(name: str | None = None, correlation_key: Any = None, variables: dict | None = None,
                      message_id: str | None = None, tenant_id: str | None = None,
                      origin_instance: int | None = None, redeliver: int | None = None) -> Any:
    """A message thrown by an instance (SendMessage), or one coming back (`redeliver`: its
    subscription closed before it was applied)."""
    if redeliver is not None:
        return _with_db_retries(services.message_redeliver, message_pk=redeliver)
    try:
        return _with_db_retries(services.message_correlate, name=name, correlation_key=correlation_key,
                                variables=variables, message_id=message_id, tenant_id=tenant_id)
    except ApplicationError as exc:
        # Nobody can answer a worker: the sending instance's operation log says what happened.
        log.warning("message %r from instance %s not correlated: %s", name, origin_instance, exc.message)
        OperationLog.objects.create(action="message_not_correlated", instance_id=origin_instance, actor="worker",
                                    details={"name": name, "message_id": message_id, "error": exc.message})
        return {"error": exc.message}


@shared_task(name="baton.signal.broadcast", acks_late=True, ignore_result=True)
def signal_broadcast(delivery_id: int) -> int:
    """Deliver a broadcast signal, one instance per transaction (progress on its delivery row)."""
    return _with_db_retries(services.signal_deliver, delivery_id=delivery_id) or 0
