"""/healthz and /readyz: unauthenticated, at the root, nothing but the status.

Failures are real: the broker, the cache or the database pointed at a port where nothing listens."""
from __future__ import annotations

import time

import pytest
from django.db import connections
from django.test import Client

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

CLOSED = "127.0.0.1:1"


@pytest.fixture
def broker(monkeypatch):
    """Point Celery at a broker URL for one test: kombu's in-memory transport unless changed."""
    def use(url: str) -> None:
        monkeypatch.setattr(celery_app.conf, "broker_url", url)
    use("memory://")
    return use


def test_healthz_says_ok_without_authentication():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert Client().post("/healthz").status_code == 405


def test_readyz_is_ok_when_database_broker_and_cache_answer(broker):
    response = Client().get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_503_when_the_broker_is_unavailable(broker):
    broker(f"amqp://guest:guest@{CLOSED}//")
    began = time.monotonic()
    response = Client().get("/readyz")
    assert time.monotonic() - began < 10
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_readyz_is_503_when_the_cache_is_unavailable(broker, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://{CLOSED}/1",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_readyz_is_503_when_the_database_is_unavailable(broker):
    from django.db.backends.postgresql.base import DatabaseWrapper

    original = connections["default"]
    closed = DatabaseWrapper({**original.settings_dict, "ENGINE": "django.db.backends.postgresql", "NAME": "baton",
                              "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": "1",
                              "OPTIONS": {"connect_timeout": 2}, "CONN_MAX_AGE": 0}, "default")
    connections["default"] = closed
    try:
        response = Client().get("/readyz")
    finally:
        connections["default"] = original
        closed.close()
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_the_probes_are_not_under_the_api():
    assert Client().get("/api/v1/healthz").status_code == 404
