"""Idempotency-Key: a retry gets the first answer; the same key for another request is 422."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.api.idempotency import LOCK_SECONDS
from apps.api.models import IdempotencyRecord
from apps.definitions.models import ProcessDefinition
from apps.instances.models import ProcessInstance
from tests.api.rest.conftest import API, assert_error, client_for, deploy, user_task_process

pytestmark = pytest.mark.django_db

ORDER = user_task_process("order")


def start(client, key: str | None = "k-1", **body):
    body = body or {"definition_key": "order", "variables": {"qty": 1}}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"{API}/instances/", body, format="json", **headers)


def test_a_retry_gets_the_first_answer_and_starts_nothing_more(as_admin):
    deploy(ORDER)
    first = start(as_admin)
    again = start(as_admin)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert ProcessInstance.objects.count() == 1
    assert start(as_admin, key="k-2").json()["id"] != first.json()["id"]
    assert start(as_admin, key=None).status_code == 201
    assert ProcessInstance.objects.count() == 3


def test_the_same_key_with_another_body_or_endpoint_is_422(as_admin):
    deploy(ORDER)
    start(as_admin)
    assert_error(start(as_admin, definition_key="order", variables={"qty": 2}), 422, "idempotency_key_reused")
    instance = ProcessInstance.objects.get()
    assert_error(as_admin.post(f"{API}/instances/{instance.pk}/suspend/", HTTP_IDEMPOTENCY_KEY="k-1"), 422,
                 "idempotency_key_reused")
    assert ProcessInstance.objects.count() == 1 and not ProcessInstance.objects.get().suspended


def test_the_same_json_in_another_key_order_is_the_same_request(as_admin):
    deploy(ORDER)
    first = as_admin.post(f"{API}/instances/", '{"definition_key": "order", "variables": {"a": 1, "b": 2}}',
                          content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = as_admin.post(f"{API}/instances/", '{"variables": {"b": 2, "a": 1}, "definition_key": "order"}',
                          content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.json() == first.json()


def test_keys_are_per_user(as_alice, as_admin, alice):
    deploy(ORDER)
    from tests.api.rest.conftest import grant
    grant(alice, "start", "order")
    mine = start(as_admin)
    theirs = start(as_alice)
    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]


def test_errors_are_replayed_too_but_not_server_side_failures(as_admin):
    deploy(ORDER)
    first = start(as_admin, definition_key="nope")
    assert_error(first, 404, "not_found")
    deploy(user_task_process("nope"))
    assert start(as_admin, definition_key="nope").json() == first.json()  # the first answer, still
    assert IdempotencyRecord.objects.get().status_code == 404


def test_completing_twice_is_409_but_the_first_answer_with_the_same_key(as_admin):
    from apps.instances.models import UserTask
    from tests.api.rest.conftest import work

    deploy(ORDER)
    instance = start(as_admin, key=None).json()["id"]
    work(instance)
    url = f"{API}/tasks/{UserTask.objects.get(instance_id=instance).pk}/complete/"
    first = as_admin.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c")
    assert first.status_code == 200
    assert as_admin.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c").json() == first.json()
    assert_error(as_admin.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="d"), 409, "conflict")


def test_a_key_still_running_is_409_and_one_whose_request_died_is_taken_over(as_admin, admin):
    deploy(ORDER)
    start(as_admin)
    record = IdempotencyRecord.objects.get()
    record.status_code, record.body = None, None  # as if the first request were still running
    record.locked_until = timezone.now() + dt.timedelta(seconds=LOCK_SECONDS)
    record.save()
    assert_error(start(as_admin), 409, "idempotency_key_in_progress")
    record.locked_until = timezone.now() - dt.timedelta(seconds=1)  # its process died
    record.save()
    assert start(as_admin).status_code == 201
    assert ProcessInstance.objects.count() == 2


def test_expired_keys_are_forgotten(as_admin, settings):
    deploy(ORDER)
    first = start(as_admin).json()["id"]
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert start(as_admin).json()["id"] != first
    assert IdempotencyRecord.objects.count() == 1


def test_the_ttl_is_configurable(as_admin, settings):
    settings.BATON_IDEMPOTENCY_TTL = 60
    deploy(ORDER)
    start(as_admin)
    record = IdempotencyRecord.objects.get()
    assert dt.timedelta(seconds=55) < record.expires_at - record.created_at < dt.timedelta(seconds=65)


def test_a_deploy_retried_with_a_new_multipart_boundary_is_the_same_request(as_admin):
    def upload():
        return as_admin.post(f"{API}/definitions/", {"file": SimpleUploadedFile("o.bpmn", ORDER.encode())},
                             format="multipart", HTTP_IDEMPOTENCY_KEY="deploy-1")

    first = upload()
    assert first.status_code == 201
    again = upload()
    assert (again.status_code, again.json()) == (201, first.json())  # 201 again: the first answer
    assert ProcessDefinition.objects.count() == 1


def test_a_key_too_long_is_400(as_admin):
    deploy(ORDER)
    body = assert_error(start(as_admin, key="k" * 256), 400, "invalid_input")
    assert body["errors"][0]["element"] == "Idempotency-Key"


def test_malformed_json_with_a_key_is_400_and_takes_no_key(as_admin):
    response = as_admin.post(f"{API}/instances/", "{", content_type="application/json", HTTP_IDEMPOTENCY_KEY="m")
    assert_error(response, 400, "parse_error")
    assert not IdempotencyRecord.objects.exists()


def test_every_post_honours_the_key(as_admin):
    deploy(ORDER)
    instance = start(as_admin, key=None).json()["id"]
    url = f"{API}/instances/{instance}/suspend/"
    assert as_admin.post(url, HTTP_IDEMPOTENCY_KEY="s").status_code == 200
    assert as_admin.post(url, HTTP_IDEMPOTENCY_KEY="s").status_code == 200  # replayed, not 409
    assert_error(as_admin.post(url), 409, "conflict")
