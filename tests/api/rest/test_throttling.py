"""Throttles: per user, and per scope (deploy, start, command), counted in the shared cache."""
from __future__ import annotations

import copy

import pytest
from django.conf import settings as django_settings

from tests.api.rest.conftest import API, assert_error, deploy, user_task_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def use(**rates: str) -> None:
        config = copy.deepcopy(django_settings.REST_FRAMEWORK)
        config["DEFAULT_THROTTLE_RATES"].update(rates)
        settings.REST_FRAMEWORK = config
    return use


def test_a_scope_over_its_rate_is_429_with_retry_after(as_admin, as_bob, rates):
    rates(start="2/min")
    deploy(user_task_process("order"))
    for _ in range(2):
        assert as_admin.post(f"{API}/instances/", {"definition_key": "order"}, format="json").status_code == 201
    response = as_admin.post(f"{API}/instances/", {"definition_key": "order"}, format="json")
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert as_admin.get(f"{API}/instances/").status_code == 200  # reads are another scope
    assert_error(as_bob.post(f"{API}/instances/", {"definition_key": "order"}, format="json"), 404, "not_found")


def test_every_call_counts_against_the_user_rate(as_bob, rates):
    rates(user="3/min")
    for _ in range(3):
        assert as_bob.get(f"{API}/service-tasks/").status_code == 200
    assert_error(as_bob.get(f"{API}/instances/"), 429, "throttled")


def test_counts_live_in_redis_by_default():
    from config import settings as project_settings  # as configured (these tests swap in a local cache)

    assert project_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert project_settings.CACHES["default"]["LOCATION"].startswith("redis://")


def test_an_unreachable_cache_lets_calls_through(as_bob, rates, settings):
    rates(user="1/min")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/1",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    for _ in range(2):
        assert as_bob.get(f"{API}/service-tasks/").status_code == 200
