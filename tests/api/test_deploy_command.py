"""`manage.py deploy FILE... [--json]`: a version per changed process, exit 2 for a refused file."""
from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.definitions.management.commands.deploy import UNREADABLE
from apps.definitions.models import Deployment, ProcessDefinition

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "engine" / "bpmn" / "models"

APPROVE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="approve" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" name="Review"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="approve">
      <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="{x}" y="80" width="100" height="80"/></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

SHIP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="ship" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _call(*args: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("deploy", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _file(tmp_path: Path, text: str, name: str = "approve.bpmn") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _approve(tmp_path: Path, *, name: str = "Approve", x: int = 100, file: str = "approve.bpmn") -> str:
    return _file(tmp_path, APPROVE.replace("{name}", name).replace("{x}", str(x)), file)


def test_a_new_process_is_created_as_version_1_with_exactly_the_documented_json(tmp_path):
    status, out, err = _call(_approve(tmp_path), "--json")

    assert (status, err) == (0, "")
    definition = ProcessDefinition.objects.get()
    assert json.loads(out) == {
        "definitions": [{"id": definition.pk, "key": "approve", "version": 1, "name": "Approve", "created": True}],
        "warnings": [],
    }
    assert out.count("\n") == 1
    assert definition.deployment.source_name == "approve.bpmn"


def test_deploying_the_same_process_again_changes_nothing(tmp_path):
    file = _approve(tmp_path)
    _call(file, "--json")

    status, out, _ = _call(file, "--json")

    assert status == 0
    first = ProcessDefinition.objects.get()
    assert json.loads(out)["definitions"] == [
        {"id": first.pk, "key": "approve", "version": 1, "name": "Approve", "created": False},
    ]
    assert Deployment.objects.count() == 1  # an unchanged deploy leaves no trace


def test_a_layout_change_is_not_a_new_version(tmp_path):
    _call(_approve(tmp_path, x=100), "--json")

    _, out, _ = _call(_approve(tmp_path, x=400, file="moved.bpmn"), "--json")

    assert [(d["version"], d["created"]) for d in json.loads(out)["definitions"]] == [(1, False)]


def test_a_changed_process_becomes_the_next_version(tmp_path):
    _call(_approve(tmp_path), "--json")
    _call(_approve(tmp_path, name="Approve v2", file="v2.bpmn"), "--json")

    status, out, _ = _call(_approve(tmp_path, name="Approve v3", file="v3.bpmn"), "--json")

    assert status == 0
    latest = ProcessDefinition.objects.get(version=3)
    assert json.loads(out)["definitions"] == [
        {"id": latest.pk, "key": "approve", "version": 3, "name": "Approve v3", "created": True},
    ]
    assert list(ProcessDefinition.objects.order_by("version").values_list("version", "name")) == [
        (1, "Approve"), (2, "Approve v2"), (3, "Approve v3"),
    ]


def test_several_files_print_one_object_with_every_definition(tmp_path):
    status, out, _ = _call(_approve(tmp_path), _file(tmp_path, SHIP, "ship.bpmn"), "--json")

    assert status == 0
    report = json.loads(out)
    assert out.count("\n") == 1
    assert [(d["key"], d["version"], d["created"]) for d in report["definitions"]] == [
        ("approve", 1, True), ("ship", 1, True),
    ]
    assert report["warnings"] == []


def test_an_invalid_file_exits_2_with_one_json_object_and_deploys_nothing():
    status, out, _ = _call(str(MODELS / "dangling_refs.bpmn"), "--json")

    assert status == 2
    assert out.count("\n") == 1
    report = json.loads(out)
    assert set(report) == {"message", "errors", "code"}
    assert report["code"] == "invalid_model"
    assert report["message"] == f"{MODELS / 'dangling_refs.bpmn'}: the file is not valid BPMN"
    assert len(report["errors"]) == 7
    assert all(set(error) == {"element", "line", "message"} for error in report["errors"])
    assert {"element": "Flow_dangling", "line": 34,
            "message": "targetRef refers to 'Task_missing', which is not a flow node of process 'Process_1'"} \
        in report["errors"]
    assert not ProcessDefinition.objects.exists() and not Deployment.objects.exists()


def test_an_invalid_file_without_json_prints_a_headline_and_one_line_per_error():
    status, out, err = _call(str(MODELS / "dangling_refs.bpmn"))

    assert (status, out) == (2, "")
    lines = err.splitlines()
    assert lines[0] == f"deploy: {MODELS / 'dangling_refs.bpmn'}: the file is not valid BPMN (7 errors)"
    assert len(lines) == 8
    assert "ERROR line 34 element 'Flow_dangling': targetRef refers to 'Task_missing', which is not a flow node " \
           "of process 'Process_1'" in lines


def test_a_file_naming_an_unknown_plugin_exits_2_naming_the_element_and_the_plugin():
    status, out, _ = _call(str(MODELS / "unknown_plugin.bpmn"), "--json")

    assert status == 2
    assert json.loads(out) == {
        "message": f"{MODELS / 'unknown_plugin.bpmn'}: Baton cannot run this file",
        "errors": [{"element": "Task_1", "line": 8, "message": "not executable: plugin 'mailer' is not installed"}],
        "code": "not_executable",
    }
    assert not ProcessDefinition.objects.exists()


def test_a_non_executable_file_without_json_names_the_element_and_the_plugin():
    status, _, err = _call(str(MODELS / "unknown_plugin.bpmn"))

    assert status == 2
    assert err.splitlines() == [
        f"deploy: {MODELS / 'unknown_plugin.bpmn'}: Baton cannot run this file",
        "ERROR line 8 element 'Task_1': not executable: plugin 'mailer' is not installed",
    ]


def test_one_refused_file_rolls_back_the_files_before_it(tmp_path):
    status, out, _ = _call(_approve(tmp_path), str(MODELS / "unknown_plugin.bpmn"), "--json")

    assert status == 2
    assert json.loads(out)["code"] == "not_executable"
    assert not ProcessDefinition.objects.exists() and not Deployment.objects.exists()


def test_a_file_that_is_not_xml_exits_2_with_the_parse_error(tmp_path):
    file = _file(tmp_path, "not xml", "broken.bpmn")

    status, out, _ = _call(file, "--json")

    assert status == 2
    report = json.loads(out)
    assert report["code"] == "invalid_model"
    assert report["message"].startswith(f"{file}: line 1: not well-formed XML")
    assert [error["line"] for error in report["errors"]] == [1]

    status, _, err = _call(file)
    assert status == 2 and len(err.splitlines()) == 1  # the parse error is its own headline


def test_a_missing_file_exits_2_with_one_line(tmp_path):
    missing = str(tmp_path / "missing.bpmn")

    status, out, err = _call(missing)

    assert (status, out) == (2, "")
    assert err == f"deploy: {missing}: {UNREADABLE.format(reason='No such file or directory')}\n"
    status, out, _ = _call(missing, "--json")
    assert status == 2 and json.loads(out)["code"] == "invalid_input"


def test_the_readable_report_has_one_line_per_definition(tmp_path):
    _call(_approve(tmp_path))

    status, out, _ = _call(_approve(tmp_path), _file(tmp_path, SHIP, "ship.bpmn"))

    assert status == 0
    approve, ship = ProcessDefinition.objects.get(key="approve"), ProcessDefinition.objects.get(key="ship")
    assert out.splitlines() == [
        f'approve v1 "Approve": unchanged (id {approve.pk})',
        f"ship v1: created (id {ship.pk})",
    ]
