"""apps.access: grants (services and admin), key scopes and task offers (selectors)."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError

from apps.access.models import Action, Grant
from apps.access.selectors import EVERYTHING, grant_scope, user_may, user_may_deploy, user_task_is_offered, \
    user_tasks_offered
from apps.access.services import grant_create, grant_delete
from apps.definitions.errors import Conflict, InvalidInput
from apps.instances.models import UserTask

pytestmark = pytest.mark.django_db


def test_grants_to_users_and_groups_make_key_scopes(alice, bob):
    grant_create(action="start", definition_key="order", user=alice)
    grant_create(action="complete", definition_key="refund", group=Group.objects.get(name="clerks"))
    assert grant_scope(user=alice, action=Action.START).keys == {"order"}
    assert grant_scope(user=alice, action=Action.COMPLETE).keys == {"refund"}
    assert grant_scope(user=alice, action=Action.READ).keys == {"order", "refund"}  # read is implied
    assert not grant_scope(user=alice, action=Action.OPERATE).allows("order")
    assert grant_scope(user=bob, action=Action.READ).keys == frozenset()
    grant_create(action="read", definition_key="*", user=bob)
    assert grant_scope(user=bob, action=Action.READ) == EVERYTHING
    assert not user_may(user=bob, action="start", key="order")


def test_superusers_may_everything_and_inactive_users_nothing(admin, alice):
    assert user_may(user=admin, action="operate", key="anything") and user_may_deploy(user=admin)
    grant_create(action="read", definition_key="*", user=alice)
    alice.is_active = False
    assert not user_may(user=alice, action="read", key="order")


def test_deploy_is_global_only(alice):
    with pytest.raises(InvalidInput, match=r"every key \(\*\) only"):
        grant_create(action="deploy", definition_key="order", user=alice)
    assert not user_may_deploy(user=alice)
    grant_create(action="deploy", definition_key="*", user=alice)
    assert user_may_deploy(user=alice)
    assert grant_scope(user=alice, action=Action.READ).keys == frozenset()  # deploy lets you read nothing
    with pytest.raises(IntegrityError):
        Grant.objects.create(action="deploy", definition_key="order", user=alice)


def test_grant_create_refuses_bad_grants(alice):
    clerks = Group.objects.get(name="clerks")
    with pytest.raises(InvalidInput):
        grant_create(action="read", definition_key="x", user=alice, group=clerks)
    with pytest.raises(InvalidInput):
        grant_create(action="read", definition_key="x")
    with pytest.raises(InvalidInput):
        grant_create(action="fly", definition_key="x", user=alice)
    with pytest.raises(InvalidInput):
        grant_create(action="read", definition_key="  ", user=alice)
    grant_create(action="read", definition_key="x", user=alice)
    with pytest.raises(Conflict):
        grant_create(action="read", definition_key="x", user=alice)
    grant_delete(grant=Grant.objects.get())
    assert not Grant.objects.exists()


@pytest.mark.parametrize("fields, offered_to_alice", [
    ({}, True),  # no candidates: anyone
    ({"assignee": "alice"}, True),
    ({"assignee": "bob"}, False),
    ({"assignee": "bob", "candidate_users": ["alice"]}, False),  # claimed by bob
    ({"candidate_users": ["alice", "carol"]}, True),
    ({"candidate_users": ["ali"]}, False),
    ({"candidate_groups": ["clerks"]}, True),
    ({"candidate_groups": ["managers"]}, False),
    ({"candidate_groups": ["managers"], "candidate_users": ["alice"]}, True),
])
def test_offers_in_python_and_in_the_database_agree(alice, admin, fields, offered_to_alice):
    from apps.instances.services import instance_start
    from tests.api.rest.conftest import deploy, user_task_process

    instance = instance_start(definition=deploy(user_task_process("order")))
    task = UserTask.objects.create(instance=instance, engine_job="j", element_id="review",
                                   **{"assignee": None, "candidate_users": [], "candidate_groups": [], **fields})
    assert user_task_is_offered(user=alice, task=task) is offered_to_alice
    assert user_tasks_offered(user=alice, queryset=UserTask.objects.all()).filter(pk=task.pk).exists() \
        is offered_to_alice
    assert user_task_is_offered(user=admin, task=task)


def test_the_admin_adds_and_deletes_grants_through_the_services(admin, alice, client, monkeypatch):
    import apps.access.admin as grant_admin

    calls = []
    monkeypatch.setattr(grant_admin, "grant_create", lambda **kw: calls.append(("create", kw)) or grant_create(**kw))
    monkeypatch.setattr(grant_admin, "grant_delete", lambda **kw: calls.append(("delete", kw)) or grant_delete(**kw))
    client.force_login(admin)
    response = client.post("/admin/access/grant/add/", {"user": alice.pk, "action": "start", "definition_key": "order"})
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = Grant.objects.get()
    assert (grant.user, grant.action, grant.definition_key) == (alice, "start", "order")
    # deploy for one key is refused by the form, with the model's message
    response = client.post("/admin/access/grant/add/", {"user": alice.pk, "action": "deploy", "definition_key": "x"})
    assert response.status_code == 200 and "deploy is granted for every key (*) only." in response.content.decode()
    assert client.get(f"/admin/access/grant/{grant.pk}/change/").status_code == 200  # read only
    response = client.post(f"/admin/access/grant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Grant.objects.exists()
    assert [name for name, _ in calls] == ["create", "delete"]
