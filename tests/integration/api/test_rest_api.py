"""The REST API over real HTTP (a live server thread), on PostgreSQL, with a real worker:
deploy, start (with an Idempotency-Key), the worker runs a plugin and stops at a user task,
complete it through the API, the worker ends the instance."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from apps.access.services import grant_create
from apps.instances.models import InstanceState, OperationLog, ProcessInstance

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="api_order" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="say" baton:task="echo"/>
    <bpmn:userTask id="approve" camunda:candidateGroups="approvers"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="say"/>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="approve"/>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def http_server(transactional_db):
    """A live HTTP server for this test only. Not pytest-django's `live_server`: that one is
    session-scoped, so it is made before this package points Django at PostgreSQL, and after
    SQLite tests it would hand their in-memory database to the server thread."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost")
    try:
        yield server
    finally:
        server.stop()


class Api:
    """A tiny HTTP client: JSON in and out, `Authorization: Token KEY`."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base.rstrip("/") + "/api/v1", token

    def call(self, method: str, path: str, body: bytes | dict | None = None, *, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Accept": "application/json",
            **({"Content-Type": content_type} if data is not None else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def test_start_worker_complete_over_http(worker, http_server, wait_until):
    deployer = User.objects.create_user("deployer", password="unused-" + uuid.uuid4().hex)
    clerk = User.objects.create_user("clerk", password="unused-" + uuid.uuid4().hex)
    from django.contrib.auth.models import Group
    clerk.groups.add(Group.objects.create(name="approvers"))
    grant_create(action="deploy", definition_key="*", user=deployer)
    grant_create(action="start", definition_key="api_order", user=clerk)
    grant_create(action="complete", definition_key="api_order", user=clerk)
    admin_api = Api(http_server.url, Token.objects.create(user=deployer).key)
    api = Api(http_server.url, Token.objects.create(user=clerk).key)

    status, deployed = admin_api.call("POST", "/definitions/", MODEL, content_type="application/xml")
    assert status == 201, deployed
    assert api.call("POST", "/definitions/", MODEL, content_type="application/xml")[0] == 403

    key = {"Idempotency-Key": f"start-{uuid.uuid4().hex}"}
    body = {"definition_key": "api_order", "variables": {"message": "hello"}, "business_key": "HTTP-1"}
    status, started = api.call("POST", "/instances/", body, headers=key)
    assert status == 201, started
    assert api.call("POST", "/instances/", body, headers=key) == (201, started)  # the retry: the first answer
    instance_id = started["id"]
    assert ProcessInstance.objects.filter(business_key="HTTP-1").count() == 1

    def waiting_for_approval():
        status, tasks = api.call("GET", f"/tasks/?instance={instance_id}")
        assert status == 200, tasks
        return tasks["results"]

    [task] = wait_until(waiting_for_approval, what="the worker ran echo and the instance waits at approve",
                        instance_id=instance_id)
    assert task["element"] == "approve" and task["candidate_groups"] == ["approvers"]
    status, shown = api.call("GET", f"/instances/{instance_id}/")
    assert shown["active"] == [{"id": "approve", "type": "userTask"}] and shown["variables"]["echo"] == "hello"

    status, completed = api.call("POST", f"/tasks/{task['id']}/complete/", {"variables": {"approved": True}})
    assert status == 200 and completed["completed_by"] == "clerk", completed
    status, again = api.call("POST", f"/tasks/{task['id']}/complete/", {"variables": {"approved": True}})
    assert status == 409 and again["code"] == "conflict"

    def ended():
        return api.call("GET", f"/instances/{instance_id}/")[1]["state"] == InstanceState.COMPLETED

    wait_until(ended, what="the worker applies the completion and the instance ends", instance_id=instance_id)
    status, final = api.call("GET", f"/instances/{instance_id}/")
    assert final["variables"] == {"approved": True, "echo": "hello", "message": "hello"}
    assert final["ended_at"] and final["active"] == []
    status, history = api.call("GET", f"/instances/{instance_id}/history/?page_size=100")
    assert [row["element_id"] for row in history["results"] if row["element_type"] != "sequenceFlow"] == [
        "start", "say", "approve", "end"]
    assert list(OperationLog.objects.filter(instance_id=instance_id, user__isnull=False)
                .order_by("id").values_list("action", "user__username")) == [("start", "clerk"),
                                                                             ("complete_task", "clerk")]
