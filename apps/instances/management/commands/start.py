"""`manage.py start KEY [--vars JSON] [--business-key K] [--wait SECONDS] [--json]`.

Starts the latest version of process KEY that is not retired. Like the API, it only records the
start: a worker runs the steps. Without `--wait` the instance is printed as recorded (running,
nothing active yet). With `--wait SECONDS`, the database is polled every 0.1 s until the
instance has no automated work left (`instance_is_settled`: it ended, is suspended, or waits for
a person, a message, a timer or an operator) or the time is up; this command never runs an
engine step itself.

Output: the instance object of `manage.py instance` (one JSON object with `--json`).
Exit 0 once the instance is started, whatever its state; 2 with one line on stderr for an
unknown key, bad `--vars` or a negative `--wait`. When the time is up first, the object is
printed as it is (state "running") and exit is still 0: stdout stays the one object, and a
one-line notice on stderr says the wait ran out (no worker, or a slow one).
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

from apps.definitions.errors import ApplicationError
from apps.definitions.selectors import definition_latest, definition_versions
from apps.instances.management.commands.instance import NO_INSTANCE, summary_lines
from apps.instances.selectors import instance_get, instance_is_settled, instance_to_dict
from apps.instances.services import instance_start

EXIT_BAD_INPUT = 2
POLL_SECONDS = 0.1
UNKNOWN_KEY = "no process {key!r} is deployed"
ALL_RETIRED = "every version of process {key!r} is retired"
BAD_VARS_JSON = "--vars is not valid JSON ({error})"
VARS_NOT_OBJECT = "--vars must be a JSON object, not {kind}"
NEGATIVE_WAIT = "--wait takes a number of seconds >= 0, not {value}"
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}
STILL_BUSY = "instance {id} still has automated work after {seconds:g} s (is a worker running?)"


class Command(BaseCommand):
    help = "Start an instance of the latest version of a process; with --wait, wait until it settles."
    requires_system_checks: list[str] = []  # the checks' warnings would only clutter stderr

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="the process id (BPMN process id attribute)")
        parser.add_argument("--vars", default="{}", help="start variables as a JSON object")
        parser.add_argument("--business-key", default=None, help="your own key for the instance")
        parser.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                            help="wait up to SECONDS for the instance to settle, then print it")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["key"]
        variables = self._variables(options["vars"])
        wait = options["wait"]
        if wait is not None and not wait >= 0:  # also refuses nan
            self._bad(NEGATIVE_WAIT.format(value=wait))
        definition = definition_latest(key)
        if definition is None:
            self._bad((ALL_RETIRED if definition_versions(key).exists() else UNKNOWN_KEY).format(key=key))
        try:
            instance = instance_start(definition=definition, variables=variables,
                                      business_key=options["business_key"], user=None)
        except ApplicationError as exc:  # a variable too large or of a reserved shape; a race with retire
            self._bad(exc.message)
        if wait is not None:
            instance = self._wait(instance.pk, wait)
        data = instance_to_dict(instance)
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            for line in summary_lines(data):
                self.stdout.write(line)

    def _wait(self, instance_id: int, seconds: float):
        """Poll until settled or the time is up; the instance as last read."""
        deadline = time.monotonic() + seconds
        while True:
            instance = instance_get(instance_id)
            if instance is None:  # deleted meanwhile
                self._bad(NO_INSTANCE.format(id=instance_id))
            if instance_is_settled(instance):
                return instance
            left = deadline - time.monotonic()
            if left <= 0:
                self.stderr.write(f"start: {STILL_BUSY.format(id=instance_id, seconds=seconds)}")
                return instance
            time.sleep(min(POLL_SECONDS, left))

    def _variables(self, text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self._bad(BAD_VARS_JSON.format(error=f"{exc.msg} at character {exc.pos}"))
        if not isinstance(value, dict):
            self._bad(VARS_NOT_OBJECT.format(kind=_JSON_KINDS.get(type(value), type(value).__name__)))
        return value

    def _bad(self, message: str) -> None:
        self.stderr.write(f"start: {message}")
        sys.exit(EXIT_BAD_INPUT)
