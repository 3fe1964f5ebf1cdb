"""/api/v1/schema/ and /api/v1/docs/, and the API checked against its own schema with schemathesis.

Every operation of the schema gets a bounded number of generated requests (valid and invalid,
derandomized so that a run is repeatable), sent in-process through the WSGI application as an
authenticated superuser, on a database holding a definition, an instance, a user task and an
incident: none may answer 500, and every answer must match what the schema documents.
"""
from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.api.rest.conftest import API, deploy, script_process, user_task_process, work

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 20


def test_the_schema_is_openapi_3_and_names_every_endpoint(as_bob):
    response = as_bob.get(f"{API}/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {f"{API}/definitions/", f"{API}/definitions/{{id}}/xml/", f"{API}/definitions/{{id}}/diagram.svg",
            f"{API}/definitions/{{id}}/retire/", f"{API}/instances/", f"{API}/instances/{{id}}/history/",
            f"{API}/instances/{{id}}/variables/", f"{API}/tasks/{{id}}/complete/", f"{API}/tasks/{{id}}/claim/",
            f"{API}/incidents/{{id}}/retry/", f"{API}/service-tasks/"} <= paths
    deploy_op = schema["paths"][f"{API}/definitions/"]["post"]
    assert set(deploy_op["requestBody"]["content"]) == {"multipart/form-data", "application/xml"}
    assert {"201", "200", "400", "413"} <= set(deploy_op["responses"])
    assert "ErrorBody" in str(schema["components"]["schemas"]) or "Error" in schema["components"]["schemas"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_page_serves_swagger_ui_from_our_own_static_files(as_bob):
    page = as_bob.get(f"{API}/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    from django.contrib.staticfiles import finders
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_a_browser_not_logged_in_is_sent_to_the_login_page_and_back(bob):
    from django.test import Client

    browser = Client()
    page = browser.get(f"{API}/docs/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert page.status_code == 302 and page["Location"] == f"{API}/auth/login/?next=%2Fapi%2Fv1%2Fdocs%2F"
    assert browser.get(page["Location"]).status_code == 200
    back = browser.post(page["Location"], {"username": "bob", "password": "pw-bob"})
    assert back.status_code == 302 and back["Location"] == f"{API}/docs/"
    assert browser.get(f"{API}/docs/", HTTP_ACCEPT="text/html").status_code == 200


# -- schemathesis ---------------------------------------------------------------------------------------

def generated_schema() -> dict:
    """The schema the endpoint serves, generated without a request (at collection time)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def test_the_served_schema_is_the_one_checked_below(as_bob):
    assert as_bob.get(f"{API}/schema/?format=json").json() == generated_schema()


# schemathesis's lazy `from_fixture` loader does not run on pytest 9 (it sets a private node
# attribute that pytest 9 removed), so the schema is built here and given the WSGI application.
schema = schemathesis.openapi.from_dict(generated_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def auth(admin) -> dict[str, str]:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=admin)[0].key}"}


@pytest.fixture
def seeded(as_admin):
    """A definition, a running instance at a user task, and one stopped by an incident."""
    deploy(user_task_process("order"))
    deploy(script_process("calc"))
    for body in ({"definition_key": "order"}, {"definition_key": "calc", "variables": {"divisor": 0}}):
        work(as_admin.post(f"{API}/instances/", body, format="json").json()["id"])


@pytest.fixture
def one_connection():
    """Calls go through the real WSGI handler, which closes the database connection after each
    request (that would end the test's transaction): as Django's test client does, not here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_answers_500_or_breaks_the_schema(case, auth, seeded, one_connection):
    response = case.call(headers=auth)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance])
