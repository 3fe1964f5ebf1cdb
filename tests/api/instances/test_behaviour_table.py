"""The behaviour table of docs/runtime.md: what happens to each kind of work while an instance is
running, suspended or cancelled. Driven through the service functions and the job runner that the
workers run (called in-process here; tests/integration runs them on real workers)."""
from __future__ import annotations

import pytest

from apps.definitions.errors import Conflict
from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services, tasks
from apps.instances.models import Incident, Job, JobState, PendingEvent, ProcessInstance, UserTask
from apps.instances.inprocess import run_in_process as work

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" id="d" targetNamespace="t">
  <bpmn:process id="table" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="call" baton:task="echo"/>
    <bpmn:userTask id="approve"/>
    <bpmn:scriptTask id="check"><bpmn:script>ratio = 1 / divisor</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="approve"/>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="check"/>
    <bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition() -> ProcessDefinition:
    result = definition_deploy(data=MODEL, source_name="table.bpmn")
    return ProcessDefinition.objects.get(pk=result.definitions[0].id)


def started(definition, **variables) -> ProcessInstance:
    instance = services.instance_start(definition=definition, variables={"message": "hi", "divisor": 2, **variables})
    services.instance_step(instance_id=instance.pk)
    instance.refresh_from_db()
    return instance


def test_running_a_queued_job_runs_the_plugin_and_advances(definition):
    instance = work(started(definition))
    assert instance.active_elements == ["approve"]
    assert dict(instance.variables.values_list("name", "value"))["echo"] == "hi"


def test_suspended_a_queued_job_runs_nothing_and_goes_out_again_on_resume(definition):
    instance = started(definition)
    job = Job.objects.get(instance=instance, element_id="call")
    assert job.state == JobState.DISPATCHED
    services.instance_suspend(instance_id=instance.pk)
    assert tasks.job_run(str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert job.state == JobState.PENDING and job.attempt == 0
    assert "echo" not in dict(instance.variables.values_list("name", "value"))
    services.instance_resume(instance_id=instance.pk)
    job.refresh_from_db()
    assert job.state == JobState.DISPATCHED
    assert work(instance).active_elements == ["approve"]


def test_suspended_a_job_that_finishes_is_kept_and_applied_on_resume(definition):
    instance = started(definition)
    job = services.job_begin(job_id=str(Job.objects.get(instance=instance).pk))
    services.instance_suspend(instance_id=instance.pk)
    assert services.job_complete(job_id=str(job.pk), attempt=job.attempt, result={"echo": "late"}) == "held: suspended"
    instance.refresh_from_db()
    assert instance.active_elements == ["call"]
    assert PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).count() == 1
    services.instance_step(instance_id=instance.pk)  # a step while suspended applies nothing
    instance.refresh_from_db()
    assert instance.active_elements == ["call"]
    services.instance_resume(instance_id=instance.pk)
    instance = work(instance)
    assert instance.active_elements == ["approve"]
    assert dict(instance.variables.values_list("name", "value"))["echo"] == "late"


def test_suspended_a_user_task_completion_is_recorded_and_applied_on_resume(definition):
    instance = work(started(definition))
    task = UserTask.objects.get(instance=instance)
    services.instance_suspend(instance_id=instance.pk)
    services.user_task_complete(task_id=task.pk, variables={"approved": True})
    instance = work(instance)
    assert instance.active_elements == ["approve"] and instance.suspended
    services.instance_resume(instance_id=instance.pk)
    instance = work(instance)
    assert instance.state == "completed"
    assert dict(instance.variables.values_list("name", "value"))["ratio"] == 0.5


def test_suspended_retrying_an_incident_is_applied_on_resume(definition):
    instance = work(started(definition, divisor=0))
    services.user_task_complete(task_id=UserTask.objects.get(instance=instance).pk)
    instance = work(instance)
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "check" and "division by zero" in incident.message
    services.instance_set_variables(instance_id=instance.pk, set={"divisor": 4})
    services.instance_suspend(instance_id=instance.pk)
    services.incident_retry(incident_id=incident.pk)
    instance = work(instance)
    assert instance.state == "running"
    services.instance_resume(instance_id=instance.pk)
    instance = work(instance)
    assert instance.state == "completed" and instance.open_incidents == 0


def test_suspended_setting_variables_applies_at_once(definition):
    instance = work(started(definition))
    services.instance_suspend(instance_id=instance.pk)
    services.instance_set_variables(instance_id=instance.pk, set={"note": "x"}, delete=["message"])
    values = dict(instance.variables.values_list("name", "value"))
    assert values["note"] == "x" and "message" not in values


def test_cancelled_queued_work_calls_nothing_and_late_results_are_ignored(definition):
    instance = started(definition)
    job = Job.objects.get(instance=instance)
    services.instance_cancel(instance_id=instance.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert tasks.job_run(str(job.pk)) == "skipped"
    instance.refresh_from_db()
    assert instance.state == "cancelled" and instance.ended_at is not None
    assert "echo" not in dict(instance.variables.values_list("name", "value"))


def test_cancelled_a_result_of_a_job_already_running_is_ignored(definition):
    instance = started(definition)
    job = services.job_begin(job_id=str(Job.objects.get(instance=instance).pk))
    services.instance_cancel(instance_id=instance.pk)
    assert services.job_complete(job_id=str(job.pk), attempt=job.attempt, result={"echo": "late"}) == "job is cancelled"
    instance.refresh_from_db()
    assert instance.state == "cancelled"
    assert "echo" not in dict(instance.variables.values_list("name", "value"))


def test_cancelled_user_task_completion_variables_and_cancel_are_refused(definition):
    instance = work(started(definition))
    task = UserTask.objects.get(instance=instance)
    services.instance_cancel(instance_id=instance.pk)
    task.refresh_from_db()
    assert task.state == "cancelled"
    with pytest.raises(Conflict):
        services.user_task_complete(task_id=task.pk)
    with pytest.raises(Conflict):
        services.instance_set_variables(instance_id=instance.pk, set={"x": 1})
    with pytest.raises(Conflict):
        services.instance_cancel(instance_id=instance.pk)


def test_completing_a_user_task_twice_is_a_conflict(definition):
    instance = work(started(definition))
    task = UserTask.objects.get(instance=instance)
    services.user_task_complete(task_id=task.pk)
    with pytest.raises(Conflict, match="completed"):
        services.user_task_complete(task_id=task.pk)


def test_cancelling_before_the_first_step_ran_cancels_at_once(definition):
    instance = services.instance_start(definition=definition, variables={"message": "hi"})
    services.instance_cancel(instance_id=instance.pk)
    instance.refresh_from_db()
    assert instance.state == "cancelled" and instance.ended_at is not None
    services.instance_step(instance_id=instance.pk)  # the start, applied late, changes nothing
    instance.refresh_from_db()
    assert instance.state == "cancelled" and not Job.objects.filter(instance=instance).exists()
