"""Fixtures of the REST API tests: users with tokens, grants, models, and the workers' work done
in-process (the web side only records; tests/integration runs real workers).

The cache is Django's local-memory one here, emptied for each test, so that throttle counts of
one test (or of another run on the same Redis) never reach another; tests that are about the
cache point it at Redis, or at a closed port, themselves.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.access.services import grant_create
from apps.definitions.engines import _engine
from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services, tasks
from apps.instances.models import Job, JobState, ProcessInstance

API = "/api/v1"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://baton.dev/tests">
"""
TAIL = "</bpmn:definitions>\n"


def user_task_process(key: str, *, name: str = "", task: str = '<bpmn:userTask id="review" name="Review"/>') -> str:
    """start -> one user task `review` (as given) -> end."""
    return (HEAD + f'  <bpmn:process id="{key}" name="{name}" isExecutable="true">\n'
            f'    <bpmn:startEvent id="start"/>\n    {task}\n    <bpmn:endEvent id="end"/>\n'
            '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>\n'
            '    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>\n'
            "  </bpmn:process>\n" + TAIL)


def script_process(key: str) -> str:
    """start -> a script dividing by `divisor` (an incident when it is 0) -> end."""
    return (HEAD + f'  <bpmn:process id="{key}" isExecutable="true">\n'
            '    <bpmn:startEvent id="start"/>\n'
            '    <bpmn:scriptTask id="divide"><bpmn:script>ratio = 1 / divisor</bpmn:script></bpmn:scriptTask>\n'
            '    <bpmn:endEvent id="end"/>\n'
            '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="divide"/>\n'
            '    <bpmn:sequenceFlow id="f2" sourceRef="divide" targetRef="end"/>\n'
            "  </bpmn:process>\n" + TAIL)


@pytest.fixture(autouse=True)
def _local_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need passwords (session login), not the production hasher's cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Test transactions roll back, so a definition id can come back with another model."""
    _engine.cache_clear()
    yield
    _engine.cache_clear()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(username: str, *, superuser: bool = False, groups: tuple[str, ...] = ()) -> User:
        user = User.objects.create_user(username, password="pw-" + username, is_superuser=superuser,
                                        is_staff=superuser)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return user
    return make


def client_for(user: User | None) -> APIClient:
    """A client that sends `Authorization: Token KEY` (none for None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def admin(make_user) -> User:
    return make_user("root", superuser=True)


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice", groups=("clerks",))


@pytest.fixture
def bob(make_user) -> User:
    return make_user("bob")


@pytest.fixture
def as_admin(admin) -> APIClient:
    return client_for(admin)


@pytest.fixture
def as_alice(alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def as_bob(bob) -> APIClient:
    return client_for(bob)


def grant(who, action: str, key: str) -> None:
    if isinstance(who, Group):
        grant_create(action=action, definition_key=key, group=who)
    else:
        grant_create(action=action, definition_key=key, user=who)


def deploy(xml: str, name: str = "model.bpmn") -> ProcessDefinition:
    result = definition_deploy(data=xml.encode(), source_name=name)
    return ProcessDefinition.objects.get(pk=result.definitions[0].id)


def work(instance_id: int) -> ProcessInstance:
    """What the workers would do: apply pending events, run every dispatched job."""
    for _ in range(20):
        services.instance_step(instance_id=instance_id)
        dispatched = list(Job.objects.filter(instance_id=instance_id, state=JobState.DISPATCHED))
        if not dispatched:
            break
        for job in dispatched:
            tasks.job_run(str(job.pk))
    return ProcessInstance.objects.get(pk=instance_id)


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape, with this status and code."""
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    body = response.json()
    assert set(body) == {"message", "errors", "code"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    for error in body["errors"]:
        assert set(error) == {"element", "line", "message"}, error
    return body
