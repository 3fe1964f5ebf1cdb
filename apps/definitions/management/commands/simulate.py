"""`manage.py simulate FILE`: run a model in-process with the real engine and sandbox.

No database, broker or worker: service tasks answer with `--mock TASK=JSON` (a mocked task name
counts as known even where no such plugin is installed) or, with `--run-tasks`, by calling the
real plugin in this process. Exit 0 for completed, waiting or terminated; 1 for failed (what
would open an incident in the running system); 2 for an invalid model or bad arguments.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from orchestrator.bpmn.parser import parse_file
from orchestrator.bpmn.validation import validate
from orchestrator.errors import BatonError, BpmnParseError
import argparse

import isodate

from orchestrator.runtime.simulator import AdvanceTime, SendMessageAction, SendSignalAction, SimulationResult, simulate
from orchestrator.scripting import Sandbox, SandboxLimits

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Run a BPMN model in-process, with mocked service tasks, and print where it ends."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path of the BPMN file")
        parser.add_argument("--process", help="id of the process to run (default: the executable one)")
        parser.add_argument("--vars", default="{}", help="start variables as a JSON object")
        parser.add_argument("--mock", action="append", default=[], metavar="TASK=JSON",
                            help="make service tasks bound to TASK return this JSON object (repeatable)")
        parser.add_argument("--message", action=_Ordered, metavar="NAME=JSON", dest="events",
                            help="deliver a message (NAME, or NAME=JSON with its variables), in order with the others")
        parser.add_argument("--signal", action=_Ordered, metavar="NAME", dest="events", help="broadcast a signal")
        parser.add_argument("--advance-time", action=_Ordered, metavar="DURATION", dest="events",
                            help="move the virtual clock on (ISO 8601 like PT5M, or seconds); due timers fire")
        parser.add_argument("--error-from", action="append", default=[], metavar="TASK=CODE",
                            help="make service tasks bound to TASK throw the BPMN error CODE")
        parser.add_argument("--run-tasks", action="store_true",
                            help="call the real plugin in-process for service tasks without a mock")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        variables = _json_object(options["vars"], "--vars")
        mocks = {}
        for item in options["mock"]:
            name, sep, payload = item.partition("=")
            if not sep or not name:
                self._bad(f"--mock takes TASK=JSON, got {item!r}")
            value = _json_object(payload, f"--mock {name}", allow_null=True)
            mocks[name] = value
        errors = {}
        for item in options["error_from"]:
            name, sep, code = item.partition("=")
            if not sep or not name or not code:
                self._bad(f"--error-from takes TASK=CODE, got {item!r}")
            errors[name] = code
        actions = [self._action(kind, value) for kind, value in (options.get("events") or [])]
        try:
            result = parse_file(options["file"], max_bytes=settings.BATON_MAX_BPMN_BYTES)
        except BpmnParseError as exc:
            self._bad(f"{options['file']}: {exc}")
        sandbox = Sandbox(SandboxLimits(time_limit=settings.BATON_SCRIPT_TIME_LIMIT))
        report = validate(result, plugins=None, sandbox=sandbox)
        if not report.valid:
            first = report.errors[0]
            more = f" (and {len(report.errors) - 1} more; run validate)" if len(report.errors) > 1 else ""
            self._bad(f"{options['file']}: invalid model: {first}{more}")
        run_task = _plugin_runner() if options["run_tasks"] else None
        try:
            outcome = simulate(result.definitions, process_id=options["process"], variables=variables, mocks=mocks,
                               errors=errors, actions=actions, run_task=run_task, sandbox=sandbox,
                               step_cap=settings.BATON_ENGINE_STEP_CAP, timezone_name=settings.BATON_TIMEZONE)
        except BatonError as exc:
            self._bad(f"{options['file']}: {exc}")
        if options["json"]:
            self.stdout.write(json.dumps(outcome.to_dict(), default=str))
        else:
            self._print_trace(outcome)
        if outcome.state == "failed":
            sys.exit(EXIT_FAILED)

    def _print_trace(self, outcome: SimulationResult) -> None:
        for line in outcome.trace:
            self.stdout.write(line)
        waiting = ", ".join(f"{w['id']} ({w['type']})" for w in outcome.waiting)
        self.stdout.write(f"{outcome.state}" + (f": waiting at {waiting}" if waiting else "")
                          + f" after {outcome.steps} steps")
        if outcome.error:
            self.stdout.write(f"error at {outcome.error['element']}: {outcome.error['message']}")
        self.stdout.write(f"variables: {json.dumps(outcome.variables, sort_keys=True, default=str)}")

    def _action(self, kind: str, value: str):
        if kind == "signal":
            if not value:
                self._bad("--signal takes a NAME")
            return SendSignalAction(value)
        if kind == "message":
            name, sep, payload = value.partition("=")
            if not name:
                self._bad(f"--message takes NAME or NAME=JSON, got {value!r}")
            return SendMessageAction(name, _json_object(payload, f"--message {name}") if sep else {})
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = isodate.parse_duration(value).total_seconds()
            except (isodate.ISO8601Error, ValueError, TypeError):
                self._bad(f"--advance-time takes an ISO 8601 duration (PT5M) or seconds, got {value!r}")
        if seconds < 0:
            self._bad("--advance-time cannot go back in time")
        return AdvanceTime(seconds)

    def _bad(self, message: str) -> None:
        self.stderr.write(f"simulate: {message}")
        sys.exit(EXIT_BAD_INPUT)


class _Ordered(argparse.Action):
    """Collect --message, --signal and --advance-time in the order given on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        kind = {"--message": "message", "--signal": "signal", "--advance-time": "advance"}[option_string]
        events = list(getattr(namespace, self.dest, None) or [])
        events.append((kind, values))
        setattr(namespace, self.dest, events)


def _json_object(text: str, what: str, *, allow_null: bool = False) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"simulate: {what} is not valid JSON ({exc.msg} at character {exc.pos})\n")
        sys.exit(EXIT_BAD_INPUT)
    if value is None and allow_null:
        return None
    if not isinstance(value, dict):
        sys.stderr.write(f"simulate: {what} must be a JSON object, got {type(value).__name__}\n")
        sys.exit(EXIT_BAD_INPUT)
    return value


def _plugin_runner():
    """Call real plugins in-process: the arguments a plugin declares are taken from the
    variables (or from the element's input mapping), as the Celery layer does."""
    from apps.plugins.registry import discover_plugins
    from config.celery import app

    plugins = discover_plugins()

    def run(plugin: str, inputs: dict[str, Any] | None, variables: dict[str, Any], job: str) -> dict[str, Any] | None:
        info = plugins.get(plugin)
        if info is None:
            raise LookupError(f"no plugin named {plugin!r} is installed")
        if inputs is not None:
            kwargs = dict(inputs)
        elif info.takes_kwargs:
            kwargs = dict(variables)
        else:
            kwargs = {name: variables[name] for name in info.arguments if name in variables}
        if info.accepts_job_id:
            kwargs["baton_job_id"] = job
        return app.tasks[plugin](**kwargs)

    return run
