"""Run a model in-process with the real engine and sandbox: no database, broker or worker.

`simulate` is how a process author tries a model before deploying it, so it carries out the
engine's commands itself: a service task answers with its mock (or, when asked, the real plugin
called in-process), waits stay open, and an incident ends the run as `failed`, which is what
would open an incident in the running system.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from orchestrator.bpmn.model import Definitions, EventType, Kind
from orchestrator.errors import EngineError
from orchestrator.runtime.commands import (
    StartCallActivity, ErrorToCaller, BroadcastSignal, CreateUserTask, Escalate, OpenIncident, RunScriptTask, RunServiceTask, ScheduleTimer, SendMessage,
    Subscribe, Unsubscribe,
)
from orchestrator.runtime.engine import Engine, EngineOptions, StepResult
from orchestrator.runtime.events import (
    EngineEvent, JobCompleted, JobFailed, MessageReceived, SignalReceived, TimerFired,
)
from orchestrator.runtime.state import Phase
from orchestrator.scripting import Sandbox

# (plugin name, inputs or None, the decoded variables, job id) -> result dict or None
TaskRunner = Callable[[str, "dict[str, Any] | None", "dict[str, Any]", str], "dict[str, Any] | None"]


@dataclass
class SimulationResult:
    state: str  # "completed" | "waiting" | "failed" | "terminated"
    variables: dict[str, Any]
    completed: list[str]
    waiting: list[dict[str, str]]
    error: dict[str, Any] | None
    trace: list[str] = field(default_factory=list)
    steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "variables": self.variables, "completed": self.completed,
                "waiting": self.waiting, "error": self.error}


class SimulationError(EngineError):
    """The run cannot begin (no process, no start event to begin at)."""


@dataclass(frozen=True)
class SendMessageAction:
    """--message NAME=JSON: a message arrives (kept until something waits for it)."""

    name: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendSignalAction:
    """--signal NAME: a signal is broadcast to whatever waits for it."""

    name: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdvanceTime:
    """--advance-time DURATION: the virtual clock moves on and due timers fire, in due order."""

    seconds: float


Action = SendMessageAction | SendSignalAction | AdvanceTime


def choose_start_event(definitions: Definitions, process_id: str | None) -> tuple[str, str | None]:
    """The process to run and the start event to begin at. A process with only timer or
    message start events is simulated as if its trigger had just happened."""
    if process_id is not None and process_id not in definitions.processes:
        known = ", ".join(sorted(definitions.processes)) or "none"
        raise SimulationError(f"no process {process_id!r} in the file (processes: {known})")
    if not definitions.processes:
        raise SimulationError("the file has no process")
    process = definitions.process(process_id)
    if process.none_start_event() is not None:
        return process.id, None
    starts = process.start_events()
    if starts:
        return process.id, starts[0].id
    if not any(node.kind is Kind.START_EVENT for node in process.flow_nodes.values()):
        raise SimulationError(f"process {process.id!r} has no start event", element=process.id, line=process.line)
    return process.id, None


def simulate(
    definitions: Definitions,
    *,
    process_id: str | None = None,
    variables: Mapping[str, Any] | None = None,
    mocks: Mapping[str, dict[str, Any] | None] | None = None,
    errors: Mapping[str, str] | None = None,
    actions: Sequence[Action] = (),
    run_task: TaskRunner | None = None,
    sandbox: Sandbox | None = None,
    step_cap: int = 1_000_000,
    timezone_name: str = "UTC",
    now: datetime | None = None,
    library: Sequence[Definitions] = (),
) -> SimulationResult:
    """Run the model; `errors` maps a task name to the BPMN error code its mock throws
    (--error-from), and `actions` are applied in order once the start has settled. Call
    activities run their child in-process when the called process is in the same file or in
    `library` (other files)."""
    pid, start_event = choose_start_event(definitions, process_id)
    engine = Engine.for_definitions(
        definitions, pid, sandbox=sandbox,
        options=EngineOptions(chunk_steps=None, step_cap=step_cap, copy_state=False, timezone=timezone_name),
    )
    run = Simulation(engine, dict(mocks or {}), dict(errors or {}), run_task, now or datetime.now(timezone.utc),
                     library=(definitions, *library), sandbox=sandbox, timezone_name=timezone_name)
    run.begin(variables or {}, start_event)
    for action in actions:
        run.apply(action)
    return run.result()


class Simulation:
    """One in-process run: carries out commands, keeps subscriptions, timers and a clock.
    `simulate` drives it from the command line; tests drive it step by step."""

    MAX_DEPTH = 10

    def __init__(self, engine: Engine, mocks: dict[str, Any], errors: dict[str, str], run_task: TaskRunner | None,
                 now: datetime, *, library: Sequence[Definitions] = (), sandbox: Sandbox | None = None,
                 timezone_name: str = "UTC", depth: int = 0) -> None:
        self.engine = engine
        self.library = tuple(library)
        self.sandbox = sandbox
        self.timezone_name = timezone_name
        self.depth = depth
        self.mocks = mocks
        self.errors = errors
        self.run_task = run_task
        self.now = now
        self.trace: list[str] = []
        self.completed: list[str] = []
        self.steps = 0
        self.state: dict[str, Any] = {}
        self.timers: dict[str, datetime] = {}
        self.subscriptions: dict[str, Subscribe] = {}
        self.buffered: list[SendMessageAction] = []

    called = False

    def begin(self, variables: Mapping[str, Any], start_event: str | None) -> None:
        from orchestrator.runtime.events import Start

        self._settle(self.engine.handle(None, Start(variables=dict(variables), start_event=start_event,
                                                    called=self.called), now=self.now))

    def apply(self, action: Action) -> None:
        if isinstance(action, AdvanceTime):
            self.now += timedelta(seconds=action.seconds)
            self.trace.append(f"time      +{action.seconds:g}s")
            while True:
                due = sorted((when, sub) for sub, when in self.timers.items() if when <= self.now)
                if not due:
                    break
                sub = due[0][1]
                del self.timers[sub]
                self._deliver(TimerFired(sub))
        elif isinstance(action, SendSignalAction):
            self._signal(action.name, action.variables)
        else:
            self._message(action)

    def complete(self, element: str, variables: Mapping[str, Any] | None = None) -> None:
        """Complete the one user task waiting at `element` (a person's input)."""
        jobs = [job for job, token in self.state["jobs"].items() if self.state["tokens"][token]["node"] == element]
        if len(jobs) != 1:
            waiting = sorted(self.state["tokens"][t]["node"] for t in self.state["jobs"].values())
            raise SimulationError(f"expected one task waiting at {element!r}, found {len(jobs)} (waiting: {waiting})")
        self.trace.append(f"completed userTask {element} by hand")
        self._deliver(JobCompleted(jobs[0], dict(variables or {})))

    def _signal(self, name: str, variables: dict[str, Any]) -> None:
        targets = [s for s, sub in self.subscriptions.items() if sub.kind == "signal" and sub.name == name]
        self.trace.append(f"signal    {name} ({len(targets)} waiting)")
        for sub in targets:
            if sub in self.subscriptions:
                self._deliver(SignalReceived(sub, dict(variables)))

    def _message(self, message: SendMessageAction) -> None:
        for sub, subscribe in self.subscriptions.items():
            if subscribe.kind == "message" and subscribe.name == message.name:
                self.trace.append(f"message   {message.name}")
                self._deliver(MessageReceived(sub, dict(message.variables)))
                return
        self.trace.append(f"message   {message.name} (nothing waits yet: kept)")
        self.buffered.append(message)

    def _deliver(self, event: EngineEvent) -> None:
        self._settle(self.engine.handle(self.state, event, now=self.now))

    def _settle(self, result: StepResult) -> None:
        """Apply the answers to a step's commands one after another, each to the newest state
        (with copy_state the engine leaves the given state alone, so an answer applied to an
        older state would undo the ones before it)."""
        self.state = result.state
        answers: deque[EngineEvent] = deque(self._absorb(result))
        while answers:
            current = self.engine.handle(self.state, answers.popleft(), now=self.now)
            self.state = current.state
            answers.extend(self._absorb(current))

    def _absorb(self, result: StepResult) -> list[EngineEvent]:
        self.steps += result.steps
        for entry in result.history:
            if entry["event"] == "completed":
                self.completed.append(entry["element"])
                self.trace.append(f"completed {entry['kind']} {entry['element']}")
            elif entry["event"] == "failed":
                self.trace.append(f"FAILED    {entry['kind']} {entry['element']}: {entry.get('message')}")
        answers: list[EngineEvent] = []
        later: list[Any] = []
        for command in result.commands:
            if isinstance(command, RunServiceTask):
                answers.append(self._answer(command))
            elif isinstance(command, StartCallActivity):
                answers.append(self._call(command))
            elif isinstance(command, CreateUserTask):
                self.trace.append(f"waiting   userTask {command.element} (user task)")
            elif isinstance(command, ScheduleTimer):
                self.timers[command.subscription] = datetime.fromisoformat(command.due)
                self.trace.append(f"timer     {command.element} due {command.due}")
            elif isinstance(command, Subscribe):
                self.subscriptions[command.subscription] = command
                self.trace.append(f"waiting   {command.element} ({command.kind} {command.name})")
                later.append(command)
            elif isinstance(command, Unsubscribe):
                self.subscriptions.pop(command.subscription, None)
                self.timers.pop(command.subscription, None)
            elif isinstance(command, (BroadcastSignal, SendMessage)):
                later.append(command)
            elif isinstance(command, ErrorToCaller):
                self.error_to_caller = command
            elif isinstance(command, Escalate):
                self.trace.append(f"escalated {command.element} ({command.code}): nobody in the process caught it")
        # Deliveries that depend on the new subscriptions happen once the step is absorbed.
        for item in later:
            if isinstance(item, BroadcastSignal):
                pass  # the engine delivered it to this instance; a simulation has no other
            elif isinstance(item, SendMessage):
                self._message(SendMessageAction(item.name, dict(item.variables)))
            elif isinstance(item, Subscribe) and item.kind == "message":
                for buffered in list(self.buffered):
                    if buffered.name == item.name and item.subscription in self.subscriptions:
                        self.buffered.remove(buffered)
                        answers.append(MessageReceived(item.subscription, dict(buffered.variables)))
                        break
        return answers

    def _answer(self, command: RunServiceTask) -> EngineEvent:
        if command.plugin in self.errors:
            code = self.errors[command.plugin]
            self.trace.append(f"error     serviceTask {command.element} ({command.plugin}) throws {code}")
            return JobFailed(command.job, f"business error {code} from {command.plugin}", code=code)
        return _answer(command, self.state, self.mocks, self.run_task, self.trace)

    def _call(self, command: StartCallActivity) -> EngineEvent:
        """Run the called process to its end in-process; its variables come back."""
        if self.depth >= self.MAX_DEPTH:
            return JobFailed(command.job, f"call activities nest deeper than {self.MAX_DEPTH} levels")
        found = next((d for d in self.library if command.process_key in d.processes), None)
        if found is None:
            return JobFailed(command.job, f"no process {command.process_key!r} to call (give its file too)")
        child_engine = Engine.for_definitions(found, command.process_key, sandbox=self.sandbox, options=self.engine.options)
        child = Simulation(child_engine, self.mocks, self.errors, self.run_task, self.now, library=self.library,
                           sandbox=self.sandbox, timezone_name=self.timezone_name, depth=self.depth + 1)
        from orchestrator.runtime.variables import decode_variables

        self.trace.append(f"calling   {command.process_key} from {command.element}")
        child.called = True
        child.begin(decode_variables(command.variables), None)
        self.trace.extend("  " + line for line in child.trace)
        self.steps += child.steps
        state = child.state
        thrown = getattr(child, "error_to_caller", None)
        if thrown is not None:
            return JobFailed(command.job, thrown.message or f"BPMN error {thrown.code!r}", code=thrown.code)
        if state["incidents"]:
            message = next(iter(state["incidents"].values()))["message"]
            return JobFailed(command.job, f"the called process {command.process_key!r} failed: {message}")
        if state["status"] in ("completed", "terminated"):
            return JobCompleted(command.job, dict(state["variables"]))
        return JobFailed(command.job, f"the called process {command.process_key!r} waits "
                                      "(simulate runs called processes to their end only)")

    def result(self) -> SimulationResult:
        state = self.state
        error = None
        if state["incidents"]:
            incident = next(iter(state["incidents"].values()))
            error = {"element": incident["node"], "message": incident["message"]}
            outcome = "failed"
        elif state["status"] in ("completed", "terminated"):
            outcome = state["status"]
        else:
            outcome = "waiting"
        nodes = self.engine.process.flow_nodes
        # Every element a token waits at, joins and catch events included (a token stuck at a
        # join is how a deadlock shows); a sub-process is left out: the tokens inside are listed.
        waiting = [
            {"id": token["node"], "type": nodes[token["node"]].kind.value}
            for token in state["tokens"].values()
            if token["phase"] == Phase.WAITING.value and not nodes[token["node"]].kind.is_scope
        ]
        return SimulationResult(outcome, state["variables"], self.completed, waiting, error, self.trace, self.steps)


def _answer(command: RunServiceTask, state: dict[str, Any], mocks: Mapping[str, Any],
            run_task: TaskRunner | None, trace: list[str]) -> EngineEvent:
    plugin = command.plugin
    if plugin in mocks:
        trace.append(f"mocked    serviceTask {command.element} ({plugin})")
        return JobCompleted(command.job, mocks[plugin])
    if run_task is None:
        return JobFailed(command.job, f"service task {command.element!r} needs plugin {plugin!r}: give --mock {plugin}=JSON "
                                      "or --run-tasks to call the real plugin")
    from orchestrator.runtime.variables import decode_variables
    try:
        variables = decode_variables({**state["variables"], **(command.locals or {})})
        result = run_task(plugin, command.inputs, variables, command.job)
    except Exception as exc:  # the plugin's own failure: reported as the incident message
        return JobFailed(command.job, f"plugin {plugin!r} raised {type(exc).__name__}: {exc}")
    trace.append(f"ran       serviceTask {command.element} ({plugin})")
    return JobCompleted(command.job, result)


__all__ = ["SimulationResult", "SimulationError", "Simulation", "simulate", "choose_start_event", "SendMessageAction",
           "SendSignalAction", "AdvanceTime", "RunScriptTask"]
