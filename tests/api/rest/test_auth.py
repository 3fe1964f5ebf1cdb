"""Every endpoint needs an authenticated user: 401 with the error shape, token and session both work."""
from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.rest.conftest import API, assert_error

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/"), ("get", "/schema/"), ("get", "/docs/"),
    ("get", "/definitions/"), ("post", "/definitions/"), ("get", "/definitions/1/"), ("get", "/definitions/1/xml/"),
    ("get", "/definitions/1/diagram.svg"), ("post", "/definitions/1/retire/"),
    ("get", "/instances/"), ("post", "/instances/"), ("get", "/instances/1/"), ("get", "/instances/1/history/"),
    ("get", "/instances/1/diagram.svg"), ("post", "/instances/1/cancel/"), ("post", "/instances/1/suspend/"),
    ("post", "/instances/1/resume/"), ("patch", "/instances/1/variables/"),
    ("get", "/tasks/"), ("get", "/tasks/1/"), ("post", "/tasks/1/claim/"), ("post", "/tasks/1/unclaim/"),
    ("post", "/tasks/1/complete/"),
    ("get", "/incidents/"), ("get", "/incidents/1/"), ("post", "/incidents/1/retry/"),
    ("get", "/service-tasks/"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_anonymous_is_401_with_the_token_challenge(method, path):
    response = getattr(APIClient(), method)(API + path, format="json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert_error(client.get(f"{API}/instances/"), 401, "authentication_failed")


def test_an_inactive_users_token_is_401(bob):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bob).key}")
    bob.is_active = False
    bob.save()
    assert_error(client.get(f"{API}/instances/"), 401, "authentication_failed")


def test_session_login_works_for_the_browsable_api(bob):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="bob", password="pw-bob")
    assert client.get(f"{API}/instances/").status_code == 200
    page = client.get(f"{API}/instances/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    # a session write without the CSRF token is refused
    assert_error(client.post(f"{API}/instances/", {"definition_key": "x"}, format="json"), 403, "permission_denied")


def test_drf_create_token_makes_a_working_token(bob):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("drf_create_token", "bob", stdout=out)
    key = Token.objects.get(user=bob).key
    assert key in out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"{API}/service-tasks/").status_code == 200
