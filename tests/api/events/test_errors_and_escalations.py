"""Business errors thrown by plugins (`orchestrator.plugin.BpmnError`) and escalations nobody
caught, through the job runner and the services."""
from __future__ import annotations

import pytest

from apps.instances import services as instances
from apps.instances.models import Incident, Job, JobState, OperationLog
from tests.api.events import plugins
from tests.api.events.conftest import drain, model, reload, variables

pytestmark = pytest.mark.django_db

ERRORS = '<bpmn:error id="e_card" errorCode="CARD_DECLINED"/><bpmn:escalation id="esc_late" escalationCode="LATE"/>'

CAUGHT = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="charge" baton:task="events_test.charge"/>
    <bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="e_card"/></bpmn:boundaryEvent>
    <bpmn:endEvent id="paid"/>
    <bpmn:endEvent id="refused"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="paid"/>
    <bpmn:sequenceFlow id="f3" sourceRef="declined" targetRef="refused"/>
""", "caught", ERRORS)

UNCAUGHT = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="charge" baton:task="events_test.charge"/>
    <bpmn:endEvent id="paid"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="paid"/>
""", "uncaught", ERRORS)

ESCALATES = model("""
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateThrowEvent id="late"><bpmn:escalationEventDefinition escalationRef="esc_late"/></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="late"/>
    <bpmn:sequenceFlow id="f2" sourceRef="late" targetRef="end"/>
""", "escalates", ERRORS)


@pytest.fixture(autouse=True)
def _calls():
    plugins.CALLS.clear()


def run(definition, **start_variables):
    instance = instances.instance_start(definition=definition, variables=start_variables)
    drain()
    return reload(instance)


def test_a_business_error_is_caught_by_the_error_boundary_with_its_code_and_variables(deploy, db_clock):
    instance = run(deploy(CAUGHT), amount=500)
    assert instance.state == "completed"
    assert list(instance.history.filter(element_type="endEvent").values_list("element_id", flat=True)) == ["refused"]
    assert variables(instance)["reason"] == "limit"
    job = Job.objects.get(instance=instance)
    assert (job.state, job.attempt) == (JobState.FAILED, 1)
    assert job.last_error.startswith("BPMN error 'CARD_DECLINED'")
    assert not Incident.objects.filter(instance=instance).exists()


def test_a_business_error_is_never_retried(deploy, db_clock):
    run(deploy(CAUGHT), amount=500)
    assert plugins.CALLS == ["charge"]


def test_no_error_takes_the_normal_path(deploy, db_clock):
    instance = run(deploy(CAUGHT), amount=5)
    assert list(instance.history.filter(element_type="endEvent").values_list("element_id", flat=True)) == ["paid"]


def test_an_uncaught_business_error_opens_an_incident_naming_the_code(deploy, db_clock):
    instance = run(deploy(UNCAUGHT), amount=500)
    assert instance.state == "running" and instance.open_incidents == 1
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "charge" and "CARD_DECLINED" in incident.message
    assert plugins.CALLS == ["charge"]


def test_an_escalation_nobody_caught_is_in_the_operation_log_and_the_instance_goes_on(deploy, db_clock):
    instance = run(deploy(ESCALATES))
    assert instance.state == "completed"
    [entry] = OperationLog.objects.filter(instance=instance, action="escalation_uncaught")
    assert entry.details == {"code": "LATE", "element": "late"}
