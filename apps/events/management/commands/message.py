"""`manage.py message NAME [--key K] [--vars JSON] [--id ID] [--ttl SECONDS] [--all] [--tenant T]`.

Correlates a message the way `POST /api/v1/messages/` does (`apps.events.services.message_correlate`):
to the instance waiting for NAME with correlation key K, else to a message start event of the
latest version of a process, else into the buffer for --ttl seconds (default BATON_MESSAGE_TTL).
Like the API, it only records: a worker applies the event.

Output: one JSON object, `{"delivered_to": [ids], "started": [ids], "buffered": true|false}`.
Exit 0 once correlated; 2 with one line on stderr for bad input (`--vars` not a JSON object, a
negative --ttl) or a refusal (several instances wait and --all is not given).
"""
from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from apps.definitions.errors import ApplicationError
from apps.events.services import message_correlate

EXIT_BAD_INPUT = 2
BAD_VARS_JSON = "--vars is not valid JSON ({error})"
VARS_NOT_OBJECT = "--vars must be a JSON object"


class Command(BaseCommand):
    help = "Correlate a message: deliver it to the instance waiting for it, start a process, or buffer it."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the message name (the name attribute of its bpmn:message)")
        parser.add_argument("--key", default=None, help="the correlation key (a business key, say)")
        parser.add_argument("--vars", default="{}", help="variables as a JSON object, merged into the instance")
        parser.add_argument("--id", dest="message_id", default=None, help="your id for it: applied once")
        parser.add_argument("--ttl", type=float, default=None, metavar="SECONDS",
                            help="how long to keep it when nobody waits yet (0: do not keep it)")
        parser.add_argument("--all", action="store_true", help="deliver to every instance waiting for it")
        parser.add_argument("--tenant", default=None, help="the tenant whose processes it is for")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            variables = json.loads(options["vars"])
        except json.JSONDecodeError as exc:
            self._bad(BAD_VARS_JSON.format(error=f"{exc.msg} at character {exc.pos}"))
        if not isinstance(variables, dict):
            self._bad(VARS_NOT_OBJECT)
        try:
            result = message_correlate(name=options["name"], correlation_key=options["key"], variables=variables,
                                       message_id=options["message_id"], ttl=options["ttl"], all=options["all"],
                                       tenant_id=options["tenant"])
        except ApplicationError as exc:
            self._bad(exc.message)
        self.stdout.write(json.dumps(result))

    def _bad(self, message: str) -> None:
        self.stderr.write(f"message: {message}")
        sys.exit(EXIT_BAD_INPUT)
