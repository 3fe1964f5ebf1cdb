"""`manage.py deploy FILE... [--json]`: deploy the executable processes of BPMN files.

Each process whose checksum equals its latest version's is left alone (`created: false`);
any other becomes version + 1 (version 1 the first time). With several files, all are deployed
or none: a file that is refused rolls back the ones before it.

Exit 0 when deployed, 2 when a file cannot be read, is not valid BPMN or cannot run on Baton.
With `--json`, stdout holds exactly one JSON object, on success

    {"definitions": [{"id", "key", "version", "name", "created"}], "warnings": [{"element", "line", "message"}]}

(the definitions of every file, in order), and on refusal

    {"message": "FILE: ...", "errors": [{"element", "line", "message"}], "code": CODE}

where CODE is "invalid_model" (not valid BPMN), "not_executable" (valid, but Baton cannot run it:
an unknown plugin, an unsupported element) or "invalid_input" (the file cannot be read).

Without `--json`, the errors go to stderr, one line each after a headline naming the file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.definitions.errors import DeploymentRefused, InvalidInput
from apps.definitions.services import DeployResult, definition_deploy
from orchestrator.errors import Problem

EXIT_REFUSED = 2
UNREADABLE = "cannot read the file: {reason}"


class _Refused(Exception):
    """Carries a refusal out of the transaction, so that everything deployed before it is undone."""

    def __init__(self, file: str, error: DeploymentRefused | InvalidInput) -> None:
        super().__init__(file)
        self.file = file
        self.error = error


class Command(BaseCommand):
    help = "Deploy BPMN files: a new version of each changed process. Exits 2 when a file is refused."
    requires_system_checks: list[str] = []  # the checks' warnings would only clutter stderr

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="path of a BPMN file")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = self._deploy_all(options["files"])
        except _Refused as refused:
            self._refuse(refused, as_json=options["json"])
            sys.exit(EXIT_REFUSED)
        definitions = [d for result in results for d in result.definitions]
        warnings = [w for result in results for w in result.warnings]
        if options["json"]:
            self.stdout.write(json.dumps({"definitions": [d.to_dict() for d in definitions],
                                          "warnings": [w.to_dict() for w in warnings]}))
            return
        for definition in definitions:
            name = f' "{definition.name}"' if definition.name else ""
            what = "created" if definition.created else "unchanged"
            self.stdout.write(f"{definition.key} v{definition.version}{name}: {what} (id {definition.id})")
        for warning in warnings:
            self.stdout.write(_problem_line("WARNING", warning))

    def _deploy_all(self, files: list[str]) -> list[DeployResult]:
        results = []
        with transaction.atomic():
            for file in files:
                data = _read(file)
                try:
                    results.append(definition_deploy(data=data, source_name=Path(file).name, user=None))
                except DeploymentRefused as exc:
                    raise _Refused(file, exc) from None
        return results

    def _refuse(self, refused: _Refused, *, as_json: bool) -> None:
        error = refused.error
        # The service names the file by its base name in some messages; name it once, as given.
        message = f"{refused.file}: {error.message.removeprefix(Path(refused.file).name + ': ')}"
        if as_json:
            self.stdout.write(json.dumps({"message": message, "errors": [p.to_dict() for p in error.problems],
                                          "code": error.code}))
            return
        count = len(error.problems)
        self.stderr.write(f"deploy: {message}" + (f" ({count} errors)" if count > 1 else ""))
        for problem in error.problems:
            if problem.message not in message:  # a parse error is its own headline
                self.stderr.write(_problem_line("ERROR", problem))


def _read(file: str) -> bytes:
    """The file's bytes, at most one byte over the size limit (the parser then refuses it
    without the whole of a huge file being read)."""
    try:
        with open(file, "rb") as handle:
            return handle.read(settings.BATON_MAX_BPMN_BYTES + 1)
    except OSError as exc:
        message = UNREADABLE.format(reason=exc.strerror or exc)
        error = InvalidInput(message, problems=[Problem(message)])
        raise _Refused(file, error) from None


def _problem_line(label: str, problem: Problem) -> str:
    """`ERROR line 12 element 'Flow_1': message`, leaving out what is not known (as `validate`)."""
    where = [label]
    if problem.line is not None:
        where.append(f"line {problem.line}")
    if problem.element is not None:
        where.append(f"element {problem.element!r}")
    return f"{' '.join(where)}: {problem.message}"
