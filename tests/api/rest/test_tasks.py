"""/api/v1/tasks/: who is offered what, claim, unclaim, complete (twice: 409), declared form fields."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.instances.models import OperationLog, UserTask
from tests.api.rest.conftest import API, HEAD, TAIL, assert_error, deploy, grant, user_task_process, work

pytestmark = pytest.mark.django_db

FORM = """<bpmn:userTask id="review" camunda:candidateGroups="clerks">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="approved" type="boolean"/><camunda:formField id="comment" type="string"/>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>"""
MODELS = {
    "open": user_task_process("open"),  # no candidates: offered to anyone with `complete`
    "clerks": user_task_process("clerks", task=FORM),  # candidate group clerks, two form fields
    "bobs": user_task_process("bobs", task='<bpmn:userTask id="review" camunda:assignee="bob"/>'),
    "users": user_task_process("users", task='<bpmn:userTask id="review" camunda:candidateUsers="alice, carol"/>'),
}


@pytest.fixture
def tasks(as_admin) -> dict[str, int]:
    """One open user task per model above, by model key."""
    found = {}
    for key, xml in MODELS.items():
        deploy(xml)
        instance = as_admin.post(f"{API}/instances/", {"definition_key": key}, format="json").json()["id"]
        work(instance)
        found[key] = UserTask.objects.get(instance_id=instance).pk
    return found


def listed(client, query: str = "") -> list[int]:
    response = client.get(f"{API}/tasks/{query}")
    assert response.status_code == 200, response.json()
    return sorted(task["id"] for task in response.json()["results"])


def test_by_default_the_list_shows_the_open_tasks_offered_to_the_caller(as_alice, as_bob, alice, bob, tasks):
    assert listed(as_alice) == []
    grant(Group.objects.get(name="clerks"), "complete", "*")  # alice is a clerk, bob is not
    grant(bob, "complete", "*")
    assert listed(as_alice) == sorted([tasks["open"], tasks["clerks"], tasks["users"]])
    assert listed(as_bob) == sorted([tasks["open"], tasks["bobs"]])
    # offered=false: every task of the processes one may read, offered or not
    assert listed(as_bob, "?offered=false") == sorted(tasks.values())


def test_the_complete_grant_is_per_key(as_alice, alice, tasks):
    grant(alice, "complete", "clerks")
    grant(alice, "read", "open")
    assert listed(as_alice) == [tasks["clerks"]]
    assert listed(as_alice, "?offered=false") == sorted([tasks["clerks"], tasks["open"]])


def test_filters(as_admin, tasks):
    every = sorted(tasks.values())
    assert listed(as_admin) == every  # superusers are offered everything
    assert listed(as_admin, "?candidate_group=clerks") == [tasks["clerks"]]
    assert listed(as_admin, "?assignee=bob") == [tasks["bobs"]]
    assert listed(as_admin, "?element=review") == every
    assert listed(as_admin, "?element=other") == []
    task = UserTask.objects.get(pk=tasks["open"])
    assert listed(as_admin, f"?instance={task.instance_id}") == [task.pk]
    assert listed(as_admin, "?state=completed") == []
    as_admin.post(f"{API}/tasks/{task.pk}/complete/", {}, format="json")
    assert listed(as_admin, "?state=completed") == [task.pk]
    assert listed(as_admin, "?state=any") == every
    for query in ("?state=done", "?instance=x", "?offered=maybe"):
        assert_error(as_admin.get(f"{API}/tasks/{query}"), 400, "invalid_input")


def test_retrieve_shows_the_task(as_admin, tasks):
    body = as_admin.get(f"{API}/tasks/{tasks['clerks']}/").json()
    task = UserTask.objects.get(pk=tasks["clerks"])
    assert body == {
        "id": task.pk, "instance": task.instance_id, "definition": {"key": "clerks", "version": 1},
        "element": "review", "name": "", "state": "open", "assignee": None, "candidate_users": [],
        "candidate_groups": ["clerks"], "form_fields": ["approved", "comment"], "created_at": body["created_at"],
        "claimed_at": None, "completed_at": None, "completed_by": None,
    }


def test_complete_then_again_is_409_and_the_instance_ends(as_alice, alice, tasks):
    grant(alice, "complete", "open")
    task = tasks["open"]
    response = as_alice.post(f"{API}/tasks/{task}/complete/", {"variables": {"ok": True}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "completed" and response.json()["completed_by"] == "alice"
    assert_error(as_alice.post(f"{API}/tasks/{task}/complete/", {}, format="json"), 409, "conflict")
    instance = work(UserTask.objects.get(pk=task).instance_id)
    assert instance.state == "completed"
    assert dict(instance.variables.values_list("name", "value"))["ok"] is True


def test_completing_again_with_the_same_idempotency_key_is_the_first_answer(as_alice, alice, tasks):
    grant(alice, "complete", "open")
    url = f"{API}/tasks/{tasks['open']}/complete/"
    first = as_alice.post(url, {"variables": {"ok": True}}, format="json", HTTP_IDEMPOTENCY_KEY="done-1")
    again = as_alice.post(url, {"variables": {"ok": True}}, format="json", HTTP_IDEMPOTENCY_KEY="done-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (200, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert OperationLog.objects.filter(action="complete_task").count() == 1


def test_only_declared_form_fields_are_accepted(as_alice, alice, tasks):
    grant(alice, "complete", "clerks")
    url = f"{API}/tasks/{tasks['clerks']}/complete/"
    body = assert_error(as_alice.post(url, {"variables": {"approved": True, "salary": 1, "bonus": 2}}, format="json"),
                        400, "invalid_input")
    assert "bonus" in body["message"] and "salary" in body["message"] and "approved" not in body["message"]
    assert as_alice.post(url, {"variables": {"approved": True}}, format="json").status_code == 200


@pytest.mark.parametrize("body", [{"variables": [1]}, {"variables": "yes"}])
def test_completion_variables_must_be_an_object(as_admin, tasks, body):
    assert_error(as_admin.post(f"{API}/tasks/{tasks['open']}/complete/", body, format="json"), 400, "invalid_input")


def test_completing_a_task_you_may_not_complete_is_403_and_unreadable_404(as_alice, as_bob, alice, bob, tasks):
    # no grant at all: the task is invisible
    assert_error(as_bob.post(f"{API}/tasks/{tasks['open']}/complete/", {}, format="json"), 404, "not_found")
    assert_error(as_bob.get(f"{API}/tasks/{tasks['open']}/"), 404, "not_found")
    # read, but not complete
    grant(bob, "read", "*")
    assert_error(as_bob.post(f"{API}/tasks/{tasks['open']}/complete/", {}, format="json"), 403, "permission_denied")
    # complete, but the task is assigned to bob / offered to clerks only
    grant(alice, "complete", "*")
    assert_error(as_alice.post(f"{API}/tasks/{tasks['bobs']}/complete/", {}, format="json"), 403,
                 "permission_denied")
    grant(bob, "complete", "*")
    assert_error(as_bob.post(f"{API}/tasks/{tasks['clerks']}/complete/", {}, format="json"), 403,
                 "permission_denied")
    assert as_bob.post(f"{API}/tasks/{tasks['bobs']}/complete/", {}, format="json").status_code == 200


def test_claim_and_unclaim(as_alice, as_bob, alice, bob, make_user, tasks):
    grant(alice, "complete", "*")
    grant(bob, "complete", "*")
    url = f"{API}/tasks/{tasks['open']}"
    claimed = as_alice.post(f"{url}/claim/").json()
    assert claimed["assignee"] == "alice" and claimed["claimed_at"]
    assert as_alice.post(f"{url}/claim/").json()["assignee"] == "alice"  # already yours: unchanged
    # now only alice is offered it
    assert tasks["open"] not in listed(as_bob)
    assert_error(as_bob.post(f"{url}/claim/"), 403, "permission_denied")
    assert_error(as_bob.post(f"{url}/complete/", {}, format="json"), 403, "permission_denied")
    assert_error(as_bob.post(f"{url}/unclaim/"), 403, "permission_denied")
    unclaimed = as_alice.post(f"{url}/unclaim/").json()
    assert unclaimed["assignee"] is None and unclaimed["claimed_at"] is None
    assert_error(as_alice.post(f"{url}/unclaim/"), 409, "conflict")
    assert as_bob.post(f"{url}/claim/").json()["assignee"] == "bob"
    # an operator may unclaim anyone's task
    carol = make_user("carol")
    grant(carol, "operate", "open")
    from tests.api.rest.conftest import client_for
    assert client_for(carol).post(f"{url}/unclaim/").json()["assignee"] is None
    actions = list(OperationLog.objects.filter(user_task_id=tasks["open"]).order_by("id")
                   .values_list("action", "user__username"))
    assert actions == [("claim_task", "alice"), ("unclaim_task", "alice"), ("claim_task", "bob"),
                       ("unclaim_task", "carol")]


def test_a_claimed_task_is_a_conflict_for_another_candidate_and_ended_tasks_cannot_be_claimed(as_admin, tasks):
    url = f"{API}/tasks/{tasks['bobs']}"
    body = assert_error(as_admin.post(f"{url}/claim/"), 409, "conflict")
    assert "bob" in body["message"]
    as_admin.post(f"{url}/complete/", {}, format="json")
    assert_error(as_admin.post(f"{url}/claim/"), 409, "conflict")
    assert_error(as_admin.post(f"{url}/unclaim/"), 409, "conflict")


def test_candidate_users_match_names_exactly(as_alice, make_user, alice, tasks):
    grant(alice, "complete", "users")
    assert listed(as_alice) == [tasks["users"]]
    from tests.api.rest.conftest import client_for
    ali = make_user("ali")  # a prefix of alice: not a candidate
    grant(ali, "complete", "users")
    assert listed(client_for(ali)) == []
    assert_error(client_for(ali).post(f"{API}/tasks/{tasks['users']}/claim/"), 403, "permission_denied")


RECEIVE = HEAD + """  <bpmn:message id="m" name="paid"/>
  <bpmn:process id="waits" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:receiveTask id="wait" messageRef="m"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
""" + TAIL


def test_receive_tasks_are_not_user_tasks(as_admin):
    deploy(RECEIVE)
    instance = as_admin.post(f"{API}/instances/", {"definition_key": "waits"}, format="json").json()["id"]
    assert work(instance).active_elements == ["wait"]
    assert listed(as_admin, "?offered=false&state=any") == []
    # where the engine keeps a receive task as a task row, it cannot be completed as a user task
    for row in UserTask.objects.filter(instance_id=instance):
        assert_error(as_admin.post(f"{API}/tasks/{row.pk}/complete/", {}, format="json"), 404, "not_found")
