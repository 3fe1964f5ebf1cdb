"""How many attempts a job gets, and how long to wait between them.

Baton owns the attempts (scheduled from the job row by a beat-driven sweep), never Celery
countdowns: RabbitMQ's consumer timeout makes long countdowns unsafe, and the database is the
source of truth. A plugin's own Celery options (`max_retries`, `retry_backoff`,
`retry_backoff_max`, `retry_jitter`) are read as its policy, and a model's
`camunda:failedJobRetryTimeCycle` (R5/PT30S: five attempts in all, 30 s apart) overrides them.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import isodate
from django.conf import settings

_CYCLE = re.compile(r"^\s*R(?P<count>\d+)/(?P<duration>P\S+)\s*$")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    delays: list[float]  # seconds before attempt 2, 3, ...
    queue: str | None = None
    time_limit: float | None = None
    soft_time_limit: float | None = None


def parse_retry_cycle(cycle: str) -> tuple[int, float]:
    """`R5/PT30S` -> (5 attempts in total, 30 seconds apart)."""
    match = _CYCLE.match(cycle or "")
    if not match:
        raise ValueError(f"retry cycle {cycle!r} is not of the form R<attempts>/<ISO 8601 duration>, e.g. R5/PT30S")
    seconds = isodate.parse_duration(match.group("duration")).total_seconds()
    return max(1, int(match.group("count"))), float(seconds)


def backoff_delays(attempts: int, *, base: float, maximum: float, jitter: bool, seed: str = "") -> list[float]:
    """Exponential backoff: base, 2*base, 4*base ... capped, with full jitter when asked.
    Seeded by the job so the schedule is reproducible in tests."""
    rng = random.Random(seed)
    delays = []
    for attempt in range(1, attempts):
        delay = min(maximum, base * (2 ** (attempt - 1)))
        delays.append(round(rng.uniform(delay / 2, delay), 3) if jitter else float(delay))
    return delays


def retry_policy(plugin: str, retry_cycle: str | None = None) -> RetryPolicy:
    from config.celery import app

    task = app.tasks.get(plugin)
    queue = getattr(task, "queue", None) if task is not None else None
    limits = {"time_limit": getattr(task, "time_limit", None), "soft_time_limit": getattr(task, "soft_time_limit", None)}
    if retry_cycle:
        try:
            attempts, delay = parse_retry_cycle(retry_cycle)
            return RetryPolicy(attempts, [delay] * (attempts - 1), queue, **limits)
        except ValueError:
            pass  # validated at deploy time; fall back to the plugin's policy
    attempts = settings.BATON_JOB_ATTEMPTS
    base, maximum, jitter = settings.BATON_RETRY_BACKOFF, settings.BATON_RETRY_BACKOFF_MAX, True
    if task is not None:
        own = task.__class__.__dict__
        if "max_retries" in own or getattr(task, "_baton_max_retries_set", False):
            attempts = int(task.max_retries) + 1 if task.max_retries is not None else attempts
        backoff = getattr(task, "retry_backoff", False)
        if backoff:
            base = float(backoff) if not isinstance(backoff, bool) else 1.0
        maximum = float(getattr(task, "retry_backoff_max", maximum) or maximum)
        jitter = bool(getattr(task, "retry_jitter", True))
    return RetryPolicy(attempts, backoff_delays(attempts, base=base, maximum=maximum, jitter=jitter, seed=plugin), queue,
                       **limits)
