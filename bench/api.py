"""`scripts/bench api`: the REST API's latency with 100,000 instances stored, against the same calls
on an empty database, in one run.

Calls (token auth, JSON), each timed from the request to the last byte of the answer:

- `start`: POST /api/v1/instances/ (expense_approval, four variables, a business key);
- `get`: GET /api/v1/instances/{id}/ of a random instance;
- `list`: GET /api/v1/instances/?state=running&definition_key=expense_approval&business_key=<a key
  of a running instance>;
- `page`: the next page of GET /api/v1/instances/?state=running&definition_key=expense_approval,
  followed by its cursor (`next`), 50 instances a page; the first page and a shorter last page are
  fetched untimed (back to the first page when the pages run out), so every timed page holds 50
  instances on both databases.

The stack is the real one: a PostgreSQL database of the bench's own (`baton_bench_api`, dropped,
created and migrated on every run), throttles counted in Redis (a database of the bench's own,
rates raised so that no call is refused), and a start publishes its step to RabbitMQ after commit
(a virtual host of the bench's own, deleted at the end; no worker runs, so started instances
stay where the start left them). By default the calls go through Django's whole stack in this
process (`django.test.Client`: middleware, DRF, serializers, one kept database connection);
`--http` sends them over loopback to gunicorn instead (one server per database, one sync worker
each, a connection per request, CONN_MAX_AGE as configured).

Two databases, measured in the same run, in alternating blocks of rounds (empty first in one
block, full first in the next), so that a change in the machine's load hits both alike:

- empty (`baton_bench_api_empty`): the examples deployed and one user, nothing else; a clone of
  the full one taken before it is filled;
- full (`baton_bench_api`): `--instances` instances copied with COPY from real runs of the
  examples (made here, in-process, with the services and the job runner): engine state,
  variables, open user tasks, a few open incidents, a spread of states (about 37% running),
  definitions, business keys (one in ten reused) and start times (the last 180 days, ids in start
  order); then VACUUM ANALYZE, as autovacuum would have by then.

Each side gets 110 untimed starts (so that the cursor has a full page past the first) and a
warm-up, then `--calls` of each call, interleaved (start, get, list, page, start, ...); `get` and
`list` pick among that side's instances, including those its starts made.

Targets: p95 of every call under 50 ms on the full database, and within 2x of the same call's p95
on the empty one. Measurements on a loaded machine move: the load average is printed with them. A
missed target prints FAIL and exits 0; a call answered with an unexpected status exits 1.
`--explain` adds PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of the list queries on the full database.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

from bench.celery import REPO_ROOT, SetupError, Stack, check_services, delete_vhost, recreate_database, recreate_vhost

P95_TARGET_MS = 50.0
RATIO_TARGET = 2.0
CALLS = ("start", "get", "list", "page")
FULL_INSTANCES, QUICK_INSTANCES = 100_000, 10_000
DEFAULT_CALLS, QUICK_CALLS = 200, 100
WARMUP = 20
BLOCK = 10  # rounds (one call of each kind) on one side before switching to the other
PRESTARTS = 110  # untimed starts per side before measuring: a full page of running instances past the first
BATCH = 5_000  # rows per COPY batch of instances (their variables, tasks and incidents go with them)
KEY = "expense_approval"
LIST_PATH = "/api/v1/instances/"
HIGH_RATE = "1000000/min"
PAGE_SIZE = 50  # the API's default page size (apps/api/views/base.py NewestFirst)


class CallFailed(Exception):
    """A call answered something else than the status it must: the measurement means nothing."""


# -- talking to the API -------------------------------------------------------------------------------

class InProcess:
    """Django's whole request stack in this process (test Client), token auth."""

    name = "django.test.Client in-process"

    def __init__(self, token: str) -> None:
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        if method == "POST":
            response = self.client.post(path, data=json.dumps(body), content_type="application/json")
        else:
            response = self.client.get(path)
        content = response.content
        return response.status_code, content, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        pass


class OverHttp:
    """gunicorn on loopback (one sync worker), a new connection per request as gunicorn's sync
    workers close each one."""

    name = "gunicorn on loopback, 1 sync worker per database"

    def __init__(self, token: str, environment: dict[str, str]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1", "Accept": "application/json"}
        self.log = tempfile.NamedTemporaryFile(prefix="bench-api-gunicorn-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--log-level", "warning"], cwd=REPO_ROOT, env=os.environ | environment, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise SetupError(f"gunicorn did not answer within 60 s:\n{Path(self.log.name).read_text()[-3000:]}")
                time.sleep(0.2)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        import http.client

        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers, **({"Content-Type": "application/json"} if payload is not None else {}))
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        return response.status, content, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# -- the calls ----------------------------------------------------------------------------------------

@dataclass
class Targets:
    """What `get` and `list` pick from: instance ids, and business keys of running expense instances."""

    ids: list[int] = field(default_factory=list)
    running_keys: list[str] = field(default_factory=list)


_SERIAL = itertools.count(1)


class Calls:
    def __init__(self, api: Any, targets: Targets, rng: random.Random) -> None:
        self.api, self.targets, self.rng = api, targets, rng
        self.next_page: str | None = None

    def _expect(self, what: str, status: int, content: bytes, expected: int) -> Any:
        if status != expected:
            hint = (" (did PostgreSQL, Redis or RabbitMQ restart under the run? the integration tests restart "
                    "PostgreSQL: run the bench again)" if status == 503 else "")
            raise CallFailed(f"{what}: HTTP {status} (expected {expected}): {content[:500]!r}{hint}")
        return json.loads(content)

    def start(self) -> float:
        key = f"BENCH-{next(_SERIAL):06d}"
        body = {"definition_key": KEY, "business_key": key,
                "variables": {"request_id": key, "requester": self.rng.choice(("grace", "ada", "alan", "edsger")),
                              "amount": self.rng.randint(20, 5000), "purpose": "conference travel"}}
        status, content, ms = self.api.call("POST", LIST_PATH, body)
        instance = self._expect("start", status, content, 201)
        self.targets.ids.append(instance["id"])
        self.targets.running_keys.append(key)
        return ms

    def get(self) -> float:
        instance_id = self.rng.choice(self.targets.ids)
        status, content, ms = self.api.call("GET", f"{LIST_PATH}{instance_id}/")
        self._expect("get", status, content, 200)
        return ms

    def list(self) -> float:
        query = urlencode({"state": "running", "definition_key": KEY,
                           "business_key": self.rng.choice(self.targets.running_keys)})
        status, content, ms = self.api.call("GET", f"{LIST_PATH}?{query}")
        if not self._expect("list", status, content, 200)["results"]:
            raise CallFailed(f"list: no instance for {query}")
        return ms

    def first_page_path(self) -> str:
        return f"{LIST_PATH}?{urlencode({'state': 'running', 'definition_key': KEY})}"

    def page(self) -> float:
        """The time of the next full page (PAGE_SIZE instances) reached by a cursor. The first page,
        and a last page with fewer instances, are fetched but not timed: every timed page holds
        the same number of instances on both databases."""
        for _ in range(3):
            if self.next_page is None:
                status, content, _ = self.api.call("GET", self.first_page_path())
                self.next_page = self._link(self._expect("page", status, content, 200))
                if self.next_page is None:
                    raise CallFailed(f"page: the first page has no next page (fewer than {PAGE_SIZE + 1} "
                                     "running instances?)")
            status, content, ms = self.api.call("GET", self.next_page)
            page = self._expect("page", status, content, 200)
            self.next_page = self._link(page)
            if len(page["results"]) == PAGE_SIZE:
                return ms
        raise CallFailed(f"page: no page of {PAGE_SIZE} instances past the first")

    @staticmethod
    def _link(page: dict[str, Any]) -> str | None:
        if not page.get("next"):
            return None
        parts = urlsplit(page["next"])
        return f"{parts.path}?{parts.query}"


@dataclass
class Side:
    """One database and what is measured on it."""

    name: str
    database: str
    api: Any
    calls: Calls | None = None
    timings: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CALLS})

    def activate(self) -> None:
        """Point this process's connection at this side's database (the in-process client's, and
        the one the bench's own reads use); the first query after a switch connects, untimed."""
        from django.db import connection

        if connection.settings_dict["NAME"] != self.database:
            connection.close()
            connection.settings_dict["NAME"] = self.database
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")


def measure(sides: list[Side], count: int, warmup: int, progress: Callable[[str], None]) -> None:
    """`warmup` untimed rounds per side, then `count` timed rounds per side in alternating blocks."""
    for side in sides:
        side.activate()
        for _ in range(warmup):
            for name in CALLS:
                getattr(side.calls, name)()
    done, block = 0, 0
    while done < count:
        rounds = min(BLOCK, count - done)
        for side in (sides if block % 2 == 0 else sides[::-1]):
            side.activate()
            side.calls.get()  # untimed: a gunicorn worker's or this process's first call after the switch
            for _ in range(rounds):
                for name in CALLS:
                    side.timings[name].append(getattr(side.calls, name)())
        done += rounds
        block += 1
        if done % 50 == 0 or done == count:
            progress(f"measure: {done}/{count} rounds per side")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(percentile(values, 0.50), 2), "p95_ms": round(percentile(values, 0.95), 2),
            "mean_ms": round(statistics.fmean(values), 2), "max_ms": round(max(values), 2)}


# -- filling the database -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    """One real instance, run here with the services: what its copies look like."""

    name: str
    definition_id: int
    key_prefix: str
    state: str
    engine_state: str
    active_elements: str
    variables: dict[str, str]
    """name -> JSON text"""
    open_task: dict[str, Any] | None
    weight: float
    identity: str
    """The variable that holds the business key (request_id, order_id)."""


def make_templates() -> list[Template]:
    """Run the examples in-process to the states the copies are in (the workers' job, done here:
    engine steps and the job runner; nothing is left for a worker)."""
    from apps.definitions.models import ProcessDefinition
    from apps.instances import services
    from apps.instances.inprocess import run_in_process as work
    from apps.instances.models import InstanceState, ProcessInstance, UserTask, Variable

    def complete(instance: ProcessInstance, **variables: Any) -> ProcessInstance:
        task = UserTask.objects.get(instance=instance, state="open")
        services.user_task_complete(task_id=task.pk, variables=variables)
        return work(instance)

    expense, order = (ProcessDefinition.objects.get(key=key) for key in (KEY, "order_fulfilment"))

    def expense_at(amount: int) -> ProcessInstance:
        return work(services.instance_start(definition=expense, business_key="T", variables={
            "request_id": "T", "requester": "grace", "amount": amount, "purpose": "conference travel"}))

    # Order instances stop before their first script runs (work() would run the whole order and
    # send an email): one engine step only.
    def order_started() -> ProcessInstance:
        instance = services.instance_start(definition=order, business_key="T", variables={
            "order_id": "T", "customer_email": "ada@example.com",
            "items": [{"sku": "BOOK-1", "qty": 2, "unit_price": 12.5}, {"sku": "MUG-2", "qty": 1, "unit_price": 8}]})
        services.instance_step(instance_id=instance.pk)
        instance.refresh_from_db()
        return instance

    runs: list[tuple[str, ProcessInstance, float, str, str]] = [
        ("expense waiting for a manager", expense_at(2400), 0.22, "EXP", "request_id"),
        ("expense waiting for a director", complete(expense_at(2400), approved=True, comment="ok"), 0.05, "EXP",
         "request_id"),
        ("expense paid", complete(expense_at(300), approved=True, comment="fine"), 0.25, "EXP", "request_id"),
        ("expense rejected", complete(expense_at(900), approved=False, comment="no receipt"), 0.15, "EXP",
         "request_id"),
        ("order at its first script", order_started(), 0.10, "ORD", "order_id"),
    ]
    cancelled = order_started()
    services.instance_cancel(instance_id=cancelled.pk)
    cancelled.refresh_from_db()
    runs.append(("order cancelled", cancelled, 0.18, "ORD", "order_id"))
    templates = []
    for name, instance, weight, prefix, identity in runs:
        task = UserTask.objects.filter(instance=instance, state="open").values(
            "engine_job", "element_id", "name", "kind", "candidate_groups", "candidate_users", "form_fields").first()
        variables = {row.name: json.dumps(row.value) for row in Variable.objects.filter(instance=instance)}
        templates.append(Template(
            name=name, definition_id=instance.definition_id, key_prefix=prefix, state=instance.state,
            engine_state=json.dumps(instance.engine_state), active_elements=json.dumps(instance.active_elements),
            variables=variables, open_task=task, weight=weight, identity=identity))
    expected = {"expense paid": InstanceState.COMPLETED, "expense rejected": InstanceState.COMPLETED,
                "order cancelled": InstanceState.CANCELLED}
    for template in templates:
        want = expected.get(template.name, InstanceState.RUNNING)
        if template.state != want:
            raise SetupError(f"template {template.name!r} ended {template.state}, not {want}")
        if template.state == InstanceState.RUNNING and template.name.startswith("expense") and not template.open_task:
            raise SetupError(f"template {template.name!r} has no open user task")
    return templates


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


INSTANCE_COLUMNS = ("id", "definition_id", "state", "suspended", "business_key", "tenant_id", "revision",
                    "engine_state", "schema_version", "active_elements", "open_incidents", "started_at", "ended_at",
                    "started_by_id", "parent_id", "root_id", "parent_element", "parent_job")
VARIABLE_COLUMNS = ("instance_id", "name", "value", "updated_at")
TASK_COLUMNS = ("instance_id", "engine_job", "element_id", "name", "kind", "assignee", "candidate_groups",
                "candidate_users", "form_fields", "state", "created_at")
INCIDENT_COLUMNS = ("instance_id", "engine_incident", "element_id", "message", "traceback", "opened_at")


def fill(count: int, templates: list[Template], user_id: int, rng: random.Random, targets: Targets,
         progress: Callable[[str], None]) -> dict[str, Any]:
    """COPY `count` instances (and their variables, open user tasks, incidents) in batches of BATCH."""
    from django.db import connection

    from apps.instances.models import Incident, ProcessInstance, UserTask, Variable

    tables = {model: model._meta.db_table for model in (ProcessInstance, Variable, UserTask, Incident)}
    weights = [template.weight for template in templates]
    now = datetime.now(timezone.utc)
    span = timedelta(days=180)
    started = time.perf_counter()
    counts = {"instances": 0, "variables": 0, "open_user_tasks": 0, "open_incidents": 0, "running": 0,
              "suspended": 0}
    serial = {"EXP": 0, "ORD": 0}
    last_key = {"EXP": None, "ORD": None}
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own cursor: COPY
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {tables[ProcessInstance]}")
        first_id = cursor.fetchone()[0] + 1
        for batch_start in range(0, count, BATCH):
            instances, variables, user_tasks, incidents = [], [], [], []
            for offset in range(batch_start, min(batch_start + BATCH, count)):
                instance_id = first_id + offset
                template = rng.choices(templates, weights)[0]
                prefix = template.key_prefix
                if last_key[prefix] is not None and rng.random() < 0.1:
                    business_key = last_key[prefix]  # submitted again (a retry, a correction)
                else:
                    serial[prefix] += 1
                    business_key = f"{prefix}-{serial[prefix]:07d}"
                last_key[prefix] = business_key
                started_at = now - span + span * (offset / count) + timedelta(seconds=rng.random())
                running = template.state == "running"
                ended_at = None if running else started_at + timedelta(minutes=rng.randint(1, 3 * 24 * 60))
                suspended = running and rng.random() < 0.03
                incident = running and rng.random() < 0.02
                instances.append((instance_id, template.definition_id, template.state, suspended, business_key, None,
                                  rng.randint(2, 12), template.engine_state, 2, template.active_elements,
                                  1 if incident else 0, started_at, ended_at, user_id, None, None, None, None))
                for name, value in template.variables.items():
                    if name == template.identity:
                        value = json.dumps(business_key)
                    elif name == "amount":
                        value = json.dumps(rng.randint(20, 5000))
                    variables.append((instance_id, name, value, ended_at or started_at))
                if running and template.open_task:
                    task = template.open_task
                    user_tasks.append((instance_id, task["engine_job"], task["element_id"], task["name"], task["kind"],
                                       None, json.dumps(task["candidate_groups"]),
                                       json.dumps(task["candidate_users"]),
                                       None if task["form_fields"] is None else json.dumps(task["form_fields"]),
                                       "open", started_at))
                if incident:
                    incidents.append((instance_id, "9", json.loads(template.active_elements)[0] if
                                      json.loads(template.active_elements) else "start",
                                      "plugin 'examples.expenses.pay' failed: ConnectionError: ledger unavailable",
                                      "Traceback (most recent call last):\n  ...\nConnectionError: ledger unavailable",
                                      started_at + timedelta(minutes=5)))
                if running and prefix == "EXP" and template.open_task:
                    targets.running_keys.append(business_key)
                counts["running"] += running
                counts["suspended"] += suspended
            _copy(cursor, tables[ProcessInstance], INSTANCE_COLUMNS, instances)
            _copy(cursor, tables[Variable], VARIABLE_COLUMNS, variables)
            _copy(cursor, tables[UserTask], TASK_COLUMNS, user_tasks)
            _copy(cursor, tables[Incident], INCIDENT_COLUMNS, incidents)
            counts["instances"] += len(instances)
            counts["variables"] += len(variables)
            counts["open_user_tasks"] += len(user_tasks)
            counts["open_incidents"] += len(incidents)
            targets.ids.extend(row[0] for row in instances)
            progress(f"fill: {counts['instances']:,}/{count:,} instances")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{tables[ProcessInstance]}', 'id'), "
                       f"(SELECT MAX(id) FROM {tables[ProcessInstance]}))")
    copied = time.perf_counter() - started
    # What autovacuum would have done by the time a table holds this much: statistics, visibility map.
    previous_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        with connection.cursor() as cursor:
            for table in tables.values():
                cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        connection.set_autocommit(previous_autocommit)
    counts["copy_seconds"] = round(copied, 1)
    counts["vacuum_analyze_seconds"] = round(time.perf_counter() - started - copied, 1)
    return counts


# -- looking inside -------------------------------------------------------------------------------------

def queries_per_call(calls: Calls) -> dict[str, int]:
    """SQL statements each call runs (one more call of each, untimed, in-process)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counted = {}
    calls.page()  # the first page, so that the page counted below is one cursor page alone
    for name in CALLS:
        with CaptureQueriesContext(connection) as captured:
            getattr(calls, name)()
        counted[name] = len(captured.captured_queries)
    return counted


def explain_lists(calls: Calls) -> dict[str, list[dict[str, str]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the instance-table queries of one `list` and one `page` call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plans: dict[str, list[dict[str, str]]] = {}
    calls.page()  # past the first page: the page explained below carries a cursor
    for name in ("list", "page"):
        with CaptureQueriesContext(connection) as captured:
            getattr(calls, name)()
        selects = [query["sql"] for query in captured.captured_queries
                   if query["sql"].startswith("SELECT") and '"baton_instances_processinstance"."engine_state"' in query["sql"]
                   and "FROM \"baton_instances_processinstance\"" in query["sql"]]
        plans[name] = []
        with connection.cursor() as cursor:
            for sql in selects[:1]:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plans[name].append({"sql": sql, "plan": "\n".join(row[0] for row in cursor.fetchall())})
    return plans


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# -- the command ------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench api",
        description="p50 and p95 of the API's start, get, list and cursor page with 100,000 instances stored, "
                    "against an empty database.")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_INSTANCES:,} instances and {QUICK_CALLS} calls of each (instead of "
                             f"{FULL_INSTANCES:,} and {DEFAULT_CALLS})")
    parser.add_argument("--instances", type=int, help=f"instances stored for the full phase (default {FULL_INSTANCES:,})")
    parser.add_argument("--calls", type=int, help=f"timed calls of each kind per phase (default {DEFAULT_CALLS})")
    parser.add_argument("--http", action="store_true",
                        help="call gunicorn over loopback instead of Django's stack in this process")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of the list queries on the full database")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--conn-max-age", type=int, default=0,
                        help="CONN_MAX_AGE (default 0, Baton's default; matters with --http)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="baton_bench_api", help="database to drop and recreate (baton_bench*)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672", help="RabbitMQ URL, no vhost")
    parser.add_argument("--vhost", default="baton_bench_api",
                        help="virtual host to recreate with rabbitmqctl and delete at the end")
    parser.add_argument("--results", default="redis://127.0.0.1:6379/0", help="Celery result backend URL")
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/9",
                        help="the throttles' cache (BATON_CACHE_URL); a Redis database of the bench's own")
    args = parser.parse_args(argv)
    args.instances = args.instances or (QUICK_INSTANCES if args.quick else FULL_INSTANCES)
    args.calls = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)
    if args.instances < 1000 or args.calls < 20:
        parser.error("--instances must be at least 1000 and --calls at least 20")
    return args


def clone_database(stack: Stack, target: str) -> None:
    """`target`, made anew as a copy of the bench database (no one may be connected to it)."""
    import psycopg
    from psycopg import sql

    if not target.startswith("baton_bench"):
        raise SetupError(f"refusing to drop database {target!r}: its name must start with baton_bench")
    with psycopg.connect(f"{stack.postgres}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target),
                                                                     sql.Identifier(stack.database)))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stack = Stack(args.postgres, args.database, args.broker, args.vhost, args.results, 1, args.conn_max_age)
    progress = (lambda text: None) if args.json else (lambda text: print(f"  {text}", file=sys.stderr, flush=True))
    environment = stack.environment() | {
        "BATON_PLUGIN_MODULES": "examples.plugins",  # the examples are deployed and run
        "BATON_CACHE_URL": args.cache,
        **{f"BATON_API_RATE_{scope}": HIGH_RATE for scope in ("USER", "START", "COMMAND", "DEPLOY")},
    }
    load_at_start = load_average()
    try:
        check_services(stack)
        progress(f"database {stack.database}: drop, create, migrate")
        recreate_database(stack)
        recreate_vhost(stack)
    except SetupError as exc:
        print(f"scripts/bench api: {exc}", file=sys.stderr)
        return 2
    os.environ.update(environment)
    import django

    django.setup()
    try:
        result = run(args, stack, environment, progress)
    except (SetupError, CallFailed) as exc:
        print(f"scripts/bench api: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, CallFailed) else 2
    finally:
        delete_vhost(stack)
    result["load_average"] = {"start": load_at_start, "end": load_average()}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    report(args, result)
    return 0


def run(args: argparse.Namespace, stack: Stack, environment: dict[str, str],
        progress: Callable[[str], None]) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from apps.definitions.services import definition_deploy

    rng = random.Random(args.seed)
    for name in ("expense_approval", "order_fulfilment", "service_check"):
        definition_deploy(data=(REPO_ROOT / "examples" / f"{name}.bpmn").read_bytes(), source_name=f"{name}.bpmn")
    user = User.objects.create_superuser("bench", "bench@example.com", None)
    token = Token.objects.create(user=user).key
    empty_database = f"{stack.database}_empty"
    progress(f"database {empty_database}: a copy of {stack.database} as it is now (definitions, the user)")
    connection.close()
    clone_database(stack, empty_database)
    progress(f"fill {stack.database}: real runs of the examples as templates")
    templates = make_templates()
    full_targets = Targets()
    progress(f"fill {stack.database}: {args.instances:,} instances by COPY, batches of {BATCH:,}")
    filled = fill(args.instances, templates, user.pk, rng, full_targets, progress)
    cache.clear()  # the bench's own Redis database: throttle counts of an earlier run
    in_process = InProcess(token)
    servers: list[OverHttp] = []
    try:
        if args.http:
            for database in (empty_database, stack.database):
                servers.append(OverHttp(token, environment | {"DATABASE_URL": f"{stack.postgres}/{database}"}))
        sides = [Side("empty", empty_database, servers[0] if servers else in_process),
                 Side("full", stack.database, servers[1] if servers else in_process)]
        for side, targets in zip(sides, (Targets(), full_targets)):
            side.calls = Calls(side.api, targets, rng)
            side.activate()
            for _ in range(PRESTARTS):
                side.calls.start()
        via = sides[0].api.name
        progress(f"measure: {args.calls} rounds of {', '.join(CALLS)} per side, blocks of {BLOCK} ({via})")
        measure(sides, args.calls, WARMUP, progress)
        queries = {}
        for side in sides:
            side.activate()
            queries[side.name] = queries_per_call(Calls(in_process, side.calls.targets, rng))
        plans = explain_lists(Calls(in_process, sides[1].calls.targets, rng)) if args.explain else {}
    finally:
        for server in servers:
            server.close()
        connection.close()
    return {"via": via, "instances": args.instances, "calls": args.calls, "warmup": WARMUP, "block": BLOCK,
            "databases": {"empty": empty_database, "full": stack.database}, "filled": filled,
            "templates": [{"name": t.name, "state": t.state, "weight": t.weight, "variables": len(t.variables),
                           "engine_state_bytes": len(t.engine_state)} for t in templates],
            "phases": {side.name: {name: summary(values) for name, values in side.timings.items()} for side in sides},
            "queries_per_call": queries, "explain": plans}


def targets_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    empty, full = result["phases"]["empty"], result["phases"]["full"]
    ratios = {name: full[name]["p95_ms"] / empty[name]["p95_ms"] for name in CALLS}
    slow = {name: full[name]["p95_ms"] for name in CALLS if not full[name]["p95_ms"] < P95_TARGET_MS}
    grown = {name: round(ratios[name], 2) for name in CALLS if not ratios[name] <= RATIO_TARGET}
    worst_p95 = max(CALLS, key=lambda name: full[name]["p95_ms"])
    worst_ratio = max(CALLS, key=lambda name: ratios[name])
    return [
        {"target": f"p95 under {P95_TARGET_MS:g} ms with {result['instances']:,} instances (every call)",
         "passed": not slow, "missed_by": {name: f"{value} ms" for name, value in slow.items()},
         "worst": {"call": worst_p95, "p95_ms": full[worst_p95]["p95_ms"]}},
        {"target": f"p95 within {RATIO_TARGET:g}x of the empty database (every call)",
         "passed": not grown, "missed_by": {name: f"{value}x" for name, value in grown.items()},
         "worst": {"call": worst_ratio, "ratio": round(ratios[worst_ratio], 2)}},
    ]


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    checks = targets_of(result)
    empty, full = result["phases"]["empty"], result["phases"]["full"]
    result["ratios_p95"] = {name: round(full[name]["p95_ms"] / empty[name]["p95_ms"], 2) for name in CALLS}
    result["ratios_p50"] = {name: round(full[name]["p50_ms"] / empty[name]["p50_ms"], 2) for name in CALLS}
    result["targets"] = checks
    if args.json:
        print(json.dumps(result, indent=2))
        return
    filled = result["filled"]
    lines = [
        f"scripts/bench api: {result['via']}; {result['calls']} timed calls of each kind per database after "
        f"{result['warmup']} warm-up rounds, interleaved, the databases alternating every {result['block']} rounds",
        f"  full database: {filled['instances']:,} instances ({filled['running']:,} running, "
        f"{filled['suspended']:,} suspended), {filled['variables']:,} variables, {filled['open_user_tasks']:,} open "
        f"user tasks, {filled['open_incidents']:,} open incidents; COPY {filled['copy_seconds']} s, "
        f"VACUUM ANALYZE {filled['vacuum_analyze_seconds']} s",
        f"  load average {result['load_average']['start']} at start, {result['load_average']['end']} at end, "
        f"{result['machine']['cpus']} CPUs",
        "",
        f"  {'call':<6} {'empty p50':>10} {'empty p95':>10} {'full p50':>10} {'full p95':>10} {'p50 x':>6} "
        f"{'p95 x':>6} {'SQL':>8}",
    ]
    for name in CALLS:
        queries = f"{result['queries_per_call']['empty'][name]}/{result['queries_per_call']['full'][name]}"
        lines.append(f"  {name:<6} {empty[name]['p50_ms']:>10.1f} {empty[name]['p95_ms']:>10.1f} "
                     f"{full[name]['p50_ms']:>10.1f} {full[name]['p95_ms']:>10.1f} {result['ratios_p50'][name]:>6.2f} "
                     f"{result['ratios_p95'][name]:>6.2f} {queries:>8}")
    lines.append("  (milliseconds; x = full over empty; SQL = statements per call, empty/full)")
    lines.append("")
    for check in checks:
        if check["passed"]:
            worst = ", ".join(f"{key} {value}" for key, value in check["worst"].items())
            lines.append(f"PASS  {check['target']} (worst: {worst})")
        else:
            missed = ", ".join(f"{name} {value}" for name, value in check["missed_by"].items())
            lines.append(f"FAIL  {check['target']} (missed: {missed})")
    for name, plans in result["explain"].items():
        for plan in plans:
            lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the {name} call's instance query:", plan["sql"], plan["plan"]]
    print("\n".join(lines))
