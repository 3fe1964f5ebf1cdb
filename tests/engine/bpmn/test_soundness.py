"""Soundness check: deadlocks, missing synchronisation and unreachable nodes, one small model each.

The models live in `models/soundness/`; the large ones are generated here. Every assertion names
element ids, and messages are checked against the constants the module formats them from.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from orchestrator.bpmn.model import Process
from orchestrator.bpmn.parser import parse, parse_file
from orchestrator.bpmn.soundness import (
    DEADLOCK, NO_SYNC_MERGE, REASON_EXCLUSIVE, REASON_INTERRUPTED, REPEATED_TOKEN, UNREACHABLE_FROM,
    UNREACHABLE_NO_INCOMING, check_soundness, soundness_report,
)
from orchestrator.errors import Problem, Severity

MODELS = Path(__file__).with_name("models") / "soundness"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".xml"))


def _process(name: str) -> Process:
    return parse_file(str(MODELS / name)).definitions.process()


def _elements(problems: list[Problem]) -> list[str | None]:
    return sorted(p.element for p in problems)


@pytest.mark.parametrize("name", [
    "parallel_sound.bpmn", "inclusive_pair.bpmn", "exclusive_loop.bpmn", "events_and_handlers.bpmn",
    "parallel_merge_before_end.bpmn",
])
def test_sound_models_get_no_warning(name: str) -> None:
    report = soundness_report(_process(name))

    assert _elements(list(report.problems)) == []
    assert report.complete


def test_exclusive_split_into_parallel_join_can_deadlock() -> None:
    process = _process("exclusive_split_parallel_join.bpmn")

    problems = check_soundness(process)

    assert _elements(problems) == ["Join"]
    [problem] = problems
    assert problem.severity is Severity.WARNING
    assert problem.process == "exclusive_split_parallel_join"
    assert problem.line == process.node("Join").line
    assert problem.message == DEADLOCK.format(
        join="parallel gateway 'Join'", arrived="a token can arrive on flow 'F3' (from 'A')",
        missing="flow 'F4' (from 'B')", reason=f" ({REASON_EXCLUSIVE.format(node=repr('X'))})",
    )


def test_parallel_split_into_exclusive_merge_lacks_synchronisation() -> None:
    problems = check_soundness(_process("parallel_split_exclusive_merge.bpmn"))

    assert _elements(problems) == ["Merge"]
    assert problems[0].severity is Severity.WARNING
    assert problems[0].message == NO_SYNC_MERGE.format(
        node="exclusive gateway 'Merge'", flows="flows 'F3' (from 'A') and 'F4' (from 'B')",
    )


def test_a_node_after_the_faulty_merge_is_not_reported_again() -> None:
    # Notify, after the merge, also gets two tokens: an echo of the merge, not a second problem.
    problems = check_soundness(_process("parallel_split_exclusive_merge.bpmn"))

    assert "Notify" not in _elements(problems)


def test_unreachable_task_and_what_only_it_leads_to() -> None:
    problems = check_soundness(_process("unreachable_task.bpmn"))

    assert _elements(problems) == ["Follow", "Orphan"]
    by_element = {p.element: p.message for p in problems}
    assert by_element["Orphan"] == UNREACHABLE_NO_INCOMING.format(node="task 'Orphan'")
    assert by_element["Follow"] == UNREACHABLE_FROM.format(node="task 'Follow'", sources="'Orphan'")
    assert all(p.severity is Severity.WARNING for p in problems)


def test_event_sub_process_and_compensation_handler_are_reachable_by_definition() -> None:
    problems = check_soundness(_process("events_and_handlers.bpmn"))

    assert not {"OnCancel", "CancelStart", "Cleanup", "CancelEnd", "Compensate", "Late", "Undo"} & set(_elements(problems))


def test_deadlock_inside_a_sub_process_names_the_inner_join() -> None:
    problems = check_soundness(_process("subprocess_deadlock.bpmn"))

    assert _elements(problems) == ["SubJoin"]
    assert REASON_EXCLUSIVE.format(node="'SubChoice'") in problems[0].message


def test_interrupting_boundary_event_before_a_join_is_named_as_the_cause() -> None:
    problems = check_soundness(_process("boundary_interrupts_before_join.bpmn"))

    assert _elements(problems) == ["Join"]
    assert REASON_INTERRUPTED.format(boundary="'Too late'", node="'Approve'") in problems[0].message


def test_loop_that_spawns_a_branch_each_round_puts_two_tokens_on_one_flow() -> None:
    problems = check_soundness(_process("loop_spawn.bpmn"))

    assert _elements(problems) == ["Split"]
    assert problems[0].message == REPEATED_TOKEN.format(source="parallel gateway 'Split'", flow="'F3'", target="'Notify'")


def test_loop_through_exclusive_gateway_finishes_without_false_warning() -> None:
    report = soundness_report(_process("exclusive_loop.bpmn"))

    assert report.problems == ()
    assert report.complete
    assert report.states < 100


# -- generated models: the bound -------------------------------------------------------------------

_HEADER = (
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://baton.example/generated">'
    '<process id="wide" isExecutable="true">'
)


def _flow(flow_id: str, source: str, target: str, *, condition: bool = False) -> str:
    body = '<conditionExpression xsi:type="tFormalExpression">x</conditionExpression>' if condition else ""
    return f'<sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}</sequenceFlow>'


def _wide(branches: int, split: str, join: str, *, steps: int = 2, conditions: bool = False) -> Process:
    """Start -> split -> `branches` chains of `steps` tasks -> join -> end."""
    parts = [f'<startEvent id="Start"/><{split} id="Split"/><{join} id="Join"/><endEvent id="End"/>',
             _flow("in", "Start", "Split"), _flow("out", "Join", "End")]
    for branch in range(branches):
        tasks = [f"T{branch}_{step}" for step in range(steps)]
        parts.extend(f'<task id="{task}"/>' for task in tasks)
        parts.append(_flow(f"s{branch}", "Split", tasks[0], condition=conditions))
        parts.extend(_flow(f"c{branch}_{i}", a, b) for i, (a, b) in enumerate(zip(tasks, tasks[1:])))
        parts.append(_flow(f"j{branch}", tasks[-1], "Join"))
    return parse(_HEADER + "".join(parts) + "</process></definitions>").definitions.process()


def test_thirty_parallel_branches_finish_well_under_the_bound() -> None:
    process = _wide(30, "parallelGateway", "parallelGateway")

    started = time.perf_counter()
    report = soundness_report(process)
    elapsed = time.perf_counter() - started

    assert report.problems == ()
    assert report.complete  # the partial-order reduction tries one interleaving, not 3**30
    assert report.states < 1_000
    assert elapsed < 2.0


def test_thirty_exclusive_paths_into_a_parallel_join_are_found_quickly() -> None:
    problems = check_soundness(_wide(30, "exclusiveGateway", "parallelGateway"))

    assert _elements(problems) == ["Join"]


def test_a_check_cut_short_stays_within_the_bound_and_claims_nothing_false() -> None:
    # Thirty conditional paths into an inclusive join: every subset and interleaving is a state.
    process = _wide(30, "inclusiveGateway", "inclusiveGateway", conditions=True)

    started = time.perf_counter()
    report = soundness_report(process, max_states=2_000)
    elapsed = time.perf_counter() - started

    assert not report.complete
    assert report.states <= 2_000
    assert report.problems == ()
    assert elapsed < 2.0


def test_a_bounded_check_still_reports_what_it_found() -> None:
    process = _wide(30, "exclusiveGateway", "parallelGateway")

    report = soundness_report(process, max_states=10)

    assert not report.complete
    assert report.states <= 10
    assert _elements(list(report.problems)) in ([], ["Join"])


def _random_model(rng: random.Random) -> Process:
    """A small random acyclic model: tasks, gateways and end events wired forwards at random."""
    kinds = ["task", "task", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "endEvent"]
    nodes = ["startEvent"] + [rng.choice(kinds) for _ in range(rng.randint(3, 10))] + ["endEvent"]
    parts = [f'<{kind} id="N{i}"/>' for i, kind in enumerate(nodes)]
    for i, kind in enumerate(nodes[:-1]):
        if kind == "endEvent":
            continue
        for k in range(1 if rng.random() < 0.5 else rng.randint(2, 3)):
            target = rng.randrange(i + 1, len(nodes))
            conditional = kind in ("task", "inclusiveGateway") and rng.random() < 0.4
            parts.append(_flow(f"F{i}_{k}", f"N{i}", f"N{target}", condition=conditional))
    return parse(_HEADER + "".join(parts) + "</process></definitions>").definitions.process()


def test_the_reduction_finds_what_trying_every_interleaving_finds() -> None:
    rng = random.Random(20_240_601)
    compared = 0
    for _ in range(200):
        process = _random_model(rng)
        reduced = soundness_report(process, max_states=3_000)
        full = soundness_report(process, max_states=3_000, reduce=False)
        if not (reduced.complete and full.complete):
            continue
        compared += 1
        # the reason after the colon comes from the trace, which may differ; what is claimed may not
        assert [(p.element, p.message.split(":")[0]) for p in reduced.problems] == \
            [(p.element, p.message.split(":")[0]) for p in full.problems]
        assert reduced.states <= full.states
    assert compared > 150


# -- the corpus ------------------------------------------------------------------------------------

# The warnings the corpus gets, unreachable nodes aside (the kitchen-sink and invalid-process
# fixtures are full of them on purpose). Each was checked by hand against the diagram.
CORPUS_BEHAVIOUR_WARNINGS = {
    "camunda/c7platform__complex-process.bpmn": ["UserTask_9"],  # two flows from one task into another
    "miwg/B.2.0.bpmn": ["_397c783e-ad6a-4cf3-8266-9b41962c83bd", "_df7727a0-f509-45eb-bb89-85753f439576"],
    "spiff/bpmn__gateway_loop_input.bpmn": ["parallel"],  # a loop back into a parallel gateway
    "spiff/bpmn__timer-non-interrupt-boundary.bpmn": ["Gateway_19fdoel"],  # joins a timer that need not fire
    "spiff/tw__Parallel-Then-Exclusive.bpmn20.xml": [],
    "spiff/tw__Parallel-One-Path-Ends.bpmn20.xml": [],
    "spiff/tw__Parallel-Multiple-Splits-And-Joins.bpmn20.xml": [],
    "camunda/c7platform__InclusiveGatewayTest.testLoop.bpmn20.xml": [],
}


def _behaviour_warnings(path: Path) -> list[str | None]:
    elements = []
    for process in parse_file(str(path)).definitions.processes.values():
        elements.extend(p.element for p in check_soundness(process) if "can never be reached" not in p.message)
    return sorted(elements)


@pytest.mark.parametrize("name", sorted(CORPUS_BEHAVIOUR_WARNINGS))
def test_corpus_warnings(name: str) -> None:
    assert _behaviour_warnings(CORPUS / name) == sorted(CORPUS_BEHAVIOUR_WARNINGS[name])


def test_every_corpus_process_is_checked_completely_and_quickly() -> None:
    assert CORPUS_FILES, "tests/corpus is missing: it ships with the repository"
    slow, cut_short = [], []
    for path in CORPUS_FILES:
        try:
            definitions = parse_file(str(path)).definitions
        except Exception:  # not a BPMN file we can read: the parser's tests cover it
            continue
        for process in definitions.processes.values():
            started = time.perf_counter()
            report = soundness_report(process)
            if time.perf_counter() - started > 0.5:
                slow.append(f"{path.name}:{process.id}")
            if not report.complete:
                cut_short.append(f"{path.name}:{process.id}")

    assert slow == []
    assert cut_short == []
