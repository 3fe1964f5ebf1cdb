"""`manage.py instances [--state S] [--key K] [--limit N] [--json]`: the newest instances.

With `--json`, one JSON object `{"instances": [instance objects]}` (the objects of `instance`);
without it, a table for people.
"""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.management.commands._common import fail
from apps.instances.models import InstanceState, ProcessInstance
from apps.instances.selectors import instances_to_dicts


class Command(BaseCommand):
    help = "List process instances, newest first (filter by state and definition key)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--state", help="running, completed, terminated or cancelled")
        parser.add_argument("--key", help="the process definition key")
        parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        instances = ProcessInstance.objects.select_related("definition").defer("engine_state")
        if options["state"]:
            if options["state"] not in InstanceState.values:
                fail("instances", f"--state is one of {', '.join(InstanceState.values)}, not {options['state']!r}")
            instances = instances.filter(state=options["state"])
        if options["key"]:
            instances = instances.filter(definition__key=options["key"])
        rows = instances_to_dicts(instances.order_by("-started_at", "-id")[: max(1, options["limit"])])
        if options["json"]:
            self.stdout.write(json.dumps({"instances": rows}))
            return
        self.stdout.write(f"{'id':>8}  {'definition':<28} {'state':<11} {'started':<20} active / incidents")
        for row in rows:
            active = ", ".join(a["id"] for a in row["active"]) or "-"
            incidents = f"  [{len(row['incidents'])} incident(s)]" if row["incidents"] else ""
            definition = f"{row['definition']['key']} v{row['definition']['version']}"
            self.stdout.write(f"{row['id']:>8}  {definition:<28} {row['state']:<11} {row['started_at'][:19]:<20} "
                              f"{active}{incidents}")
