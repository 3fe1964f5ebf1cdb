"""One engine per process version per worker process, built on first use.

Parsing and compiling a model is done once per definition (scripts are compiled once per
definition, not once per run); the cache is bounded and keyed by the immutable definition id.
"""
from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from apps.definitions.models import ProcessDefinition
from orchestrator.bpmn.parser import parse
from orchestrator.runtime.engine import Engine, EngineOptions
from orchestrator.scripting import Sandbox, SandboxLimits


@lru_cache(maxsize=256)
def _engine(definition_id: int) -> Engine:
    definition = ProcessDefinition.objects.only("key", "xml").get(pk=definition_id)
    parsed = parse(definition.xml, max_bytes=max(settings.BATON_MAX_BPMN_BYTES, len(definition.xml.encode()) + 1))
    return Engine.for_definitions(
        parsed.definitions, definition.key,
        sandbox=Sandbox(SandboxLimits(time_limit=settings.BATON_SCRIPT_TIME_LIMIT)),
        # Scripts run as jobs on their own queue, never inside a transaction holding the lock.
        options=EngineOptions(chunk_steps=settings.BATON_ENGINE_CHUNK_STEPS, step_cap=settings.BATON_ENGINE_STEP_CAP,
                              copy_state=False, script_jobs=True,
                              # Timer dates without an offset and cron are read in BATON_TIMEZONE;
                              # unbounded cycles faster than BATON_MIN_TIMER_INTERVAL are refused.
                              timezone=settings.BATON_TIMEZONE,
                              min_timer_interval=settings.BATON_MIN_TIMER_INTERVAL),
    )


def engine_for(definition_id: int) -> Engine:
    return _engine(definition_id)


def engine_cache_clear() -> None:
    """Forget every built engine. Definition ids are never reused in a database, but a test
    database rolled back between tests reuses them."""
    _engine.cache_clear()
