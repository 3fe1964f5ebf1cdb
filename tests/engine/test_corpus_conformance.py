"""Corpus conformance: the SpiffWorkflow and Camunda models in tests/corpus run to the outcome
their notes record, adapted to the BPMN 2.0 spec where Baton follows it (see corpus_scenarios).

Each scenario runs through `Simulation`, the in-process runner behind `simulate`: the real
engine and sandbox, started where `simulate` starts it, service tasks answered from the
scenario's mocks (or failed with the scenario's business error), call activities running the
called process in-process (from the same file or the scenario's `library`), messages kept until
something waits for them, signals broadcast, and a virtual clock that fires due timers when the
scenario advances it. The engine is wrapped so that the test also sees every command it gave (the
inputs each service task was given, the messages, signals and escalations it sent out); the
open tasks are checked between actions. The table of results is printed at the end of the
session by the hook in conftest.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from orchestrator.bpmn.model import Definitions, Kind, Process
from orchestrator.bpmn.parser import parse_file
from orchestrator.bpmn.validation import validate
from orchestrator.errors import BatonError
from orchestrator.runtime.commands import BroadcastSignal, Command, Escalate, RunServiceTask, SendMessage
from orchestrator.runtime.engine import Engine, EngineOptions, StepResult
from orchestrator.runtime.simulator import (
    AdvanceTime, SendMessageAction, SendSignalAction, Simulation, choose_start_event,
)
from orchestrator.runtime.state import Phase
from orchestrator.runtime.variables import decode_variables
from tests.engine.corpus_scenarios import (
    REPORT_KEY, SCENARIOS, Advance, BusinessError, Complete, Message, Mock, Scenario, Signal, Waiting,
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

START_TIME = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)
"""The virtual clock at the start of every run (a Monday morning, UTC)."""


@dataclass
class Run:
    state: str = "waiting"
    variables: dict[str, Any] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    waiting_at: list[str] = field(default_factory=list)
    incidents: list[tuple[str, str]] = field(default_factory=list)  # (element, message), oldest first
    calls: list[tuple[str, Any]] = field(default_factory=list)
    thrown: list[tuple[str, str | None]] = field(default_factory=list)  # (kind, name or code), in order
    problems: list[str] = field(default_factory=list)  # actions that could not be applied


class RecordingEngine(Engine):
    """The engine, unchanged, keeping every command it gives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[Command] = []

    def handle(self, state: dict[str, Any] | None, event: Any, *, now: datetime | None = None) -> StepResult:
        result = super().handle(state, event, now=now)
        self.commands.extend(result.commands)
        return result


@lru_cache(maxsize=None)
def _definitions(file: str) -> Definitions:
    return parse_file(str(CORPUS / file)).definitions


@lru_cache(maxsize=None)
def _validation_messages(file: str) -> tuple[str, ...]:
    report = validate(parse_file(str(CORPUS / file)))
    return tuple(problem.message for problem in (*report.errors, *report.warnings))


def _resolve(process: Process, ref: str) -> str:
    """An element id from an id or a unique name."""
    if ref in process.flow_nodes:
        return ref
    named = [node_id for node_id, node in process.flow_nodes.items() if (node.name or "").strip() == ref]
    if len(named) != 1:
        raise LookupError(f"{ref!r} names {len(named)} elements of process {process.id!r}, expected one id or name")
    return named[0]


def _label(process: Process, node_id: str) -> str:
    """How the table shows an element: by name where its id is a generated sid-…"""
    name = (process.flow_nodes[node_id].name or "").strip() if node_id in process.flow_nodes else ""
    return name if node_id.startswith("sid-") and name else node_id


def open_tasks(state: dict[str, Any], process: Process) -> list[str]:
    """The elements a person or a message must act on now: open user tasks, waiting receive tasks."""
    tokens = state["tokens"]
    user = [tokens[token]["node"] for token in state["jobs"].values()]
    receive = [token["node"] for token in tokens.values()
               if token["phase"] == Phase.WAITING.value and process.flow_nodes[token["node"]].kind is Kind.RECEIVE_TASK]
    return sorted(user + receive)


def run_scenario(scenario: Scenario) -> tuple[Run, Process]:
    definitions = _definitions(scenario.file)
    process_id, start_event = choose_start_event(definitions, scenario.process)
    # As `simulate` runs it: the engine works on the simulation's state in place, so the answers to
    # several commands of one step (parallel service tasks, parallel call activities) build on each other.
    options = EngineOptions(chunk_steps=None, copy_state=False)
    engine = RecordingEngine.for_definitions(definitions, process_id, options=options)
    process = engine.process
    mocks = {action.plugin: action.result for action in scenario.actions if isinstance(action, Mock)}
    errors = {action.plugin: action.code for action in scenario.actions if isinstance(action, BusinessError)}
    # A script's datetime.now() is the wall clock, naive, and the engine reads naive times in UTC:
    # the wall-clock start is that same naive time, read in UTC, so the two agree in any zone.
    start = datetime.now().replace(tzinfo=timezone.utc) if scenario.wall_clock else START_TIME
    library = (definitions, *(_definitions(other) for other in scenario.library))
    simulation = Simulation(engine, mocks, errors, None, start, library=library)
    run = Run()

    try:
        simulation.begin(scenario.variables, start_event)
    except BatonError as exc:  # the instance cannot start: no state, nothing to act on
        run.state = "refused"
        run.incidents = [(exc.element or process.id, exc.message)]
        return run, process
    for action in scenario.actions:
        if isinstance(action, Complete):
            element = _resolve(process, action.element)
            jobs = [job for job, token in simulation.state["jobs"].items()
                    if simulation.state["tokens"][token]["node"] == element]
            if len(jobs) != 1:
                shown = [_label(process, node) for node in open_tasks(simulation.state, process)]
                run.problems.append(f"cannot complete {action.element!r}: the open tasks are {shown}")
                break
            simulation.complete(element, dict(action.variables))
        elif isinstance(action, Waiting):
            expected = sorted(_resolve(process, ref) for ref in action.elements)
            actual = open_tasks(simulation.state, process)
            if actual != expected:
                run.problems.append(f"expected open tasks {sorted(action.elements)}, "
                                    f"found {[_label(process, n) for n in actual]}")
        elif isinstance(action, Message):
            simulation.apply(SendMessageAction(action.name, dict(action.variables)))
        elif isinstance(action, Signal):
            simulation.apply(SendSignalAction(action.name))
        elif isinstance(action, Advance):
            simulation.apply(AdvanceTime(action.seconds))

    state = simulation.state
    for command in engine.commands:
        if isinstance(command, RunServiceTask):
            run.calls.append((command.plugin, command.inputs))
        elif isinstance(command, SendMessage):
            run.thrown.append(("message", command.name))
        elif isinstance(command, BroadcastSignal):
            run.thrown.append(("signal", command.name))
        elif isinstance(command, Escalate):
            run.thrown.append(("escalation", command.code))
    run.completed = list(simulation.completed)
    run.variables = decode_variables(state["variables"])
    run.incidents = [(incident["node"], incident["message"]) for incident in state["incidents"].values()]
    run.waiting_at = sorted(
        token["node"] for token in state["tokens"].values()
        if token["phase"] == Phase.WAITING.value and not process.flow_nodes[token["node"]].kind.is_scope
    )
    if run.incidents:
        run.state = "failed"
    elif state["status"] in ("completed", "terminated", "cancelled"):
        run.state = state["status"]
    return run, process


def mismatches(scenario: Scenario, run: Run, process: Process) -> list[str]:
    """Every way the run differs from the scenario's expected outcome."""
    expected = scenario.expected
    found = list(run.problems)
    if run.state != expected.state:
        detail = f" ({run.incidents[0][0]}: {run.incidents[0][1]})" if run.incidents else ""
        found.append(f"state {run.state!r}{detail}, expected {expected.state!r}")
    if expected.variables is not None and run.variables != dict(expected.variables):
        found.append(f"variables {run.variables}, expected {dict(expected.variables)}")
    for name, value in expected.including.items():
        if name not in run.variables:
            found.append(f"no variable {name!r} (variables: {sorted(run.variables)})")
        elif run.variables[name] != value:
            found.append(f"variable {name!r} is {run.variables[name]!r}, expected {value!r}")
    for ref in expected.completed:
        if _resolve(process, ref) not in run.completed:
            found.append(f"{ref!r} never completed")
    for ref in expected.not_completed:
        if _resolve(process, ref) in run.completed:
            found.append(f"{ref!r} completed, and must not")
    for ref in expected.once:
        times = run.completed.count(_resolve(process, ref))
        if times != 1:
            found.append(f"{ref!r} completed {times} times, expected once")
    for ref, count in expected.times.items():
        times = run.completed.count(_resolve(process, ref))
        if times != count:
            found.append(f"{ref!r} completed {times} times, expected {count}")
    for first, then in expected.before:
        a, b = _resolve(process, first), _resolve(process, then)
        if a in run.completed and b in run.completed:
            last_a = len(run.completed) - 1 - run.completed[::-1].index(a)
            if last_a > run.completed.index(b):
                found.append(f"{first!r} completed after {then!r}")
        else:
            found.append(f"{first!r} and {then!r} must both complete")
    if expected.waiting_at is not None:
        wanted = sorted(_resolve(process, ref) for ref in expected.waiting_at)
        if run.waiting_at != wanted:
            found.append(f"tokens wait at {run.waiting_at}, expected {wanted}")
    if expected.failed_at is not None:
        element = _resolve(process, expected.failed_at)
        if not any(node == element and (expected.error or "") in message for node, message in run.incidents):
            found.append(f"no incident at {expected.failed_at!r} mentioning {expected.error!r} "
                         f"(incidents: {run.incidents})")
    if expected.calls is not None:
        wanted_calls = [(plugin, dict(inputs) if inputs is not None else None) for plugin, inputs in expected.calls]
        if run.calls != wanted_calls:
            found.append(f"service task calls {run.calls}, expected {wanted_calls}")
    if expected.thrown is not None and run.thrown != list(expected.thrown):
        found.append(f"sent out {run.thrown}, expected {list(expected.thrown)}")
    for text in expected.warns:
        messages = _validation_messages(scenario.file)
        if not any(text in message for message in messages):
            found.append(f"validation does not mention {text!r} (it says: {list(messages)})")
    return found


def outcome_text(scenario: Scenario, run: Run, process: Process) -> str:
    if run.state in ("failed", "refused"):
        elements = [node for node, _ in run.incidents]
        wanted = scenario.expected.failed_at
        shown = _resolve(process, wanted) if wanted and _resolve(process, wanted) in elements else elements[0]
        return f"{run.state} at {_label(process, shown)}"
    if run.state == "waiting":
        return "waiting at " + ", ".join(_label(process, node) for node in run.waiting_at) if run.waiting_at \
            else "waiting"
    return run.state


def _param(scenario: Scenario) -> Any:
    marks = [pytest.mark.xfail(reason=scenario.bug, strict=True)] if scenario.bug else []
    return pytest.param(scenario, id=scenario.id, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_corpus_scenario(scenario: Scenario, request: pytest.FixtureRequest) -> None:
    run, process = run_scenario(scenario)
    found = mismatches(scenario, run, process)
    request.node.user_properties.append((REPORT_KEY, {
        "index": SCENARIOS.index(scenario),
        "file": scenario.file,
        "scenario": scenario.name,
        "supported": scenario.supported,
        "outcome": outcome_text(scenario, run, process),
        "matched": not found,
        "follows": scenario.follows,
        "why": scenario.why,
        "bug": scenario.bug,
    }))
    assert not found, f"{scenario.id}: " + "; ".join(found)


def test_every_spiff_and_camunda_file_has_a_scenario() -> None:
    files = {f"{folder}/{path.name}" for folder in ("spiff", "camunda")
             for path in (CORPUS / folder).iterdir() if ".bpmn" in path.name}
    assert files - {scenario.file for scenario in SCENARIOS} == set()


def test_scenario_ids_are_unique() -> None:
    ids = [scenario.id for scenario in SCENARIOS]
    assert len(ids) == len(set(ids))
