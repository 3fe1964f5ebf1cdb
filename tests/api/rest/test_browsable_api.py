"""The browsable API (what a browser gets, Accept: text/html): no endpoint answers 500."""
from __future__ import annotations

import pytest

from apps.instances.models import Incident, UserTask
from tests.api.rest.conftest import API, deploy, script_process, user_task_process, work

pytestmark = pytest.mark.django_db


def test_every_endpoint_renders_for_a_browser(as_admin):
    deploy(user_task_process("order"))
    definition = deploy(script_process("calc"))
    at_task = as_admin.post(f"{API}/instances/", {"definition_key": "order"}, format="json").json()["id"]
    failed = as_admin.post(f"{API}/instances/", {"definition_key": "calc", "variables": {"divisor": 0}},
                           format="json").json()["id"]
    work(at_task)
    work(failed)
    task, incident = UserTask.objects.get(instance_id=at_task).pk, Incident.objects.get(instance_id=failed).pk
    calls = [
        ("get", "/"), ("get", "/definitions/"), ("get", f"/definitions/{definition.id}/"), ("post", "/definitions/"),
        ("post", f"/definitions/{definition.id}/retire/"), ("get", "/instances/"), ("get", f"/instances/{at_task}/"),
        ("get", f"/instances/{at_task}/history/"), ("post", "/instances/"), ("patch", f"/instances/{at_task}/variables/"),
        ("post", f"/instances/{at_task}/suspend/"), ("get", "/tasks/"), ("get", f"/tasks/{task}/"),
        ("post", f"/tasks/{task}/claim/"), ("post", f"/tasks/{task}/complete/"), ("get", "/incidents/"),
        ("get", f"/incidents/{incident}/"), ("post", f"/incidents/{incident}/retry/"), ("get", "/service-tasks/"),
        ("get", "/instances/999/"), ("post", "/instances/999/cancel/"), ("get", "/docs/"),
    ]
    answers = {}
    for method, path in calls:
        response = getattr(as_admin, method)(API + path, HTTP_ACCEPT="text/html")
        answers[f"{method} {path}"] = response.status_code
        assert response["Content-Type"].startswith("text/html"), (method, path, response["Content-Type"])
    assert not {call: status for call, status in answers.items() if status >= 500}
    assert answers["get /instances/"] == 200 and answers["post /instances/"] == 400
