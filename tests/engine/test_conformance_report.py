"""docs/conformance.md, the committed conformance report (`scripts/conformance --markdown`): it
exists and parses, and nothing it marks as passing (a valid or executable file, a PASS scenario)
stops passing. The table is regenerated in-process, as tools/conformance.py builds it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.conformance import COLUMNS, NONE, Row, build_rows, parse_markdown, regressions, render_markdown

REPORT = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
REGENERATE = "scripts/conformance --markdown > docs/conformance.md"


@pytest.fixture(scope="module")
def current() -> list[Row]:
    return build_rows()


@pytest.fixture(scope="module")
def committed() -> list[Row]:
    assert REPORT.is_file(), f"{REPORT} is missing: {REGENERATE}"
    return parse_markdown(REPORT.read_text(encoding="utf-8"))


def test_the_committed_report_parses(committed: list[Row]) -> None:
    assert committed, "docs/conformance.md has an empty table"
    for row in committed:
        assert row.valid in ("yes", "no") and row.executable in ("yes", "no"), row
        assert row.matched in ("PASS", "FAIL", NONE), row
    assert len({row.key for row in committed}) == len(committed), "a (file, scenario) appears twice"
    assert any(row.matched == "PASS" for row in committed)


def test_nothing_that_passed_in_the_committed_report_stops_passing(committed: list[Row], current: list[Row]) -> None:
    problems = regressions(committed, current)
    assert not problems, "\n".join(problems) + f"\n(if a change is intended: {REGENERATE})"


def test_the_markdown_table_reads_back_as_written(current: list[Row]) -> None:
    assert parse_markdown(render_markdown(current)) == [
        Row(*(" ".join(cell.split()) for cell in row.cells())) for row in current
    ]
    assert render_markdown(current).count("\n| ") == len(current) + 1  # the header row, then one line per row
    assert COLUMNS[0] == "file" and COLUMNS[-1] == "why not"


def test_a_regression_is_found() -> None:
    passing = Row("f.bpmn", "start, end", "yes", "yes", "s", "completed", "PASS", "spec: why")
    assert regressions([passing], [passing]) == []
    failing = Row("f.bpmn", "start, end", "yes", "no", "s", "failed at t", "FAIL", "known engine bug: b")
    found = regressions([passing], [failing])
    assert len(found) == 2 and "was executable" in found[0] and "now FAIL" in found[1]
    assert regressions([failing], [passing]) == []  # an improvement is not a regression
    assert "no such scenario" in regressions([passing], [Row(*passing.cells()[:4], "t", *passing.cells()[5:])])[0]
