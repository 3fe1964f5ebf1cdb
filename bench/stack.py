"""What the benches that run Baton through real processes share, beyond what `bench/celery.py`
already sets up (its database, virtual host, workers, WAL meter and task events are reused as
they are, imported from there):

- `PluginStack`: the same stack with the bench's own plugin modules (BATON_PLUGIN_MODULES);
- `BrokerCounters`: RabbitMQ's own byte counters for the bench's virtual host;
- `cluster_wal_bytes`: PostgreSQL's `pg_stat_wal.wal_bytes` (the whole cluster); `toast_owners`;
- `queue_depth`: one queue's ready messages, asked with a passive declare;
- `Beat` and `WebServer`: `celery -A config beat` and gunicorn, started and stopped by a bench.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.celery import REPO_ROOT, SetupError, Stack


@dataclass(frozen=True)
class PluginStack(Stack):
    """bench/celery.py's stack, with the plugin modules the workers load named here."""

    plugins: str = "bench.celery_plugins"
    """Comma-separated plugin modules (BATON_PLUGIN_MODULES)."""
    extra: tuple[tuple[str, str], ...] = ()
    """More settings for every process of the stack, as (variable, value) pairs."""

    def environment(self) -> dict[str, str]:
        return super().environment() | {"BATON_PLUGIN_MODULES": self.plugins} | dict(self.extra)


# -- the broker's own counters ------------------------------------------------------------------------

@dataclass(frozen=True)
class BrokerBytes:
    received: int
    """Octets RabbitMQ read from the clients: published messages (task messages, Celery events),
    acks, confirms' requests, heartbeats and framing."""
    sent: int
    """Octets RabbitMQ wrote to the clients: deliveries, publisher confirms, heartbeats."""
    closed: int
    """Connections open at the first snapshot and gone at the second: what they carried between
    the two is missing from the sums (the bench's own processes keep theirs open)."""

    @property
    def total(self) -> int:
        return self.received + self.sent


class BrokerCounters:
    """`recv_oct`/`send_oct` of every connection to one virtual host, from `rabbitmqctl
    list_connections` (RabbitMQ's socket counters; no management plugin needed). The difference
    between two snapshots is what crossed the broker's sockets in between: a connection opened in
    between counts whole, one closed in between is counted in `closed`."""

    def __init__(self, vhost: str) -> None:
        if shutil.which("rabbitmqctl") is None:
            raise SetupError("rabbitmqctl is not on PATH: the broker's byte counters cannot be read")
        self.vhost = vhost
        self.excluded_ports: set[int] = set()
        """Client ports of connections left out (the bench's own event listener: what it receives
        would not be sent to anyone in production unless a monitor listens)."""

    def snapshot(self) -> dict[str, tuple[int, int]]:
        done = subprocess.run(["rabbitmqctl", "-q", "list_connections", "--no-table-headers", "vhost", "name",
                               "peer_port", "recv_oct", "send_oct"], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SetupError(f"rabbitmqctl list_connections failed: {done.stderr.strip() or done.stdout.strip()}")
        counters = {}
        for line in done.stdout.splitlines():
            fields = line.split("\t")
            if len(fields) != 5 or fields[0] != self.vhost or not fields[2].isdigit():
                continue
            if int(fields[2]) in self.excluded_ports:
                continue
            counters[fields[1]] = (int(fields[3]), int(fields[4]))
        return counters

    @staticmethod
    def between(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> BrokerBytes:
        received = sent = 0
        for name, (recv, send) in after.items():
            was = before.get(name, (0, 0))
            received += recv - was[0]
            sent += send - was[1]
        return BrokerBytes(received, sent, sum(1 for name in before if name not in after))


def local_port(connection: Any) -> int | None:
    """The client port of an open kombu connection (py-amqp transport), or None."""
    try:
        return int(connection.connection.sock.getsockname()[1])
    except Exception:
        return None


def cluster_wal_bytes(conn: Any) -> int:
    """`pg_stat_wal.wal_bytes`: WAL the whole cluster generated since its statistics were reset
    (other databases' work included; a backend reports its share within about a second)."""
    return int(conn.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0])


def toast_owners(conn: Any) -> dict[str, str]:
    """{"pg_toast_<oid>": "<table> (TOAST)", ...} for the tables of the connection's database:
    whose large values (JSON such as an instance's engine state) a WAL record on a TOAST relation
    carries."""
    names = {}
    for oid, name in conn.execute("SELECT oid, relname FROM pg_class WHERE reltoastrelid <> 0").fetchall():
        names[f"pg_toast_{oid}"] = f"{name} (TOAST)"
        names[f"pg_toast_{oid}_index"] = f"{name} (TOAST index)"
    return names


def queue_depth(app: Any, name: str) -> int | None:
    """Ready messages in one queue (a passive declare on a connection of its own); None when the
    queue is not declared yet."""
    with app.connection_for_write() as conn:
        channel = conn.channel()
        try:
            return int(channel.queue_declare(name, passive=True)[1])
        except Exception:  # NOT_FOUND closes the channel
            return None
        finally:
            try:
                channel.close()
            except Exception:
                pass


# -- more processes of the stack ----------------------------------------------------------------------

class _Process:
    """A child process of the bench with its output in a temporary log."""

    label = "process"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.log = tempfile.NamedTemporaryFile(prefix=f"baton-bench-{self.label}-", suffix=".log", delete=False)
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, cwd=REPO_ROOT, env=os.environ | self.stack.environment(),
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def remove_log(self) -> None:
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


class Beat(_Process):
    """`celery -A config beat` with the DatabaseScheduler (which installs CELERY_BEAT_SCHEDULE)."""

    label = "beat"

    def start(self) -> None:
        # No pidfile: the default, celerybeat.pid in the repository, would clash with another beat.
        self._spawn([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                     "--pidfile="])
        time.sleep(0.5)
        if self.process is not None and self.process.poll() is not None:
            raise SetupError(f"celery beat stopped at once; its log:\n{self.tail()}")


class WebServer(_Process):
    """gunicorn serving `config.wsgi` on a free local port."""

    label = "web"

    def __init__(self, stack: Stack, *, workers: int = 2, threads: int = 1) -> None:
        super().__init__(stack)
        self.workers, self.threads = workers, threads
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self._spawn([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                     "--workers", str(self.workers), "--threads", str(self.threads), "--log-level", "warning"])
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if (self.process is not None and self.process.poll() is not None) or time.monotonic() > deadline:
                    self.stop()
                    raise SetupError(f"gunicorn did not answer within {timeout:g} s; its log:\n{self.tail()}")
                time.sleep(0.2)
