"""The built-in plugins through the real broker (RabbitMQ), a real `celery -A config worker` and Redis."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from config import celery_app

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKER_START_SECONDS = 60


@pytest.fixture(scope="module")
def worker_queue():
    """A worker of our own on a queue of our own, so that no other worker on the broker takes our tasks."""
    queue = f"baton-test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue,
            "--hostname", node, "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not celery_app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]
                pytest.fail(f"the Celery worker did not answer within {WORKER_START_SECONDS} s:\n{output}")
        yield queue
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)


def test_echo_returns_its_message_through_the_worker(worker_queue):
    result = celery_app.send_task("echo", kwargs={"message": "hello"}, queue=worker_queue)

    assert result.get(timeout=30) == {"echo": "hello"}


def test_log_returns_nothing_through_the_worker(worker_queue):
    result = celery_app.send_task("log", kwargs={"message": "from the integration test"}, queue=worker_queue)

    assert result.get(timeout=30) is None
    assert result.successful()


def test_http_request_calls_a_local_server_through_the_worker(worker_queue):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"pong": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ping"
        result = celery_app.send_task("http.request", kwargs={"url": url}, queue=worker_queue)

        assert result.get(timeout=30)["response"] == {"pong": True}
    finally:
        server.shutdown()
        server.server_close()
