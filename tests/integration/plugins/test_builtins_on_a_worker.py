"""The built-in plugins through the real broker (RabbitMQ), a real `celery -A config worker` and Redis."""
from __future__ import annotations

from config import celery_app


def test_echo_returns_its_message_through_the_worker(worker):
    result = celery_app.send_task("echo", kwargs={"message": "hello"})

    assert result.get(timeout=30) == {"echo": "hello"}


def test_log_returns_nothing_through_the_worker(worker):
    result = celery_app.send_task("log", kwargs={"message": "from the integration test"})

    assert result.get(timeout=30) is None
    assert result.successful()
    assert "from the integration test" in worker.log_text()
