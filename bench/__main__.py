"""`python -m bench <command> [options]`: one entry per command, each a module with `main(argv) -> int`.

A command's module is imported only when it runs, so a benchmark that needs Django or a broker
costs nothing to the ones that do not.
"""
from __future__ import annotations

import importlib
import sys

# command -> (module, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "engine": ("bench.engine", "the engine alone against SpiffWorkflow 3.2.0 on the same BPMN models"),
    "celery": ("bench.celery", "Baton on real Celery workers against a plain Celery chain and chord of the same tasks"),
    "api": ("bench.api", "the REST API's p50/p95 (start, get, list, cursor page) with 100,000 instances against an empty database"),
    "mi": ("bench.mi", "a 100- and 1,000-item parallel multi-instance against a plain chord of the same tasks"),
    "timers": ("bench.timers", "timer lateness under load, and draining a burst of timers due at once beside the API"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: scripts/bench <command> [options]   (scripts/bench <command> --help for its options)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_module, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"scripts/bench: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
