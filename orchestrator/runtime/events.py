"""What happens to an instance: the inputs of an engine step.

Each is plain, JSON-able data with a `type` key, so that the Celery layer can record an event
in the database before a worker applies it, and apply it again after a crash with the same
result.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class EngineEvent:
    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class Start(EngineEvent):
    """Start a new instance at `start_event` (default: the process's none start event)."""

    type: ClassVar[str] = "start"
    variables: dict[str, Any] = field(default_factory=dict)
    start_event: str | None = None
    called: bool = False  # started by a call activity: an uncaught BPMN error goes back to the caller


@dataclass(frozen=True)
class JobCompleted(EngineEvent):
    """A job finished: a plugin's result (merged into the variables) or a person's input."""

    type: ClassVar[str] = "job_completed"
    job: str
    result: dict[str, Any] | None = None
    deleted: list[str] = field(default_factory=list)  # variables a script job removed


@dataclass(frozen=True)
class JobFailed(EngineEvent):
    """A job failed for good (its retries are spent): the instance waits for an operator."""

    type: ClassVar[str] = "job_failed"
    job: str
    message: str
    code: str | None = None  # a business error (BpmnError) thrown by the plugin: caught, never retried
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimerFired(EngineEvent):
    type: ClassVar[str] = "timer_fired"
    subscription: str


@dataclass(frozen=True)
class MessageReceived(EngineEvent):
    """A message correlated to a subscription; its variables are merged into the instance."""

    type: ClassVar[str] = "message_received"
    subscription: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalReceived(EngineEvent):
    type: ClassVar[str] = "signal_received"
    subscription: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryIncident(EngineEvent):
    """An operator asks to run the failed flow node again (after fixing variables, say)."""

    type: ClassVar[str] = "retry_incident"
    incident: str


@dataclass(frozen=True)
class Continue(EngineEvent):
    """Carry on where the previous step stopped because it used up its chunk of steps."""

    type: ClassVar[str] = "continue"


@dataclass(frozen=True)
class SetVariables(EngineEvent):
    type: ClassVar[str] = "set_variables"
    set: dict[str, Any] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cancel(EngineEvent):
    """End the instance from outside: every token is removed and every open job cancelled."""

    type: ClassVar[str] = "cancel"


EVENT_TYPES: dict[str, type[EngineEvent]] = {
    cls.type: cls for cls in (Start, JobCompleted, JobFailed, RetryIncident, Continue, SetVariables, Cancel, TimerFired,
                              MessageReceived, SignalReceived)
}


def event_from_dict(data: dict[str, Any]) -> EngineEvent:
    payload = dict(data)
    cls = EVENT_TYPES[payload.pop("type")]
    return cls(**payload)
