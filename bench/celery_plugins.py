"""The tasks of `scripts/bench celery`: ten service-task plugins and the plain chord's callback.

Ordinary Celery tasks, loaded by the benchmark's workers through BATON_PLUGIN_MODULES (never by
a production worker: `bench` is not the `tasks` package). The same functions run both ways:

- Baton calls `bench.step_01` ... `bench.step_10` as service tasks (`baton:task`), passing the
  `counter` variable and merging the returned dict into the instance's variables;
- the plain-Celery baseline sends the very same tasks as `chain(step_01.si(counter=0),
  step_02.si(counter=1), ...)` and `chord([...], join.s())`.

Each step does the same tiny amount of work (one addition, a small dict), so that what is
measured is what carries the step: the broker, the workers, and for Baton the database.
"""
from __future__ import annotations

from celery import shared_task

STEPS = 10


def _step(name: str, counter: int) -> dict[str, object]:
    return {"counter": counter + 1, "last": name}


@shared_task(name="bench.step_01")
def step_01(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_01"}."""
    return _step("bench.step_01", counter)


@shared_task(name="bench.step_02")
def step_02(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_02"}."""
    return _step("bench.step_02", counter)


@shared_task(name="bench.step_03")
def step_03(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_03"}."""
    return _step("bench.step_03", counter)


@shared_task(name="bench.step_04")
def step_04(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_04"}."""
    return _step("bench.step_04", counter)


@shared_task(name="bench.step_05")
def step_05(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_05"}."""
    return _step("bench.step_05", counter)


@shared_task(name="bench.step_06")
def step_06(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_06"}."""
    return _step("bench.step_06", counter)


@shared_task(name="bench.step_07")
def step_07(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_07"}."""
    return _step("bench.step_07", counter)


@shared_task(name="bench.step_08")
def step_08(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_08"}."""
    return _step("bench.step_08", counter)


@shared_task(name="bench.step_09")
def step_09(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_09"}."""
    return _step("bench.step_09", counter)


@shared_task(name="bench.step_10")
def step_10(counter: int = 0) -> dict[str, object]:
    """Return {"counter": counter + 1, "last": "bench.step_10"}."""
    return _step("bench.step_10", counter)


TASKS = (step_01, step_02, step_03, step_04, step_05, step_06, step_07, step_08, step_09, step_10)


@shared_task(name="bench.join")
def join(results: list[dict[str, object]]) -> dict[str, int]:
    """The plain chord's callback (Baton's is `baton.instance.step`): how many branch results
    arrived and the sum of their counters. A BPMN model has no use for it."""
    return {"branches": len(results), "counter": sum(int(r["counter"]) for r in results)}  # type: ignore[call-overload]
