"""Prints the corpus conformance table after the tests (rows left by test_corpus_conformance)."""
from __future__ import annotations

from typing import Any

from tests.engine.corpus_scenarios import REPORT_KEY

FILE_WIDTH = 60


def _rows(terminalreporter: Any) -> list[dict[str, Any]]:
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            rows.extend(value for key, value in getattr(report, "user_properties", ()) if key == REPORT_KEY)
    return sorted(rows, key=lambda row: row["index"])


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = _rows(terminalreporter)
    if not rows:
        return
    supported = sum(row["supported"] for row in rows)
    passed = sum(row["matched"] for row in rows)
    bugs = sum(bool(row["bug"]) for row in rows)
    terminalreporter.section("corpus conformance")
    terminalreporter.write_line(
        f"{len(rows)} scenarios, {supported} on supported elements; {passed} PASS, {len(rows) - passed} FAIL "
        f"({bugs} known engine bugs, marked xfail)")
    table = [("file", "scenario", "supported", "outcome", "matched", "follows")]
    for row in rows:
        follows = f"{row['follows']}: {row['why']}"
        if row["bug"]:
            follows += f" | BUG: {row['bug']}"
        table.append((_short(row["file"], FILE_WIDTH), row["scenario"], "yes" if row["supported"] else "no",
                      row["outcome"], "PASS" if row["matched"] else "FAIL", follows))
    widths = [max(len(line[column]) for line in table) for column in range(5)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths)]
        terminalreporter.write_line("  ".join(cells + [line[5]]))
