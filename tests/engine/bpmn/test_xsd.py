"""XSD validation of BPMN documents against the shipped OMG BPMN 2.0 schema."""
from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from orchestrator.bpmn.parser import parse_xml
from orchestrator.bpmn.xsd import bpmn_schema, validate_against_xsd
from orchestrator.errors import Severity

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MIWG_FILES = sorted(CORPUS.glob("miwg/*.bpmn"))
VENDOR_FILES = sorted(p for p in (CORPUS / "camunda").iterdir() if p.suffix in {".bpmn", ".xml"}) + sorted(
    p for p in (CORPUS / "spiff").iterdir() if p.suffix in {".bpmn", ".xml"}
)
# Broken on purpose upstream (Flowable's validation test): unresolvable QNames, empty sourceRef/targetRef,
# <documentation> after flow elements.
XSD_INVALID_VENDOR_FILES = {"flowable__invalidProcess.bpmn20.xml"}


def _document(body: str, *, root_attributes: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
        '    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"\n'
        f'    id="Definitions_1" targetNamespace="http://example.com/bpmn" {root_attributes}>\n'
        f"{body}"
        "</bpmn:definitions>\n"
    )


def _validate(text: str):
    return validate_against_xsd(parse_xml(text.encode("utf-8")))


def test_the_corpus_has_the_21_miwg_reference_models():
    assert len(MIWG_FILES) == 21


@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_miwg_reference_models_are_valid(path: Path):
    assert validate_against_xsd(parse_xml(path.read_bytes())) == []


@pytest.mark.parametrize("path", VENDOR_FILES, ids=lambda p: p.name)
def test_vendor_models_with_extension_attributes_and_elements_are_valid(path: Path):
    problems = validate_against_xsd(parse_xml(path.read_bytes()))
    assert bool(problems) == (path.name in XSD_INVALID_VENDOR_FILES), [str(p) for p in problems]


def test_flowable_invalid_process_reports_each_broken_construct_by_line():
    problems = validate_against_xsd(parse_xml((CORPUS / "camunda" / "flowable__invalidProcess.bpmn20.xml").read_bytes()))

    assert {p.line for p in problems} == {21, 23, 24, 25, 41, 43}
    assert all(p.severity is Severity.ERROR for p in problems)
    assert all("{" not in p.message for p in problems)
    documentation = [p for p in problems if p.line == 43]
    assert documentation[0].element == "invalidProcess"
    assert documentation[0].message.startswith("Element 'bpmn:documentation': This element is not expected.")


def test_a_broken_file_names_the_line_and_the_nearest_element_with_an_id():
    text = _document(
        '  <bpmn:process id="Process_1" isExecutable="true">\n'  # line 5
        '    <bpmn:startEvent id="Start_1"/>\n'
        '    <bpmn:task id="Task_1" foo="bar"/>\n'  # line 7
        '    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Task_1">\n'
        "      <bpmn:bogus/>\n"  # line 9
        "    </bpmn:sequenceFlow>\n"
        "  </bpmn:process>\n"
    )

    problems = _validate(text)

    assert [(p.element, p.line, p.message) for p in problems] == [
        ("Task_1", 7, "Element 'bpmn:task', attribute 'foo': The attribute 'foo' is not allowed."),
        (
            "Flow_1",
            9,
            "Element 'bpmn:bogus': This element is not expected. "
            "Expected is one of ( bpmn:documentation, bpmn:extensionElements, bpmn:auditing, "
            "bpmn:monitoring, bpmn:categoryValueRef, bpmn:conditionExpression ).",
        ),
    ]


def test_an_error_outside_any_element_with_an_id_has_no_element():
    text = (
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="x">\n'
        '  <interface name="I" implementationRef="undeclared:Thing"/>\n'
        "</definitions>\n"
    )
    problems = _validate(text)

    assert problems and {(p.element, p.line) for p in problems} == {(None, 2)}


def test_vendor_attributes_and_extension_elements_are_allowed():
    text = _document(
        '  <bpmn:process id="Process_1" isExecutable="true" camunda:historyTimeToLive="P1D">\n'
        '    <bpmn:serviceTask id="Task_1" camunda:class="org.example.Delegate">\n'
        "      <bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name=\"x\">1"
        "</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>\n"
        "    </bpmn:serviceTask>\n"
        "  </bpmn:process>\n"
    )
    assert _validate(text) == []


@pytest.mark.parametrize("called_element", ["${processKey}", "#{resolver.key(execution)}", "order process"])
def test_call_activity_called_element_accepts_expressions(called_element: str):
    text = _document(
        '  <bpmn:process id="Process_1" isExecutable="true">\n'
        f'    <bpmn:callActivity id="Call_1" calledElement="{called_element}"/>\n'
        "  </bpmn:process>\n"
    )
    assert _validate(text) == []


def test_the_called_element_relaxation_leaves_other_qname_attributes_strict():
    text = _document(
        '  <bpmn:process id="Process_1" isExecutable="true">\n'
        '    <bpmn:callActivity id="Call_1" calledElement="${key}"/>\n'
        '    <bpmn:sequenceFlow id="Flow_1" sourceRef="${source}" targetRef="Call_1"/>\n'
        "  </bpmn:process>\n"
    )
    problems = _validate(text)

    assert [(p.element, p.line) for p in problems] == [("Flow_1", 7)]
    assert "attribute 'sourceRef'" in problems[0].message


def test_schema_location_hints_are_never_fetched():
    """The document's xsi:schemaLocation points at the network; validation stays on the local schema."""
    connections: list[tuple[str, int]] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            connections.append(peer)
            conn.close()

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    port = listener.getsockname()[1]
    hints = (
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="'
        "http://www.omg.org/spec/BPMN/20100524/MODEL http://example.invalid/x.xsd "
        f'http://camunda.org/schema/1.0/bpmn http://127.0.0.1:{port}/camunda.xsd"'
    )
    try:
        valid = _validate(_document('  <bpmn:process id="Process_1"/>\n', root_attributes=hints))
        invalid = _validate(_document('  <bpmn:process id="Process_1" foo="bar"/>\n', root_attributes=hints))
    finally:
        stop.set()
        watcher.join()
        listener.close()

    assert valid == []
    assert [(p.element, p.message) for p in invalid] == [
        ("Process_1", "Element 'bpmn:process', attribute 'foo': The attribute 'foo' is not allowed.")
    ]
    assert connections == []


def test_the_schema_is_built_once():
    assert bpmn_schema() is bpmn_schema()
