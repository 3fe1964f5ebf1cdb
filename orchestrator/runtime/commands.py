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
    locals: dict[str, Any] | None = None  # an inner instance's own variables (its item), over the process's


@dataclass(frozen=True)
class RunScriptTask(Command):
    """Run the script of script task `element` for job `job` (`Engine.execute_script`), outside
    any lock; answer with JobCompleted(job, set, deleted) or JobFailed."""

    type: ClassVar[str] = "run_script_task"
    job: str
    token: str
    element: str
    locals: dict[str, Any] | None = None


@dataclass(frozen=True)
class StartCallActivity(Command):
    """Start a child instance of process `process_key` for job `job`; answer with
    JobCompleted(job, the child's variables) when it completes, or JobFailed(job, message, code)
    when it ends with a BPMN error (caught by the call activity's boundary)."""

    type: ClassVar[str] = "start_call_activity"
    job: str
    token: str
    element: str
    process_key: str
    binding: str = "latest"
    version: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)


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
class ScheduleTimer(Command):
    """Fire TimerFired(subscription) at `due` (ISO 8601, UTC). A cycle's next repetition is a
    new ScheduleTimer for the same subscription once this one fired."""

    type: ClassVar[str] = "schedule_timer"
    subscription: str
    element: str
    due: str
    repetition: int = 1
    repetitions: int | None = 1  # None: unbounded cycle


@dataclass(frozen=True)
class Subscribe(Command):
    """Wait for a message or signal named `name`; deliver it as MessageReceived/SignalReceived.
    `correlation_key` is the value the model asks to match (None: the business key)."""

    type: ClassVar[str] = "subscribe"
    subscription: str
    kind: str  # "message" | "signal"
    name: str
    element: str
    correlation_key: Any = None
    interrupting: bool = True


@dataclass(frozen=True)
class Unsubscribe(Command):
    """A subscription (message, signal or timer) is no longer wanted."""

    type: ClassVar[str] = "unsubscribe"
    subscription: str
    element: str


@dataclass(frozen=True)
class BroadcastSignal(Command):
    """Deliver a signal to every subscription with this name in *other* instances (the engine
    has already delivered it to the throwing instance's own) and start every process with a
    signal start event of this name."""

    type: ClassVar[str] = "broadcast_signal"
    name: str
    element: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendMessage(Command):
    """Correlate a message thrown by this instance to whoever waits for it."""

    type: ClassVar[str] = "send_message"
    name: str
    element: str
    correlation_key: Any = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Escalate(Command):
    """An escalation nobody in the instance caught: reported, the instance goes on (BPMN 10.5.5)."""

    type: ClassVar[str] = "escalate"
    code: str | None
    element: str


@dataclass(frozen=True)
class ErrorToCaller(Command):
    """A called instance ended with a BPMN error nobody in it caught: its call activity's
    boundary (or the caller's scopes) must catch it. The called instance is terminated."""

    type: ClassVar[str] = "error_to_caller"
    code: str | None
    element: str
    message: str = ""


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
        RunServiceTask, RunScriptTask, StartCallActivity, CreateUserTask, CancelJob, OpenIncident, ResolveIncident, ContinueLater,
        ScheduleTimer, Subscribe, Unsubscribe, BroadcastSignal, SendMessage, Escalate, ErrorToCaller,
    )
}


def command_from_dict(data: dict[str, Any]) -> Command:
    payload = dict(data)
    cls = COMMAND_TYPES[payload.pop("type")]
    return cls(**payload)
