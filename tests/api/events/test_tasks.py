"""The sweep task: a run that overlaps another exits at once (Redis lock), and one without
Redis still sweeps (the database claims keep timers correct without the lock)."""
from __future__ import annotations

import pytest
import redis

from apps.events import tasks


class FakeRedis:
    """SET NX EX and the compare-and-delete script, as the lock uses them."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, name, value, nx=False, ex=None):
        if nx and name in self.values:
            return None
        self.values[name] = value
        return True

    def eval(self, script, count, name, token):
        if self.values.get(name) == token:
            del self.values[name]
            return 1
        return 0


class DownRedis:
    def set(self, *args, **kwargs):
        raise redis.ConnectionError("Connection refused")


@pytest.fixture
def swept(monkeypatch, settings) -> list[int]:
    settings.BATON_LOCK_URL = "redis://127.0.0.1:6379/0"
    runs: list[int] = []
    monkeypatch.setattr(tasks.services, "timers_sweep", lambda: runs.append(1) or 0)
    return runs


def test_an_overlapping_sweep_exits_at_once(monkeypatch, swept):
    fake = FakeRedis()
    monkeypatch.setattr(tasks, "_redis", lambda: fake)
    from django.db import connection

    with tasks._only_one(tasks.SWEEP_LOCK.format(database=connection.settings_dict["NAME"]), 30) as held:
        assert held
        tasks.timers_sweep.run()  # another run while this one holds the lock
        assert swept == []
    assert fake.values == {}  # released
    tasks.timers_sweep.run()
    assert swept == [1]


def test_without_redis_the_sweep_still_runs(monkeypatch, swept):
    monkeypatch.setattr(tasks, "_redis", lambda: DownRedis())
    tasks.timers_sweep.run()
    assert swept == [1]


def test_the_beat_entry_expires_in_two_seconds_on_the_timers_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["baton-timers-sweep"]
    assert entry["task"] == "baton.timers.sweep" and entry["schedule"] == 1.0
    assert entry["options"] == {"expire_seconds": 2}  # the field django-celery-beat reads
    assert settings.CELERY_TASK_ROUTES["baton.timers.sweep"] == {"queue": "baton.timers"}
    assert "baton.timers" in [queue.name for queue in settings.CELERY_TASK_QUEUES]
