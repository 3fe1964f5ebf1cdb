"""A parallel multi-instance service task in the running system: each job gets its own item."""
from __future__ import annotations

import pytest

from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services
from apps.instances.inprocess import run_in_process

pytestmark = pytest.mark.django_db

MODEL = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="d" targetNamespace="t">
  <bpmn:process id="each" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="say" baton:task="echo">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="${messages}" camunda:elementVariable="message">
        <bpmn:loopDataOutputRef>replies</bpmn:loopDataOutputRef>
        <bpmn:outputDataItem id="echo" name="echo"/>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="say"/>
    <bpmn:sequenceFlow id="f2" sourceRef="say" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_each_job_of_a_parallel_multi_instance_gets_its_own_item():
    definition = ProcessDefinition.objects.get(pk=definition_deploy(data=MODEL).definitions[0].id)
    instance = services.instance_start(definition=definition, variables={"messages": ["a", "b", "c"]})
    instance = run_in_process(instance)
    assert instance.state == "completed", list(instance.incidents.values_list("message", flat=True))
    variables = dict(instance.variables.values_list("name", "value"))
    assert variables["replies"] == ["a", "b", "c"]
    assert "message" not in variables
