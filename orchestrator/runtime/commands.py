"""What an engine step asks the outside world to do: its outputs.

The engine never runs a plugin, sends a message or waits for anyone itself; it returns these,
and the caller carries them out (the Celery layer through its outbox, `simulate` in-process).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Command:
    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class RunServiceTask(Command):
    """Run plugin `plugin` for job `job`; answer with JobCompleted or JobFailed.

    `inputs` holds the evaluated input mapping when the model declares one; None means the
    plugin receives the process variables it declares as arguments.
    """

    type: ClassVar[str] = "run_service_task"
    job: str
    token: str
    element: str
    plugin: str
    inputs: dict[str, Any] | None = None
    queue: str | None = None
    retry_cycle: str | None = None
    time_limit: float | None = None
    soft_time_limit: float | None = None


@dataclass(frozen=True)
class RunScriptTask(Command):
    """Run the script of script task `element` for job `job` (`Engine.execute_script`), outside
    any lock; answer with JobCompleted(job, set, deleted) or JobFailed."""

    type: ClassVar[str] = "run_script_task"
    job: str
    token: str
    element: str


@dataclass(frozen=True)
class CreateUserTask(Command):
    """A person must act; answer with JobCompleted(job, variables) when they complete it."""

    type: ClassVar[str] = "create_user_task"
    job: str
    token: str
    element: str
    name: str | None = None
    assignee: str | None = None
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    form_fields: list[str] | None = None


@dataclass(frozen=True)
class WaitForMessage(Command):
    """A receive task waits for a message; answer with JobCompleted(job, payload)."""

    type: ClassVar[str] = "wait_for_message"
    job: str
    token: str
    element: str
    message: str | None = None


@dataclass(frozen=True)
class CancelJob(Command):
    """A job is no longer wanted (its token was removed): queued work for it must do nothing."""

    type: ClassVar[str] = "cancel_job"
    job: str
    element: str


@dataclass(frozen=True)
class OpenIncident(Command):
    """Something failed; the token waits at `element` until an operator retries."""

    type: ClassVar[str] = "open_incident"
    incident: str
    token: str
    element: str
    message: str
    job: str | None = None


@dataclass(frozen=True)
class ResolveIncident(Command):
    type: ClassVar[str] = "resolve_incident"
    incident: str


@dataclass(frozen=True)
class ContinueLater(Command):
    """The step used up its chunk; schedule a Continue event in a new transaction."""

    type: ClassVar[str] = "continue_later"


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.type: cls for cls in (
        RunServiceTask, RunScriptTask, CreateUserTask, WaitForMessage, CancelJob, OpenIncident, ResolveIncident, ContinueLater,
    )
}


def command_from_dict(data: dict[str, Any]) -> Command:
    payload = dict(data)
    cls = COMMAND_TYPES[payload.pop("type")]
    return cls(**payload)
