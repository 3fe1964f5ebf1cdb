"""`scripts/bench mi`: a parallel multi-instance service task against a plain Celery chord of the same tasks.

The model: start -> one service task `bench.mi.double` with
`<multiInstanceLoopCharacteristics isSequential="false" camunda:collection="${items}"
camunda:elementVariable="item">`, its output item `value` collected into `results`
(loopDataOutputRef) -> end. One instance over N items (`items = [0, 1, ..., N-1]`): Baton sends
the N jobs as one Celery chord whose callback asks the engine for a step. The baseline on the
same workers and queues: `chord([double.si(item=0), ..., double.si(item=N-1)])(collect.s())`.
Each side runs at a small and a large N (100 and 1,000), in alternating batches (plain first in
one round, Baton first in the next), so that a burst of load on the machine hits both.

The stack is bench/celery.py's, reused: a database of its own (`baton_bench_mi`, recreated and
migrated), a RabbitMQ virtual host of its own, Redis for results, one `celery -A config worker`
on every Baton queue (the plain tasks go to `baton.plugins`, where Baton's jobs go), the plugins
loaded through BATON_PLUGIN_MODULES (`bench.mi_plugins`).

Measured per batch:

- throughput: items / (time of the last end recorded by a worker - time of sending);
- broker bytes per item: RabbitMQ's own socket counters (`rabbitmqctl list_connections recv_oct
  send_oct`) summed over the virtual host's connections, before and after the batch: everything
  the clients published (task messages, Celery's task events, acks) and everything the broker
  delivered; the bench's own event listener is left out;
- database bytes per item: WAL of the bench database (pg_walinspect, bench/celery.py's meter),
  and `pg_stat_wal.wal_bytes` of the whole cluster beside it (other work on the machine's
  PostgreSQL lands in that one).

Invariants, checked after every batch (a broken one exits 1): Baton's instance completed with
`results == [0, 2, 4, ..., 2(N-1)]` (every item's output collected exactly once, in item
order), N + 1 completed history rows of the task (the body and N inner instances), N jobs
completed on attempt 1, no incident, no unapplied event, no unsent outbox row, and the workers
ran `baton.job.run` exactly N times; plain: the callback's result is the same list, the header
task ran exactly N times and the callback once.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.celery import (
    BATON_NS, Baton, BenchProcess, InvariantBroken, SetupError, TaskEvents, Target, WalMeter, WalUsage, Workers,
    _round, _timestamp, _version, check_services, delete_vhost, recreate_database, recreate_vhost, settle, undisturbed,
)
from bench.stack import BrokerBytes, BrokerCounters, PluginStack, cluster_wal_bytes, local_port, toast_owners

PLUGINS = "bench.mi_plugins"
TASK = "bench.mi.double"
THROUGHPUT_TARGET = 0.5  # Baton's items/s over the plain chord's, at each size
FLAT_TARGET = 1.2  # bytes per item at the large size over the small size ("the same", within 20 %)
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


@dataclass(frozen=True)
class Sizes:
    small: int
    large: int
    rounds: int
    """Batches per side and size, alternating which side goes first."""


FULL = Sizes(small=100, large=1_000, rounds=2)
QUICK = Sizes(small=20, large=200, rounds=1)


# -- the model ----------------------------------------------------------------------------------------

def mi_xml(binding: str) -> str:
    """start -> `double` (parallel multi-instance over `items`, output `value` into `results`) -> end.

    binding "camunda" (the default) binds the plugin with `baton:task`: the plugin is given the
    variables it names, the inner instance's `item` among them. binding "mapped" hands the item
    over through an explicit input mapping instead (Spiff's `serviceTaskOperator` parameters, the
    input mapping Baton reads for service tasks) and keeps the plugin's result in `value`."""
    if binding == "camunda":
        task = f'<bpmn:serviceTask id="double" baton:task="{TASK}">\n'
    else:
        task = ('<bpmn:serviceTask id="double">\n<bpmn:extensionElements>'
                f'<spiffworkflow:serviceTaskOperator id="{TASK}" resultVariable="value"><spiffworkflow:parameters>'
                '<spiffworkflow:parameter id="item" type="int" value="item"/></spiffworkflow:parameters>'
                '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>\n')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:baton="{BATON_NS}" xmlns:camunda="{CAMUNDA_NS}" xmlns:spiffworkflow="{SPIFF_NS}" '
        'id="bench_mi_definitions" targetNamespace="http://baton.dev/bench">\n'
        '<bpmn:process id="bench_mi" isExecutable="true">\n'
        '<bpmn:startEvent id="start"/>\n' + task +
        '<bpmn:multiInstanceLoopCharacteristics isSequential="false" camunda:collection="${items}" '
        'camunda:elementVariable="item">\n'
        '<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>\n'
        '<bpmn:outputDataItem id="value" name="value"/>\n'
        '</bpmn:multiInstanceLoopCharacteristics>\n'
        '</bpmn:serviceTask>\n'
        '<bpmn:endEvent id="end"/>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="double"/>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="double" targetRef="end"/>\n'
        '</bpmn:process>\n</bpmn:definitions>\n'
    )


def expected_results(binding: str, n: int) -> list[Any]:
    return [2 * i for i in range(n)] if binding == "camunda" else [{"value": 2 * i} for i in range(n)]


class MiBaton(Baton):
    """bench/celery.py's Baton side (deploy, wait, check), started with `items`."""

    def __init__(self, binding: str) -> None:
        super().__init__(BenchProcess("bench_mi", mi_xml(binding), 0, {}, {}))
        self.binding = binding

    def expect(self, n: int) -> None:
        """What one instance over n items must end with (Baton.check compares against it)."""
        items = list(range(n))
        self.process = BenchProcess(self.process.key, self.process.xml, n, {"start": 1, "double": n + 1, "end": 1},
                                    {"items": items, "results": expected_results(self.binding, n)})

    def start_items(self, n: int) -> int:
        from apps.instances.services import instance_start

        return instance_start(definition=self.definition, variables={"items": list(range(n))}).pk


# -- one batch -----------------------------------------------------------------------------------------

@dataclass
class Side:
    """One side's measurement at one size, summed over its rounds."""

    engine: str
    items: int
    runs: int = 0
    seconds: float = 0.0
    wal: list[WalUsage] = field(default_factory=list)
    cluster_wal: int = 0
    broker: list[BrokerBytes] = field(default_factory=list)
    runtimes: dict[str, list[float]] = field(default_factory=dict)
    worker_cpu: float | None = None

    @property
    def total_items(self) -> int:
        return self.items * self.runs

    @property
    def items_per_second(self) -> float:
        return self.total_items / self.seconds if self.seconds else 0.0

    def per_item(self, value: float) -> float:
        return value / self.total_items if self.total_items else 0.0

    @property
    def broker_in(self) -> float:
        return self.per_item(sum(b.received for b in self.broker))

    @property
    def broker_out(self) -> float:
        return self.per_item(sum(b.sent for b in self.broker))

    @property
    def broker_total(self) -> float:
        return self.broker_in + self.broker_out

    def merge(self, other: Side) -> None:
        self.runs += other.runs
        self.seconds += other.seconds
        self.wal.extend(other.wal)
        self.cluster_wal += other.cluster_wal
        self.broker.extend(other.broker)
        for name, values in other.runtimes.items():
            self.runtimes.setdefault(name, []).extend(values)
        if other.worker_cpu is not None:
            self.worker_cpu = (self.worker_cpu or 0.0) + other.worker_cpu

    def wal_per_item(self, *, fpi: bool = True) -> float:
        return self.per_item(sum(w.bytes if fpi else w.bytes_without_fpi for w in self.wal))

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine, "items": self.items, "runs": self.runs, "seconds": round(self.seconds, 3),
            "items_per_second": round(self.items_per_second, 2),
            "broker_bytes_per_item": {"received": round(self.broker_in, 1), "sent": round(self.broker_out, 1),
                                      "total": round(self.broker_total, 1)},
            "broker_connections_closed_in_window": sum(b.closed for b in self.broker),
            "wal_bytes_per_item": round(self.wal_per_item(), 1),
            "wal_bytes_per_item_without_fpi": round(self.wal_per_item(fpi=False), 1),
            "pg_stat_wal_bytes_per_item_cluster": round(self.per_item(self.cluster_wal), 1),
            "wal": [w.to_dict() for w in self.wal],
            "worker_cpu_ms_per_item": (round(self.worker_cpu / self.total_items * 1000, 3)
                                       if self.worker_cpu is not None and self.total_items else None),
            "tasks": {name: {"count": len(v), "mean_ms": round(statistics.fmean(v) * 1000, 2),
                             "total_s": round(sum(v), 3)} for name, v in sorted(self.runtimes.items()) if v},
        }


@dataclass(frozen=True)
class Harness:
    app: Any
    wal: WalMeter
    events: TaskEvents
    workers: Workers
    broker: BrokerCounters
    timeout: float


def measure(h: Harness, side: Side, run: Callable[[], float]) -> None:
    """Run one batch between two sets of counters; `run` sends the work, waits for it and
    returns the time of its last end (epoch seconds)."""
    settle(h.app, h.events)
    h.events.take()
    cpu = h.workers.cpu_seconds()
    lsn = h.wal.mark()  # first: it connects again after a PostgreSQL restart
    broker_before, cluster_before = h.broker.snapshot(), cluster_wal_bytes(h.wal.conn)
    began = time.time()
    ended = run()
    settle(h.app, h.events)  # the chord callback and the task events of the batch count as its work
    time.sleep(1.0)  # backends report their WAL statistics within about a second
    side.wal.append(h.wal.usage(lsn, h.wal.mark()))
    side.cluster_wal += cluster_wal_bytes(h.wal.conn) - cluster_before
    side.broker.append(BrokerCounters.between(broker_before, h.broker.snapshot()))
    after = h.workers.cpu_seconds()
    if cpu is not None and after is not None:
        side.worker_cpu = (side.worker_cpu or 0.0) + after - cpu
    side.runs += 1
    side.seconds += ended - began
    for name, values in h.events.take().items():
        side.runtimes.setdefault(name, []).extend(values)


def baton_run(h: Harness, baton: MiBaton, n: int, started: list[int]) -> Callable[[], float]:
    def run() -> float:
        started.append(baton.start_items(n))
        (_, ended), = baton.wait(started[-1:], h.timeout)
        return ended
    return run


def plain_run(h: Harness, n: int) -> Callable[[], float]:
    from celery import chord

    from bench import mi_plugins

    def run() -> float:
        result = chord([mi_plugins.double.si(item=i) for i in range(n)])(mi_plugins.collect.s())
        value = result.get(timeout=h.timeout, propagate=False)
        expected = [2 * i for i in range(n)]
        if value != expected:
            shown = value if not isinstance(value, list) else f"a list of {len(value)}, first {value[:5]}"
            raise InvariantBroken(f"plain chord of {n}: the callback's result is {shown!r}, expected [0, 2, ..., "
                                  f"{2 * (n - 1)}]")
        return _timestamp(result.date_done)
    return run


def count_runs(side: Side, runtimes: dict[str, list[float]], n: int) -> None:
    """The workers ran each item's task exactly once (from their own task events)."""
    counted = {name: len(v) for name, v in runtimes.items()}
    expected = {"baton.job.run": n} if side.engine == "Baton" else {TASK: n, "bench.mi.collect": 1}
    wrong = {name: counted.get(name, 0) for name, count in expected.items() if counted.get(name, 0) != count}
    if wrong:
        raise InvariantBroken(f"{side.engine} at {n} items: tasks run {wrong}, expected {expected}")


def run_batch(h: Harness, side: Side, baton: MiBaton, n: int, progress: Callable[[str], None]) -> None:
    """One batch at n items into `side`; taken again when PostgreSQL restarted under it (the
    integration tests restart it: bench/celery.py's `undisturbed`)."""
    def once() -> Side:
        sample = Side(side.engine, n)
        if side.engine == "Baton":
            baton.expect(n)
            started: list[int] = []
            measure(h, sample, baton_run(h, baton, n, started))
            baton.check(started)  # after the counters: its reads are not the batch's work
        else:
            measure(h, sample, plain_run(h, n))
        count_runs(sample, sample.runtimes, n)
        return sample

    side.merge(undisturbed(h, f"{n:,} items, {side.engine}", once, progress))  # type: ignore[arg-type]


# -- the report -----------------------------------------------------------------------------------------

def targets(sides: dict[tuple[str, int], Side], sizes: Sizes) -> list[Target]:
    out = []
    for n in (sizes.small, sizes.large):
        baton, plain = sides.get(("Baton", n)), sides.get(("plain", n))
        text = f"throughput at {n:,} items >= {THROUGHPUT_TARGET:g}x the plain chord's"
        if baton is None or plain is None or not plain.items_per_second:
            out.append(Target(text, "SKIP", None, "not measured"))
            continue
        ratio = baton.items_per_second / plain.items_per_second
        out.append(Target(text, "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL", ratio,
                          f"{ratio:.2f}x: {baton.items_per_second:,.1f} vs {plain.items_per_second:,.1f} items/s"))
    small, large = sides.get(("Baton", sizes.small)), sides.get(("Baton", sizes.large))
    for label, read in (("broker bytes per item", lambda s: s.broker_total),
                        ("database bytes per item (WAL without full-page images)",
                         lambda s: s.wal_per_item(fpi=False))):
        text = f"{label} at {sizes.large:,} items <= {FLAT_TARGET:g}x at {sizes.small:,}"
        if small is None or large is None or not read(small):
            out.append(Target(text, "SKIP", None, "not measured"))
            continue
        ratio = read(large) / read(small)
        detail = f"{ratio:.2f}x: {read(large):,.0f} vs {read(small):,.0f} B/item"
        if "database" in label:
            detail += (f"; with full-page images {large.wal_per_item():,.0f} vs {small.wal_per_item():,.0f}")
        out.append(Target(text, "PASS" if ratio <= FLAT_TARGET else "FAIL", ratio, detail))
    return out


def render_table(sides: dict[tuple[str, int], Side]) -> list[str]:
    rows = [("items", "engine", "runs", "seconds", "items/s", "ratio", "broker B/item (in+out)",
             "WAL B/item", "w/o FPI", "pg_stat_wal B/item (cluster)")]
    for (engine, n), side in sorted(sides.items(), key=lambda kv: (kv[0][1], kv[0][0] != "plain")):
        plain = sides.get(("plain", n))
        ratio = (f"{side.items_per_second / plain.items_per_second:.2f}x"
                 if engine == "Baton" and plain is not None and plain.items_per_second else "")
        rows.append((f"{n:,}" if engine == "plain" else "", engine, str(side.runs), f"{side.seconds:,.2f}",
                     f"{side.items_per_second:,.1f}", ratio,
                     f"{side.broker_total:,.0f} ({side.broker_in:,.0f}+{side.broker_out:,.0f})",
                     f"{side.wal_per_item():,.0f}", f"{side.wal_per_item(fpi=False):,.0f}",
                     f"{side.per_item(side.cluster_wal):,.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join([row[0].rjust(widths[0]), row[1].ljust(widths[1])] +
                      [row[i].rjust(widths[i]) for i in range(2, len(row))]).rstrip() for row in rows]


def render_details(sides: dict[tuple[str, int], Side], concurrency: int, names: dict[str, str]) -> list[str]:
    lines = ["where the pool's time went (worker task events: count, mean ms) and Baton's WAL per item by table:"]
    for (engine, n), side in sorted(sides.items(), key=lambda kv: (kv[0][1], kv[0][0] != "plain")):
        busy = sum(sum(v) for v in side.runtimes.values())
        parts = ", ".join(f"{name} {len(v):,} x {statistics.fmean(v) * 1000:.1f} ms"
                          for name, v in sorted(side.runtimes.items(), key=lambda kv: -sum(kv[1])) if v)
        cpu = "" if side.worker_cpu is None else f", worker CPU {side.worker_cpu / side.total_items * 1000:.1f} ms/item"
        lines.append(f"  {n:,} {engine}: pool busy {busy / (side.seconds * concurrency):.0%}{cpu}; {parts}")
        if engine == "Baton":
            relations: dict[str, int] = {}
            for usage in side.wal:
                for name, size in usage.by_relation.items():
                    relations[name] = relations.get(name, 0) + size
            top = sorted(relations.items(), key=lambda kv: -kv[1])[:6]
            lines.append("    WAL/item: " + ", ".join(f"{names.get(name, name).removeprefix('baton_instances_')} "
                                                      f"{side.per_item(size):,.0f}" for name, size in top))
    return lines


def method(stack: PluginStack, sizes: Sizes, binding: str, load: tuple[float, float]) -> list[str]:
    return [
        f"load average (1 min) {load[0]:.1f} at the start and {load[1]:.1f} at the end, on {os.cpu_count()} CPUs",
        f"one worker, `celery -A config worker --concurrency {stack.concurrency}`, on all Baton queues of virtual "
        f"host {stack.vhost!r}; CONN_MAX_AGE={stack.conn_max_age}, DEBUG off; plain tasks go to baton.plugins",
        f"model: parallel multi-instance service task {TASK} over ${{items}} "
        + ("(camunda:collection/elementVariable, baton:task)" if binding == "camunda" else
           "(item passed by an explicit input mapping: --binding mapped)")
        + f"; {sizes.rounds} round(s) per size of one instance vs one chord, alternating which goes first",
        "throughput = items / (last end recorded by a worker - send); broker bytes = RabbitMQ's recv_oct + send_oct "
        "of the virtual host's connections (rabbitmqctl list_connections), the bench's event listener left out",
        "database bytes = WAL records of the bench database (pg_walinspect); pg_stat_wal is the whole cluster's",
    ]


# -- the command ------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench mi",
                                     description="A parallel multi-instance service task against a plain chord.")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {QUICK.small} and {QUICK.large} items, {QUICK.rounds} round")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help=f"items per instance/chord (default {FULL.small} {FULL.large})")
    parser.add_argument("--rounds", type=int, help=f"batches per side and size (default {FULL.rounds})")
    parser.add_argument("--binding", choices=["camunda", "mapped"], default="camunda",
                        help="how the plugin gets its item: the inner instance's variables (camunda, the default) "
                             "or an explicit input mapping (mapped)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--conn-max-age", type=int, default=0, help="CONN_MAX_AGE of the workers (default 0)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="baton_bench_mi", help="database to drop and recreate (baton_bench*)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672", help="RabbitMQ URL, no vhost")
    parser.add_argument("--vhost", default="baton_bench_mi", help="virtual host to recreate and delete at the end")
    parser.add_argument("--results", default="redis://127.0.0.1:6379/0", help="Celery result backend URL")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one batch may take (default 900)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    small, large = args.sizes or (base.small, base.large)
    args.sizes = Sizes(small, large, args.rounds or base.rounds)
    if min(small, large, args.sizes.rounds, args.concurrency) < 1 or small >= large:
        parser.error("sizes, --rounds and --concurrency must be positive, SMALL below LARGE")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stack = PluginStack(args.postgres, args.database, args.broker, args.vhost, args.results, args.concurrency,
                        args.conn_max_age, plugins=PLUGINS)
    progress = (lambda text: print(f"  {text}", file=sys.stderr, flush=True)) if not args.json else (lambda text: None)
    try:
        check_services(stack)
        progress(f"database {stack.database}: drop, create, migrate")
        if not recreate_database(stack):
            raise SetupError("pg_walinspect is not available: the database's own WAL cannot be told apart")
        recreate_vhost(stack)
        broker = BrokerCounters(stack.vhost)
    except SetupError as exc:
        print(f"scripts/bench mi: {exc}", file=sys.stderr)
        return 2
    os.environ.update(stack.environment())
    import django

    django.setup()
    from config.celery import app

    workers, events, wal = Workers(stack, app), TaskEvents(app), None
    load_at_start = os.getloadavg()[0]
    sides: dict[tuple[str, int], Side] = {}
    names: dict[str, str] = {}
    status = 0
    try:
        events.start()
        port = local_port(getattr(events.receiver, "connection", None))
        if port is None:
            raise SetupError("could not tell the event listener's connection apart from the workers'")
        broker.excluded_ports.add(port)
        progress(f"worker: celery -A config worker --concurrency {stack.concurrency}")
        workers.start()
        wal = WalMeter(stack, True)
        names = toast_owners(wal.conn)
        h = Harness(app, wal, events, workers, broker, args.timeout)
        baton = MiBaton(args.binding)
        progress("warm-up: 10 items each way")
        warm = {engine: Side(engine, 10) for engine in ("plain", "Baton")}
        for side in warm.values():
            run_batch(h, side, baton, 10, progress)
        sizes = args.sizes
        for n in (sizes.small, sizes.large):
            for engine in ("plain", "Baton"):
                sides[(engine, n)] = Side(engine, n)
            for round_number in range(sizes.rounds):
                order = ("plain", "Baton") if round_number % 2 == 0 else ("Baton", "plain")
                for engine in order:
                    progress(f"{n:,} items: round {round_number + 1}/{sizes.rounds}, {engine}")
                    run_batch(h, sides[(engine, n)], baton, n, progress)
    except SetupError as exc:
        print(f"scripts/bench mi: {exc}", file=sys.stderr)
        return 2
    except InvariantBroken as exc:
        print(f"scripts/bench mi: a batch did not do all its work: {exc}", file=sys.stderr)
        if args.binding == "camunda" and "'item'" in str(exc):
            print("scripts/bench mi: the inner instance's `item` did not reach the plugin (its locals are not "
                  "handed to the job); --binding mapped passes it through an explicit input mapping",
                  file=sys.stderr)
        status = 1
    except Exception as exc:  # the stack failed under the run: report what was measured
        print(f"scripts/bench mi: the run stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 2
    finally:
        events.stop()
        workers.stop()
        workers.remove_log()
        if wal is not None:
            try:
                wal.close()
            except Exception:
                pass
        delete_vhost(stack)
    sides = {key: side for key, side in sides.items() if side.runs}
    if sides:
        report(args, stack, sides, names, (load_at_start, os.getloadavg()[0]))
    return status


def report(args: argparse.Namespace, stack: PluginStack, sides: dict[tuple[str, int], Side], names: dict[str, str],
           load: tuple[float, float]) -> None:
    checks = targets(sides, args.sizes)
    versions = {"python": platform.python_version(), "celery": _version("celery"), "django": _version("Django")}
    if args.json:
        print(json.dumps({
            "command": "mi", **versions, "cpus": os.cpu_count(), "concurrency": stack.concurrency,
            "conn_max_age": stack.conn_max_age, "quick": args.quick, "binding": args.binding,
            "load_average": list(load), "method": method(stack, args.sizes, args.binding, load),
            "sides": [side.to_dict() for side in sides.values()], "toast_tables": names,
            "targets": [{"target": t.label, "verdict": t.verdict, "value": _round(t.value, 3), "line": t.line}
                        for t in checks],
        }, indent=2, ensure_ascii=False))
    else:
        print(f"Baton's parallel multi-instance vs a plain Celery chord (Python {versions['python']}, "
              f"Celery {versions['celery']}, Django {versions['django']})")
        for line in method(stack, args.sizes, args.binding, load):
            print(f"  {line}")
        print()
        for line in render_table(sides):
            print(line)
        print()
        for line in render_details(sides, stack.concurrency, names):
            print(line)
        print()
        for target in checks:
            print(target.line)
    failed = [t for t in checks if t.verdict == "FAIL"]
    if failed:
        print(f"scripts/bench mi: {len(failed)} target(s) FAILED (a measurement: exit status stays 0)",
              file=sys.stderr)
