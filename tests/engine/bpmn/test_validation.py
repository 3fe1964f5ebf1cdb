"""Validation: is a BPMN file valid, and can Baton run it? One small model per rule in `models/`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.bpmn import validation
from orchestrator.bpmn.parser import parse_file
from orchestrator.bpmn.validation import (
    CONDITION_AFTER_GATEWAY, CROSSES_SCOPE, DEFAULT_NOT_OUTGOING, IMPLICIT_END, NO_EXECUTABLE_PROCESS,
    NO_INCOMING, NO_START_EVENT, NOT_CONNECTED, UNKNOWN_PLUGIN, ValidationReport, validate, validate_bytes,
)
from orchestrator.errors import Problem, Severity

MODELS = Path(__file__).with_name("models")
CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MIWG_FILES = sorted(CORPUS.glob("miwg/*.bpmn"))
FLOWABLE_INVALID = CORPUS / "camunda" / "flowable__invalidProcess.bpmn20.xml"


def _report(name: str, **kwargs) -> ValidationReport:
    return validate(parse_file(str(MODELS / name)), **kwargs)


def _lines(path: Path, element_id: str) -> list[int]:
    """The lines on which an element with this id is declared."""
    text = path.read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(text, 1) if re.search(rf'\bid="{re.escape(element_id)}"', line)]


def _line(name: str, element_id: str) -> int:
    return _lines(MODELS / name, element_id)[0]


def _prefix(template: str) -> str:
    """The fixed start of a message template, to recognise its messages."""
    return template.split("{", 1)[0]


def _where(problems) -> set[tuple[str | None, int | None]]:
    return {(p.element, p.line) for p in problems}


# -- valid and executable ---------------------------------------------------------------------------

def test_a_python_script_an_echo_task_and_a_juel_condition_are_valid_and_executable():
    report = _report("executable.bpmn", plugins={"echo"})

    assert report == ValidationReport(
        valid=True, executable=True, errors=(), warnings=(), executable_processes=("Process_1",),
    )


def test_to_dict_has_exactly_the_documented_shape():
    report = _report("groovy_script.bpmn")

    assert report.to_dict() == {
        "valid": True,
        "executable": False,
        "errors": [],
        "warnings": [{"element": "Task_1", "line": 8, "message": report.warnings[0].message}],
    }


# -- validity: one model per rule -------------------------------------------------------------------

def test_dangling_references_name_the_missing_id():
    name = "dangling_refs.bpmn"
    missing = {
        "Participant_2": "Process_missing",  # participant processRef
        "Gateway_1": "Flow_missing",  # gateway default
        "Catch_1": "Message_missing",  # messageRef
        "Boundary_1": "Task_missing",  # attachedToRef
        "Throw_1": "Message_1",  # signalRef naming a message
        "End_error": "Error_missing",  # errorRef
        "Flow_dangling": "Task_missing",  # sequence flow targetRef
    }

    report = _report(name)

    assert not report.valid
    assert _where(report.errors) == {(element, _line(name, element)) for element in missing}
    for problem in report.errors:
        assert repr(missing[problem.element]) in problem.message
        assert problem.severity is Severity.ERROR and not problem.executable_only
    assert "which is a message, not a signal" in next(p.message for p in report.errors if p.element == "Throw_1")


def test_a_duplicate_id_is_reported_once_at_its_second_use():
    report = _report("duplicate_id.bpmn")

    first, second = _lines(MODELS / "duplicate_id.bpmn", "Task_1")
    assert _where(report.errors) == {("Task_1", second)}
    assert report.errors[0].message == f"duplicate id 'Task_1' (first used on line {first})"


def test_flow_nodes_without_a_way_in_or_out_are_errors_except_where_bpmn_allows_it():
    name = "no_way_in_or_out.bpmn"

    report = _report(name)

    assert _where(report.errors) == {("Task_unreached", _line(name, "Task_unreached")),
                                     ("Task_lonely", _line(name, "Task_lonely"))}
    messages = {p.element: p.message for p in report.errors}
    assert messages["Task_unreached"].startswith(_prefix(NO_INCOMING))
    assert messages["Task_lonely"] == NOT_CONNECTED.format(kind="task", label="Task_lonely")
    # Reached but never left: its path ends without an end event, which every engine accepts.
    late = [p for p in report.warnings if p.element == "Task_late"]
    assert [(p.line, p.message, p.executable_only) for p in late] == [
        (_line(name, "Task_late"), IMPLICIT_END.format(kind="task", label="Task_late"), False),
    ]
    # Link events, boundary events, the compensation handler, the event sub-process, the content
    # of a sub-process without start event and of an ad-hoc sub-process: no complaint.
    exceptions = {"Link_throw", "Link_catch", "Boundary_timer", "Boundary_compensate", "Task_undo", "Sub_events",
                  "Start_cancel", "End_cancel", "Task_inner", "Task_x", "Task_y", "Sub_plain", "AdHoc"}
    assert not exceptions & {p.element for p in report.errors + report.warnings}


def test_a_default_flow_must_leave_its_own_gateway():
    name = "default_not_outgoing.bpmn"

    report = _report(name)

    assert _where(report.errors) == {("Gateway_1", _line(name, "Gateway_1"))}
    assert report.errors[0].message == DEFAULT_NOT_OUTGOING.format(flow="Flow_4", node="Gateway_1", source="Gateway_2")


def test_the_outgoing_flows_of_a_parallel_gateway_carry_no_condition():
    name = "parallel_condition.bpmn"

    report = _report(name)

    assert _where(report.errors) == {("Flow_3", _line(name, "Flow_3"))}
    assert report.errors[0].message == CONDITION_AFTER_GATEWAY.format(
        flow="Flow_3", kind="parallel gateway", gateway="Split")


def test_a_process_needs_a_start_event_but_an_embedded_sub_process_does_not():
    name = "no_start_event.bpmn"

    report = _report(name)

    assert _where(report.errors) == {("Process_1", _line(name, "Process_1"))}
    assert report.errors[0].message == NO_START_EVENT.format(process="Process_1")


def test_a_sequence_flow_may_not_cross_a_sub_process_boundary():
    name = "crosses_scope.bpmn"

    report = _report(name)

    assert _where(report.errors) == {("Flow_2", _line(name, "Flow_2"))}
    assert report.errors[0].message == CROSSES_SCOPE.format(
        flow="Flow_2", source="Task_outer", target="Task_inner", source_scope="the process",
        target_scope="sub-process 'Sub_1'")


# -- executability: warnings that keep the file valid -----------------------------------------------

def _single_blocker(report: ValidationReport) -> Problem:
    assert report.valid and not report.errors
    assert not report.executable and report.executable_processes == ()
    blockers = [p for p in report.warnings if p.executable_only]
    assert len(blockers) == 1, [str(p) for p in report.warnings]
    assert blockers[0].severity is Severity.WARNING
    return blockers[0]


def test_a_groovy_script_makes_the_process_not_executable():
    problem = _single_blocker(_report("groovy_script.bpmn"))

    assert (problem.element, problem.line) == ("Task_1", _line("groovy_script.bpmn", "Task_1"))
    assert "'groovy'" in problem.message and "Python" in problem.message


def test_an_xpath_condition_makes_the_process_not_executable():
    problem = _single_blocker(_report("xpath_condition.bpmn"))

    assert (problem.element, problem.line) == ("Flow_2", _line("xpath_condition.bpmn", "Flow_2"))
    assert "XPath" in problem.message


def test_a_camunda_class_service_task_is_named_in_the_warning():
    problem = _single_blocker(_report("camunda_class.bpmn", plugins={"echo"}))

    assert (problem.element, problem.line) == ("Task_1", _line("camunda_class.bpmn", "Task_1"))
    assert "camunda:class" in problem.message


def test_an_execution_listener_is_named_in_the_warning_at_its_own_line():
    name = "execution_listener.bpmn"

    problem = _single_blocker(_report(name))

    listener_line = next(n for n, line in enumerate((MODELS / name).read_text().splitlines(), 1)
                         if "camunda:executionListener" in line)
    assert (problem.element, problem.line) == ("Task_1", listener_line)
    assert "camunda:executionListener" in problem.message


def test_a_plugin_that_is_not_installed_makes_the_process_not_executable():
    problem = _single_blocker(_report("unknown_plugin.bpmn", plugins={"echo"}))

    assert (problem.element, problem.line) == ("Task_1", _line("unknown_plugin.bpmn", "Task_1"))
    assert problem.message == UNKNOWN_PLUGIN.format(plugin="mailer")


def test_plugin_names_are_not_checked_without_a_plugin_set():
    report = _report("unknown_plugin.bpmn", plugins=None)

    assert report.executable and report.warnings == ()


def test_a_script_the_sandbox_refuses_names_the_element_and_the_reason():
    problem = _single_blocker(_report("script_import_os.bpmn"))

    assert problem.element == "Task_1"
    assert problem.line is not None and problem.line >= _line("script_import_os.bpmn", "Task_1")
    assert "sandbox refuses" in problem.message
    assert "import" in problem.message.lower()


def test_an_unsupported_element_makes_the_process_not_executable():
    problem = _single_blocker(_report("ad_hoc.bpmn"))

    assert (problem.element, problem.line) == ("Task_1", _line("ad_hoc.bpmn", "Task_1"))
    assert "adHocSubProcess" in problem.message


def test_ignored_extensions_say_nothing_and_unknown_ones_do_not_block():
    report = _report("ignored_and_unknown_extensions.bpmn")

    assert report.valid and report.executable
    assert [(p.element, p.executable_only) for p in report.warnings] == [("Task_1", False)]
    assert "colour" in report.warnings[0].message
    assert "asyncBefore" not in report.warnings[0].message


def test_a_file_without_an_executable_process_says_so_once():
    data = (MODELS / "executable.bpmn").read_bytes().replace(b'isExecutable="true"', b'isExecutable="false"')

    report = validate_bytes(data, plugins={"echo"})

    assert report.valid and not report.executable
    assert [(p.element, p.message) for p in report.warnings] == [("Process_1", NO_EXECUTABLE_PROCESS)]


def test_soundness_findings_are_appended_as_warnings_that_do_not_block(monkeypatch):
    found = Problem("the path from Task_echo can deadlock", element="Task_echo", line=3, severity=Severity.ERROR)
    monkeypatch.setattr(validation, "check_soundness", lambda process: [found])

    report = _report("executable.bpmn", plugins={"echo"})

    assert report.valid and report.executable
    assert [(p.element, p.message, p.severity, p.executable_only, p.process) for p in report.warnings] == [
        ("Task_echo", found.message, Severity.WARNING, False, "Process_1"),
    ]


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.bpmn")), ids=lambda p: p.name)
def test_every_problem_names_its_element_and_line(path: Path):
    report = validate(parse_file(str(path)), plugins={"echo"})

    for problem in report.errors + report.warnings:
        assert problem.element and problem.line, str(problem)


# -- files that are not BPMN at all -----------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n<x>&e;</x>',
    b"{\"not\": \"xml\"}",
    b'<definitions xmlns="http://example.com/not-bpmn"/>',
    b"",
], ids=["doctype", "json", "not-bpmn", "empty"])
def test_a_file_that_is_not_bpmn_gives_one_error(data: bytes):
    report = validate_bytes(data)

    assert (report.valid, report.executable, len(report.errors), report.warnings) == (False, False, 1, ())


def test_a_file_over_the_size_limit_gives_one_error():
    report = validate_bytes((MODELS / "executable.bpmn").read_bytes(), max_bytes=100)

    assert not report.valid and len(report.errors) == 1
    assert "limit" in report.errors[0].message


# -- the corpus -------------------------------------------------------------------------------------

# Whether Baton can run each MIWG reference model, and the first reason (in line order) when it
# cannot: (executable, element, words from the first warning that blocks it). Plugins unchecked.
MIWG_EXECUTABLE = {
    "A.1.0.bpmn": (False, "WFP-6-", "no process in this file is marked"),
    "A.2.0.bpmn": (False, "WFP-6-", "no process in this file is marked"),
    "A.2.1.bpmn": (False, "_To9ZoTOCEeSknpIVFCxNIQ", "no process in this file is marked"),
    "A.3.0.bpmn": (False, "WFP-6-", "no process in this file is marked"),
    "A.4.0.bpmn": (False, "WFP-6-1", "no process in this file is marked"),
    "A.4.1.bpmn": (False, "sid-34746A54-1D7D-46CA-B219-0C4CEAE51170", "no process in this file is marked"),
    "B.1.0.bpmn": (False, "Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450", "no process in this file is marked"),
    "B.2.0.bpmn": (False, "Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450", "no process in this file is marked"),
    "C.1.0.bpmn": (False, "archiveInvoice", "implemented by activiti:delegateExpression"),
    "C.1.1.bpmn": (False, "archiveInvoice", "implemented by activiti:delegateExpression"),
    "C.2.0.bpmn": (False, "WFP-Page_1-1", "no process in this file is marked"),
    "C.3.0.bpmn": (False, "_be893987-caec-4605-b078-bd96b7cd6c12", "\"Service Level == 'Premium'\" cannot be run"),
    "C.4.0.bpmn": (False, "_42cba3a9-a8ab-40b5-b9a4-2e8f32be364e", "no process in this file is marked"),
    "C.5.0.bpmn": (False, "_3d1ef204-2d4c-4643-8fc5-c319cc032ec0", "no process in this file is marked"),
    "C.6.0.bpmn": (False, "_898aa942-9a96-4405-ae71-22b5e2e3d235", "no process in this file is marked"),
    "C.7.0.bpmn": (False, "_4a690dd7-809a-4fa9-ad63-515ac6685375", "no process in this file is marked"),
    "C.8.0.bpmn": (False, "VacationRequestProcess", "no process in this file is marked"),
    "C.8.1.bpmn": (False, "_2b960d84-feb1-46a9-a1a1-c300dd996b99", "zeebe:ioMapping, zeebe:output are not supported"),
    "C.9.0.bpmn": (False, "StartEvent_ApplicationReceived", "zeebe:ioMapping, zeebe:output are not supported"),
    "C.9.1.bpmn": (True, None, None),  # its plugins are not checked here (plugins=None)
    "C.9.2.bpmn": (False, "UserTask_DecideOnApplication", "zeebe:ioMapping, zeebe:input are not supported"),
}


def test_the_table_covers_every_miwg_model():
    assert sorted(MIWG_EXECUTABLE) == [p.name for p in MIWG_FILES]


@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_miwg_reference_models_are_valid_and_their_executability_is_as_written_down(path: Path):
    report = validate(parse_file(str(path)))

    assert report.errors == (), [str(p) for p in report.errors]
    assert report.valid
    executable, element, reason = MIWG_EXECUTABLE[path.name]
    assert report.executable is executable
    if executable:
        assert not [p for p in report.warnings if p.executable_only]
        return
    first = next(p for p in report.warnings if p.executable_only)
    assert (first.element, first.line is not None) == (element, True)
    assert reason in first.message


def test_flowable_invalid_process_points_at_the_constructs_its_comments_describe():
    report = validate(parse_file(str(FLOWABLE_INVALID)))

    # Where each element's start tag ends (lxml's sourceline; several tags here span two lines).
    line = {"invalidSeqFlow1": 320, "invalidSeqFlow2": 322, "invalidSeqFlow3": 327, "xGw4": 183,
            "messageEvent2": 152, "signalEvent2": 160, "cancelSubprocess5": 241, "serviceTask2": 82}.__getitem__

    assert not report.valid and not report.executable
    errors: dict[tuple[str | None, int | None], str] = {}
    for problem in report.errors:
        errors[(problem.element, problem.line)] = errors.get((problem.element, problem.line), "") + problem.message + "\n"
    # "Invalid sequence flow: src/target not correct"
    assert "sourceRef refers to 'invalid'" in errors[("invalidSeqFlow1", line("invalidSeqFlow1"))]
    assert "targetRef refers to 'invalid'" in errors[("invalidSeqFlow2", line("invalidSeqFlow2"))]
    # "Invalid sequence flow: crosses subprocess boundary"
    assert _prefix(CROSSES_SCOPE) in errors[("invalidSeqFlow3", line("invalidSeqFlow3"))]
    # "Excl gw with seq flow without conditions": its default flow4 leaves xGw3
    assert DEFAULT_NOT_OUTGOING.format(flow="flow4", node="xGw4", source="xGw3") in errors[("xGw4", line("xGw4"))]
    # message and signal events naming definitions that do not exist
    assert "'notValid'" in errors[("messageEvent2", line("messageEvent2"))]
    assert "'notValid'" in errors[("signalEvent2", line("signalEvent2"))]
    # the cancel boundary is attached to "subProcess5", but the sub-process is "subprocess5"
    assert "'subProcess5'" in errors[("cancelSubprocess5", line("cancelSubprocess5"))]
    # "Service task without any implementation", never connected either
    assert _prefix(NOT_CONNECTED) in errors[("serviceTask2", line("serviceTask2"))]
    # <documentation> after the process's flow elements breaks the schema
    assert any(problem.line == 43 and "documentation" in problem.message for problem in report.errors)
    # "Excl gw with seq flow with a default flow with condition": the condition is ignored
    assert any(p.element == "flow4" and "default flow 'flow4' has a condition" in p.message for p in report.warnings)
