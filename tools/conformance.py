"""The conformance report: every BPMN file we hold, through `validate` and, where an outcome is
recorded, through a simulated run, in one table.

    scripts/conformance                                # the table, as text
    scripts/conformance --markdown                     # the same table as Markdown (docs/conformance.md)
    scripts/conformance --check docs/conformance.md    # exit 1 if something that passed there no longer does

The files: tests/corpus (MIWG, Camunda/Flowable, SpiffWorkflow), examples/ and our own test models
(tests/engine/bpmn/models/*.bpmn, tests/api/models/*.bpmn). The outcomes: the scenarios of
tests/engine/corpus_scenarios.py, run exactly as tests/engine/test_corpus_conformance.py runs them
(the real engine and sandbox through `Simulation`, in-process). No Django, database or worker: the
running system is the integration tests' business, and the report says so.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from orchestrator.bpmn.model import Definitions, EventType, Kind
from orchestrator.bpmn.parser import parse_file
from orchestrator.bpmn.validation import validate
from orchestrator.errors import BatonError, Problem

ROOT = Path(__file__).resolve().parents[1]
CORPUS = "tests/corpus"

FOLDERS: tuple[str, ...] = (
    "tests/corpus/miwg", "tests/corpus/camunda", "tests/corpus/spiff",
    "examples", "tests/engine/bpmn/models", "tests/api/models",
)
"""Where the files come from, in report order (only the folder itself, not its sub-folders)."""

NONE = "—"
COLUMNS = ("file", "elements", "valid", "executable", "scenario", "ran", "matched", "why not")
FILE_WIDTH = 60
ELEMENTS_WIDTH = 48
"""The text table cuts longer file names and element lists (the Markdown one never does)."""

SHORT = {
    Kind.START_EVENT: "start", Kind.END_EVENT: "end", Kind.INTERMEDIATE_THROW_EVENT: "throw",
    Kind.INTERMEDIATE_CATCH_EVENT: "catch", Kind.BOUNDARY_EVENT: "boundary", Kind.TASK: "task",
    Kind.MANUAL_TASK: "manual", Kind.SCRIPT_TASK: "script", Kind.SERVICE_TASK: "service", Kind.SEND_TASK: "send",
    Kind.RECEIVE_TASK: "receive", Kind.USER_TASK: "user", Kind.BUSINESS_RULE_TASK: "rule",
    Kind.SUB_PROCESS: "sub", Kind.TRANSACTION: "tx", Kind.AD_HOC_SUB_PROCESS: "adhoc", Kind.CALL_ACTIVITY: "call",
    Kind.EXCLUSIVE_GATEWAY: "xor", Kind.PARALLEL_GATEWAY: "and", Kind.INCLUSIVE_GATEWAY: "or",
    Kind.EVENT_BASED_GATEWAY: "evgw", Kind.COMPLEX_GATEWAY: "complex",
}
"""How the elements column names each flow-node kind."""

HEADER = """\
Every BPMN file in tests/corpus (MIWG, Camunda/Flowable, SpiffWorkflow), examples/ and our own
test models (tests/engine/bpmn/models, tests/api/models), through `validate` (plugin names are
not checked: plugins are found by Django) and, where an outcome is recorded (the scenarios in
tests/engine/corpus_scenarios.py, from tests/corpus/spiff/EXPECTED.md and
tests/corpus/camunda/NOTES.md), through a simulated run: `Simulation`, the in-process runner
behind `simulate`, with the real engine and sandbox, mocked service tasks, called processes run
in-process and a virtual clock.

Not through the running system: that needs the database, the broker and Celery workers, which
a script run inside the test suite cannot have; the integration tests (tests/integration) and
the API tests (tests/api) cover it.

Columns: elements = flow nodes by kind (start, end, throw, catch, boundary, task, manual,
script, service, send, receive, user, rule, sub, tx, adhoc, call, xor, and, or, evgw, complex;
mi = multi-instance, loop = standard loop), then event definitions; valid / executable =
`validate`'s answers; ran = how the scenario's run ended ("—": no outcome recorded for the
file); matched = PASS when the run reached the outcome the scenario expects (for a file with
an element Baton cannot run, that outcome is failing at that element: see "why not"), FAIL
otherwise; why not = whose answer the scenario reproduces (spiff, camunda, or spec where Baton
follows the BPMN 2.0 spec rather than SpiffWorkflow's own semantics) and why; for a FAIL, the
known engine bug or what differed; for a file that is not valid or not executable, the first
reason.
"""


@dataclass(frozen=True)
class Row:
    file: str
    elements: str
    valid: str
    executable: str
    scenario: str
    ran: str
    matched: str
    why: str

    @property
    def key(self) -> tuple[str, str]:
        return self.file, self.scenario

    def cells(self) -> tuple[str, ...]:
        return (self.file, self.elements, self.valid, self.executable, self.scenario, self.ran, self.matched,
                self.why)


# -- the files ------------------------------------------------------------------------------------------


def bpmn_files(root: Path = ROOT) -> list[Path]:
    found = []
    for folder in FOLDERS:
        directory = root / folder
        if directory.is_dir():
            found.extend(sorted(path for path in directory.iterdir() if path.is_file() and ".bpmn" in path.name))
    return found


def _count(name: str, times: int) -> str:
    return name if times == 1 else f"{name}×{times}"


def elements_used(definitions: Definitions) -> str:
    kinds: Counter[Kind] = Counter()
    loops: Counter[str] = Counter()
    events: Counter[EventType] = Counter()
    for process in definitions.processes.values():
        for node in process.flow_nodes.values():
            kinds[node.kind] += 1
            loop = getattr(node, "loop", None)
            if loop is not None:
                loops["mi" if loop.kind == "multiInstance" else "loop"] += 1
            for definition in getattr(node, "event_definitions", ()):
                if definition.type is not EventType.NONE:
                    events[definition.type] += 1
    parts = [_count(SHORT[kind], kinds[kind]) for kind in Kind if kinds[kind]]
    parts += [_count(name, loops[name]) for name in ("mi", "loop") if loops[name]]
    text = ", ".join(parts) or "no flow nodes"
    if events:
        text += "; " + ", ".join(_count(kind.value, events[kind]) for kind in EventType if events[kind])
    return text


def _first(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    problem = problems[0]
    text = f"{problem.element}: {problem.message}" if problem.element else problem.message
    return text + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")


def check_file(path: Path) -> tuple[str, str, str, str]:
    """(elements, valid, executable, why not) for one file."""
    try:
        parsed = parse_file(str(path))
    except BatonError as exc:
        return NONE, "no", "no", f"cannot be read: {exc.message}"
    report = validate(parsed)
    why = ""
    if not report.valid:
        why = _first(report.errors)
    elif not report.executable:
        why = _first([p for p in report.warnings if p.executable_only] or list(report.warnings))
    return (elements_used(parsed.definitions), "yes" if report.valid else "no",
            "yes" if report.executable else "no", why)


# -- the scenarios ----------------------------------------------------------------------------------------


def scenario_results() -> dict[str, list[tuple[str, str, str, str]]]:
    """(scenario, ran, matched, why not) per file (repo-relative), in scenario order."""
    from tests.engine.corpus_scenarios import SCENARIOS
    from tests.engine.test_corpus_conformance import mismatches, outcome_text, run_scenario

    results: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for scenario in SCENARIOS:
        try:
            run, process = run_scenario(scenario)
            found = mismatches(scenario, run, process)
            ran = outcome_text(scenario, run, process)
        except Exception as exc:  # a scenario that cannot even run is a FAIL with the reason, not a crash
            found, ran = [f"the run raised {type(exc).__name__}: {exc}"], "raised"
        explained = f"{scenario.follows}: {scenario.why}"
        if not found:
            matched, why = "PASS", explained
        elif scenario.bug:
            matched, why = "FAIL", f"known engine bug: {scenario.bug}. Expected ({explained})"
        else:
            matched, why = "FAIL", "; ".join(found) + f". Expected ({explained})"
        results[f"{CORPUS}/{scenario.file}"].append((scenario.name, ran, matched, why))
    return results


def build_rows(root: Path = ROOT) -> list[Row]:
    """The whole table: one row per scenario, and one per file with no recorded outcome."""
    results = scenario_results()
    rows: list[Row] = []
    for path in bpmn_files(root):
        file = path.relative_to(root).as_posix()
        elements, valid, executable, problem = check_file(path)
        for scenario, ran, matched, why in results.get(file) or [(NONE, NONE, NONE, problem)]:
            rows.append(Row(file, elements, valid, executable, scenario, ran, matched, why))
    return rows


# -- rendering ----------------------------------------------------------------------------------------------


def summary(rows: Sequence[Row]) -> list[str]:
    files: dict[str, Row] = {}
    for row in rows:
        files.setdefault(row.file, row)
    scenarios = [row for row in rows if row.matched != NONE]
    passed = sum(row.matched == "PASS" for row in scenarios)
    bugs = sum(row.why.startswith("known engine bug") for row in scenarios)
    no_outcome = sum(row.scenario == NONE for row in rows)
    return [
        f"{len(files)} files: {sum(r.valid == 'yes' for r in files.values())} valid, "
        f"{sum(r.executable == 'yes' for r in files.values())} executable; "
        f"{no_outcome} with no recorded outcome.",
        f"{len(scenarios)} scenarios: {passed} PASS, {len(scenarios) - passed} FAIL "
        f"({bugs} known engine bugs, strict xfail in tests/engine/test_corpus_conformance.py).",
    ]


def _shown(rows: Sequence[Row]) -> list[tuple[str, ...]]:
    """The cells as shown: a file's elements, valid and executable only on its first row."""
    shown, previous = [], None
    for row in rows:
        cells = list(row.cells())
        if row.file == previous:
            cells[1:4] = ["", "", ""]
        previous = row.file
        shown.append(tuple(cells))
    return shown


def render_text(rows: Sequence[Row]) -> str:
    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    table = [COLUMNS] + [(cut(cells[0], FILE_WIDTH), cut(cells[1], ELEMENTS_WIDTH), *cells[2:])
                         for cells in _shown(rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(COLUMNS) - 1)]
    lines = ["Conformance report", "", *HEADER.splitlines(), "", *summary(rows), ""]
    for line in table:
        lines.append("  ".join([cell.ljust(width) for cell, width in zip(line, widths)] + [line[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(rows: Sequence[Row]) -> str:
    lines = [
        "# Conformance report", "",
        "Generated by `scripts/conformance --markdown > docs/conformance.md`; do not edit by hand. "
        "`tests/engine/test_conformance_report.py` fails when a file or scenario marked as passing here "
        "(valid, executable, PASS) stops passing; regenerate this file when results change on purpose.", "",
        *HEADER.splitlines(), "", *(f"- {line}" for line in summary(rows)), "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines.extend("| " + " | ".join(_md_cell(cell) for cell in cells) + " |" for cells in _shown(rows))
    return "\n".join(lines) + "\n"


_PIPE = re.compile(r"(?<!\\)\|")


def parse_markdown(text: str) -> list[Row]:
    """The rows of a report written by `render_markdown` (blank file cells filled from the row above)."""
    header = "| " + " | ".join(COLUMNS) + " |"
    lines = text.splitlines()
    try:
        start = lines.index(header)
    except ValueError:
        raise ValueError("no conformance table in the report (its header row is missing)") from None
    rows: list[Row] = []
    for number, line in enumerate(lines[start + 2:], start + 3):
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("\\|", "|") for cell in _PIPE.split(line.strip()[1:-1])]
        if len(cells) != len(COLUMNS):
            raise ValueError(f"line {number}: {len(cells)} cells, expected {len(COLUMNS)}")
        if rows and cells[0] == rows[-1].file and cells[1:4] == ["", "", ""]:
            cells[1:4] = [rows[-1].elements, rows[-1].valid, rows[-1].executable]
        rows.append(Row(*cells))
    return rows


# -- regressions ----------------------------------------------------------------------------------------------


def regressions(committed: Iterable[Row], current: Iterable[Row]) -> list[str]:
    """Everything the committed report marks as passing that does not pass now: a PASS scenario,
    a valid or an executable file. Improvements are not regressions."""
    now = {row.key: row for row in current}
    files_now = {row.file: row for row in now.values()}
    problems: list[str] = []
    seen_files: set[str] = set()
    for row in committed:
        if row.file not in seen_files:
            seen_files.add(row.file)
            file_now = files_now.get(row.file)
            if file_now is None:
                problems.append(f"{row.file}: in the report, and no longer checked")
            else:
                for column in ("valid", "executable"):
                    if getattr(row, column) == "yes" and getattr(file_now, column) != "yes":
                        problems.append(f"{row.file}: was {column}, is not now: {file_now.why}")
        if row.matched == "PASS":
            new = now.get(row.key)
            if new is None:
                problems.append(f"{row.file} [{row.scenario}]: passed in the report, and there is no such "
                                "scenario now")
            elif new.matched != "PASS":
                problems.append(f"{row.file} [{row.scenario}]: passed in the report, now {new.matched} "
                                f"({new.ran}): {new.why}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/conformance",
        description="Every BPMN file through validate and, where an outcome is recorded, a simulated run.")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/conformance.md)")
    parser.add_argument("--check", metavar="REPORT",
                        help="compare with a committed Markdown report: exit 1 if anything it marks as passing "
                             "(valid, executable, PASS) no longer passes")
    args = parser.parse_args(argv)
    rows = build_rows()
    if args.check:
        problems = regressions(parse_markdown(Path(args.check).read_text(encoding="utf-8")), rows)
        for problem in problems:
            print(problem)
        print("\n".join(summary(rows)))
        print(f"{len(problems)} regressions against {args.check}" if problems else f"no regressions against {args.check}")
        return 1 if problems else 0
    sys.stdout.write(render_markdown(rows) if args.markdown else render_text(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
