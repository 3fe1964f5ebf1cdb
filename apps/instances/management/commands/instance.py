"""`manage.py instance ID [--history] [--json]`: where a process instance is.

With `--json`, stdout holds exactly one JSON object: the instance object of
`apps.instances.selectors.instance_to_dict` (the API prints the same), plus with `--history`
a `"history"` key holding the history rows in order
(`{"element_id", "element_type", "token", "state", "started_at", "ended_at", "duration_ms", "attempt", "error"}`).
Without it, a short summary for people (typed variables shown as their ISO text), and with
`--history` a table. Exit 0, or 2 with one line on stderr for an unknown id.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.selectors import instance_get, instance_history, instance_to_dict, plain_value

EXIT_BAD_INPUT = 2
NO_INSTANCE = "no process instance {id}"
NOT_AN_ID = "an instance id is a whole number, not {text!r}"
_VALUE_WIDTH = 120


class Command(BaseCommand):
    help = "Show a process instance: state, active elements, incidents, variables (and its history)."
    requires_system_checks: list[str] = []  # a read; the checks' warnings would only clutter stderr

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", help="the instance id")
        parser.add_argument("--history", action="store_true", help="also list the history rows, in order")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["id"]
        if not text.isdigit():
            self._bad(NOT_AN_ID.format(text=text))
        instance = instance_get(int(text))
        if instance is None:
            self._bad(NO_INSTANCE.format(id=int(text)))
        data = instance_to_dict(instance)
        history = instance_history(instance) if options["history"] else None
        if options["json"]:
            if history is not None:
                data["history"] = history
            self.stdout.write(json.dumps(data))
            return
        for line in summary_lines(data):
            self.stdout.write(line)
        if history is not None:
            self.stdout.write("")
            for line in history_lines(history):
                self.stdout.write(line)

    def _bad(self, message: str) -> None:
        self.stderr.write(f"instance: {message}")
        sys.exit(EXIT_BAD_INPUT)


def summary_lines(data: dict[str, Any]) -> list[str]:
    """The instance object for people (`manage.py start` prints the same)."""
    definition = data["definition"]
    state = data["state"] + (" (suspended)" if data["suspended"] else "")
    lines = [f"instance {data['id']}: {definition['key']} v{definition['version']}, {state}"]
    if data["business_key"]:
        lines.append(f"  business key  {data['business_key']}")
    lines.append(f"  started       {data['started_at']}" + (f", ended {data['ended_at']}" if data["ended_at"] else ""))
    active = ", ".join(f"{a['id']} ({a['type']})" for a in data["active"]) or "none"
    lines.append(f"  active        {active}")
    incidents = [f"#{i['id']} at {i['element']}: {_one_line(i['message'])}" for i in data["incidents"]] or ["none"]
    lines.append(f"  incidents     {incidents[0]}")
    lines.extend(f"                {incident}" for incident in incidents[1:])
    variables = [f"{name} = {_shown(value)}" for name, value in data["variables"].items()] or ["none"]
    lines.append(f"  variables     {variables[0]}")
    lines.extend(f"                {variable}" for variable in variables[1:])
    return lines


def history_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The history as an aligned table, one row per line, oldest first."""
    header = ("element", "type", "token", "state", "started", "ms", "attempt", "error")
    table = [header] + [
        (row["element_id"], row["element_type"], row["token"], row["state"], row["started_at"] or "",
         "" if row["duration_ms"] is None else str(row["duration_ms"]), str(row["attempt"]),
         _one_line(row["error"]))
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(header) - 1)]
    return [("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + "  " + cells[-1]).rstrip()
            for cells in table] if rows else ["no history yet"]


def _shown(value: Any) -> str:
    text = json.dumps(plain_value(value), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _VALUE_WIDTH else text[:_VALUE_WIDTH - 1] + "…"


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= _VALUE_WIDTH else first[:_VALUE_WIDTH - 1] + "…"
