"""`scripts/bench timers`: how late timers fire under load, and how fast a burst of due timers drains.

The stack is bench/celery.py's (a database and a RabbitMQ virtual host of its own, Redis, one
`celery -A config worker` on every Baton queue, `baton.timers` included), plus the processes a
timer needs: `celery -A config beat` (the django-celery-beat entry `baton-timers-sweep` sends
`baton.timers.sweep` every second, its message expiring after 2 s) and gunicorn serving the API.
The model: start -> intermediate timer catch event `wait` (timeDuration `${wait}`) -> end.

1. Lateness. 1,000 instances are started through `instance_start`, each waiting
   `--timer-seconds` at its timer; once every one waits (its timer row written, none due yet), a
   load starts (chain-10 instances of bench/celery.py, `--load` of them kept in flight) and runs
   until every timer instance has gone on. Lateness is `fired_at - due_at` of their Timer rows
   (the sweeper recorded the event), and, beside it, when the instance went on (`ended_at` of the
   timer's history row) - `due_at`. The peak of pending rows is reported.
2. Drain. One instance is started waiting an hour at the timer, and cloned in bulk in SQL
   (instance row, variables, history rows) with a timer row each, all due at the same instant,
   in one transaction: `--drain` instances waiting at a timer that fell due. Measured: the time
   until the last timer fired (and until every clone ended), while a thread times an API list
   call (`GET /api/v1/instances/?state=running`, as a superuser with a token) through gunicorn,
   against the same call on the idle stack just before.

Every 0.2 s a thread reads the ready messages of `baton.timers` (a passive declare) and the
pending timer rows; the maximum of the queue is the "never more than two of its runs" target.

Invariants (a broken one exits 1): every instance completed with its start, timer and end in
the history, one timer row each fired exactly once and its TimerFired applied once, no incident,
no unsent outbox row; the load's chain instances are checked as in `scripts/bench celery`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

from bench.celery import (
    BATON_NS, Baton, BenchProcess, Harness, InvariantBroken, SetupError, TaskEvents, Target, WalMeter, Workers, _round,
    _timestamp, _version, chain_process, check_services, delete_vhost, recreate_database, recreate_vhost, settle,
    undisturbed,
)
from bench.stack import Beat, PluginStack, WebServer

LATENESS_TARGET = 2.0  # seconds, p99 of fired_at - due_at
QUEUE_TARGET = 2  # ready messages of baton.timers at any sample
SAMPLE_EVERY = 0.2  # seconds
SWEEP_QUEUE = "baton.timers"
DRAIN_GOAL = 100_000  # the burst; a smaller --drain is extrapolated to it


@dataclass(frozen=True)
class Sizes:
    timers: int
    timer_seconds: float
    drain: int
    load: int
    """Chain-10 instances kept in flight during the lateness phase."""
    baseline_seconds: float
    """Idle API sampling before the drain."""


FULL = Sizes(timers=1_000, timer_seconds=120.0, drain=10_000, load=6, baseline_seconds=15.0)
QUICK = Sizes(timers=200, timer_seconds=30.0, drain=2_000, load=3, baseline_seconds=5.0)


def timer_process() -> BenchProcess:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:baton="{BATON_NS}" '
        'id="bench_timer_definitions" targetNamespace="http://baton.dev/bench">\n'
        '<bpmn:process id="bench_timer" isExecutable="true">\n'
        '<bpmn:startEvent id="start"/>\n'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${wait}</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
        '<bpmn:endEvent id="end"/>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>\n'
        '</bpmn:process>\n</bpmn:definitions>\n'
    )
    return BenchProcess("bench_timer", xml, 0, {"start": 1, "wait": 1, "end": 1}, {})


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values),
            "mean": statistics.fmean(values)}


# -- threads beside the run -----------------------------------------------------------------------------

class Sampler:
    """Every SAMPLE_EVERY seconds: ready messages of baton.timers and pending timer rows."""

    def __init__(self, app: Any, database_url: str) -> None:
        self.app, self.database_url = app, database_url
        self.samples: list[tuple[float, str, int | None, int]] = []
        """(time, phase, queue depth, pending timers)"""
        self.phase = "setup"
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg

        from apps.events.models import Timer

        table = Timer._meta.db_table
        with psycopg.connect(self.database_url, autocommit=True) as db, self.app.connection_for_write() as conn:
            channel = conn.channel()
            while not self.stopping.is_set():
                began = time.monotonic()
                try:
                    depth = int(channel.queue_declare(SWEEP_QUEUE, passive=True)[1])
                except Exception as exc:  # not declared yet (NOT_FOUND closes the channel)
                    depth = None
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    try:
                        channel = conn.channel()
                    except Exception:
                        pass
                pending = db.execute(f"SELECT count(*) FROM {table} WHERE state = 'pending'").fetchone()[0]
                self.samples.append((time.time(), self.phase, depth, int(pending)))
                self.stopping.wait(max(0.0, SAMPLE_EVERY - (time.monotonic() - began)))

    def forget(self, *phases: str) -> None:
        """Drop the samples of an attempt that is taken again."""
        self.samples = [sample for sample in self.samples if sample[1] not in phases]

    def max_depth(self, phase: str | None = None) -> int | None:
        depths = [d for _, p, d, _ in self.samples if d is not None and (phase is None or p == phase)]
        return max(depths) if depths else None

    def max_pending(self, phase: str) -> int:
        return max((n for _, p, _, n in self.samples if p == phase), default=0)


class ApiProbe:
    """Times one API call again and again (one keep-alive connection), each sample tagged with the phase."""

    def __init__(self, url: str, path: str, token: str) -> None:
        self.host, self.port = url.removeprefix("http://").split(":")
        self.path, self.token = path, token
        self.samples: list[tuple[float, str, float, int]] = []
        """(time, phase, seconds, HTTP status or 0 for a failed connection)"""
        self.phase = "setup"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-api-probe", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        conn = None
        while not self.stopping.is_set():
            began = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
                conn.request("GET", self.path, headers={"Authorization": f"Token {self.token}",
                                                        "Accept": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                status = 0
                if conn is not None:
                    conn.close()
                conn = None
            self.samples.append((time.time(), self.phase, time.perf_counter() - began, status))
            self.stopping.wait(SAMPLE_EVERY)

    def forget(self, *phases: str) -> None:
        self.samples = [sample for sample in self.samples if sample[1] not in phases]

    def latencies(self, phase: str) -> list[float]:
        return [seconds for _, p, seconds, status in self.samples if p == phase and status == 200]

    def failures(self, phase: str) -> dict[int, int]:
        failed: dict[int, int] = {}
        for _, p, _, status in self.samples:
            if p == phase and status != 200:
                failed[status] = failed.get(status, 0) + 1
        return failed


class Load:
    """Chain-10 instances (bench/celery.py's), `inflight` of them running at any time."""

    def __init__(self, inflight: int, timeout: float) -> None:
        self.baton = Baton(chain_process())
        self.inflight, self.timeout = inflight, timeout
        self.started: list[int] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bench-load", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        from django.db import connection

        from apps.instances.models import InstanceState, ProcessInstance

        try:
            while not self.stopping.is_set():
                running = ProcessInstance.objects.filter(pk__in=self.started[-4 * self.inflight:],
                                                         state=InstanceState.RUNNING).count()
                for _ in range(self.inflight - running):
                    self.started.append(self.baton.start())
                self.stopping.wait(0.1)
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()

    def stop(self) -> int:
        """Stop starting, wait for the started ones and check them; returns how many ran."""
        self.stopping.set()
        self.thread.join(timeout=60)
        if self.error is not None:
            raise InvariantBroken(f"the load thread failed: {type(self.error).__name__}: {self.error}")
        if self.started:
            self.baton.wait(self.started, self.timeout)
            self.baton.check(self.started)
        return len(self.started)


# -- the phases ------------------------------------------------------------------------------------------

@dataclass
class Lateness:
    timers: int = 0
    inflight_load: int = 0
    load_instances: int = 0
    created_seconds: float = 0.0
    """Time to start the timer instances through instance_start."""
    load_lead: float = 0.0
    """Seconds between the load's start (every timer pending) and the first due time."""
    seconds: float = 0.0
    """From the first start to the last timer instance's end."""
    peak_pending: int = 0
    fired: list[float] = field(default_factory=list)
    """fired_at - due_at of every timer, seconds."""
    went_on: list[float] = field(default_factory=list)
    """The timer's history row ended (the instance went on) - due_at, seconds."""
    max_queue: int | None = None
    sweeps: list[float] = field(default_factory=list)
    """Runtimes of the sweeps of the phase, seconds."""

    def to_dict(self) -> dict[str, Any]:
        return {"timers": self.timers, "load_inflight": self.inflight_load, "load_instances": self.load_instances,
                "created_seconds": round(self.created_seconds, 2), "seconds": round(self.seconds, 2),
                "load_started_before_first_due_s": round(self.load_lead, 2),
                "peak_pending_timers": self.peak_pending,
                "lateness_fired_s": _rounded(summary(self.fired)), "lateness_went_on_s": _rounded(summary(self.went_on)),
                "max_sweeper_queue": self.max_queue, "sweeps": len(self.sweeps),
                "sweep_busy_ms_per_timer": round(sum(self.sweeps) / self.timers * 1000, 1)}


@dataclass
class Drain:
    timers: int = 0
    insert_seconds: float = 0.0
    fired_seconds: float = 0.0
    """From the instant the timers fell due (or their insert committed, if later) to the last fired_at."""
    ended_seconds: float = 0.0
    """From the same instant to the last clone's end."""
    fifths: list[float] = field(default_factory=list)
    """Timers fired per second in each fifth of the drain (by fired_at): is the rate steady?"""
    api_idle: list[float] = field(default_factory=list)
    api_drain: list[float] = field(default_factory=list)
    api_failures: dict[int, int] = field(default_factory=dict)
    max_queue: int | None = None
    sweeps: int = 0
    sweep_mean_ms: float | None = None
    sweep_busy_seconds: float = 0.0
    """The sweeps' runtimes added up (worker task events)."""

    @property
    def rate(self) -> float:
        return self.timers / self.fired_seconds if self.fired_seconds else 0.0

    def extrapolated(self, goal: int) -> tuple[float, float]:
        """(seconds to fire, seconds to end) `goal` timers at the measured rates (linear)."""
        scale = goal / self.timers
        return self.fired_seconds * scale, self.ended_seconds * scale

    def to_dict(self) -> dict[str, Any]:
        fire, end = self.extrapolated(DRAIN_GOAL)
        return {"timers": self.timers, "insert_seconds": round(self.insert_seconds, 2),
                "fired_seconds": round(self.fired_seconds, 2), "ended_seconds": round(self.ended_seconds, 2),
                "timers_fired_per_second": round(self.rate, 1),
                "fired_per_second_by_fifth": [round(r, 1) for r in self.fifths],
                "extrapolated_to": None if self.timers >= DRAIN_GOAL else DRAIN_GOAL,
                "extrapolated_fired_seconds": None if self.timers >= DRAIN_GOAL else round(fire, 1),
                "extrapolated_ended_seconds": None if self.timers >= DRAIN_GOAL else round(end, 1),
                "api_latency_idle_s": _rounded(summary(self.api_idle)),
                "api_latency_drain_s": _rounded(summary(self.api_drain)),
                "api_failures_during_drain": self.api_failures, "max_sweeper_queue": self.max_queue,
                "sweeps": self.sweeps, "sweep_mean_ms": _round(self.sweep_mean_ms),
                "sweep_busy_ms_per_timer": round(self.sweep_busy_seconds / self.timers * 1000, 1)}


def _rounded(values: dict[str, float] | None) -> dict[str, float] | None:
    return None if values is None else {k: (v if k == "n" else round(v, 3)) for k, v in values.items()}


class TimerBaton(Baton):
    """bench/celery.py's Baton side for the timer model, started with `wait`."""

    def start_waiting(self, wait: str) -> int:
        from apps.instances.services import instance_start

        return instance_start(definition=self.definition, variables={"wait": wait}).pk

    def check_timers(self, ids: list[int], *, wait: str) -> None:
        """Baton.check (their variable: `wait`), plus: one timer row per instance, fired, and its
        TimerFired recorded once."""
        from django.db.models import Count

        from apps.events.models import Timer, TimerState
        from apps.instances.models import PendingEvent

        self.process = replace(self.process, variables={"wait": wait})
        self.check(ids)
        rows = Counter(Timer.objects.filter(**among(ids, "instance_id")).values_list("state", flat=True))
        if rows != Counter({TimerState.FIRED.value: len(ids)}):
            raise InvariantBroken(f"timer rows by state {dict(rows)}, expected {len(ids)} fired")
        recorded = list(PendingEvent.objects.filter(**among(ids, "instance_id"), event__type="timer_fired")
                        .values("instance_id").annotate(n=Count("id")))
        twice = sum(1 for row in recorded if row["n"] != 1)
        if twice or len(recorded) != len(ids):
            raise InvariantBroken(f"TimerFired recorded for {len(recorded)} of {len(ids)} instances, "
                                  f"{twice} of them more than once")


def among(ids: list[int], field: str = "pk") -> dict[str, Any]:
    """A filter for these instance ids: a range when they are contiguous (the clones are: one
    INSERT and nothing else creating instances meanwhile), which keeps polling cheap at 100,000."""
    low, high = min(ids), max(ids)
    if high - low + 1 == len(ids) == len(set(ids)):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


def wait_ended(ids: list[int], timeout: float, what: str) -> None:
    from apps.instances.models import InstanceState, ProcessInstance

    deadline = time.monotonic() + timeout
    while True:
        running = ProcessInstance.objects.filter(**among(ids), state=InstanceState.RUNNING, open_incidents=0).count()
        if running == 0:
            return
        if time.monotonic() > deadline:
            raise InvariantBroken(f"{what}: {running} of {len(ids)} instances still running after {timeout:g} s")
        time.sleep(0.25)


def lateness_phase(sizes: Sizes, timer: TimerBaton, sampler: Sampler, api: ApiProbe, events: TaskEvents, app: Any,
                   timeout: float, progress: Callable[[str], None]) -> Lateness:
    from apps.events.models import Timer
    from apps.instances.models import FlowNodeInstance, ProcessInstance

    result = Lateness(timers=sizes.timers, inflight_load=sizes.load)
    sampler.forget("lateness")
    api.forget("lateness")
    sampler.phase = api.phase = "lateness"
    progress(f"lateness: starting {sizes.timers:,} instances that wait {sizes.timer_seconds:g} s at a timer")
    settle(app, events)
    events.take()
    began = time.time()
    wait = f"PT{sizes.timer_seconds:g}S"
    ids = [timer.start_waiting(wait) for _ in range(sizes.timers)]
    result.created_seconds = time.time() - began
    # The load starts once every instance waits at its timer (its first step ran), so that the
    # timers are all pending at once and fall due under the load, not under the first steps.
    deadline = time.monotonic() + timeout
    while Timer.objects.filter(instance_id__in=ids).count() < len(ids):
        if time.monotonic() > deadline:
            raise InvariantBroken(f"the timer instances did not all reach their timer within {timeout:g} s")
        time.sleep(0.2)
    first_due = Timer.objects.filter(instance_id__in=ids).order_by("due_at").values_list("due_at", flat=True)[0]
    result.load_lead = _timestamp(first_due) - time.time()
    progress(f"lateness: every timer pending, the first due in {result.load_lead:.0f} s; a load of {sizes.load} "
             "chain-10 instances in flight until they have all fired and gone on")
    load = Load(sizes.load, timeout)
    load.start()
    try:
        wait_ended(ids, timeout, "timer instances")
    except BaseException:
        load.stopping.set()
        raise
    result.seconds = max(_timestamp(t) for t in ProcessInstance.objects.filter(pk__in=ids)
                         .values_list("ended_at", flat=True)) - began
    progress("lateness: waiting for the load to finish")
    result.load_instances = load.stop()
    sampler.phase = api.phase = "between"
    settle(app, events)
    result.sweeps = events.take().get("baton.timers.sweep", [])
    timer.check_timers(ids, wait=wait)
    due = dict(Timer.objects.filter(instance_id__in=ids).values_list("instance_id", "due_at"))
    result.fired = [(fired - due_at).total_seconds() for due_at, fired in
                    Timer.objects.filter(instance_id__in=ids).values_list("due_at", "fired_at")]
    result.went_on = [(ended - due[instance]).total_seconds() for instance, ended in
                      FlowNodeInstance.objects.filter(instance_id__in=ids, element_id="wait")
                      .values_list("instance_id", "ended_at")]
    result.peak_pending = sampler.max_pending("lateness")
    result.max_queue = sampler.max_depth("lateness")
    return result


def clone_waiting(template: int, count: int) -> tuple[list[int], datetime]:
    """`count` copies of instance `template` (waiting at its timer): the instance row, its
    variables and history rows, and a timer row each that is due at the insert's instant; one
    transaction, in SQL. Returns the new ids and that instant (the database's clock)."""
    from django.db import connection, transaction

    from apps.events.models import Timer, TimerState
    from apps.instances.models import FlowNodeInstance, ProcessInstance, Variable

    quote = connection.ops.quote_name

    def columns(model: Any, skip: set[str]) -> list[str]:
        return [quote(f.column) for f in model._meta.concrete_fields if f.column not in skip]

    with transaction.atomic(), connection.cursor() as cursor:
        table = quote(ProcessInstance._meta.db_table)
        cols = ", ".join(columns(ProcessInstance, {"id"}))
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {table} t, generate_series(1, %s) "
                       "WHERE t.id = %s RETURNING id", [count, template])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("CREATE TEMPORARY TABLE bench_clone (id bigint PRIMARY KEY) ON COMMIT DROP")
        cursor.execute("INSERT INTO bench_clone SELECT unnest(%s::bigint[])", [ids])
        for model in (Variable, FlowNodeInstance):
            cols = columns(model, {"id", "instance_id"})
            listed = ", ".join(cols)
            picked = ", ".join(f"t.{c}" for c in cols)
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} (instance_id, {listed}) "
                           f"SELECT c.id, {picked} FROM {quote(model._meta.db_table)} t, bench_clone c "
                           "WHERE t.instance_id = %s", [template])
        cols = columns(Timer, {"id", "instance_id", "due_at", "created_at"})
        listed, picked = ", ".join(cols), ", ".join(f"t.{c}" for c in cols)
        cursor.execute(f"INSERT INTO {quote(Timer._meta.db_table)} (instance_id, due_at, created_at, {listed}) "
                       f"SELECT c.id, now(), now(), {picked} FROM {quote(Timer._meta.db_table)} t, bench_clone c "
                       "WHERE t.instance_id = %s AND t.state = %s", [template, TimerState.PENDING.value])
        if cursor.rowcount != count:
            raise InvariantBroken(f"cloned {cursor.rowcount} timer rows, expected {count}")
        cursor.execute("SELECT now()")
        due = cursor.fetchone()[0]
    return ids, due


def drain_phase(sizes: Sizes, timer: TimerBaton, sampler: Sampler, api: ApiProbe, events: TaskEvents, app: Any,
                timeout: float, progress: Callable[[str], None]) -> Drain:
    from django.db.models import Max

    from apps.events.models import Timer
    from apps.instances.models import ProcessInstance

    result = Drain(timers=sizes.drain)
    sampler.forget("idle", "insert", "drain")
    api.forget("idle", "insert", "drain")
    template = timer.start_waiting("PT1H")
    deadline = time.monotonic() + 60
    while not Timer.objects.filter(instance_id=template).exists():
        if time.monotonic() > deadline:
            raise InvariantBroken("the template instance never reached its timer")
        time.sleep(0.1)
    settle(app, events)
    while len(api.samples) < 5:  # gunicorn's first calls load the URL configuration and the like
        time.sleep(0.2)
    progress(f"drain: the API on the idle stack for {sizes.baseline_seconds:g} s")
    sampler.phase = api.phase = "idle"
    time.sleep(sizes.baseline_seconds)
    sampler.phase = api.phase = "insert"
    progress(f"drain: {sizes.drain:,} instances waiting at a timer, due at once (bulk insert)")
    events.take()
    began = time.time()
    ids, due = clone_waiting(template, sizes.drain)
    committed = time.time()
    result.insert_seconds = committed - began
    sampler.phase = api.phase = "drain"
    start = max(committed, _timestamp(due))
    deadline = time.monotonic() + timeout
    while Timer.objects.filter(**among(ids, "instance_id"), fired_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise InvariantBroken(f"drain: timers still not fired after {timeout:g} s")
        time.sleep(0.5)
    wait_ended(ids, timeout, "drained instances")
    sampler.phase = api.phase = "after"
    fired = sorted(_timestamp(t) for t in Timer.objects.filter(**among(ids, "instance_id"))
                   .values_list("fired_at", flat=True))
    result.fired_seconds = fired[-1] - start
    last_end = ProcessInstance.objects.filter(**among(ids)).aggregate(m=Max("ended_at"))["m"]
    result.ended_seconds = _timestamp(last_end) - start
    edges = [start + result.fired_seconds * k / 5 for k in range(6)]
    for k in range(5):
        n = sum(1 for t in fired if edges[k] < t <= edges[k + 1] or (k == 0 and t <= edges[0]))
        result.fifths.append(n / (edges[k + 1] - edges[k]) if edges[k + 1] > edges[k] else 0.0)
    settle(app, events)
    sweeps = events.take().get("baton.timers.sweep", [])
    result.sweeps, result.sweep_busy_seconds = len(sweeps), sum(sweeps)
    result.sweep_mean_ms = statistics.fmean(sweeps) * 1000 if sweeps else None
    timer.check_timers(ids, wait="PT1H")
    result.api_idle, result.api_drain = api.latencies("idle"), api.latencies("drain")
    result.api_failures = api.failures("drain")
    result.max_queue = sampler.max_depth("drain")
    return result


# -- the report -----------------------------------------------------------------------------------------

def targets(lateness: Lateness | None, drain: Drain | None, sampler: Sampler) -> list[Target]:
    out = []
    text = f"p99 lateness (fired_at - due_at) of {lateness.timers if lateness else '?':,} timers under load < " \
           f"{LATENESS_TARGET:g} s" if lateness else f"p99 lateness < {LATENESS_TARGET:g} s"
    if lateness is None or not lateness.fired:
        out.append(Target(text, "SKIP", None, "not measured"))
    else:
        p99 = percentile(lateness.fired, 99)
        out.append(Target(text, "PASS" if p99 < LATENESS_TARGET else "FAIL", p99,
                          f"{p99:.2f} s; p50 {percentile(lateness.fired, 50):.2f} s, max {max(lateness.fired):.2f} s"))
    depth = sampler.max_depth()
    text = f"the sweeper's queue never holds more than {QUEUE_TARGET} of its runs"
    if depth is None:
        out.append(Target(text, "SKIP", None, "the queue was never read"))
    else:
        samples = sum(1 for _, _, d, _ in sampler.samples if d is not None)
        out.append(Target(text, "PASS" if depth <= QUEUE_TARGET else "FAIL", depth,
                          f"max {depth} ready message(s) of baton.timers over {samples:,} samples every "
                          f"{SAMPLE_EVERY:g} s"))
    return out


def render(lateness: Lateness | None, drain: Drain | None) -> list[str]:
    lines = []
    if lateness is not None:
        fired, went_on = summary(lateness.fired), summary(lateness.went_on)
        lead = (f"started {lateness.load_lead:.0f} s before the first timer fell due" if lateness.load_lead >= 0 else
                f"started {-lateness.load_lead:.0f} s AFTER the first timer fell due (a longer --timer-seconds)")
        lines += [
            f"lateness: {lateness.timers:,} timers of {lateness.timers:,} instances started in "
            f"{lateness.created_seconds:.1f} s, peak {lateness.peak_pending:,} pending at once; load: "
            f"{lateness.load_instances:,} chain-10 instances ({lateness.inflight_load} in flight), {lead}; all ended "
            f"{lateness.seconds:.1f} s after the first start",
            "",
            f"{'lateness, seconds':<44}  {'p50':>7}  {'p99':>7}  {'max':>7}  {'mean':>7}",
        ]
        for label, s in (("fired_at - due_at (event recorded)", fired),
                         ("instance went on - due_at (step applied)", went_on)):
            if s:
                lines.append(f"{label:<44}  {s['p50']:>7.2f}  {s['p99']:>7.2f}  {s['max']:>7.2f}  {s['mean']:>7.2f}")
        lines.append(f"max ready messages in baton.timers during this phase: {lateness.max_queue}; "
                     f"{len(lateness.sweeps):,} sweeps, {sum(lateness.sweeps) / lateness.timers * 1000:,.0f} ms of "
                     "sweeping per timer fired")
        lines.append("")
    if drain is not None:
        idle, busy = summary(drain.api_idle), summary(drain.api_drain)
        lines += [
            f"drain: {drain.timers:,} instances waiting at timers due in the same instant (inserted in "
            f"{drain.insert_seconds:.1f} s)",
            f"  all fired after {drain.fired_seconds:,.1f} s ({drain.rate:,.1f} timers/s; by fifths: "
            + ", ".join(f"{r:,.0f}" for r in drain.fifths) + "/s), all instances ended after "
            f"{drain.ended_seconds:,.1f} s; {drain.sweeps:,} sweeps ran"
            + (f", {drain.sweep_mean_ms:,.0f} ms each on average (most exit at once: another holds the lock), "
               f"{drain.sweep_busy_seconds / drain.timers * 1000:,.0f} ms of sweeping per timer fired"
               if drain.sweep_mean_ms is not None else ""),
        ]
        if drain.timers < DRAIN_GOAL:
            fire, end = drain.extrapolated(DRAIN_GOAL)
            lines.append(f"  extrapolated linearly to {DRAIN_GOAL:,} (measured {drain.timers:,}, not 100,000): "
                         f"all fired after ~{fire:,.0f} s, all ended after ~{end:,.0f} s")
        lines.append(f"  max ready messages in baton.timers during the drain: {drain.max_queue}")
        lines.append("")
        lines.append(f"{'API GET /api/v1/instances/?state=running, s':<44}  {'n':>5}  {'p50':>7}  {'p99':>7}  "
                     f"{'max':>7}")
        for label, s in (("idle stack, just before", idle), ("during the drain", busy)):
            if s:
                lines.append(f"{label:<44}  {s['n']:>5}  {s['p50']:>7.3f}  {s['p99']:>7.3f}  {s['max']:>7.3f}")
        if idle and busy:
            lines.append(f"  during/idle: p50 {busy['p50'] / idle['p50']:.1f}x, p99 {busy['p99'] / idle['p99']:.1f}x"
                         + (f"; failed calls {drain.api_failures}" if drain.api_failures else ""))
    return lines


def method(stack: PluginStack, sizes: Sizes, load: tuple[float, float]) -> list[str]:
    return [
        f"load average (1 min) {load[0]:.1f} at the start and {load[1]:.1f} at the end, on {os.cpu_count()} CPUs",
        f"one worker, `celery -A config worker --concurrency {stack.concurrency}`, on every Baton queue (baton.timers "
        f"included) of virtual host {stack.vhost!r}; `celery -A config beat` (sweep every 1 s, expires after 2 s); "
        "gunicorn for the API; CONN_MAX_AGE="
        f"{stack.conn_max_age}, DEBUG off",
        f"lateness: {sizes.timers:,} instances through instance_start waiting PT{sizes.timer_seconds:g}S, beside "
        f"{sizes.load} chain-10 instances in flight; drain: {sizes.drain:,} waiting instances cloned in SQL with "
        "timer rows due at the insert's instant",
        f"every {SAMPLE_EVERY:g} s: ready messages of baton.timers (passive declare), pending timer rows; the API "
        "call timed one after another, 0.2 s apart",
    ]


# -- the command ------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench timers",
                                     description="Timer lateness under load, and draining a burst of due timers.")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {QUICK.timers} timers, a drain of {QUICK.drain:,}")
    parser.add_argument("--phase", action="append", choices=["lateness", "drain"], help="run only this phase")
    parser.add_argument("--timers", type=int, help=f"timer instances of the lateness phase (default {FULL.timers:,})")
    parser.add_argument("--timer-seconds", type=float,
                        help=f"their timer's duration (default {FULL.timer_seconds:g}: all pending at once)")
    parser.add_argument("--load", type=int, help=f"chain-10 instances in flight meanwhile (default {FULL.load})")
    parser.add_argument("--drain", type=int,
                        help=f"timers due at once (default {FULL.drain:,}; below {DRAIN_GOAL:,} it is extrapolated)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--conn-max-age", type=int, default=0, help="CONN_MAX_AGE of the workers (default 0)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="baton_bench_timers", help="database to drop and recreate (baton_bench*)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672", help="RabbitMQ URL, no vhost")
    parser.add_argument("--vhost", default="baton_bench_timers", help="virtual host to recreate and delete at the end")
    parser.add_argument("--results", default="redis://127.0.0.1:6379/0", help="Celery result backend URL")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds one phase may take (default 3600)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    args.sizes = Sizes(timers=args.timers or base.timers, timer_seconds=args.timer_seconds or base.timer_seconds,
                       drain=args.drain or base.drain, load=base.load if args.load is None else args.load,
                       baseline_seconds=base.baseline_seconds)
    if min(args.sizes.timers, args.sizes.drain, args.concurrency, args.web_workers) < 1 or args.sizes.load < 0 \
            or args.sizes.timer_seconds <= 0:
        parser.error("sizes, --timer-seconds and --concurrency must be positive")
    return args


def make_token() -> str:
    """A superuser of the bench database and its API token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_superuser("bench", "bench@localhost", None)
    return Token.objects.create(user=user).key


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # The API probe calls several times a second as one user: no throttle may answer 429.
    stack = PluginStack(args.postgres, args.database, args.broker, args.vhost, args.results, args.concurrency,
                        args.conn_max_age, plugins="bench.celery_plugins",
                        extra=(("BATON_API_RATE_USER", "100000/min"),))
    progress = (lambda text: print(f"  {text}", file=sys.stderr, flush=True)) if not args.json else (lambda text: None)
    try:
        check_services(stack)
        progress(f"database {stack.database}: drop, create, migrate")
        recreate_database(stack)
        recreate_vhost(stack)
    except SetupError as exc:
        print(f"scripts/bench timers: {exc}", file=sys.stderr)
        return 2
    os.environ.update(stack.environment())
    import django

    django.setup()
    from config.celery import app

    workers, events, beat, wal = Workers(stack, app), TaskEvents(app), Beat(stack), None
    web = WebServer(stack, workers=args.web_workers)
    sampler, api = Sampler(app, stack.database_url), None
    phases = set(args.phase or ["lateness", "drain"])
    lateness = drain = None
    load_at_start = os.getloadavg()[0]
    status = 0
    try:
        events.start()
        progress(f"worker (-c {stack.concurrency}), beat and gunicorn")
        workers.start()
        beat.start()
        web.start()
        api = ApiProbe(web.url, "/api/v1/instances/?state=running", make_token())
        timer = TimerBaton(timer_process())
        sampler.start()
        api.start()
        # A phase PostgreSQL restarted under (the integration tests restart it) is taken again.
        wal = WalMeter(stack, False)
        h = Harness(app, wal, events, workers, args.timeout)
        if "lateness" in phases:
            lateness = undisturbed(h, "lateness", lambda: lateness_phase(  # type: ignore[arg-type, return-value]
                args.sizes, timer, sampler, api, events, app, args.timeout, progress), progress)
        if "drain" in phases:
            drain = undisturbed(h, "drain", lambda: drain_phase(  # type: ignore[arg-type, return-value]
                args.sizes, timer, sampler, api, events, app, args.timeout, progress), progress)
    except SetupError as exc:
        print(f"scripts/bench timers: {exc}", file=sys.stderr)
        return 2
    except InvariantBroken as exc:
        print(f"scripts/bench timers: a phase did not do all its work: {exc}\nworker log:\n{workers.tail()}"
              f"\nbeat log:\n{beat.tail()}", file=sys.stderr)
        status = 1
    except Exception as exc:  # the stack failed under the run: report what was measured
        print(f"scripts/bench timers: the run stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 2
    finally:
        if api is not None:
            api.stop()
        sampler.stop()
        events.stop()
        for process in (beat, web, workers):
            process.stop()
            process.remove_log()
        if wal is not None:
            wal.close()
        delete_vhost(stack)
    if lateness is not None or drain is not None:
        report(args, stack, lateness, drain, sampler, (load_at_start, os.getloadavg()[0]))
    return status


def report(args: argparse.Namespace, stack: PluginStack, lateness: Lateness | None, drain: Drain | None,
           sampler: Sampler, load: tuple[float, float]) -> None:
    checks = targets(lateness, drain, sampler)
    versions = {"python": platform.python_version(), "celery": _version("celery"), "django": _version("Django")}
    if args.json:
        print(json.dumps({
            "command": "timers", **versions, "cpus": os.cpu_count(), "concurrency": stack.concurrency,
            "quick": args.quick, "load_average": list(load), "method": method(stack, args.sizes, load),
            "lateness": lateness.to_dict() if lateness else None, "drain": drain.to_dict() if drain else None,
            "max_sweeper_queue": sampler.max_depth(),
            "targets": [{"target": t.label, "verdict": t.verdict, "value": _round(t.value, 3), "line": t.line}
                        for t in checks],
        }, indent=2, ensure_ascii=False))
    else:
        print(f"Baton's timers: lateness under load and a burst drain (Python {versions['python']}, "
              f"Celery {versions['celery']}, Django {versions['django']})")
        for line in method(stack, args.sizes, load):
            print(f"  {line}")
        print()
        for line in render(lateness, drain):
            print(line)
        print()
        for target in checks:
            print(target.line)
    failed = [t for t in checks if t.verdict == "FAIL"]
    if failed:
        print(f"scripts/bench timers: {len(failed)} target(s) FAILED (a measurement: exit status stays 0)",
              file=sys.stderr)
