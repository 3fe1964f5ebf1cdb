"""`manage.py simulate`: the contract other tools depend on (JSON shape, exit codes)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = str(Path(__file__).parent / "models" / "order.bpmn")
CORPUS = ROOT / "tests" / "corpus"


def simulate(*args: str) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess: exit codes and stdout exactly as users see them."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "simulate", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )


def as_json(run: subprocess.CompletedProcess) -> dict:
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, run.stdout + run.stderr
    return json.loads(lines[0])


def test_completed_run_with_a_mock_prints_the_contract_shape():
    run = simulate(ORDER, "--vars", '{"qty": 2, "unit_price": 10}', "--mock", 'payments.charge={"receipt": "r1"}',
                   "--mock", 'echo={"echo": "thanks"}', "--json")
    assert run.returncode == 0, run.stderr
    out = as_json(run)
    assert set(out) == {"state", "variables", "completed", "waiting", "error"}
    assert out["state"] == "completed"
    assert out["variables"] == {"qty": 2, "unit_price": 10, "total": 20, "receipt": "r1", "echo": "thanks"}
    assert out["completed"] == ["start", "price", "charge", "big", "say", "end"]
    assert out["waiting"] == [] and out["error"] is None


def test_a_user_task_leaves_the_run_waiting():
    run = simulate(ORDER, "--vars", '{"qty": 200, "unit_price": 10}', "--mock", "payments.charge={}", "--json")
    assert run.returncode == 0, run.stderr
    out = as_json(run)
    assert out["state"] == "waiting"
    assert out["waiting"] == [{"id": "review", "type": "userTask"}]


def test_a_service_task_without_a_mock_fails_the_run_naming_the_task():
    run = simulate(ORDER, "--vars", '{"qty": 1, "unit_price": 1}', "--json")
    assert run.returncode == 1
    out = as_json(run)
    assert out["state"] == "failed"
    assert out["error"]["element"] == "charge"
    assert "payments.charge" in out["error"]["message"]


def test_run_tasks_calls_the_real_plugin_in_process():
    run = simulate(ORDER, "--vars", '{"qty": 1, "unit_price": 1, "message": "hi"}', "--mock", "payments.charge={}",
                   "--run-tasks", "--json")
    assert run.returncode == 0, run.stderr
    assert as_json(run)["variables"]["echo"] == "hi"


def test_a_script_error_fails_the_run_with_exit_1():
    run = simulate(ORDER, "--vars", '{"qty": "x", "unit_price": 1.5}', "--json")
    assert run.returncode == 1
    out = as_json(run)
    assert out["error"]["element"] == "price"
    assert out["completed"] == ["start"]


def test_without_json_a_readable_trace():
    run = simulate(ORDER, "--vars", '{"qty": 1, "unit_price": 1}', "--mock", "payments.charge={}", "--mock", "echo={}")
    assert run.returncode == 0, run.stderr
    assert "completed scriptTask price" in run.stdout
    assert "mocked    serviceTask charge (payments.charge)" in run.stdout
    assert run.stdout.strip().splitlines()[-2].startswith("completed")


@pytest.mark.parametrize("args, fragment", [
    (["--vars", "[1]"], "--vars must be a JSON object"),
    (["--vars", "{nope"], "--vars is not valid JSON"),
    (["--mock", "nothing"], "--mock takes TASK=JSON"),
    (["--mock", "x=[]"], "--mock x must be a JSON object"),
    (["--process", "ghost"], "no process 'ghost'"),
])
def test_bad_arguments_exit_2_with_one_line(args, fragment):
    run = simulate(ORDER, *args, "--json")
    assert run.returncode == 2
    assert fragment in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_an_invalid_model_exits_2(tmp_path):
    broken = tmp_path / "broken.bpmn"
    broken.write_text(Path(ORDER).read_text().replace('targetRef="price"', 'targetRef="nowhere"'))
    run = simulate(str(broken), "--json")
    assert run.returncode == 2
    assert "invalid model" in run.stderr and "and 1 more; run validate" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_a_missing_file_and_a_doctype_exit_2(tmp_path):
    assert simulate(str(tmp_path / "absent.bpmn")).returncode == 2
    evil = tmp_path / "evil.bpmn"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    run = simulate(str(evil))
    assert run.returncode == 2 and "DOCTYPE" in run.stderr


def test_a_terminate_end_event_gives_terminated_and_exit_0():
    run = simulate(str(CORPUS / "spiff" / "bpmn__exclusive_gateway_no_default.bpmn"), "--vars", '{"x": 2}', "--json")
    assert run.returncode == 0, run.stderr
    assert as_json(run)["state"] == "terminated"


def test_an_unsupported_element_fails_when_reached_not_before(tmp_path):
    model = tmp_path / "complex.bpmn"
    model.write_text(Path(ORDER).read_text().replace('<bpmn:exclusiveGateway id="big" default="small_flow"/>',
                                                     '<bpmn:complexGateway id="big" default="small_flow"/>'))
    run = simulate(str(model), "--vars", '{"qty": 1, "unit_price": 1}', "--mock", "payments.charge={}", "--json")
    assert run.returncode == 1
    out = as_json(run)
    assert out["error"]["element"] == "big" and "complexGateway is not supported yet" in out["error"]["message"]
    assert out["completed"] == ["start", "price", "charge"]


EVENTS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:baton="http://baton.dev/schema/bpmn/1.0" id="d" targetNamespace="t">
  <bpmn:message id="m_paid" name="paid"/>
  <bpmn:signal id="s_stop" name="stop"/>
  <bpmn:error id="e_card" errorCode="CARD_DECLINED"/>
  <bpmn:process id="events" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="charge" baton:task="payments.charge"/>
    <bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="e_card"/></bpmn:boundaryEvent>
    <bpmn:intermediateCatchEvent id="wait_paid"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="review"/>
    <bpmn:boundaryEvent id="stopped" attachedToRef="review"><bpmn:signalEventDefinition signalRef="s_stop"/></bpmn:boundaryEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="refused"/>
    <bpmn:endEvent id="halted"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="wait_paid"/>
    <bpmn:sequenceFlow id="f3" sourceRef="wait_paid" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="declined" targetRef="refused"/>
    <bpmn:sequenceFlow id="f6" sourceRef="stopped" targetRef="halted"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_events_are_applied_in_the_order_given(tmp_path):
    model = tmp_path / "events.bpmn"
    model.write_text(EVENTS)
    run = simulate(str(model), "--mock", "payments.charge={}", "--signal", "stop", "--message", 'paid={"amount": 3}',
                   "--json")
    out = as_json(run)
    assert run.returncode == 0, run.stderr
    assert out["state"] == "waiting" and out["waiting"] == [{"id": "review", "type": "userTask"}]
    assert out["variables"] == {"amount": 3}
    run = simulate(str(model), "--mock", "payments.charge={}", "--message", "paid", "--signal", "stop", "--json")
    out = as_json(run)
    assert out["state"] == "completed" and out["completed"][-2:] == ["stopped", "halted"]


def test_error_from_makes_a_mocked_plugin_throw_a_business_error(tmp_path):
    model = tmp_path / "events.bpmn"
    model.write_text(EVENTS)
    out = as_json(simulate(str(model), "--error-from", "payments.charge=CARD_DECLINED", "--json"))
    assert out["state"] == "completed" and out["completed"] == ["start", "declined", "refused"]


@pytest.mark.parametrize("args, fragment", [
    (["--advance-time", "soon"], "--advance-time takes an ISO 8601 duration"),
    (["--error-from", "x"], "--error-from takes TASK=CODE"),
    (["--message", "paid=[1]"], "--message paid must be a JSON object"),
])
def test_bad_event_arguments_exit_2(tmp_path, args, fragment):
    model = tmp_path / "events.bpmn"
    model.write_text(EVENTS)
    run = simulate(str(model), *args)
    assert run.returncode == 2 and fragment in run.stderr
