"""Service-task plugins for the integration tests, loaded by the workers the tests start through
`BATON_PLUGIN_MODULES=tests.integration.plugins_for_tests`.

They run in other processes, so everything a test wants to know of them goes through Redis,
under keys of one test run (`itest:<run>:...`): the calls made (job ids, in order), attempts per
job, and the process that ran each call. A run id is the instance variable `run`.
"""
from __future__ import annotations

import os
import signal
import time

import redis
from celery import shared_task
from django.conf import settings

# How long a blocked plugin waits for its release before giving up (the test has failed by then).
BLOCK_SECONDS = 90.0
# Attempts of the failing plugins in all (Celery's max_retries counts the ones after the first),
# and a short, fixed backoff so that the retries happen within a test: 0.5 s, then 1 s.
FLAKY_OPTIONS = {"max_retries": 2, "retry_backoff": 0.5, "retry_jitter": False}


def redis_client() -> redis.Redis:
    """The Redis the workers use for results (db 0 unless CELERY_RESULT_BACKEND says otherwise)."""
    return redis.Redis.from_url(settings.CELERY_RESULT_BACKEND, decode_responses=True)


def key(run: str, *parts: str) -> str:
    return ":".join(("itest", run, *parts))


def calls(run: str) -> list[str]:
    """Job ids of every plugin call of the run, in call order (retries and re-runs included)."""
    return redis_client().lrange(key(run, "calls"), 0, -1)


def attempts(run: str, job_id: str) -> int:
    return int(redis_client().get(key(run, "attempts", job_id)) or 0)


def pids(run: str, job_id: str) -> list[int]:
    """Process ids that ran the job, one per call."""
    return [int(pid) for pid in redis_client().lrange(key(run, "pids", job_id), 0, -1)]


def release(run: str) -> None:
    """Let every `itest.block` call of the run return."""
    redis_client().set(key(run, "release"), "1", ex=600)


def fix(run: str) -> None:
    """From now on `itest.fixable` succeeds."""
    redis_client().set(key(run, "fixed"), "1", ex=600)


def forget(run: str) -> None:
    client = redis_client()
    names = list(client.scan_iter(match=key(run, "*"), count=1000))
    if names:
        client.delete(*names)


def _called(run: str, job_id: str) -> int:
    """Record one call of the job; returns its attempt number as the plugin sees it."""
    client = redis_client()
    with client.pipeline() as pipe:
        pipe.rpush(key(run, "calls"), job_id)
        pipe.rpush(key(run, "pids", job_id), os.getpid())
        pipe.incr(key(run, "attempts", job_id))
        pipe.expire(key(run, "calls"), 3600)
        pipe.expire(key(run, "pids", job_id), 3600)
        pipe.expire(key(run, "attempts", job_id), 3600)
        return int(pipe.execute()[2])


@shared_task(name="itest.record")
def record(run: str, baton_job_id: str) -> dict:
    """Record the call and return the job id and the process that ran it."""
    _called(run, baton_job_id)
    return {"job": baton_job_id, "pid": os.getpid()}


@shared_task(name="itest.block")
def block(run: str, baton_job_id: str) -> dict:
    """Record the call, then wait until the test releases the run."""
    _called(run, baton_job_id)
    client = redis_client()
    deadline = time.monotonic() + BLOCK_SECONDS
    while not client.exists(key(run, "release")):
        if time.monotonic() > deadline:
            return {"job": baton_job_id, "released": False}
        time.sleep(0.05)
    return {"job": baton_job_id, "released": True}


@shared_task(name="itest.sleep")
def nap(run: str, seconds: float, baton_job_id: str) -> dict:
    """Record the call, then sleep."""
    _called(run, baton_job_id)
    time.sleep(seconds)
    return {"job": baton_job_id}


@shared_task(name="itest.flaky", **FLAKY_OPTIONS)
def flaky(run: str, failures: int, baton_job_id: str) -> dict:
    """Fail the first `failures` attempts of the job, then succeed."""
    attempt = _called(run, baton_job_id)
    if attempt <= failures:
        raise RuntimeError(f"planned failure {attempt} of {failures}")
    return {"succeeded_at": attempt}


@shared_task(name="itest.fixable", **FLAKY_OPTIONS)
def fixable(run: str, baton_job_id: str) -> dict:
    """Fail until the test calls fix(run)."""
    attempt = _called(run, baton_job_id)
    if not redis_client().exists(key(run, "fixed")):
        raise RuntimeError(f"not fixed yet (attempt {attempt})")
    return {"fixed_at": attempt}


@shared_task(name="itest.kill_own_worker")
def kill_own_worker(run: str, baton_job_id: str) -> None:
    """Record the call, then SIGKILL the process running it (a prefork child)."""
    _called(run, baton_job_id)
    os.kill(os.getpid(), signal.SIGKILL)
