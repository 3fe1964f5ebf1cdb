"""`scripts/bench celery`: Baton through real Celery workers against plain Celery on the same broker and workers.

Cases, each a BPMN model deployed with `definition_deploy` and started with `instance_start`:

- chain-10: ten service tasks in a row (`bench.step_01` ... `bench.step_10`, which Baton sends
  as one Celery chain), against `chain(step_01.si(counter=0), ..., step_10.si(counter=9))`;
- fanout-10: a parallel gateway to the ten tasks and back (Baton sends one chord), against
  `chord([step_01.si(counter=0), ...], join.s())`;
- loop-N: one instance through an exclusive-gateway loop around one service task, N iterations
  (a small and a large N), for database bytes written per step.

The stack is the real one: a PostgreSQL database of its own (`baton_bench`, dropped, created and
migrated with `manage.py migrate` on every run), a RabbitMQ virtual host of its own (so that no
other worker on the broker can take a message), Redis for results, and `celery -A config worker`
processes started here and stopped at the end. One set of workers serves Baton's queues and the
baseline: the plain tasks go to `baton.plugins`, the queue Baton's service-task jobs use, and run
in the same pool. The plugins are loaded through BATON_PLUGIN_MODULES (`bench.celery_plugins`).

Measuring: the two sides run in alternating batches (plain first in one round, Baton first in the
next), so that a burst of load on the machine hits both. Throughput is instances over the time
from the first start to the last end recorded by a worker (Baton's `ended_at`, Celery's
`date_done`). Latency is one instance alone, start to end, divided by its service tasks. Bytes
written are PostgreSQL's WAL: the records between two LSNs that touch this database's relations
(or belong to a transaction that does), read with pg_walinspect, divided by committed steps
(completed flow-node history rows). Workers report every task's runtime in their own Celery
events, which shows where the pool's time goes.

After every Baton batch the database must show the work done: every instance completed, exactly
the expected completed history rows per element, every job completed on attempt 1, no open
incident, no unapplied event, no unsent outbox row, the expected final variables; after every
plain batch every final result must have arrived with the expected value. A broken invariant
exits 1: a ratio cannot be met by skipping work. A missed target prints FAIL and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_MODULE = "bench.celery_plugins"
BATON_QUEUES = ("baton.engine", "baton.starts", "baton.scripts", "baton.plugins", "baton.maintenance")
BATON_NS = "http://baton.dev/schema/bpmn/1.0"
STEPS = 10  # service tasks per chain-10 / fanout-10 instance

CHAIN_TARGET = 0.6  # Baton's chain-10 throughput over the plain chain's
FANOUT_TARGET = 0.5  # Baton's fanout-10 throughput over the plain chord's
FLAT_TARGET = 1.2  # WAL bytes per step, large loop over small loop


@dataclass(frozen=True)
class Sizes:
    instances: int
    """chain-10 instances per side, over all rounds."""
    fanout_instances: int
    rounds: int
    latency_runs: int
    """Instances run one at a time per side for the latency."""
    loop_small: int
    loop_large: int


# Through real workers a loop iteration takes tens of milliseconds (three transactions and a
# broker round trip, one after the other): 10,000 iterations alone would take about eight
# minutes, so the full run stops at 1,000 (`--loop 100 10000` measures the persistence spec's
# 10,000 when there is time for it).
FULL = Sizes(instances=200, fanout_instances=100, rounds=2, latency_runs=10, loop_small=100, loop_large=1_000)
QUICK = Sizes(instances=20, fanout_instances=10, rounds=1, latency_runs=2, loop_small=100, loop_large=200)


class SetupError(Exception):
    """The stack could not be brought up (a service is down, a tool is missing)."""


class InvariantBroken(Exception):
    """A batch ended without having done all its work."""


# -- the models -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchProcess:
    key: str
    xml: str
    service_steps: int
    """Service tasks one instance runs (= jobs it must complete)."""
    history: dict[str, int]
    """Completed flow-node history rows per element id, for one instance."""
    variables: dict[str, Any]
    """One instance's final variables, exactly."""



def _definitions(process_id: str, body: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:baton="{BATON_NS}" '
        'id="bench_celery" targetNamespace="http://baton.dev/bench">\n'
        f'<bpmn:process id="{process_id}" isExecutable="true">\n' + "".join(body) +
        "</bpmn:process>\n</bpmn:definitions>\n"
    )


def _task_name(index: int) -> str:
    return f"bench.step_{index:02d}"


def _flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>\n'
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            "</bpmn:sequenceFlow>\n")


def chain_process() -> BenchProcess:
    """start -> s01 ... s10 (bench.step_01 ... bench.step_10, each `counter + 1`) -> end."""
    body = ['<bpmn:startEvent id="start"/>\n', '<bpmn:endEvent id="end"/>\n']
    previous = "start"
    for index in range(1, STEPS + 1):
        node = f"s{index:02d}"
        body.append(f'<bpmn:serviceTask id="{node}" baton:task="{_task_name(index)}"/>\n')
        body.append(_flow(f"f{index:02d}", previous, node))
        previous = node
    body.append(_flow("f_end", previous, "end"))
    history = {"start": 1, "end": 1} | {f"s{i:02d}": 1 for i in range(1, STEPS + 1)}
    return BenchProcess("bench_chain", _definitions("bench_chain", body), STEPS, history,
                        {"counter": STEPS, "last": _task_name(STEPS)})


def fanout_process() -> BenchProcess:
    """start -> parallel split -> s01 ... s10 side by side (each result in its own variable
    r01 ... r10, so that no two branches write the same one) -> parallel join -> end."""
    body = ['<bpmn:startEvent id="start"/>\n', '<bpmn:parallelGateway id="split"/>\n',
            '<bpmn:parallelGateway id="join"/>\n', '<bpmn:endEvent id="end"/>\n', _flow("f_split", "start", "split")]
    variables: dict[str, Any] = {"counter": 0}
    for index in range(1, STEPS + 1):
        node = f"s{index:02d}"
        body.append(f'<bpmn:serviceTask id="{node}" baton:task="{_task_name(index)}" '
                    f'baton:resultVariable="r{index:02d}"/>\n')
        body.append(_flow(f"f_in{index:02d}", "split", node))
        body.append(_flow(f"f_out{index:02d}", node, "join"))
        variables[f"r{index:02d}"] = {"counter": 1, "last": _task_name(index)}
    body.append(_flow("f_end", "join", "end"))
    history = {"start": 1, "split": 1, "join": 1, "end": 1} | {f"s{i:02d}": 1 for i in range(1, STEPS + 1)}
    return BenchProcess("bench_fanout", _definitions("bench_fanout", body), STEPS, history, variables)


def loop_process(iterations: int) -> BenchProcess:
    """start -> merge -> s01 (bench.step_01: `counter + 1`) -> exclusive gateway: back to merge
    while `counter < iterations`, else (the default flow) -> end."""
    key = f"bench_loop_{iterations}"
    body = [
        '<bpmn:startEvent id="start"/>\n', '<bpmn:exclusiveGateway id="merge"/>\n',
        f'<bpmn:serviceTask id="s01" baton:task="{_task_name(1)}"/>\n',
        '<bpmn:exclusiveGateway id="test" default="done"/>\n', '<bpmn:endEvent id="end"/>\n',
        _flow("f_start", "start", "merge"), _flow("f_task", "merge", "s01"), _flow("f_test", "s01", "test"),
        _flow("again", "test", "merge", condition=f"counter &lt; {iterations}"), _flow("done", "test", "end"),
    ]
    history = {"start": 1, "merge": iterations, "s01": iterations, "test": iterations, "end": 1}
    return BenchProcess(key, _definitions(key, body), iterations, history,
                        {"counter": iterations, "last": _task_name(1)})


# -- the stack: database, virtual host, workers ------------------------------------------------------

@dataclass(frozen=True)
class Stack:
    postgres: str
    """Server URL without a database: postgres://user@host:port"""
    database: str
    broker: str
    """Broker URL without a virtual host: amqp://user:password@host:port"""
    vhost: str
    results: str
    concurrency: int
    conn_max_age: int

    @property
    def database_url(self) -> str:
        return f"{self.postgres}/{self.database}"

    @property
    def broker_url(self) -> str:
        return f"{self.broker}/{'' if self.vhost == '/' else self.vhost}"

    def environment(self) -> dict[str, str]:
        """What the workers and this process are configured with (config/settings.py reads it)."""
        return {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",  # as in production: no query log kept in every worker
            "DJANGO_SECRET_KEY": "baton-bench-only",
            "DATABASE_URL": self.database_url,
            "CONN_MAX_AGE": str(self.conn_max_age),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_RESULT_BACKEND": self.results,
            "BATON_PLUGIN_MODULES": PLUGIN_MODULE,
        }


def check_services(stack: Stack) -> None:
    for name, url in (("PostgreSQL", stack.postgres), ("RabbitMQ", stack.broker), ("Redis", stack.results)):
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2).close()
        except OSError as exc:
            raise SetupError(f"{name} does not answer at {parts.hostname}:{parts.port} ({exc}); "
                             "DEVELOPERS.md says how to start it") from None


def recreate_database(stack: Stack) -> bool:
    """Drop, create and migrate the bench database; returns whether pg_walinspect is there."""
    import psycopg
    from psycopg import sql

    if not stack.database.startswith("baton_bench"):
        raise SetupError(f"refusing to drop database {stack.database!r}: its name must start with baton_bench")
    with psycopg.connect(f"{stack.postgres}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stack.database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(stack.database)))
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO_ROOT,
                             env=os.environ | stack.environment(), capture_output=True, text=True)
    if migrate.returncode != 0:
        raise SetupError(f"manage.py migrate failed:\n{migrate.stdout}{migrate.stderr}")
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        except psycopg.Error:
            return False
    return True


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)


def recreate_vhost(stack: Stack) -> None:
    """A virtual host of the bench's own, empty: nothing else on the broker sees its queues."""
    if stack.vhost == "/":
        return
    if shutil.which("rabbitmqctl") is None:
        raise SetupError("rabbitmqctl is not on PATH, so the bench cannot make its own virtual host; "
                         "pass --vhost / to share the default one (no other worker may consume baton.* then)")
    _rabbitmqctl("delete_vhost", stack.vhost)
    user = urlsplit(stack.broker).username or "guest"
    for args in (("add_vhost", stack.vhost), ("set_permissions", "-p", stack.vhost, user, ".*", ".*", ".*")):
        done = _rabbitmqctl(*args)
        if done.returncode != 0:
            raise SetupError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")


def delete_vhost(stack: Stack) -> None:
    if stack.vhost != "/" and shutil.which("rabbitmqctl") is not None:
        _rabbitmqctl("delete_vhost", stack.vhost)


def queue_depths(app: Any) -> dict[str, tuple[int, int]]:
    """(ready messages, consumers) per Baton queue; a queue not declared yet is (0, 0)."""
    depths = {}
    with app.connection_for_write() as conn:
        for name in BATON_QUEUES:
            channel = conn.channel()
            try:
                _, messages, consumers = channel.queue_declare(name, passive=True)
                depths[name] = (messages, consumers)
            except Exception:  # NOT_FOUND closes the channel
                depths[name] = (0, 0)
            finally:
                try:
                    channel.close()
                except Exception:
                    pass
    return depths


class Workers:
    """`celery -A config worker -c N` on every Baton queue, started and stopped by the bench."""

    def __init__(self, stack: Stack, app: Any) -> None:
        self.stack, self.app = stack, app
        self.node = f"baton-bench-{os.getpid()}@{socket.gethostname()}"
        self.log = tempfile.NamedTemporaryFile(prefix="baton-bench-worker-", suffix=".log", delete=False)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        busy = {name: consumers for name, (_, consumers) in queue_depths(self.app).items() if consumers}
        if busy:
            raise SetupError(f"other consumers already read {busy} on virtual host {self.stack.vhost!r}; stop them "
                             "(a left-over bench worker?) or the measurement would share its messages")
        self.app.control.purge()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", str(self.stack.concurrency),
             "--hostname", self.node, "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
            cwd=REPO_ROOT, env=os.environ | self.stack.environment(), stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self.app.control.ping(destination=[self.node], timeout=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SetupError(f"the worker did not answer within {timeout:g} s; its log:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown: running tasks finish
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu_seconds(self) -> float | None:
        """User and system CPU time of the worker and its pool processes so far (Linux /proc), or None."""
        if self.process is None or not Path("/proc/self/stat").exists():
            return None
        ticks, total = os.sysconf("SC_CLK_TCK"), 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == self.process.pid or int(fields[1]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def tail(self, lines: int = 40) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def remove_log(self) -> None:
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# -- what PostgreSQL wrote --------------------------------------------------------------------------

@dataclass(frozen=True)
class WalUsage:
    bytes: int
    """WAL record bytes of this database's work, full-page images included."""
    fpi_bytes: int
    """Of which full-page images (their amount depends on when the last checkpoint was)."""
    records: int
    cluster_bytes: int
    """LSN distance over the whole cluster (other databases' work included)."""
    attributed: bool
    """bytes come from pg_walinspect; otherwise they are cluster_bytes."""
    why_not: str = ""
    """Why pg_walinspect could not attribute the window, when it could not."""
    by_relation: dict[str, int] = field(default_factory=dict)
    """Record bytes per table or index (records without a block, such as commits: per resource manager)."""
    by_record: dict[str, int] = field(default_factory=dict)
    """Record bytes per resource manager and record type (Heap/UPDATE, Btree/INSERT_LEAF, ...)."""

    @property
    def bytes_without_fpi(self) -> int:
        return self.bytes - self.fpi_bytes

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "fpi_bytes": self.fpi_bytes, "records": self.records,
                "cluster_bytes": self.cluster_bytes, "attributed_with_pg_walinspect": self.attributed,
                "why_not": self.why_not or None, "by_relation": self.by_relation, "by_record": self.by_record}


# Records that touch a block of this database's relations, and every record (commits included)
# of a transaction that does; grouped by relation and by record type in one pass.
_WAL_SQL = """
WITH r AS (SELECT xid::text AS xid, record_length, fpi_length, resource_manager || '/' || record_type AS kind,
                  substring(block_ref from %(relnode)s) AS relnode, block_ref ~ %(rel)s AS ours
           FROM pg_get_wal_records_info(%(start)s, %(end)s)),
     x AS (SELECT DISTINCT xid FROM r WHERE ours AND xid <> '0'),
     w AS (SELECT r.*, coalesce(c.relname, split_part(r.kind, '/', 1)) AS relation
           FROM r LEFT JOIN pg_class c ON c.relfilenode <> 0 AND c.relfilenode::text = r.relnode
           WHERE r.ours OR (r.xid <> '0' AND r.xid IN (SELECT xid FROM x)))
SELECT relation, kind, count(*), sum(record_length), sum(fpi_length)
FROM w GROUP BY GROUPING SETS ((relation), (kind), ())
"""


def _top(values: dict[str, int], limit: int = 12) -> dict[str, int]:
    return dict(sorted(values.items(), key=lambda item: -item[1])[:limit])


class WalMeter:
    """WAL written between two marks, attributed to the bench database with pg_walinspect.

    A temporary physical replication slot (dropped when this connection closes) keeps the WAL
    segments of the window from being recycled by a checkpoint before they are read. The
    connection is made again when PostgreSQL restarts (the integration tests restart it)."""

    def __init__(self, stack: Stack, walinspect: bool) -> None:
        self.stack, self.walinspect = stack, walinspect
        self.conn: Any = None
        self._connect()
        self.oid = self._query("SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]

    def _connect(self, wait: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + wait
        while True:
            try:
                self.conn = psycopg.connect(self.stack.database_url, autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if self.walinspect:
            try:
                self.conn.execute("SELECT pg_create_physical_replication_slot(%s, true, true)",
                                  (f"baton_bench_{os.getpid()}",))
            except psycopg.Error:
                pass  # no slot: a checkpoint in the window may make the attribution fail (then cluster-wide)

    def _query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            return self.conn.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            self.close()
            self._connect()
            return self.conn.execute(sql, params).fetchall()

    def server_started(self) -> str:
        """When the PostgreSQL server last started: a measurement it restarted under is repeated."""
        return self._query("SELECT pg_postmaster_start_time()::text")[0][0]

    def mark(self) -> str:
        return self._query("SELECT pg_current_wal_flush_lsn()::text")[0][0]

    def usage(self, start: str, end: str) -> WalUsage:
        import psycopg

        cluster = int(self._query("SELECT pg_wal_lsn_diff(%s, %s)", (end, start))[0][0])
        why_not = "pg_walinspect is not installed"
        if self.walinspect:
            try:
                rows = self._query(_WAL_SQL, {"rel": f"rel [0-9]+/{self.oid}/",
                                              "relnode": f"rel [0-9]+/{self.oid}/([0-9]+)", "start": start, "end": end})
            except psycopg.Error as exc:
                rows, why_not = None, f"{type(exc).__name__}: {str(exc).strip()}"
            if rows is not None:
                by_relation = {relation: int(size) for relation, kind, _, size, _ in rows if relation is not None}
                by_record = {kind: int(size) for relation, kind, _, size, _ in rows if kind is not None}
                total = next(((int(n), int(size or 0), int(fpi or 0)) for relation, kind, n, size, fpi in rows
                              if relation is None and kind is None), (0, 0, 0))
                return WalUsage(total[1], total[2], total[0], cluster, True, by_relation=_top(by_relation),
                                by_record=_top(by_record))
        return WalUsage(cluster, 0, 0, cluster, False, why_not)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass


# -- what the workers did ---------------------------------------------------------------------------

class TaskEvents:
    """Every task's name and runtime, from the workers' own Celery events (task events are on
    in config/settings.py), collected in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.names: dict[str, str] = {}
        self.runtimes: dict[str, list[float]] = defaultdict(list)
        self.unfinished: set[str] = set()
        self.failures: list[str] = []
        self.receiver: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from celery.events.receiver import EventReceiver

        ready = threading.Event()

        class Receiver(EventReceiver):
            def on_consume_ready(self, *args: Any, **kwargs: Any) -> None:
                super().on_consume_ready(*args, **kwargs)
                ready.set()

        def run() -> None:
            with self.app.connection_for_read() as conn:
                self.receiver = Receiver(conn, app=self.app, handlers={
                    "task-received": self._received, "task-succeeded": self._finished,
                    "task-failed": self._failed, "task-rejected": self._failed, "task-revoked": self._failed,
                })
                self.receiver.capture(limit=None, timeout=None, wakeup=False)

        self.thread = threading.Thread(target=run, name="bench-task-events", daemon=True)
        self.thread.start()
        if not ready.wait(15):
            raise SetupError("could not listen to the workers' task events")

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.should_stop = True
        if self.thread is not None:
            self.thread.join(timeout=5)

    def _received(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.names[event["uuid"]] = event.get("name") or "?"
            self.unfinished.add(event["uuid"])

    def _finished(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.unfinished.discard(event["uuid"])
            self.runtimes[self.names.get(event["uuid"], "?")].append(float(event.get("runtime") or 0.0))

    def _failed(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.unfinished.discard(event["uuid"])
            self.failures.append(f"{self.names.get(event['uuid'], '?')}: {event.get('exception') or event['type']}")

    def take(self) -> dict[str, list[float]]:
        """The runtimes collected since the last call, by task name."""
        with self.lock:
            taken, self.runtimes = dict(self.runtimes), defaultdict(list)
        return taken

    def idle(self) -> bool:
        with self.lock:
            return not self.unfinished


def settle(app: Any, events: TaskEvents, timeout: float = 30.0) -> None:
    """Wait until the queues are empty and every task a worker took has finished (a chord's
    callback, say), twice in a row: so that the next batch starts on an idle pool."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        empty = all(messages == 0 for messages, _ in queue_depths(app).values())
        quiet = quiet + 1 if empty and events.idle() else 0
        time.sleep(0.1)


# -- the batches --------------------------------------------------------------------------------------

@dataclass
class Batch:
    """One side's measurement of one case, summed over its rounds."""

    engine: str
    runs: int = 0
    steps: int = 0
    seconds: float = 0.0
    committed: int = 0
    """Completed flow-node history rows written (0 for plain Celery)."""
    flows: int = 0
    """Sequence-flow history rows written."""
    wal: list[WalUsage] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    """Seconds per instance, run alone."""
    loaded_latencies: list[float] = field(default_factory=list)
    """Seconds per instance during the throughput batches."""
    runtimes: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    worker_cpu: float | None = None
    """CPU seconds the worker's processes used during the throughput batches."""
    tail_committed: int = 0
    """A loop's last iterations, measured apart: their committed steps and WAL."""
    tail_wal: WalUsage | None = None

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    @property
    def latency_per_step_ms(self) -> float | None:
        if not self.latencies:
            return None
        return statistics.median(self.latencies) / (self.steps / self.runs) * 1000

    @property
    def wal_bytes(self) -> int:
        return sum(w.bytes for w in self.wal)

    @property
    def wal_bytes_without_fpi(self) -> int:
        return sum(w.bytes_without_fpi for w in self.wal)

    def wal_per_step(self, *, fpi: bool = True) -> float | None:
        if not self.committed:
            return None
        return (self.wal_bytes if fpi else self.wal_bytes_without_fpi) / self.committed

    def wal_per_step_by(self, what: str) -> dict[str, float]:
        """WAL bytes per committed step by relation (`what="relation"`) or record type ("record")."""
        totals: Counter[str] = Counter()
        for usage in self.wal:
            totals.update(usage.by_relation if what == "relation" else usage.by_record)
        return {name: round(size / self.committed, 1) for name, size in totals.most_common()} if self.committed else {}

    def add_runtimes(self, runtimes: dict[str, list[float]]) -> None:
        for name, values in runtimes.items():
            self.runtimes[name].extend(values)

    def merge(self, other: Batch) -> None:
        self.runs += other.runs
        self.steps += other.steps
        self.seconds += other.seconds
        self.committed += other.committed
        self.flows += other.flows
        self.wal.extend(other.wal)
        self.latencies.extend(other.latencies)
        self.loaded_latencies.extend(other.loaded_latencies)
        self.add_runtimes(other.runtimes)
        if other.worker_cpu is not None:
            self.worker_cpu = (self.worker_cpu or 0.0) + other.worker_cpu
        if other.tail_wal is not None:
            self.tail_committed, self.tail_wal = other.tail_committed, other.tail_wal

    def tail_per_step(self) -> float | None:
        """WAL bytes per committed step of a loop's last iterations, full-page images left out."""
        if self.tail_wal is None or not self.tail_committed:
            return None
        return self.tail_wal.bytes_without_fpi / self.tail_committed

    def to_dict(self, concurrency: int) -> dict[str, Any]:
        busy = sum(sum(v) for v in self.runtimes.values())
        return {
            "engine": self.engine, "runs": self.runs, "steps": self.steps, "seconds": round(self.seconds, 3),
            "steps_per_second": round(self.steps_per_second, 2),
            "latency_ms_per_step": None if self.latency_per_step_ms is None else round(self.latency_per_step_ms, 2),
            "latency_ms_per_instance_alone": [round(x * 1000, 1) for x in self.latencies],
            "latency_ms_per_instance_loaded_median": (round(statistics.median(self.loaded_latencies) * 1000, 1)
                                                      if self.loaded_latencies else None),
            "committed_steps": self.committed, "sequence_flow_rows": self.flows,
            "wal": [w.to_dict() for w in self.wal],
            "wal_bytes_per_step": _round(self.wal_per_step()),
            "wal_bytes_per_step_without_fpi": _round(self.wal_per_step(fpi=False)),
            "wal_bytes_per_step_last_iterations_without_fpi": _round(self.tail_per_step()),
            "wal_bytes_per_step_by_relation": self.wal_per_step_by("relation"),
            "wal_bytes_per_step_by_record": self.wal_per_step_by("record"),
            "pool_busy": round(busy / (self.seconds * concurrency), 3) if self.seconds else None,
            "worker_cpu_ms_per_step": (round(self.worker_cpu / self.steps * 1000, 2)
                                       if self.worker_cpu is not None and self.steps else None),
            "tasks": {name: {"count": len(v), "mean_ms": round(statistics.fmean(v) * 1000, 2),
                             "total_s": round(sum(v), 3)} for name, v in sorted(self.runtimes.items())},
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _timestamp(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class Baton:
    """Starting and checking Baton instances of one deployed process."""

    def __init__(self, process: BenchProcess) -> None:
        from apps.definitions.models import ProcessDefinition
        from apps.definitions.services import definition_deploy

        self.process = process
        deployed = definition_deploy(data=process.xml.encode("utf-8"), source_name=f"{process.key}.bpmn")
        self.definition = ProcessDefinition.objects.get(pk=deployed.definitions[0].id)

    def start(self) -> int:
        from apps.instances.services import instance_start

        return instance_start(definition=self.definition, variables={"counter": 0}).pk

    def wait(self, ids: list[int], timeout: float, poll: float = 0.02,
             watch: Callable[[], None] | None = None) -> list[tuple[float, float]]:
        """Wait until every instance has ended (calling `watch` at every look); (started, ended)
        of each, in epoch seconds."""
        from apps.instances.models import InstanceState, ProcessInstance

        deadline = time.monotonic() + timeout
        query = ProcessInstance.objects.filter(pk__in=ids)
        while True:
            if watch is not None:
                watch()
            running = query.filter(state=InstanceState.RUNNING, open_incidents=0).count()
            if running == 0:
                break
            if time.monotonic() > deadline:
                raise InvariantBroken(f"{self.process.key}: {running} of {len(ids)} instances still running "
                                      f"after {timeout:g} s")
            time.sleep(poll)
        return [(_timestamp(started), _timestamp(ended)) if ended else (_timestamp(started), float("nan"))
                for started, ended in query.values_list("started_at", "ended_at")]

    def check(self, ids: list[int]) -> tuple[int, int]:
        """Raise InvariantBroken unless every instance did all its work; (completed flow-node
        history rows, sequence-flow rows) of these instances."""
        from django.db.models import Count, Sum

        from apps.instances.models import (
            FlowNodeInstance, Incident, InstanceState, Job, JobState, OutboxMessage, PendingEvent, ProcessInstance,
            Variable,
        )

        key, problems = self.process.key, []
        instances = ProcessInstance.objects.filter(pk__in=ids)
        states = Counter(instances.values_list("state", flat=True))
        if states != Counter({InstanceState.COMPLETED.value: len(ids)}):
            problems.append(f"instance states {dict(states)}, expected all {len(ids)} completed")
        incidents = Incident.objects.filter(instance_id__in=ids, resolved_at__isnull=True).count()
        counted = instances.aggregate(n=Sum("open_incidents"))["n"] or 0
        if incidents or counted:
            first = Incident.objects.filter(instance_id__in=ids).values_list("element_id", "message").first()
            problems.append(f"{incidents} open incident(s) (instance counters: {counted}); first: {first}")
        history: dict[int, Counter[str]] = defaultdict(Counter)
        other_rows: Counter[str] = Counter()
        flows = 0
        rows = (FlowNodeInstance.objects.filter(instance_id__in=ids).values("instance_id", "element_id", "element_type",
                                                                            "state").annotate(n=Count("id")))
        for row in rows:
            if row["element_type"] == "sequenceFlow":
                flows += row["n"]
            elif row["state"] == FlowNodeInstance.State.COMPLETED:
                history[row["instance_id"]][row["element_id"]] += row["n"]
            else:
                other_rows[f"{row['element_id']} {row['state']}"] += row["n"]
        expected = Counter(self.process.history)
        wrong = [pk for pk in ids if history.get(pk, Counter()) != expected]
        if wrong:
            problems.append(f"{len(wrong)} instance(s) with other completed history rows than {dict(expected)}; "
                            f"instance {wrong[0]} has {dict(history.get(wrong[0], {}))}")
        if other_rows:
            problems.append(f"history rows not completed: {dict(other_rows)}")
        jobs = Counter(Job.objects.filter(instance_id__in=ids).values_list("state", "attempt"))
        if jobs != Counter({(JobState.COMPLETED.value, 1): len(ids) * self.process.service_steps}):
            problems.append(f"jobs by (state, attempt) {dict(jobs)}, expected "
                            f"{len(ids) * self.process.service_steps} completed on attempt 1")
        unapplied = PendingEvent.objects.filter(instance_id__in=ids, applied_at__isnull=True).count()
        if unapplied:
            problems.append(f"{unapplied} event(s) never applied")
        unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
        if unsent:
            problems.append(f"{unsent} outbox message(s) never sent")
        values: dict[int, dict[str, Any]] = defaultdict(dict)
        for instance_id, name, value in Variable.objects.filter(instance_id__in=ids).values_list(
                "instance_id", "name", "value"):
            values[instance_id][name] = value
        wrong = [pk for pk in ids if values.get(pk) != self.process.variables]
        if wrong:
            problems.append(f"{len(wrong)} instance(s) ended with other variables; instance {wrong[0]}: "
                            f"{values.get(wrong[0])}, expected {self.process.variables}")
        if problems:
            raise InvariantBroken(f"{key}: " + "; ".join(problems))
        return sum(sum(c.values()) for c in history.values()), flows


@dataclass(frozen=True)
class Harness:
    """What every batch measures with."""

    app: Any
    wal: WalMeter
    events: TaskEvents
    workers: Workers
    timeout: float
    """Seconds one batch may take."""


def _cpu(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def baton_batch(h: Harness, baton: Baton, count: int, *, tail: int = 0) -> Batch:
    """`count` instances started at once, waited for and checked. With `tail`, one loop
    instance whose last `tail` iterations' WAL is also measured apart (from the moment its
    `counter` variable reaches iterations - tail)."""
    from apps.instances.models import FlowNodeInstance, InstanceState, ProcessInstance, Variable

    settle(h.app, h.events)
    if ProcessInstance.objects.filter(state=InstanceState.RUNNING).exists():
        raise InvariantBroken("instances of an earlier batch are still running: they would share this batch's "
                              "workers and WAL")
    h.events.take()
    cpu = h.workers.cpu_seconds()
    start_lsn = h.wal.mark()
    began = time.time()
    ids = [baton.start() for _ in range(count)]
    mark: list[tuple[int, str]] = []  # (completed history rows, LSN) when the tail began

    def watch() -> None:
        if mark:
            return
        counter = Variable.objects.filter(instance_id=ids[0], name="counter").values_list("value", flat=True).first()
        if (counter or 0) >= baton.process.service_steps - tail:
            rows = (FlowNodeInstance.objects.filter(instance_id=ids[0], state=FlowNodeInstance.State.COMPLETED)
                    .exclude(element_type="sequenceFlow").count())
            mark.append((rows, h.wal.mark()))

    spans = baton.wait(ids, h.timeout, watch=watch if tail else None)
    ended = max(end for _, end in spans)
    settle(h.app, h.events)  # chord callbacks and the like still count as this batch's work
    sample = Batch("Baton", runs=count, steps=count * baton.process.service_steps, seconds=ended - began,
                   worker_cpu=_cpu(cpu, h.workers.cpu_seconds()))
    end_lsn = h.wal.mark()
    sample.wal.append(h.wal.usage(start_lsn, end_lsn))
    sample.committed, sample.flows = baton.check(ids)
    if mark:
        sample.tail_committed, sample.tail_wal = sample.committed - mark[0][0], h.wal.usage(mark[0][1], end_lsn)
    sample.loaded_latencies.extend(end - start for start, end in spans)
    sample.add_runtimes(h.events.take())
    return sample


def baton_latency(h: Harness, baton: Baton, runs: int) -> Batch:
    """Instances run one at a time."""
    sample = Batch("Baton")
    for _ in range(runs):
        pk = baton.start()
        (started, ended), = baton.wait([pk], h.timeout, poll=0.005)
        baton.check([pk])
        sample.latencies.append(ended - started)
    return sample


class Plain:
    """The same plugin tasks as a plain Celery chain or chord."""

    def __init__(self, kind: str) -> None:
        from celery import chain, chord

        from bench import celery_plugins

        self.kind = kind
        if kind == "chain":
            self.make: Callable[[], Any] = lambda: chain(*[task.si(counter=index)
                                                           for index, task in enumerate(celery_plugins.TASKS)])
            self.expected: Any = {"counter": STEPS, "last": _task_name(STEPS)}
        else:
            self.make = lambda: chord([task.si(counter=0) for task in celery_plugins.TASKS], celery_plugins.join.s())
            self.expected = {"branches": STEPS, "counter": STEPS}

    def run(self, count: int, timeout: float) -> list[tuple[float, float]]:
        """Send `count` canvases at once and wait for every final result; (sent, done) each."""
        sent, results = [], []
        for _ in range(count):
            sent.append(time.time())
            results.append(self.make().apply_async())
        spans, wrong = [], []
        deadline = time.monotonic() + timeout
        for began, result in zip(sent, results):
            value = result.get(timeout=max(1.0, deadline - time.monotonic()), propagate=False)
            if value != self.expected:
                wrong.append(value)
            spans.append((began, _timestamp(result.date_done)))
        if wrong:
            raise InvariantBroken(f"plain {self.kind}: {len(wrong)} of {count} final results wrong or missing; "
                                  f"first: {wrong[0]!r}, expected {self.expected!r}")
        return spans


def plain_batch(h: Harness, plain: Plain, count: int) -> Batch:
    """`count` canvases sent at once, every final result waited for and checked."""
    settle(h.app, h.events)
    h.events.take()
    cpu = h.workers.cpu_seconds()
    start_lsn = h.wal.mark()
    spans = plain.run(count, h.timeout)
    settle(h.app, h.events)
    sample = Batch("plain", runs=count, steps=count * STEPS,
                   seconds=max(end for _, end in spans) - min(start for start, _ in spans),
                   worker_cpu=_cpu(cpu, h.workers.cpu_seconds()))
    sample.wal.append(h.wal.usage(start_lsn, h.wal.mark()))
    sample.loaded_latencies.extend(end - start for start, end in spans)
    sample.add_runtimes(h.events.take())
    return sample


def plain_latency(h: Harness, plain: Plain, runs: int) -> Batch:
    sample = Batch("plain")
    for _ in range(runs):
        (began, ended), = plain.run(1, h.timeout)
        sample.latencies.append(ended - began)
    return sample


RESTART_ATTEMPTS = 3
LOOP_TAIL = 100  # a loop's last iterations, whose WAL per step is also reported apart


def undisturbed(h: Harness, what: str, measure: Callable[[], Batch], progress: Callable[[str], None]) -> Batch:
    """One measurement that PostgreSQL did not restart under. The integration tests restart it;
    a measurement it restarted under (failed or not) is thrown away, the instances it left are
    cancelled, and it is taken again."""
    for _ in range(RESTART_ATTEMPTS):
        started = h.wal.server_started()
        try:
            sample = measure()
        except Exception:
            if h.wal.server_started() == started:
                raise
        else:
            if h.wal.server_started() == started:
                return sample
        progress(f"{what}: PostgreSQL restarted under it; cancelling the instances it left and measuring it again")
        recover(h)
    raise SetupError(f"PostgreSQL restarted under {what} {RESTART_ATTEMPTS} times running")


def recover(h: Harness, wait: float = 120.0) -> None:
    """After a PostgreSQL restart: a new connection for this process, and every instance the
    thrown-away measurement left running cancelled (through `instance_cancel`, so its queued work
    does nothing), what the outbox still holds published (no beat runs in the bench), and the
    queues drained, so that the measurement taken again runs alone."""
    from django.db import connection

    from apps.definitions.errors import Conflict
    from apps.instances import outbox, services
    from apps.instances.models import InstanceState, ProcessInstance

    deadline = time.monotonic() + wait
    while True:
        try:
            for pk in ProcessInstance.objects.filter(state=InstanceState.RUNNING).values_list("pk", flat=True):
                try:
                    services.instance_cancel(instance_id=pk)
                except Conflict:
                    pass  # it ended meanwhile
            outbox.publish_pending()
            break
        except Exception:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
    settle(h.app, h.events)


# -- the report ---------------------------------------------------------------------------------------

@dataclass
class Case:
    key: str
    batches: list[Batch]

    @property
    def ratio(self) -> float | None:
        """Baton's throughput over plain Celery's, when both ran."""
        sides = {b.engine: b for b in self.batches}
        if "Baton" in sides and "plain" in sides and sides["plain"].steps_per_second:
            return sides["Baton"].steps_per_second / sides["plain"].steps_per_second
        return None


@dataclass(frozen=True)
class Target:
    label: str
    verdict: str  # PASS, FAIL or SKIP
    value: float | None
    detail: str

    @property
    def line(self) -> str:
        return f"target {self.label}: {self.verdict} ({self.detail})"


def targets(cases: dict[str, Case], sizes: Sizes) -> list[Target]:
    out = []
    for key, label, goal in (("chain-10", "chain throughput", CHAIN_TARGET), ("fanout-10", "fan-out", FANOUT_TARGET)):
        text = f"{label} >= {goal:g}x plain {'chain' if key == 'chain-10' else 'chord'}"
        case = cases.get(key)
        if case is None or case.ratio is None:
            out.append(Target(text, "SKIP", None, f"{key} was not run"))
        else:
            out.append(Target(text, "PASS" if case.ratio >= goal else "FAIL", case.ratio, f"{case.ratio:.2f}x"))
    small, large = cases.get(f"loop-{sizes.loop_small}"), cases.get(f"loop-{sizes.loop_large}")
    text = f"WAL bytes per step flat, loop {sizes.loop_large:,} vs {sizes.loop_small:,} <= {FLAT_TARGET:g}x"
    if small is None or large is None:
        out.append(Target(text, "SKIP", None, "both loop sizes must run"))
    else:
        a, b = small.batches[0], large.batches[0]
        without_a, without_b = a.wal_per_step(fpi=False), b.wal_per_step(fpi=False)
        if not without_a or without_b is None:
            out.append(Target(text, "SKIP", None, "no WAL measured"))
        else:
            value = without_b / without_a
            with_fpi = (b.wal_per_step() or 0) / (a.wal_per_step() or 1)
            tail = b.tail_per_step()
            last = "" if tail is None else (f"; its last {LOOP_TAIL} iterations alone: {tail:,.0f} B/step "
                                            f"({tail / without_a:.2f}x)")
            out.append(Target(text, "PASS" if value <= FLAT_TARGET else "FAIL", value,
                              f"{value:.2f}x: {without_b:,.0f} vs {without_a:,.0f} B/step without full-page images; "
                              f"{with_fpi:.2f}x with them: {b.wal_per_step():,.0f} vs {a.wal_per_step():,.0f}{last}"))
    return out


def method(stack: Stack, sizes: Sizes, walinspect: bool, load: tuple[float, float]) -> list[str]:
    return [
        f"load average (1 min) {load[0]:.1f} at the start and {load[1]:.1f} at the end, on {os.cpu_count()} CPUs: "
        "other work on the machine slows Baton's side (more processes per step) more than plain Celery's",
        f"one worker, `celery -A config worker --concurrency {stack.concurrency}`, on "
        f"all Baton queues of RabbitMQ virtual host {stack.vhost!r}; CONN_MAX_AGE={stack.conn_max_age}, DEBUG off; "
        "plain tasks go to baton.plugins, where Baton's service-task jobs go",
        f"instances per side: chain-10 {sizes.instances}, fanout-10 {sizes.fanout_instances}, in {sizes.rounds} "
        "round(s) of alternating batches, each batch sent at once; throughput = service-task steps / "
        "(last end recorded by a worker - first send); loops: one instance each",
        f"latency: {sizes.latency_runs} instance(s) per side run alone, median start-to-end / 10 service tasks",
        "WAL: " + ("pg_walinspect records touching this database (or in its transactions)" if walinspect
                   else "LSN distance over the whole cluster (pg_walinspect missing)") +
        " per committed step = completed flow-node history row (12 per chain-10 instance, 3 per loop iteration)",
        "invariants after every batch: all instances completed, exact history rows, jobs completed on attempt 1, "
        "no incident, no unapplied event, no unsent outbox row, final variables; plain: every final result",
    ]


def render_table(cases: list[Case]) -> list[str]:
    rows = [("case", "engine", "runs", "steps", "seconds", "steps/s", "ms/step alone", "WAL B/step", "ratio")]
    for case in cases:
        for index, b in enumerate(case.batches):
            per_step = b.wal_per_step()
            rows.append((
                case.key if index == 0 else "", b.engine, f"{b.runs:,}", f"{b.steps:,}", f"{b.seconds:,.2f}",
                f"{b.steps_per_second:,.1f}",
                "" if b.latency_per_step_ms is None else f"{b.latency_per_step_ms:,.1f}",
                "-" if per_step is None else f"{per_step:,.0f}",
                f"{case.ratio:.2f}x" if b.engine == "Baton" and case.ratio is not None else "",
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1])] +
                      [row[i].rjust(widths[i]) for i in range(2, len(row))]).rstrip() for row in rows]


def render_tasks(cases: list[Case], concurrency: int) -> list[str]:
    lines = ["where the pool's time went (worker task events: count, mean ms, share of busy time):"]
    for case in cases:
        for b in case.batches:
            busy = sum(sum(v) for v in b.runtimes.values())
            if not busy:
                continue
            parts = [f"{name} {len(v):,} x {statistics.fmean(v) * 1000:.1f} ms ({sum(v) / busy:.0%})"
                     for name, v in sorted(b.runtimes.items(), key=lambda item: -sum(item[1]))]
            cpu = "" if b.worker_cpu is None else f", worker CPU {b.worker_cpu / b.steps * 1000:.1f} ms/step"
            lines.append(f"  {case.key} {b.engine}: pool busy {busy / (b.seconds * concurrency):.0%}{cpu}; "
                         + ", ".join(parts))
    return lines


def render_wal(cases: list[Case]) -> list[str]:
    lines = ["where Baton's WAL went (bytes per committed step; top tables/indexes, then record types):"]
    for case in cases:
        for b in case.batches:
            if b.engine != "Baton" or not b.committed:
                continue
            relations = ", ".join(f"{name.removeprefix('baton_instances_')} {size:,.0f}"
                                  for name, size in list(b.wal_per_step_by("relation").items())[:7])
            records = ", ".join(f"{name} {size:,.0f}" for name, size in list(b.wal_per_step_by("record").items())[:5])
            lines.append(f"  {case.key}: {relations}")
            lines.append(f"  {' ' * len(case.key)}  {records}")
    return lines


# -- the command --------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench celery",
        description="Baton on real Celery workers against a plain Celery chain and chord of the same tasks.",
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {QUICK.instances} instances per side, loops of {QUICK.loop_small} "
                             f"and {QUICK.loop_large} (about a minute)")
    parser.add_argument("--case", action="append", choices=["chain", "fanout", "loop"],
                        help="run only this case (repeatable)")
    parser.add_argument("--instances", type=int, help=f"chain-10 instances per side (default {FULL.instances})")
    parser.add_argument("--fanout-instances", type=int,
                        help=f"fanout-10 instances per side (default {FULL.fanout_instances})")
    parser.add_argument("--rounds", type=int, help=f"alternating batches per side (default {FULL.rounds})")
    parser.add_argument("--latency-runs", type=int, help=f"instances run alone per side (default {FULL.latency_runs})")
    parser.add_argument("--loop", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help=f"loop iterations (default {FULL.loop_small} {FULL.loop_large})")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--conn-max-age", type=int, default=0,
                        help="CONN_MAX_AGE of the workers (default 0, Baton's default: a connection per task)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="baton_bench", help="database to drop and recreate (baton_bench*)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672", help="RabbitMQ URL, no vhost")
    parser.add_argument("--vhost", default="baton_bench",
                        help="virtual host to recreate with rabbitmqctl and delete at the end; / shares the default")
    parser.add_argument("--results", default="redis://127.0.0.1:6379/0", help="Celery result backend URL")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one batch may take (default 600; a loop of N iterations gets at least N/4)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the comparison, run Baton's tasks in this process (no workers) on each "
                             "case and count their SQL statements, commits, CPU and waiting time; cProfile on chain-10")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    small, large = args.loop or (base.loop_small, base.loop_large)
    args.sizes = Sizes(
        instances=args.instances or base.instances, fanout_instances=args.fanout_instances or base.fanout_instances,
        rounds=args.rounds or base.rounds,
        latency_runs=base.latency_runs if args.latency_runs is None else args.latency_runs,
        loop_small=small, loop_large=large,
    )
    if min(args.sizes.instances, args.sizes.fanout_instances, args.sizes.rounds, args.sizes.loop_small,
           args.sizes.loop_large, args.concurrency) < 1 or args.sizes.latency_runs < 0:
        parser.error("sizes, rounds and --concurrency must be positive")
    return args


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stack = Stack(args.postgres, args.database, args.broker, args.vhost, args.results, args.concurrency,
                  args.conn_max_age)
    progress = (lambda text: print(f"  {text}", file=sys.stderr, flush=True)) if not args.json else (lambda text: None)
    try:
        check_services(stack)
        progress(f"database {stack.database}: drop, create, migrate")
        walinspect = recreate_database(stack)
        recreate_vhost(stack)
    except SetupError as exc:
        print(f"scripts/bench celery: {exc}", file=sys.stderr)
        return 2
    # This process is configured like the workers, before Django reads its settings.
    os.environ.update(stack.environment())
    import django

    django.setup()
    from config.celery import app

    if args.profile:
        try:
            return profile(app, stack)
        finally:
            app.control.purge()
            delete_vhost(stack)
    workers, events, wal = Workers(stack, app), TaskEvents(app), None
    load_at_start = os.getloadavg()[0]
    cases: dict[str, Case] = {}
    status = 0
    try:
        events.start()
        progress(f"worker: celery -A config worker --concurrency {stack.concurrency}")
        workers.start()
        wal = WalMeter(stack, walinspect)
        run_cases(args, Harness(app, wal, events, workers, args.timeout), cases, progress)
    except SetupError as exc:
        print(f"scripts/bench celery: {exc}", file=sys.stderr)
        return 2
    except InvariantBroken as exc:
        print(f"scripts/bench celery: a batch did not do all its work: {exc}\nworker log:\n{workers.tail()}",
              file=sys.stderr)
        status = 1
    except Exception as exc:  # the stack failed under the run (a service restarted, say): report what was measured
        print(f"scripts/bench celery: the run stopped: {type(exc).__name__}: {exc}\n(a service restarted or stopped "
              "under it? the integration tests restart PostgreSQL: run the bench again)", file=sys.stderr)
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
    if cases:
        report(args, stack, walinspect, cases, (load_at_start, os.getloadavg()[0]))
    return status


def run_cases(args: argparse.Namespace, h: Harness, cases: dict[str, Case], progress: Callable[[str], None]) -> None:
    """Run the cases asked for, adding each to `cases` as soon as it is measured."""
    sizes = args.sizes
    wanted = set(args.case or ["chain", "fanout", "loop"])
    comparisons = [(key, process, kind, count) for key, process, kind, count in (
        ("chain-10", chain_process(), "chain", sizes.instances),
        ("fanout-10", fanout_process(), "chord", sizes.fanout_instances),
    ) if key.split("-")[0] in wanted]
    for key, process, kind, count in comparisons:
        baton, plain = Baton(process), Plain(kind)
        progress(f"{key}: warm-up")  # engines built and connections opened in every worker process
        undisturbed(h, f"{key} warm-up", lambda: baton_batch(h, baton, 2 * args.concurrency), progress)
        undisturbed(h, f"{key} warm-up", lambda: plain_batch(h, plain, 2 * args.concurrency), progress)
        sides = {"plain": Batch("plain"), "Baton": Batch("Baton")}
        for round_number, share in enumerate(_split(count, sizes.rounds)):
            order = ("plain", "Baton") if round_number % 2 == 0 else ("Baton", "plain")
            for engine in order:
                what = f"{key}: round {round_number + 1}/{sizes.rounds}, {engine}, {share} instances"
                progress(what)
                measure = ((lambda n=share: baton_batch(h, baton, n)) if engine == "Baton"
                           else (lambda n=share: plain_batch(h, plain, n)))
                sides[engine].merge(undisturbed(h, what, measure, progress))
        if sizes.latency_runs:
            what = f"{key}: latency, {sizes.latency_runs} instance(s) alone per side"
            progress(what)
            sides["plain"].merge(undisturbed(h, what, lambda: plain_latency(h, plain, sizes.latency_runs), progress))
            sides["Baton"].merge(undisturbed(h, what, lambda: baton_latency(h, baton, sizes.latency_runs), progress))
        cases[key] = Case(key, [sides["plain"], sides["Baton"]])
    if "loop" in wanted:
        for iterations in (sizes.loop_small, sizes.loop_large):
            key = f"loop-{iterations}"
            what = f"{key}: one instance, {iterations:,} service tasks in a loop"
            progress(what)
            looping = Baton(loop_process(iterations))
            # one instance, one iteration after another: allow a quarter of a second per iteration
            slow = replace(h, timeout=max(h.timeout, 0.25 * iterations))
            batch = undisturbed(h, what, lambda: baton_batch(slow, looping, 1, tail=LOOP_TAIL), progress)
            batch.latencies = list(batch.loaded_latencies)  # the one instance ran alone
            cases[key] = Case(key, [batch])


def report(args: argparse.Namespace, stack: Stack, walinspect: bool, cases: dict[str, Case],
           load: tuple[float, float]) -> None:
    checks = targets(cases, args.sizes)
    versions = {"python": platform.python_version(), "celery": _version("celery"), "django": _version("Django")}
    if args.json:
        print(json.dumps({
            "command": "celery", **versions, "cpus": os.cpu_count(), "concurrency": stack.concurrency,
            "conn_max_age": stack.conn_max_age, "quick": args.quick,
            "load_average": list(load),
            "method": method(stack, args.sizes, walinspect, load),
            "cases": [{"key": c.key, "ratio": _round(c.ratio, 3), "batches": [b.to_dict(stack.concurrency)
                                                                            for b in c.batches]}
                      for c in cases.values()],
            "targets": [{"target": t.label, "verdict": t.verdict, "value": _round(t.value, 3), "line": t.line}
                        for t in checks],
        }, indent=2, ensure_ascii=False))
    else:
        print(f"Baton on Celery vs plain Celery (Python {versions['python']}, Celery {versions['celery']}, "
              f"Django {versions['django']})")
        for line in method(stack, args.sizes, walinspect, load):
            print(f"  {line}")
        print()
        for line in render_table(list(cases.values())):
            print(line)
        print()
        for line in render_tasks(list(cases.values()), stack.concurrency):
            print(line)
        print()
        if walinspect:
            for line in render_wal(list(cases.values())):
                print(line)
            print()
        for target in checks:
            print(target.line)
    failed = [t for t in checks if t.verdict == "FAIL"]
    if failed:
        print(f"scripts/bench celery: {len(failed)} target(s) FAILED (a measurement: exit status stays 0)",
              file=sys.stderr)


# -- where a Baton step's time goes -------------------------------------------------------------------

def profile(app: Any, stack: Stack, runs: int = 5) -> int:
    """Instances driven in this process through the very task functions a worker runs
    (`baton.instance.step`, then `baton.job.run` for each dispatched job in turn; what the outbox
    publishes is purged afterwards), every SQL statement captured; cProfile on chain-10."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.instances import tasks
    from apps.instances.models import Job, JobState

    @dataclass
    class Call:
        wall: float
        cpu: float
        """This process's CPU time: Django's ORM, the engine, Celery; the rest of wall is waiting."""
        in_statements: float
        """Inside cursor.execute (round trip and server time; COMMITs are not in it)."""
        queries: list[dict[str, Any]]

    captured: dict[str, list[Call]] = defaultdict(list)

    def call(name: str, fn: Callable[..., Any], **kwargs: Any) -> None:
        spent = [0.0]

        def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += time.perf_counter() - began

        with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
            wall, cpu = time.perf_counter(), time.process_time()
            fn(**kwargs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        captured[name].append(Call(wall, cpu, spent[0], list(queries.captured_queries)))

    def one(baton: Baton) -> None:
        pk = baton.start()
        call("baton.instance.step", tasks.instance_step.run, instance_id=pk)
        while True:
            job_id = (Job.objects.filter(instance_id=pk, state=JobState.DISPATCHED)
                      .order_by("dispatched_at", "created_at").values_list("pk", flat=True).first())
            if job_id is None:
                break
            call("baton.job.run", tasks.job_run.run, job_id=str(job_id))
        baton.check([pk])

    print(f"Baton's tasks run in this process, one database connection (CONN_MAX_AGE does not apply), "
          f"{'DEBUG off' if not _debug() else 'DEBUG on'}; per call: SQL statements (BEGIN and COMMIT included), "
          "commits, wall ms = CPU ms of this process (ORM, engine, Celery) + waiting (PostgreSQL, broker, "
          "other processes on the CPU); ms inside cursor.execute")
    batons = {}
    for process, count in ((chain_process(), runs), (fanout_process(), runs), (loop_process(20), 1)):
        baton = batons[process.key] = Baton(process)
        one(baton)  # warm-up: the engine is built
        captured.clear()
        for _ in range(count):
            one(baton)
        print(f"  {process.key} ({count} instance(s), {process.service_steps} service tasks each):")
        for name, calls in captured.items():
            commits = statistics.fmean(sum(1 for q in c.queries if q["sql"].strip().upper() == "COMMIT") for c in calls)
            print(f"    {name}: {len(calls)} calls, {statistics.fmean(len(c.queries) for c in calls):.1f} statements, "
                  f"{commits:.1f} commits; {statistics.fmean(c.wall for c in calls) * 1000:.1f} ms = "
                  f"{statistics.fmean(c.cpu for c in calls) * 1000:.1f} CPU + "
                  f"{statistics.fmean(c.wall - c.cpu for c in calls) * 1000:.1f} waiting; "
                  f"{statistics.fmean(c.in_statements for c in calls) * 1000:.1f} ms in cursor.execute")
        if process.key == "bench_chain":
            middle = captured["baton.job.run"][len(captured["baton.job.run"]) // 2].queries
            print("    statements of one baton.job.run (a middle chain link):")
            for query in middle:
                print(f"      {query['sql'][:130]}")
    print(f"\ncProfile of {runs} more chain-10 instances (the profiler's overhead included):")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        one(batons["bench_chain"])
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"apps/|orchestrator/", 25)
    return 0


def _debug() -> bool:
    from django.conf import settings

    return bool(settings.DEBUG)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
