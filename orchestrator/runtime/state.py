"""Instance state: plain JSON-able data, versioned from the first release.

Shape (schema_version 2):

    {"schema_version": 1, "process": "<process id>", "status": "running",
     "tokens": {"<id>": {"id", "node", "scope", "phase", "flow", "job"?, "incident"?}},
     "scopes": {"<id>": {"id", "node", "parent", "token", "count"}},
     "joins": {"<scope>/<gateway>": {"<incoming flow id>": ["<token id>", ...]}},
     "queue": [["enter" | "complete", "<token id>"], ...],
     "jobs": {"<job id>": "<token id>"},
     "incidents": {"<id>": {"id", "token", "node", "message", "job"}},
     "subscriptions": {"<id>": {"id", "kind", "element", "role", "token", "scope", ...}},
     "variables": {...}, "next_id": 1, "steps": 0}

Tokens refer to flow nodes by id only. A scope is the process itself (id "0") or one running
instance of a sub-process; `count` is the number of tokens directly in it, so that "the scope
has no token left" is a lookup and not a scan.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Callable

SCHEMA_VERSION = 2
ROOT_SCOPE = "0"


class Status(str, Enum):
    """The engine's view of an instance."""

    RUNNING = "running"
    """Tokens are still in the process (moving, waiting, or held by an incident)."""
    COMPLETED = "completed"
    """The last token reached an end event."""
    TERMINATED = "terminated"
    """A terminate end event at process level removed every token."""
    CANCELLED = "cancelled"
    """Someone outside ended the instance."""


class Phase(str, Enum):
    """Where a token is in the life of its flow node."""

    QUEUED = "queued"
    """On the work queue: about to enter its node, or about to leave it."""
    WAITING = "waiting"
    """Held by its node: a job, a person, a join or a sub-process it waits for."""
    FAILED = "failed"
    """Held by an incident until an operator retries."""


def new_state(process_id: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "process": process_id,
        "status": Status.RUNNING.value,
        "tokens": {},
        "scopes": {ROOT_SCOPE: {"id": ROOT_SCOPE, "node": None, "parent": None, "token": None, "count": 0}},
        "joins": {},
        "queue": [],
        "jobs": {},
        "incidents": {},
        "subscriptions": {},
        "variables": variables,
        "next_id": 1,
        "steps": 0,
    }


class StateVersionError(ValueError):
    """The state was written by a newer Baton than this one."""


# Each migration turns schema version N into N + 1. There are none yet; the chain exists so
# that the first change of shape is a function here, not a data fix in production.
def _v1_to_v2(state: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds event subscriptions (timers, messages, signals)."""
    return {**state, "subscriptions": {}, "schema_version": 2}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(state: dict[str, Any]) -> dict[str, Any]:
    version = state.get("schema_version", 0)
    if version > SCHEMA_VERSION:
        raise StateVersionError(f"state schema_version {version} is newer than this engine's {SCHEMA_VERSION}")
    while version < SCHEMA_VERSION:
        state = MIGRATIONS[version](state)
        version = state["schema_version"]
    return state
