"""Benchmarks: `scripts/bench <command>` (see `bench/__main__.py` for the commands).

Measurements, not tests: they print numbers and target checks and exit 0 when a target is
missed. Nothing under `orchestrator/` or `apps/` imports this package.
"""
