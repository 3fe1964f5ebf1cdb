"""The read side: `apps.definitions.selectors` and `apps.instances.selectors`."""
from __future__ import annotations

import datetime as dt

import pytest

from apps.definitions.engines import _engine
from apps.definitions.models import ProcessDefinition
from apps.definitions.selectors import definition_latest
from apps.definitions.services import definition_deploy, definition_retire
from apps.instances.models import FlowNodeInstance, Job, JobState, ProcessInstance
from apps.instances.selectors import (
    instance_active, instance_get, instance_history, instance_is_settled, iso_utc, plain_value,
)
from apps.instances.services import instance_cancel, instance_start, instance_step, instance_suspend

pytestmark = pytest.mark.django_db

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"/>
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""
# start -> a user task -> end
PERSON = """    <bpmn:userTask id="review"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
"""
# start -> the echo plugin -> end
SERVICE = """    <bpmn:serviceTask id="say" baton:task="echo"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="say"/>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="end"/>
"""
# start -> split -> (user task a -> join, straight to join) -> end: one token waits at the join
SPLIT = """    <bpmn:parallelGateway id="split"/>
    <bpmn:userTask id="a"/>
    <bpmn:userTask id="b"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="a"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="b"/>
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="b" targetRef="join"/>
    <bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="end"/>
"""


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Rolled-back test transactions reuse definition ids: forget engines built for other tests."""
    _engine.cache_clear()
    yield
    _engine.cache_clear()


def _deploy(body: str, *, key: str = "p", name: str = "", tenant_id: str | None = None) -> ProcessDefinition:
    xml = HEAD.replace("{key}", key).replace("{name}", name) + body + TAIL
    deployed = definition_deploy(data=xml.encode(), source_name=f"{key}.bpmn", user=None, tenant_id=tenant_id)
    return ProcessDefinition.objects.get(pk=deployed.definitions[0].id)


def _start(definition: ProcessDefinition, *, step: bool = True) -> ProcessInstance:
    instance = instance_start(definition=definition, variables={}, business_key=None, user=None)
    if step:
        instance_step(instance_id=instance.pk)  # the worker's code, in-process
    return instance_get(instance.pk)


# -- definitions -------------------------------------------------------------------------------------

def test_definition_latest_is_the_highest_version_not_retired():
    assert definition_latest("p") is None
    first = _deploy(PERSON, name="one")
    second = _deploy(PERSON, name="two")

    assert definition_latest("p") == second
    definition_retire(definition=second)
    assert definition_latest("p") == first
    definition_retire(definition=first)
    assert definition_latest("p") is None


def test_definition_latest_keeps_tenants_apart():
    mine = _deploy(PERSON)
    theirs = _deploy(PERSON, name="theirs", tenant_id="acme")

    assert definition_latest("p") == mine
    assert definition_latest("p", tenant_id="acme") == theirs
    assert definition_latest("p", tenant_id="other") is None


# -- instances ---------------------------------------------------------------------------------------

def test_instance_get_returns_none_for_an_unknown_id():
    assert instance_get(123456) is None


def test_a_recorded_start_is_not_settled_until_a_worker_applies_it():
    instance = _start(_deploy(PERSON), step=False)

    assert not instance_is_settled(instance)
    instance_step(instance_id=instance.pk)
    assert instance_is_settled(instance_get(instance.pk))  # waits for a person


def test_an_unfinished_job_is_automated_work():
    instance = _start(_deploy(SERVICE))

    job = Job.objects.get(instance=instance)
    assert instance.state == "running" and job.state == JobState.DISPATCHED
    for state in (JobState.PENDING, JobState.DISPATCHED, JobState.STARTED, JobState.RETRY):
        Job.objects.filter(pk=job.pk).update(state=state)
        assert not instance_is_settled(instance), state
    for state in (JobState.FAILED, JobState.COMPLETED, JobState.CANCELLED):
        Job.objects.filter(pk=job.pk).update(state=state)
        assert instance_is_settled(instance), state


def test_queued_engine_work_is_automated_work():
    instance = _start(_deploy(PERSON))
    token = next(iter(instance.engine_state["tokens"]))
    ProcessInstance.objects.filter(pk=instance.pk).update(
        engine_state={**instance.engine_state, "queue": [["complete", token]]})

    assert not instance_is_settled(instance_get(instance.pk))


def test_suspended_cancelled_and_completed_instances_are_settled():
    definition = _deploy(SERVICE)
    suspended = _start(definition)
    instance_suspend(instance_id=suspended.pk, user=None)
    cancelled = _start(definition)
    instance_cancel(instance_id=cancelled.pk, user=None)

    assert instance_is_settled(instance_get(suspended.pk))
    assert instance_is_settled(instance_get(cancelled.pk))
    assert instance_get(cancelled.pk).state == "cancelled"


def test_active_lists_one_entry_per_token_with_the_type_from_the_model():
    instance = _start(_deploy(SPLIT))

    assert instance_active(instance) == [
        {"id": "a", "type": "userTask"}, {"id": "b", "type": "userTask"}, {"id": "join", "type": "parallelGateway"},
    ]


def test_active_orders_tokens_by_creation_not_by_text():
    instance = _start(_deploy(SPLIT))
    tokens = {"10": {"id": "10", "node": "b"}, "9": {"id": "9", "node": "a"}, "11": {"id": "11", "node": "a"}}
    ProcessInstance.objects.filter(pk=instance.pk).update(engine_state={**instance.engine_state, "tokens": tokens})

    assert [a["id"] for a in instance_active(instance_get(instance.pk))] == ["a", "b", "a"]


def test_a_recorded_instance_has_nothing_active():
    assert instance_active(_start(_deploy(PERSON), step=False)) == []


def test_history_rows_carry_their_duration_in_milliseconds():
    instance = _start(_deploy(PERSON))
    row = FlowNodeInstance.objects.filter(instance=instance, element_id="start").get()
    FlowNodeInstance.objects.filter(pk=row.pk).update(ended_at=row.started_at + dt.timedelta(milliseconds=1234.4))

    history = instance_history(instance)

    assert [(r["element_id"], r["duration_ms"]) for r in history] == [("start", 1234), ("f1", 0), ("review", None)]


def test_times_are_iso_8601_in_utc_with_a_z():
    paris = dt.timezone(dt.timedelta(hours=2))

    assert iso_utc(dt.datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=paris)) == "2024-05-01T12:00:00.000005Z"
    assert iso_utc(dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)) == "2024-05-01T12:00:00Z"
    assert iso_utc(None) is None


def test_plain_value_turns_typed_values_into_their_text_at_any_depth():
    stored = {"due": {"$type": "date", "value": "2024-05-01"}, "items": [{"$type": "decimal", "value": "1.50"}],
              "other": {"$type": "x", "value": 1, "extra": True}}

    assert plain_value(stored) == {"due": "2024-05-01", "items": ["1.50"], "other": {"$type": "x", "value": 1,
                                                                                     "extra": True}}


def test_a_page_of_instances_costs_two_queries_more_and_equals_the_one_by_one_objects(django_assert_max_num_queries):
    from apps.definitions.models import ProcessDefinition
    from apps.definitions.services import definition_deploy
    from apps.instances.models import ProcessInstance
    from apps.instances.selectors import instance_to_dict, instances_to_dicts
    from apps.instances.services import instance_start
    from tests.api.instances.test_behaviour_table import MODEL

    definition = ProcessDefinition.objects.get(pk=definition_deploy(data=MODEL).definitions[0].id)
    for n in range(10):
        instance_start(definition=definition, variables={"message": f"m{n}", "divisor": n})
    page = list(ProcessInstance.objects.select_related("definition").order_by("-id"))
    with django_assert_max_num_queries(2):
        together = instances_to_dicts(page)
    assert together == [instance_to_dict(i) for i in page]
