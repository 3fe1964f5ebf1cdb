"""/api/v1/instances/: start, list with filters, read, history, diagram, cancel, suspend, resume, variables."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.instances.masking import MASK
from apps.instances.models import OperationLog, ProcessInstance
from tests.api.rest.conftest import API, assert_error, deploy, grant, script_process, user_task_process, work

pytestmark = pytest.mark.django_db

ORDER = user_task_process("order")


def start(client, **body):
    return client.post(f"{API}/instances/", body, format="json")


# -- start ----------------------------------------------------------------------------------------------

def test_start_by_key_is_201_with_the_instance_object(as_admin, admin):
    definition = deploy(ORDER)
    response = start(as_admin, definition_key="order", variables={"qty": 2, "api_token": "s3cret"},
                     business_key="A-17")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "definition", "state", "suspended", "business_key", "variables", "active",
                         "incidents", "started_at", "ended_at"}
    assert body["definition"] == {"key": "order", "version": definition.version}
    assert body["state"] == "running" and body["business_key"] == "A-17" and body["ended_at"] is None
    assert body["variables"] == {"api_token": MASK, "qty": 2}
    instance = ProcessInstance.objects.get(pk=body["id"])
    assert instance.started_by == admin
    assert work(instance.pk).active_elements == ["review"]
    shown = as_admin.get(f"{API}/instances/{instance.pk}/").json()
    assert shown["active"] == [{"id": "review", "type": "userTask"}]
    assert shown["variables"]["api_token"] == MASK


def test_start_by_id_starts_that_version(as_admin):
    first = deploy(ORDER)
    deploy(ORDER.replace('name="Review"', 'name="Check"'))
    body = start(as_admin, definition_id=first.id).json()
    assert body["definition"]["version"] == 1
    assert start(as_admin, definition_key="order").json()["definition"]["version"] == 2


def test_start_needs_exactly_one_of_key_and_id(as_admin):
    deploy(ORDER)
    body = assert_error(start(as_admin, variables={}), 400, "invalid_input")
    assert body["errors"][0]["element"] is None and "definition_key or definition_id" in body["message"]
    assert_error(start(as_admin, definition_key="order", definition_id=1), 400, "invalid_input")


@pytest.mark.parametrize("body, element", [
    ({"definition_key": "order", "variables": [1, 2]}, "variables"),
    ({"definition_key": "order", "variables": "x"}, "variables"),
    ({"definition_key": 7 * "x" * 100}, "definition_key"),
    ({"definition_id": "seven"}, "definition_id"),
    ({"definition_id": -1}, "definition_id"),
    ({"definition_key": "order", "business_key": "b" * 300}, "business_key"),
])
def test_bad_start_input_is_400_naming_the_field(as_admin, body, element):
    deploy(ORDER)
    errors = assert_error(as_admin.post(f"{API}/instances/", body, format="json"), 400, "invalid_input")["errors"]
    assert errors[0]["element"] == element and errors[0]["line"] is None


def test_variables_the_engine_cannot_store_are_400(as_admin, settings):
    deploy(ORDER)
    settings.BATON_MAX_VARIABLE_BYTES = 10
    body = assert_error(start(as_admin, definition_key="order", variables={"big": "x" * 100}), 400, "invalid_input")
    assert "'big'" in body["message"]


def test_malformed_json_is_400(as_admin):
    response = as_admin.post(f"{API}/instances/", '{"definition_key": ', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_an_unknown_definition_is_404_and_an_all_retired_key_409(as_admin):
    assert_error(start(as_admin, definition_key="nope"), 404, "not_found")
    assert_error(start(as_admin, definition_id=99999), 404, "not_found")
    definition = deploy(ORDER)
    definition.retired = True
    definition.save()
    assert_error(start(as_admin, definition_key="order"), 409, "conflict")


def test_start_permissions_404_without_read_403_without_start(as_alice, alice):
    definition = deploy(ORDER)
    assert_error(start(as_alice, definition_key="order"), 404, "not_found")
    assert_error(start(as_alice, definition_id=definition.id), 404, "not_found")
    grant(alice, "read", "order")
    body = assert_error(start(as_alice, definition_key="order"), 403, "permission_denied")
    assert "start" in body["message"]
    grant(alice, "start", "order")
    assert start(as_alice, definition_key="order").status_code == 201
    assert not OperationLog.objects.filter(action="start", user=alice).count() != 1


# -- list and read ---------------------------------------------------------------------------------------

@pytest.fixture
def three(as_admin):
    """Three instances: order A-1 (at review), order A-2 (suspended), and a script one with an incident."""
    deploy(ORDER)
    deploy(script_process("calc"))
    a1 = start(as_admin, definition_key="order", business_key="A-1").json()["id"]
    a2 = start(as_admin, definition_key="order", business_key="A-2").json()["id"]
    c = start(as_admin, definition_key="calc", variables={"divisor": 0}).json()["id"]
    for pk in (a1, a2, c):
        work(pk)
    as_admin.post(f"{API}/instances/{a2}/suspend/")
    return a1, a2, c


def ids(client, query: str = "") -> list[int]:
    response = client.get(f"{API}/instances/{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_list_is_newest_first_and_every_filter_works(as_admin, three):
    a1, a2, c = three
    assert ids(as_admin) == [c, a2, a1]
    assert ids(as_admin, "?state=running") == [c, a2, a1]
    assert ids(as_admin, "?state=completed") == []
    assert ids(as_admin, "?suspended=true") == [a2]
    assert ids(as_admin, "?suspended=false") == [c, a1]
    assert ids(as_admin, "?has_incident=true") == [c]
    assert ids(as_admin, "?has_incident=false") == [a2, a1]
    assert ids(as_admin, "?definition_key=calc") == [c]
    assert ids(as_admin, "?business_key=A-1") == [a1]
    assert ids(as_admin, "?active_element=review") == [a2, a1]
    assert ids(as_admin, "?active_element=divide") == [c]
    now = timezone.now()
    assert ids(as_admin, f"?started_after={(now - dt.timedelta(minutes=5)).isoformat().replace('+', '%2B')}") \
        == [c, a2, a1]
    assert ids(as_admin, f"?started_before={(now - dt.timedelta(minutes=5)).isoformat().replace('+', '%2B')}") == []


@pytest.mark.parametrize("query", ["?state=lost", "?suspended=maybe", "?started_after=yesterday",
                                   "?has_incident=2"])
def test_bad_filters_are_400(as_admin, query):
    assert_error(as_admin.get(f"{API}/instances/{query}"), 400, "invalid_input")


def test_cursor_pagination(as_admin, three):
    a1, a2, c = three
    first = as_admin.get(f"{API}/instances/?page_size=2").json()
    assert [i["id"] for i in first["results"]] == [c, a2] and first["previous"] is None
    second = as_admin.get(first["next"]).json()
    assert [i["id"] for i in second["results"]] == [a1] and second["next"] is None
    assert_error(as_admin.get(f"{API}/instances/?cursor=garbage"), 404, "not_found")


def test_list_and_read_are_scoped_by_grant(as_alice, alice, three):
    a1, a2, c = three
    assert ids(as_alice) == []
    assert_error(as_alice.get(f"{API}/instances/{a1}/"), 404, "not_found")
    grant(alice, "operate", "calc")
    assert ids(as_alice) == [c]
    assert as_alice.get(f"{API}/instances/{c}/").status_code == 200
    assert_error(as_alice.get(f"{API}/instances/{a1}/history/"), 404, "not_found")


def test_history_is_paginated_oldest_first_like_instance_history(as_admin, three):
    from apps.instances.selectors import instance_history

    a1, _, _ = three
    first = as_admin.get(f"{API}/instances/{a1}/history/?page_size=2").json()
    rows = first["results"] + as_admin.get(first["next"]).json()["results"]
    expected = instance_history(ProcessInstance.objects.get(pk=a1))
    assert rows == expected[:len(rows)]
    assert [r["element_id"] for r in rows[:3]] == ["start", "f1", "review"]


def test_instance_diagram_marks_active_taken_and_incidents(as_admin, three):
    a1, _, c = three
    svg = as_admin.get(f"{API}/instances/{a1}/diagram.svg").content.decode()
    assert 'data-element="review"' in svg and 'data-state="active"' in svg and 'data-state="taken"' in svg
    svg = as_admin.get(f"{API}/instances/{c}/diagram.svg").content.decode()
    assert 'data-state="incident"' in svg


# -- commands --------------------------------------------------------------------------------------------

def test_suspend_resume_cancel_and_their_conflicts(as_admin, three):
    a1, a2, _ = three
    assert as_admin.post(f"{API}/instances/{a1}/suspend/").json()["suspended"] is True
    assert_error(as_admin.post(f"{API}/instances/{a1}/suspend/"), 409, "conflict")
    assert as_admin.post(f"{API}/instances/{a1}/resume/").json()["suspended"] is False
    assert_error(as_admin.post(f"{API}/instances/{a1}/resume/"), 409, "conflict")
    cancelled = as_admin.post(f"{API}/instances/{a1}/cancel/").json()
    assert cancelled["state"] == "cancelled" and cancelled["ended_at"] and cancelled["active"] == []
    assert_error(as_admin.post(f"{API}/instances/{a1}/cancel/"), 409, "conflict")
    assert_error(as_admin.post(f"{API}/instances/{a1}/suspend/"), 409, "conflict")
    assert_error(as_admin.post(f"{API}/instances/99999/cancel/"), 404, "not_found")


def test_commands_need_operate(as_alice, alice, three):
    a1, _, _ = three
    assert_error(as_alice.post(f"{API}/instances/{a1}/cancel/"), 404, "not_found")
    grant(alice, "read", "order")
    for command in ("cancel", "suspend", "resume"):
        assert_error(as_alice.post(f"{API}/instances/{a1}/{command}/"), 403, "permission_denied")
    assert_error(as_alice.patch(f"{API}/instances/{a1}/variables/", {"set": {"x": 1}}, format="json"), 403,
                 "permission_denied")
    grant(alice, "operate", "order")
    assert as_alice.post(f"{API}/instances/{a1}/cancel/").status_code == 200
    log = OperationLog.objects.get(action="cancel", instance_id=a1)
    assert log.user == alice


def test_patch_variables_sets_and_deletes_and_logs_who(as_admin, admin, three):
    a1, _, _ = three
    as_admin.patch(f"{API}/instances/{a1}/variables/", {"set": {"note": "x", "password": "p"}}, format="json")
    response = as_admin.patch(f"{API}/instances/{a1}/variables/", {"set": {"qty": 3}, "delete": ["note"]},
                              format="json")
    assert response.status_code == 200
    assert response.json()["variables"] == {"password": MASK, "qty": 3}
    log = OperationLog.objects.filter(action="set_variables", instance_id=a1).order_by("id").last()
    assert log.user == admin and log.details == {"set": ["qty"], "delete": ["note"]}


@pytest.mark.parametrize("body", [{}, {"set": []}, {"delete": "note"}, {"set": {}, "delete": []}])
def test_patch_variables_bad_input_is_400(as_admin, three, body):
    a1, _, _ = three
    assert_error(as_admin.patch(f"{API}/instances/{a1}/variables/", body, format="json"), 400, "invalid_input")


def test_patch_variables_of_an_ended_instance_is_409(as_admin, three):
    a1, _, _ = three
    as_admin.post(f"{API}/instances/{a1}/cancel/")
    assert_error(as_admin.patch(f"{API}/instances/{a1}/variables/", {"set": {"x": 1}}, format="json"), 409,
                 "conflict")
