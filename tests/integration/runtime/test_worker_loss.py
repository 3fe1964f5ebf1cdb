"""Worker processes killed with SIGKILL: mid-task by the test, or by the plugin itself.

`task_acks_late` and `task_reject_on_worker_lost` put the message of a killed prefork child back
on its queue; the job row decides what runs again: its attempt counts every start, so a job
whose plugin keeps killing its worker ends as an incident instead of looping."""
from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from apps.instances.models import FlowNodeInstance, Incident, InstanceState, Job, JobState, ProcessInstance
from tests.integration import plugins_for_tests as plugins

pytestmark = pytest.mark.django_db(transaction=True)

# Generous: a redelivered message is taken at once; nothing here should wait for a lease to run out.
DEADLINE = 60

KILLS_ITS_WORKER = """<?xml version="1.0" encoding="UTF-8"?>
<!-- A service task whose plugin SIGKILLs the worker process running it. -->
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:baton="http://baton.dev/schema/bpmn/1.0"
                  id="kills_its_worker_defs" targetNamespace="http://baton.dev/tests/integration">
  <bpmn:process id="kills_its_worker" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="call" baton:task="itest.kill_own_worker"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def instance_in(instance_id: int, state: str):
    return ProcessInstance.objects.filter(pk=instance_id, state=state).first()


def node_rows(instance_id: int) -> Counter:
    return Counter(FlowNodeInstance.objects.filter(instance_id=instance_id).exclude(element_type="sequenceFlow")
                   .values_list("element_id", "state"))


def test_a_worker_process_killed_mid_task_runs_the_job_again_and_completes_once(start_worker, deploy, start,
                                                                                  wait_until, run):
    worker = start_worker()
    instance = start(deploy("blocking"), run=run)
    job = wait_until(lambda: Job.objects.filter(instance_id=instance.pk, element_id="wait", state=JobState.STARTED)
                     .first(), what="the blocking job starts", instance_id=instance.pk)
    victim = wait_until(lambda: plugins.pids(run, str(job.pk)), what="the plugin runs")[0]
    assert victim in worker.children()

    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(plugins.pids(run, str(job.pk))) == 2, timeout=DEADLINE,
               what="the job's message is delivered again and the plugin runs again", instance_id=instance.pk)
    plugins.release(run)

    wait_until(lambda: instance_in(instance.pk, InstanceState.COMPLETED), timeout=DEADLINE,
               what="the instance completes", instance_id=instance.pk)
    rerun = plugins.pids(run, str(job.pk))[1]
    assert rerun != victim and worker.alive()
    job.refresh_from_db()
    assert (job.state, job.attempt) == (JobState.COMPLETED, 2)
    after = Job.objects.get(instance_id=instance.pk, element_id="after", state=JobState.COMPLETED)
    assert plugins.calls(run) == [str(job.pk), str(job.pk), str(after.pk)]  # the side effect: at least once
    assert node_rows(instance.pk) == {("start", "completed"): 1, ("wait", "completed"): 1,  # completion: once
                                      ("after", "completed"): 1, ("end", "completed"): 1}


def test_a_plugin_that_kills_its_worker_ends_as_an_incident_after_its_attempts(start_worker, deploy, start,
                                                                                wait_until, run):
    worker = start_worker()
    instance = start(deploy(KILLS_ITS_WORKER), run=run)

    incident = wait_until(lambda: Incident.objects.filter(instance_id=instance.pk).first(), timeout=DEADLINE,
                          what="an incident opens", instance_id=instance.pk)

    job = Job.objects.get(instance_id=instance.pk)
    assert job.state == JobState.FAILED
    assert plugins.calls(run) == [str(job.pk)] * job.max_attempts
    assert "the worker was lost each time" in incident.message
    held = ProcessInstance.objects.get(pk=instance.pk)
    assert (held.state, held.open_incidents, held.active_elements) == (InstanceState.RUNNING, 1, ["call"])
    assert worker.alive()
