"""The tasks of `scripts/bench mi`: the plugin each multi-instance item runs, and the plain chord's callback.

Ordinary Celery tasks, loaded by the benchmark's workers through BATON_PLUGIN_MODULES (never by
a production worker: `bench` is not the `tasks` package). The same function runs both ways:

- Baton calls `bench.mi.double` once per item of a parallel multi-instance service task, with the
  item in `item`; the returned `value` is the inner instance's output item, collected into the
  output collection in item order;
- the plain-Celery baseline sends `chord([double.si(item=0), double.si(item=1), ...])(collect.s())`.
"""
from __future__ import annotations

from celery import shared_task


@shared_task(name="bench.mi.double")
def double(item: int) -> dict[str, int]:
    """Return {"value": 2 * item}."""
    return {"value": 2 * item}


@shared_task(name="bench.mi.collect")
def collect(results: list[dict[str, int]]) -> list[int]:
    """The plain chord's callback (Baton's is `baton.instance.step`): the values, in the order
    Celery hands the header's results over (the header's order)."""
    return [result["value"] for result in results]
