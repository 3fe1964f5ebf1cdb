"""Call activities in the running system: a child instance linked to its parent, results back,
a child's BPMN error caught by the call activity's boundary, cancel cascading, unknown keys."""
from __future__ import annotations

import pytest

from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services
from apps.instances.inprocess import run_all_in_process as work
from apps.instances.models import Incident, ProcessInstance, UserTask

pytestmark = pytest.mark.django_db

CHILD = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="c" targetNamespace="t">
  <bpmn:error id="e" errorCode="TOO_BIG"/>
  <bpmn:process id="child" isExecutable="true">
    <bpmn:startEvent id="cs"/>
    <bpmn:userTask id="check"/>
    <bpmn:scriptTask id="double"><bpmn:script>doubled = n * 2</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="g" default="ok"/>
    <bpmn:endEvent id="ce"/>
    <bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="e"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="check"/>
    <bpmn:sequenceFlow id="c1" sourceRef="check" targetRef="double"/>
    <bpmn:sequenceFlow id="c2" sourceRef="double" targetRef="g"/>
    <bpmn:sequenceFlow id="ok" sourceRef="g" targetRef="ce"/>
    <bpmn:sequenceFlow id="bad" sourceRef="g" targetRef="boom">
      <bpmn:conditionExpression>doubled &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""

PARENT = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="p" targetNamespace="t">
  <bpmn:error id="e" errorCode="TOO_BIG"/>
  <bpmn:process id="parent" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call" calledElement="CALLED">
      <bpmn:extensionElements><camunda:in source="x" target="n"/><camunda:out source="doubled" target="y"/>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:boundaryEvent id="big" attachedToRef="call"><bpmn:errorEventDefinition errorRef="e"/></bpmn:boundaryEvent>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e1"/>
    <bpmn:sequenceFlow id="f3" sourceRef="big" targetRef="e2"/>
  </bpmn:process>
</bpmn:definitions>"""


def deploy(data: bytes) -> ProcessDefinition:
    return ProcessDefinition.objects.get(pk=definition_deploy(data=data).definitions[0].id)


@pytest.fixture
def parent() -> ProcessDefinition:
    deploy(CHILD)
    return deploy(PARENT.replace(b"CALLED", b"child"))


def child_of(instance: ProcessInstance) -> ProcessInstance:
    return ProcessInstance.objects.get(parent=instance)


def test_the_child_gets_its_inputs_and_returns_its_outputs(parent):
    instance = services.instance_start(definition=parent, variables={"x": 4})
    work()
    child = child_of(instance)
    assert (child.definition.key, child.parent_element, child.root_id) == ("child", "call", instance.pk)
    assert dict(child.variables.values_list("name", "value")) == {"n": 4}
    services.user_task_complete(task_id=UserTask.objects.get(instance=child).pk)
    work()
    instance.refresh_from_db()
    child.refresh_from_db()
    assert child.state == "completed" and instance.state == "completed"
    assert dict(instance.variables.values_list("name", "value")) == {"x": 4, "y": 8}


def test_the_childs_business_error_reaches_the_call_activitys_boundary(parent):
    instance = services.instance_start(definition=parent, variables={"x": 60})
    work()
    services.user_task_complete(task_id=UserTask.objects.get(instance=child_of(instance)).pk)
    work()
    instance.refresh_from_db()
    assert instance.state == "completed"
    assert child_of(instance).state == "terminated"
    assert "e2" in instance.history.filter(state="completed").values_list("element_id", flat=True)


def test_cancelling_the_parent_cancels_the_child(parent):
    instance = services.instance_start(definition=parent, variables={"x": 1})
    work()
    services.instance_cancel(instance_id=instance.pk)
    child = child_of(instance)
    assert child.state == "cancelled"
    assert UserTask.objects.get(instance=child).state == "cancelled"


def test_an_unknown_key_at_run_time_opens_an_incident_naming_it():
    definition = deploy(PARENT.replace(b"CALLED", b"nobody"))
    instance = services.instance_start(definition=definition, variables={"x": 1})
    work()
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "call" and "'nobody'" in incident.message
