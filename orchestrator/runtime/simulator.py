"""Run a model in-process with the real engine and sandbox: no database, broker or worker.

`simulate` is how a process author tries a model before deploying it, so it carries out the
engine's commands itself: a service task answers with its mock (or, when asked, the real plugin
called in-process), waits stay open, and an incident ends the run as `failed`, which is what
would open an incident in the running system.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from orchestrator.bpmn.model import Definitions, EventType, Kind
from orchestrator.errors import EngineError
from orchestrator.runtime.commands import CreateUserTask, OpenIncident, RunServiceTask, WaitForMessage
from orchestrator.runtime.engine import Engine, EngineOptions, StepResult
from orchestrator.runtime.events import EngineEvent, JobCompleted, JobFailed
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
    run_task: TaskRunner | None = None,
    sandbox: Sandbox | None = None,
    step_cap: int = 1_000_000,
) -> SimulationResult:
    pid, start_event = choose_start_event(definitions, process_id)
    engine = Engine.for_definitions(
        definitions, pid, sandbox=sandbox,
        options=EngineOptions(chunk_steps=None, step_cap=step_cap, copy_state=False),
    )
    mocks = dict(mocks or {})
    trace: list[str] = []
    completed: list[str] = []
    steps = 0

    def absorb(result: StepResult) -> deque[EngineEvent]:
        nonlocal steps
        steps += result.steps
        for entry in result.history:
            if entry["event"] == "completed":
                completed.append(entry["element"])
                trace.append(f"completed {entry['kind']} {entry['element']}")
            elif entry["event"] == "failed":
                trace.append(f"FAILED    {entry['kind']} {entry['element']}: {entry.get('message')}")
        answers: deque[EngineEvent] = deque()
        for command in result.commands:
            if isinstance(command, RunServiceTask):
                answers.append(_answer(command, result.state, mocks, run_task, trace))
            elif isinstance(command, CreateUserTask):
                trace.append(f"waiting   userTask {command.element} (user task)")
            elif isinstance(command, WaitForMessage):
                trace.append(f"waiting   receiveTask {command.element} (message {command.message})")
            elif isinstance(command, OpenIncident):
                pass  # reported from the history entry above
        return answers

    result = engine.start(variables or {}, start_event=start_event)
    state = result.state
    pending = absorb(result)
    while pending:
        result = engine.handle(state, pending.popleft())
        state = result.state
        pending.extend(absorb(result))

    error = None
    if state["incidents"]:
        incident = next(iter(state["incidents"].values()))
        error = {"element": incident["node"], "message": incident["message"]}
        outcome = "failed"
    elif state["status"] in ("completed", "terminated"):
        outcome = state["status"]
    else:
        outcome = "waiting"
    # Every element a token waits at, joins included (a token stuck at a join is how a
    # deadlock shows); a sub-process is left out because the tokens inside it are listed.
    waiting = [
        {"id": token["node"], "type": engine.process.flow_nodes[token["node"]].kind.value}
        for token in state["tokens"].values()
        if token["phase"] == Phase.WAITING.value and not engine.process.flow_nodes[token["node"]].kind.is_scope
    ]
    return SimulationResult(outcome, state["variables"], completed, waiting, error, trace, steps)


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
        result = run_task(plugin, command.inputs, decode_variables(state["variables"]), command.job)
    except Exception as exc:  # the plugin's own failure: reported as the incident message
        return JobFailed(command.job, f"plugin {plugin!r} raised {type(exc).__name__}: {exc}")
    trace.append(f"ran       serviceTask {command.element} ({plugin})")
    return JobCompleted(command.job, result)


__all__ = ["SimulationResult", "SimulationError", "simulate", "choose_start_event", "EventType"]
