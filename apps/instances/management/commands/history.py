"""`manage.py history ID [--json]`: an instance's history rows in order
(`{"history": [{"element_id", "element_type", "token", "state", "started_at", "ended_at",
"duration_ms", "attempt", "error"}]}` with `--json`)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.management.commands._common import fail, whole_number
from apps.instances.management.commands.instance import history_lines
from apps.instances.selectors import instance_get, instance_history


class Command(BaseCommand):
    help = "Show a process instance's history: one row per flow node instance and sequence flow taken."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", help="the instance id")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        instance = instance_get(whole_number("history", "an instance id", options["id"]))
        if instance is None:
            fail("history", f"no process instance {options['id']}")
        rows = instance_history(instance)
        if options["json"]:
            self.stdout.write(json.dumps({"history": rows}))
            return
        for line in history_lines(rows):
            self.stdout.write(line)
