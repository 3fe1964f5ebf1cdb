"""Operator commands: instances, history, cancel, retry, complete-task (contract: JSON shapes,
exit 2 with one line)."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import services
from apps.instances.models import Incident, UserTask

pytestmark = pytest.mark.django_db

MODEL = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="ops" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review"/>
    <bpmn:exclusiveGateway id="g" default="ok"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="g"/>
    <bpmn:sequenceFlow id="ok" sourceRef="g" targetRef="e"/>
    <bpmn:sequenceFlow id="bad" sourceRef="g" targetRef="e"><bpmn:conditionExpression>1 / divisor</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def run(capsys):
    """Run a command as the CLI would: (exit code, stdout, stderr)."""
    def _run(*args: str) -> tuple[int, str, str]:
        out = StringIO()
        try:
            call_command(*args, stdout=out)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, out.getvalue(), capsys.readouterr().err
    return _run


@pytest.fixture
def instance():
    definition = ProcessDefinition.objects.get(pk=definition_deploy(data=MODEL).definitions[0].id)
    started = services.instance_start(definition=definition, variables={"divisor": 1})
    services.instance_step(instance_id=started.pk)
    return started


def test_instances_lists_newest_first_and_filters(instance, run):
    code, out, _ = run("instances", "--state", "running", "--key", "ops", "--json")
    assert code == 0
    rows = json.loads(out)["instances"]
    assert [r["id"] for r in rows] == [instance.pk] and rows[0]["active"] == [{"id": "review", "type": "userTask"}]
    assert json.loads(run("instances", "--state", "completed", "--json")[1])["instances"] == []
    code, _, err = run("instances", "--state", "sleeping")
    assert code == 2 and "--state is one of" in err


def test_complete_task_then_history(instance, run):
    task = UserTask.objects.get(instance=instance)
    code, out, _ = run("complete-task", str(task.pk), "--vars", '{"approved": true}')
    assert code == 0 and "completed" in out
    code, _, err = run("complete-task", str(task.pk))
    assert code == 2 and "cannot be completed" in err
    services.instance_step(instance_id=instance.pk)
    code, out, _ = run("history", str(instance.pk), "--json")
    history = json.loads(out)["history"]
    assert [h["element_id"] for h in history if h["element_type"] != "sequenceFlow"] == ["s", "review", "g", "e"]


def test_complete_task_refuses_bad_json_and_unknown_ids(run):
    assert run("complete-task", "999", "--vars", "[1]")[0] == 2
    code, _, err = run("complete-task", "999")
    assert code == 2 and "no user task 999" in err and len(err.strip().splitlines()) == 1
    assert run("complete-task", "x")[0] == 2


def test_retry_runs_the_failed_element_again(instance, run):
    services.instance_set_variables(instance_id=instance.pk, set={"divisor": 0})
    services.user_task_complete(task_id=UserTask.objects.get(instance=instance).pk)
    services.instance_step(instance_id=instance.pk)
    incident = Incident.objects.get(instance=instance)
    services.instance_set_variables(instance_id=instance.pk, set={"divisor": 2})
    code, out, _ = run("retry", str(incident.pk))
    assert code == 0 and f"incident {incident.pk} at g retried" in out
    services.instance_step(instance_id=instance.pk)
    instance.refresh_from_db()
    assert instance.state == "completed"
    code, _, err = run("retry", str(incident.pk))
    assert code == 2 and "already resolved" in err


def test_cancel(instance, run):
    code, out, _ = run("cancel", str(instance.pk))
    assert code == 0 and "cancelled" in out
    code, _, err = run("cancel", str(instance.pk))
    assert code == 2 and "already cancelled" in err
