"""/api/v1/incidents/: list with filters, read, retry (needs operate)."""
from __future__ import annotations

import pytest

from apps.instances.models import Incident
from tests.api.rest.conftest import API, assert_error, deploy, grant, script_process, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(as_admin) -> tuple[int, int]:
    """An instance stopped at `divide` (division by zero) and its incident."""
    deploy(script_process("calc"))
    instance = as_admin.post(f"{API}/instances/", {"definition_key": "calc", "variables": {"divisor": 0}},
                             format="json").json()["id"]
    work(instance)
    return instance, Incident.objects.get(instance_id=instance).pk


def test_list_filters_and_retrieve(as_admin, failing):
    instance, incident = failing
    body = as_admin.get(f"{API}/incidents/").json()
    [shown] = body["results"]
    assert shown == {"id": incident, "instance": instance, "definition": {"key": "calc", "version": 1},
                     "element": "divide", "message": shown["message"], "opened_at": shown["opened_at"],
                     "resolved_at": None, "resolved_by": None}
    assert "division by zero" in shown["message"]
    assert as_admin.get(f"{API}/incidents/{incident}/").json() == shown
    assert [i["id"] for i in as_admin.get(f"{API}/incidents/?resolved=false").json()["results"]] == [incident]
    assert as_admin.get(f"{API}/incidents/?resolved=true").json()["results"] == []
    assert [i["id"] for i in as_admin.get(f"{API}/incidents/?instance={instance}").json()["results"]] == [incident]
    assert as_admin.get(f"{API}/incidents/?instance={instance + 1}").json()["results"] == []
    assert_error(as_admin.get(f"{API}/incidents/?resolved=perhaps"), 400, "invalid_input")


def test_retry_resolves_it_and_the_element_runs_again(as_admin, admin, failing):
    instance, incident = failing
    as_admin.patch(f"{API}/instances/{instance}/variables/", {"set": {"divisor": 4}}, format="json")
    response = as_admin.post(f"{API}/incidents/{incident}/retry/")
    assert response.status_code == 200
    assert response.json()["resolved_at"] and response.json()["resolved_by"] == "root"
    assert_error(as_admin.post(f"{API}/incidents/{incident}/retry/"), 409, "conflict")
    assert work(instance).state == "completed"
    assert [i["id"] for i in as_admin.get(f"{API}/incidents/?resolved=true").json()["results"]] == [incident]


def test_incidents_are_scoped_and_retry_needs_operate(as_alice, alice, failing):
    _, incident = failing
    assert as_alice.get(f"{API}/incidents/").json()["results"] == []
    assert_error(as_alice.get(f"{API}/incidents/{incident}/"), 404, "not_found")
    assert_error(as_alice.post(f"{API}/incidents/{incident}/retry/"), 404, "not_found")
    grant(alice, "read", "calc")
    assert len(as_alice.get(f"{API}/incidents/").json()["results"]) == 1
    assert_error(as_alice.post(f"{API}/incidents/{incident}/retry/"), 403, "permission_denied")
    grant(alice, "operate", "calc")
    assert as_alice.post(f"{API}/incidents/{incident}/retry/").status_code == 200


def test_unknown_incident_is_404(as_admin):
    assert_error(as_admin.post(f"{API}/incidents/12345/retry/"), 404, "not_found")
