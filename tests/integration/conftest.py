"""The integration harness: the real PostgreSQL, RabbitMQ and Redis, and real Celery processes.

- PostgreSQL: the whole tests/integration package runs on a PostgreSQL test database
  (`test_baton_itest_<pid>`), whatever DATABASE_URL says; the rest of the suite keeps SQLite. The
  package-scoped `django_db_setup` below points Django's default connection at it and back.
- RabbitMQ: a virtual host of the run's own (`baton_itest_<pid>_<random>`, made with
  rabbitmqctl), so that no other worker on the machine takes our messages and no earlier run's
  messages reach ours; it is deleted at the end.
- Workers: `celery -A config worker -P prefork` with no -Q (every queue Baton declares), the
  test database, that virtual host and the test plugins (`plugins_for_tests`). `worker` is one
  per test module; `start_worker` starts more, with settings of their own. `start_beat` runs
  `celery -A config beat` (the sweeps) for one test.
- Tests are `@pytest.mark.django_db(transaction=True)`: workers are other processes and only
  see committed rows.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
import pytest

from config import celery_app
from tests.integration import plugins_for_tests

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN_MODULE = plugins_for_tests.__name__
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
# name, port on 127.0.0.1, how to start it (as in scripts/services.sh)
SERVICES = (
    ("PostgreSQL", 5432, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    ("Redis", 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'),
    ("RabbitMQ", 5672, "rabbitmq-server -detached"),
)
PROCESS_START_SECONDS = 60
PROCESS_STOP_SECONDS = 15
LOG_TAIL_LINES = 60

# Logs of the worker and beat processes of the current test, shown when it fails.
_LOGS: list[tuple[str, Path]] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "restarts_postgres: restarts PostgreSQL; run after every other integration test")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that restart PostgreSQL go after every other integration test."""
    here = Path(__file__).parent
    ours = [i for i, item in enumerate(items) if here in Path(item.path).parents]
    restarts = [item for item in items if item.get_closest_marker("restarts_postgres")]
    if not ours or not restarts:
        return
    last = max(ours)
    kept = [item for item in items[: last + 1] if item not in restarts]
    items[:] = kept + restarts + items[last + 1:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and _LOGS:
        for name, path in _LOGS:
            report.sections.append((f"{name} log (last {LOG_TAIL_LINES} lines)", _tail(path)))
    return report


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


# -- services ------------------------------------------------------------------------------------

def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="package")
def integration_services() -> None:
    """Fail (never skip) every integration test when a service is down, saying which and how to start it."""
    missing = [f"{name} is not reachable on 127.0.0.1:{port}; start it with '{start}'"
               for name, port, start in SERVICES if not _answers(port)]
    if missing:
        pytest.fail("integration tests need PostgreSQL, Redis and RabbitMQ:\n" + "\n".join(missing), pytrace=False)


def _rabbitmqctl(*args: str) -> None:
    command = shutil.which("rabbitmqctl")
    if command is None:
        pytest.fail("RabbitMQ: rabbitmqctl is not on PATH; the integration tests need it to make a virtual host "
                    "of their own", pytrace=False)
    done = subprocess.run([command, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"RabbitMQ: rabbitmqctl {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}",
                    pytrace=False)


@pytest.fixture(scope="package")
def broker_url(integration_services: None) -> Iterator[str]:
    """A RabbitMQ virtual host of this run's own; this process's Celery app publishes there."""
    configured = urlsplit(celery_app.conf.broker_url)
    vhost = f"baton_itest_{os.getpid()}_{secrets.token_hex(3)}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, configured.username or "guest", ".*", ".*", ".*")
    url = urlunsplit((configured.scheme, configured.netloc, f"/{vhost}", "", ""))
    previous = celery_app.conf.broker_url
    _use_broker(url)
    try:
        yield url
    finally:
        _use_broker(previous)
        _rabbitmqctl("delete_vhost", vhost)


def _use_broker(url: str) -> None:
    """Point this process's Celery app at `url`: drop the pools made for the previous broker."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = None
    celery_app.conf.broker_read_url = None


def purge_baton_queues() -> int:
    """Drop every message waiting in the queues Baton declares (CELERY_TASK_QUEUES), in this run's virtual host."""
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        total = 0
        for queue in celery_app.amqp.queues.values():
            bound = queue(channel)
            bound.declare()
            total += bound.purge() or 0
        return total


# -- the PostgreSQL test database ------------------------------------------------------------------

@dataclass
class IntegrationDatabase:
    url: str
    name: str


@pytest.fixture(scope="package")
def django_db_setup(integration_services: None, django_test_environment: None, django_db_blocker) -> Iterator[IntegrationDatabase]:
    """Overrides pytest-django's: the integration package runs on PostgreSQL.

    The default connection is pointed at `postgres://postgres@127.0.0.1:5432/baton_itest_<pid>`
    (Django creates and migrates `test_baton_itest_<pid>`), and put back as it was afterwards,
    so that tests run before or after this package keep their own database."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    settings_dict = connections.configure_settings(
        {"default": environ.Env.db_url_config(f"{POSTGRES_URL}/baton_itest_{os.getpid()}")})["default"]
    with django_db_blocker.unblock():
        previous_settings, previous_connection = connections.settings["default"], connections["default"]
        connections.settings["default"] = settings_dict
        del connections["default"]
        ContentType.objects.clear_cache()
        connection = connections["default"]
        try:
            original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        except Exception:
            connections.settings["default"], connections["default"] = previous_settings, previous_connection
            raise
    name = connection.settings_dict["NAME"]
    try:
        yield IntegrationDatabase(url=f"{POSTGRES_URL}/{name}", name=name)
    finally:
        with django_db_blocker.unblock():
            _disconnect_others(connection, name)
            connection.creation.destroy_test_db(original_name, verbosity=0)
            connection.close()
            connections.settings["default"] = previous_settings
            connections["default"] = previous_connection
            ContentType.objects.clear_cache()


def _disconnect_others(connection, name: str) -> None:
    """A process killed mid-test may leave a session behind; DROP DATABASE refuses while one is open."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                       "AND pid <> pg_backend_pid()", [name])


@pytest.fixture(scope="package", autouse=True)
def _plugins_in_this_process() -> Iterator[None]:
    """The test plugins are known here too, so that definition_deploy accepts models that call them."""
    from django.test import override_settings

    with override_settings(BATON_PLUGIN_MODULES=(PLUGIN_MODULE,)):
        yield


# -- worker and beat processes -------------------------------------------------------------------------

@dataclass
class CeleryProcess:
    """A `celery -A config ...` process in a session (process group) of its own."""

    name: str
    process: subprocess.Popen
    log: Path
    node: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        """Process ids of the worker's pool processes (prefork children)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(entry.name))
        return sorted(found)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGKILL to the whole process group: the test has its outcome by then, and a message
        the process had not acknowledged goes back to its queue (purged before the next worker)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=PROCESS_STOP_SECONDS)

    def task_results(self, task_id: str) -> list[str]:
        """What the task with this id returned, once per run, as the worker logged it ('skipped', ...)."""
        marker = f"[{task_id}] succeeded in "
        return [line.split(marker, 1)[1].partition("s: ")[2].strip()
                for line in self.log_text().splitlines() if marker in line]


def _celery_env(database: IntegrationDatabase, broker: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database.url,
        "CELERY_BROKER_URL": broker,
        "BATON_PLUGIN_MODULES": PLUGIN_MODULE,
        "PYTHONUNBUFFERED": "1",
    })
    env.update({name: str(value) for name, value in extra.items()})
    return env


def _spawn(name: str, arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *arguments], cwd=REPO_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


class Processes:
    """Starts workers and beat for one scope and stops them all at its end."""

    def __init__(self, database: IntegrationDatabase, broker: str, directory: Path) -> None:
        self.database, self.broker, self.directory = database, broker, directory
        self.started: list[CeleryProcess] = []

    def worker(self, *, concurrency: int = 2, **settings: Any) -> CeleryProcess:
        """A worker on every Baton queue; `settings` are environment variables (BATON_JOB_LEASE_SECONDS=8)."""
        node = f"itest-{uuid.uuid4().hex[:10]}@{socket.gethostname()}"
        log = self.directory / f"worker-{node.split('@')[0]}.log"
        env = _celery_env(self.database, self.broker, settings)
        process = _spawn("worker", ["worker", "-P", "prefork", "-c", str(concurrency), "-n", node, "-l", "INFO",
                                    "--without-mingle", "--without-gossip"], env, log)
        started = CeleryProcess(f"worker {node}", process, log, node, env)
        self.started.append(started)
        _LOGS.append((started.name, log))
        deadline = time.monotonic() + PROCESS_START_SECONDS
        while not celery_app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker {node} did not answer a ping within {PROCESS_START_SECONDS} s "
                            f"(exit code {process.poll()}):\n{_tail(log)}", pytrace=False)
        return started

    def beat(self, **settings: Any) -> CeleryProcess:
        """`celery -A config beat` with Baton's schedule (BATON_RELAY_EVERY=... and so on in `settings`)."""
        log = self.directory / f"beat-{uuid.uuid4().hex[:6]}.log"
        env = _celery_env(self.database, self.broker, settings)
        process = _spawn("beat", ["beat", "-l", "INFO"],
                         env, log)
        started = CeleryProcess("beat", process, log, env=env)
        self.started.append(started)
        _LOGS.append((started.name, log))
        deadline = time.monotonic() + PROCESS_START_SECONDS
        while "Sending due task" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"celery beat sent no task within {PROCESS_START_SECONDS} s (exit code {process.poll()}):"
                            f"\n{_tail(log)}", pytrace=False)
            time.sleep(0.1)
        return started

    def stop_all(self) -> None:
        for started in reversed(self.started):
            started.stop()
            if (started.name, started.log) in _LOGS:
                _LOGS.remove((started.name, started.log))
        self.started.clear()


@pytest.fixture(scope="module")
def worker(django_db_setup: IntegrationDatabase, broker_url: str, tmp_path_factory) -> Iterator[CeleryProcess]:
    """One worker for the test module: prefork, two processes, default settings; queues purged first."""
    purge_baton_queues()
    processes = Processes(django_db_setup, broker_url, tmp_path_factory.mktemp("celery"))
    try:
        yield processes.worker()
    finally:
        processes.stop_all()


@pytest.fixture
def celery_processes(django_db_setup: IntegrationDatabase, broker_url: str, tmp_path) -> Iterator[Processes]:
    """Workers and beat of one test (stopped before its database is flushed); queues purged first."""
    purge_baton_queues()
    processes = Processes(django_db_setup, broker_url, tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def start_worker(celery_processes: Processes) -> Callable[..., CeleryProcess]:
    return celery_processes.worker


@pytest.fixture
def start_beat(celery_processes: Processes) -> Callable[..., CeleryProcess]:
    return celery_processes.beat


# -- helpers -------------------------------------------------------------------------------------------

MODELS = Path(__file__).parent / "models"


@pytest.fixture
def run() -> Iterator[str]:
    """An id for this test's plugin calls (the instance variable `run`); its Redis keys go at the end."""
    value = uuid.uuid4().hex
    yield value
    plugins_for_tests.forget(value)


@pytest.fixture
def deploy(transactional_db) -> Callable[[str], Any]:
    """deploy("chain") deploys tests/integration/models/chain.bpmn (or a BPMN string) and returns its definition."""
    from apps.definitions.models import ProcessDefinition
    from apps.definitions.services import definition_deploy

    def deploy(model: str, process_id: str | None = None):
        if model.lstrip().startswith("<"):
            data, source = model.encode("utf-8"), "inline.bpmn"
        else:
            data, source = (MODELS / f"{model}.bpmn").read_bytes(), f"{model}.bpmn"
        result = definition_deploy(data=data, source_name=source)
        chosen = [d for d in result.definitions if process_id in (None, d.key)]
        assert len(chosen) == 1, f"{source}: expected one process, deployed {result.definitions}"
        return ProcessDefinition.objects.get(pk=chosen[0].id)

    return deploy


@pytest.fixture
def start(transactional_db) -> Callable[..., Any]:
    """start(definition, **variables) -> ProcessInstance, through services.instance_start."""
    from apps.instances.services import instance_start

    def start(definition, **variables):
        return instance_start(definition=definition, variables=variables)

    return start


def describe_instance(instance_id: int) -> str:
    """The instance as the database has it: for failure messages."""
    from apps.instances.models import Incident, Job, OutboxMessage, PendingEvent, ProcessInstance

    instance = ProcessInstance.objects.filter(pk=instance_id).first()
    if instance is None:
        return f"instance {instance_id}: no such row"
    lines = [f"instance {instance.pk}: {instance.state}, active {instance.active_elements}, "
             f"revision {instance.revision}, open incidents {instance.open_incidents}"]
    for job in Job.objects.filter(instance=instance).order_by("created_at"):
        lines.append(f"  job {job.pk} {job.element_id} {job.task_name}: {job.state}, attempt {job.attempt}/"
                     f"{job.max_attempts}, redispatches {job.redispatches}, next retry {job.next_retry_at}, "
                     f"error {job.last_error[:200]!r}")
    for incident in Incident.objects.filter(instance=instance):
        lines.append(f"  incident {incident.pk} at {incident.element_id}: resolved {incident.resolved_at}, "
                     f"{incident.message[:200]!r}")
    for event in PendingEvent.objects.filter(instance=instance, applied_at__isnull=True):
        lines.append(f"  unapplied event {event.pk}: {event.event.get('type')}")
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    lines.append(f"  unsent outbox messages (all instances): {unsent}")
    return "\n".join(lines)


def wait_until(predicate: Callable[[], Any], *, timeout: float = 60.0, what: str = "", instance_id: int | None = None,
               interval: float = 0.1) -> Any:
    """Poll `predicate` (which reads the database) until it returns something truthy, and return it.
    A database that is briefly away (restarting) only makes it poll again."""
    from django.db import InterfaceError, OperationalError, connection

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OperationalError, InterfaceError) as exc:
            last_error = exc
            connection.close()
        if time.monotonic() > deadline:
            details = ""
            if instance_id is not None:
                try:
                    details = "\n" + describe_instance(instance_id)
                except (OperationalError, InterfaceError) as exc:
                    details = f"\n(the database did not answer: {exc})"
            if last_error is not None:
                details += f"\nlast database error: {last_error}"
            pytest.fail(f"not true within {timeout:.0f} s: {what or predicate}{details}", pytrace=False)
        time.sleep(interval)


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., Any]:
    return wait_until
