"""Fixtures for the events tests: a clock the test moves, deploying inline models, and `drain`,
which plays the workers in-process (every unsent outbox message is run by its task function,
the way tests/api/instances/test_behaviour_table.py runs steps and jobs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any, Callable

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.definitions.engines import _engine
from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.events import clock, services
from apps.events import tasks as _event_tasks  # noqa: F401  (registers the tasks drain runs)
from apps.instances import tasks as _instance_tasks  # noqa: F401
from apps.instances.models import OutboxMessage, ProcessInstance

PLUGINS = "tests.api.events.plugins"


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Definition ids come back after a rolled-back test: build engines anew."""
    _engine.cache_clear()
    yield
    _engine.cache_clear()


@pytest.fixture(autouse=True)
def _plugins():
    with override_settings(BATON_PLUGIN_MODULES=(PLUGINS,), BATON_LOCK_URL=""):
        yield


@dataclass
class Clock:
    """The database's clock as the services see it (`apps.events.clock.db_now`), moved by the test."""

    now: datetime = field(default_factory=lambda: datetime(2030, 1, 7, 9, 0, tzinfo=dt_timezone.utc))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def db_clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "db_now", fake)
    return fake


@pytest.fixture
def deploy(db) -> Callable[..., ProcessDefinition]:
    def deploy(xml: str, process_id: str | None = None) -> ProcessDefinition:
        result = definition_deploy(data=xml.encode(), source_name="events.bpmn")
        chosen = [d for d in result.definitions if process_id in (None, d.key)]
        assert len(chosen) == 1, result.definitions
        return ProcessDefinition.objects.get(pk=chosen[0].id)

    return deploy


def run_task(name: str, kwargs: dict[str, Any]) -> Any:
    from config.celery import app

    return app.tasks[name].run(**kwargs)


def drain(limit: int = 500) -> int:
    """Run every unsent outbox message in order (and what they add) as the workers would."""
    ran = 0
    while True:
        message = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id").first()
        if message is None:
            return ran
        OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
        if message.task_name.startswith("canvas:"):
            for link in message.kwargs["links"]:
                run_task(link["task"], link["kwargs"])
            if message.kwargs.get("callback"):
                run_task(message.kwargs["callback"]["task"], message.kwargs["callback"]["kwargs"])
        else:
            run_task(message.task_name, message.kwargs)
        ran += 1
        assert ran < limit, "the outbox never drained (a loop?)"


def sweep() -> int:
    """One run of the sweeper, then the work it asked for."""
    fired = services.timers_sweep()
    drain()
    return fired


def reload(instance: ProcessInstance) -> ProcessInstance:
    instance.refresh_from_db()
    return instance


def variables(instance: ProcessInstance) -> dict[str, Any]:
    return dict(instance.variables.values_list("name", "value"))


def model(body: str, process_id: str = "p", extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" id="d_{process_id}" targetNamespace="t">
  {extra}
  <bpmn:process id="{process_id}" isExecutable="true">
    {body}
  </bpmn:process>
</bpmn:definitions>"""
