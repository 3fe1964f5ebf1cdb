"""One error shape everywhere; no input answers 500; an unavailable database is 503."""
from __future__ import annotations

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.api.exceptions import exception_handler
from tests.api.rest.conftest import API, assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/nothing/", "/instances/abc/", "/instances/1,5/", "/instances/-1/",
                                  "/instances/99999999999999999999999/", "/tasks/0x10/complete/"])
def test_unknown_paths_and_ids_that_are_not_ids_are_404_json(as_admin, path):
    assert_error(as_admin.get(API + path), 404, "not_found")
    assert_error(as_admin.post(API + path, {}, format="json"), 404, "not_found")


def test_a_missing_trailing_slash_says_so_instead_of_redirecting_a_post(as_admin):
    body = assert_error(as_admin.post(f"{API}/instances", {}, format="json"), 404, "not_found")
    assert "/api/v1/instances/" in body["message"]


def test_wrong_method_is_405_and_unknown_media_type_415(as_admin):
    assert_error(as_admin.delete(f"{API}/instances/"), 405, "method_not_allowed")
    assert_error(as_admin.put(f"{API}/definitions/1/", {}, format="json"), 405, "method_not_allowed")
    assert_error(as_admin.post(f"{API}/instances/", "a=b", content_type="application/x-www-form-urlencoded"), 415,
                 "unsupported_media_type")


def test_an_accept_header_nothing_renders_still_gets_json(as_admin):
    response = as_admin.get(f"{API}/instances/", HTTP_ACCEPT="application/x-nothing")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_a_request_body_over_the_limit_is_413(as_admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert_error(as_admin.post(f"{API}/instances/", {"definition_key": "x" * 200}, format="json"), 413, "too_large")


def test_an_unavailable_database_is_503(admin, settings):
    """The real thing: the default connection pointed at a PostgreSQL port where nothing listens."""
    client = client_for(admin)  # the token is made while the database is there
    original = connections["default"]
    from django.db.backends.postgresql.base import DatabaseWrapper

    closed = DatabaseWrapper({**original.settings_dict, "ENGINE": "django.db.backends.postgresql", "NAME": "baton",
                              "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": "1",
                              "OPTIONS": {"connect_timeout": 2}, "CONN_MAX_AGE": 0}, "default")
    connections["default"] = closed
    try:
        token = client.get(f"{API}/instances/")
        forced = APIClient()
        forced.force_authenticate(admin)
        body = forced.post(f"{API}/instances/", {"definition_key": "order"}, format="json")
    finally:
        connections["default"] = original
        closed.close()
    assert_error(token, 503, "unavailable")  # even authentication needs the database
    assert token["Retry-After"] == "5"
    assert_error(body, 503, "unavailable")


def _response_for(exc):
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data["code"]


def test_broker_and_cache_connection_errors_are_503():
    from amqp.exceptions import ConnectionForced
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    assert _response_for(OperationalError("[Errno 111] Connection refused")) == (503, "unavailable")
    assert _response_for(ConnectionForced("closed")) == (503, "unavailable")
    assert _response_for(RedisConnectionError("refused")) == (503, "unavailable")
    assert exception_handler(ZeroDivisionError(), {}) is None  # a bug stays a bug (500)


def test_django_validation_errors_from_a_service_keep_the_shape():
    from django.core.exceptions import ValidationError

    response = exception_handler(ValidationError({"definition_key": ["bad"]}), {})
    assert response.status_code == 400
    assert response.data == {"message": "definition_key: bad", "code": "invalid_input",
                             "errors": [{"element": "definition_key", "line": None, "message": "bad"}]}


def test_nested_validation_errors_name_the_dotted_path(as_admin):
    body = assert_error(as_admin.patch(f"{API}/instances/1/variables/", {}, format="json"), 404, "not_found")
    assert body["errors"] == []
    body = assert_error(as_admin.post(f"{API}/instances/", {"definition_key": ["a"], "variables": {}},
                                      format="json"), 400, "invalid_input")
    assert body["errors"][0]["element"] == "definition_key"


def test_a_500_under_the_api_keeps_the_shape(rf):
    from apps.api.views.errors import server_error

    response = server_error(rf.get("/api/v1/instances/"))
    assert response.status_code == 500
    import json
    assert json.loads(response.content) == {"message": "internal error", "errors": [], "code": "server_error"}
    assert server_error(rf.get("/admin/")).status_code == 500
