"""`manage.py validate FILE [--json]`: is a BPMN file valid, and can Baton run it?

Exit status 0 when the file is valid (whether or not it is executable), 2 when it is not or
cannot be read. With `--json`, stdout holds exactly one JSON object:
`{"valid", "executable", "errors": [{"element", "line", "message"}], "warnings": [...]}`.
"""
from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.plugins.registry import discover_plugins
from orchestrator.bpmn.parser import parse_file
from orchestrator.bpmn.validation import ValidationReport, validate
from orchestrator.errors import BpmnParseError, Problem

EXIT_INVALID = 2


class Command(BaseCommand):
    help = "Validate a BPMN 2.0 file: is it valid, and can Baton run it? Exits 2 when it is not valid."
    requires_system_checks: list[str] = []  # reading one file needs no database

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path of the BPMN file")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")

    def handle(self, *args, **options) -> None:
        as_json = options["json"]
        try:
            result = parse_file(options["file"], max_bytes=settings.BATON_MAX_BPMN_BYTES)
        except BpmnParseError as exc:
            problem = exc.to_problem()
            if as_json:
                self.stdout.write(json.dumps(ValidationReport.unreadable(problem).to_dict()))
            else:
                self.stderr.write(_problem_line("ERROR", problem))
            sys.exit(EXIT_INVALID)

        report = validate(result, plugins=set(discover_plugins()))
        if as_json:
            self.stdout.write(json.dumps(report.to_dict()))
        else:
            for problem in report.errors:
                self.stdout.write(_problem_line("ERROR", problem))
            for problem in report.warnings:
                self.stdout.write(_problem_line("WARNING", problem))
            self.stdout.write(_summary(report))
        if not report.valid:
            sys.exit(EXIT_INVALID)


def _problem_line(label: str, problem: Problem) -> str:
    """`ERROR line 12 element 'Flow_1': message`, leaving out what is not known."""
    where = [label]
    if problem.line is not None:
        where.append(f"line {problem.line}")
    if problem.element is not None:
        where.append(f"element {problem.element!r}")
    return f"{' '.join(where)}: {problem.message}"


def _summary(report: ValidationReport) -> str:
    counts = f"{_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
    if not report.valid:
        return f"invalid, not executable: {counts}"
    if report.executable:
        return f"valid, executable ({', '.join(report.executable_processes)}): {counts}"
    return f"valid, not executable: {counts}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
