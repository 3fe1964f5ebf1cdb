"""`manage.py validate FILE [--json]`: exit 0 when valid, 2 when not; never a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "engine" / "bpmn" / "models"
DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE definitions [<!ENTITY boom "boom">]>\n<definitions>&boom;</definitions>\n'


def _call(*args: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("validate", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _manage(*args: str) -> subprocess.CompletedProcess:
    """Run the command as an operator would, through manage.py."""
    return subprocess.run(
        [sys.executable, "manage.py", "validate", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_a_valid_file_exits_0_with_exactly_the_documented_json():
    status, out, err = _call(str(MODELS / "executable.bpmn"), "--json")

    assert status == 0
    assert json.loads(out) == {"valid": True, "executable": True, "errors": [], "warnings": []}
    assert out.count("\n") == 1 and err == ""


def test_warnings_have_the_documented_shape():
    status, out, _ = _call(str(MODELS / "unknown_plugin.bpmn"), "--json")

    assert status == 0
    report = json.loads(out)
    assert (report["valid"], report["executable"], report["errors"]) == (True, False, [])
    assert report["warnings"] == [
        {"element": "Task_1", "line": 8, "message": "not executable: plugin 'mailer' is not installed"},
    ]


def test_an_invalid_file_exits_2_and_lists_every_error():
    status, out, _ = _call(str(MODELS / "dangling_refs.bpmn"), "--json")

    assert status == 2
    report = json.loads(out)
    assert set(report) == {"valid", "executable", "errors", "warnings"}
    assert (report["valid"], report["executable"]) == (False, False)
    assert len(report["errors"]) == 7
    assert all(set(error) == {"element", "line", "message"} for error in report["errors"])
    assert {"element": "Flow_dangling", "line": 34,
            "message": "targetRef refers to 'Task_missing', which is not a flow node of process 'Process_1'"} in report["errors"]


def test_the_readable_report_has_one_line_per_problem_and_a_summary():
    status, out, _ = _call(str(MODELS / "parallel_condition.bpmn"))

    assert status == 2
    lines = out.splitlines()
    assert lines[0].startswith("ERROR line 14 element 'Flow_3': sequence flow 'Flow_3' leaves parallel gateway")
    assert lines[1].startswith("WARNING line 5 element 'Process_1': not executable")
    assert lines[-1] == "invalid, not executable: 1 error, 1 warning"
    assert len(lines) == 3


def test_a_valid_file_that_baton_cannot_run_exits_0():
    status, out, _ = _call(str(MODELS / "groovy_script.bpmn"))

    assert status == 0
    assert out.splitlines()[-1] == "valid, not executable: 0 errors, 1 warning"


def test_a_missing_file_exits_2_with_one_line_and_no_traceback(tmp_path: Path):
    result = _manage(str(tmp_path / "missing.bpmn"))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"ERROR: cannot read {tmp_path / 'missing.bpmn'}: No such file or directory"]


def test_a_missing_file_with_json_is_still_one_json_object(tmp_path: Path):
    result = _manage(str(tmp_path / "missing.bpmn"), "--json")

    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert (report["valid"], report["executable"], report["warnings"]) == (False, False, [])
    assert report["errors"] == [{"element": None, "line": None,
                                 "message": f"cannot read {tmp_path / 'missing.bpmn'}: No such file or directory"}]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_doctype_file_exits_2_without_a_traceback(tmp_path: Path, as_json: bool):
    path = tmp_path / "doctype.bpmn"
    path.write_bytes(DOCTYPE)

    result = _manage(str(path), *(["--json"] if as_json else []))

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    if as_json:
        report = json.loads(result.stdout)
        assert report["valid"] is False and len(report["errors"]) == 1
        assert "DOCTYPE" in report["errors"][0]["message"]
    else:
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("ERROR line 2: ") and "DOCTYPE" in line  # the DOCTYPE is on line 2


@pytest.mark.parametrize("content", [b"", b"\x00\xff binary", b"<html><body>hello</body></html>"],
                         ids=["empty", "binary", "html"])
def test_a_file_that_is_not_bpmn_exits_2_with_one_line(tmp_path: Path, content: bytes):
    path = tmp_path / "not.bpmn"
    path.write_bytes(content)

    status, out, err = _call(str(path))

    assert status == 2
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("ERROR")


def test_a_directory_exits_2_with_one_line(tmp_path: Path):
    status, out, err = _call(str(tmp_path))

    assert status == 2
    assert out == "" and len(err.splitlines()) == 1
