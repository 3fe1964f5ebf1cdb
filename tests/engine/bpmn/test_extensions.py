"""Vendor extensions: each one mapped onto Baton, ignored as harmless, unsupported (it changes
what the process does), or unknown."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.extensions import IGNORED, MAPPED, UNKNOWN, UNSUPPORTED, classify
from orchestrator.bpmn.parser import parse

MODELS = Path(__file__).parent / "models" / "parser"


@pytest.mark.parametrize(
    ("uri", "local", "treatment"),
    [
        # Camunda 7: what Baton reads, what it can leave aside, and code that runs in Camunda.
        (ns.CAMUNDA, "type", MAPPED),
        (ns.CAMUNDA, "topic", MAPPED),
        (ns.CAMUNDA, "assignee", MAPPED),
        (ns.CAMUNDA, "candidateGroups", MAPPED),
        (ns.CAMUNDA, "formField", MAPPED),
        (ns.CAMUNDA, "failedJobRetryTimeCycle", MAPPED),
        (ns.CAMUNDA, "collection", MAPPED),
        (ns.CAMUNDA, "asyncBefore", IGNORED),
        (ns.CAMUNDA, "historyTimeToLive", IGNORED),
        (ns.CAMUNDA, "formKey", IGNORED),
        (ns.CAMUNDA, "properties", IGNORED),
        (ns.CAMUNDA, "class", UNSUPPORTED),
        (ns.CAMUNDA, "delegateExpression", UNSUPPORTED),
        (ns.CAMUNDA, "expression", UNSUPPORTED),
        (ns.CAMUNDA, "executionListener", UNSUPPORTED),
        (ns.CAMUNDA, "taskListener", UNSUPPORTED),
        (ns.CAMUNDA, "connector", UNSUPPORTED),
        (ns.CAMUNDA, "inputOutput", UNSUPPORTED),
        (ns.CAMUNDA, "skipExpression", UNSUPPORTED),
        # Activiti and Flowable spell the same attributes under their own URIs.
        (ns.ACTIVITI, "topic", MAPPED),
        (ns.ACTIVITI, "async", IGNORED),
        (ns.ACTIVITI, "class", UNSUPPORTED),
        (ns.FLOWABLE, "assignee", MAPPED),
        (ns.FLOWABLE, "eventListener", UNSUPPORTED),
        # Zeebe (Camunda 8).
        (ns.ZEEBE, "taskDefinition", MAPPED),
        (ns.ZEEBE, "assignmentDefinition", MAPPED),
        (ns.ZEEBE, "loopCharacteristics", MAPPED),
        (ns.ZEEBE, "taskHeaders", IGNORED),
        (ns.ZEEBE, "formDefinition", IGNORED),
        (ns.ZEEBE, "ioMapping", UNSUPPORTED),
        (ns.ZEEBE, "calledDecision", UNSUPPORTED),
        (ns.ZEEBE, "executionListeners", UNSUPPORTED),
        # SpiffWorkflow.
        (ns.SPIFF, "serviceTaskOperator", MAPPED),
        (ns.SPIFF, "parameter", MAPPED),
        (ns.SPIFF, "instructionsForEndUser", IGNORED),
        (ns.SPIFF, "unitTests", IGNORED),
        (ns.SPIFF, "preScript", UNSUPPORTED),
        (ns.SPIFF, "postScript", UNSUPPORTED),
        (ns.SPIFF, "calledDecisionId", UNSUPPORTED),
        # Baton's own.
        (ns.BATON, "task", MAPPED),
        (ns.BATON, "queue", MAPPED),
        (ns.BATON, "resultVariable", MAPPED),
    ],
)
def test_known_vendor_extensions(uri: str, local: str, treatment: str):
    assert classify(ns.q(uri, local)) == treatment


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        (ns.CAMUNDA, "somethingNew"),
        (ns.ZEEBE, "somethingNew"),
        (ns.SPIFF, "somethingNew"),
        (ns.BATON, "retries"),
    ],
)
def test_names_a_known_vendor_does_not_define_are_unknown(uri: str, local: str):
    assert classify(ns.q(uri, local)) == UNKNOWN


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/vendor",
        "http://www.w4.eu/spec/BPMN/20110701/MODEL",
        "http://www.bpsim.org/schemas/1.0",
        "http://camunda.org/schema/1.0/dmn",  # a Camunda URI, but not the BPMN extension namespace
    ],
)
def test_unknown_vendor_namespaces_are_unknown(uri: str):
    assert classify(ns.q(uri, "task")) == UNKNOWN


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("http://bpmn.io/schema/bpmn/biocolor/1.0", "stroke"),
        ("http://bpmn.io/schema/bpmn/biocolor/1.0", "fill"),
        ("http://www.omg.org/spec/BPMN/non-normative/color/1.0", "background-color"),
        ("http://camunda.org/schema/modeler/1.0", "executionPlatform"),
        ("http://www.signavio.com", "signavioMetaData"),
        ("http://www.signavio.com/bpmn20", "signavioMetaData"),
        ("http://www.yaoqiang.org/schema/bpmn", "style"),
        ("http://www.trisotech.com/2015/triso/modeling", "unparsed"),
        ("http://www.w3.org/XML/1998/namespace", "lang"),
        ("http://www.w3.org/2001/XMLSchema-instance", "type"),
    ],
)
def test_layout_colour_and_tool_namespaces_are_ignored(uri: str, local: str):
    assert classify(ns.q(uri, local)) == IGNORED


@pytest.mark.parametrize("tag", ["name", ns.q(ns.BPMN, "extensionElements")])
def test_plain_and_bpmn_names_are_not_extensions(tag: str):
    assert classify(tag) == IGNORED


def test_the_parser_records_each_extension_with_its_treatment_and_line():
    process = parse((MODELS / "extensions.bpmn").read_bytes()).definitions.process()

    assert [(e.name, e.treatment, e.line) for e in process.node("listened").extensions] == [
        ("camunda:type", MAPPED, 8),
        ("camunda:topic", MAPPED, 8),
        ("camunda:asyncBefore", IGNORED, 8),
        ("w4:version", UNKNOWN, 8),  # an unknown vendor keeps its document prefix
        ("camunda:executionListener", UNSUPPORTED, 10),
        ("camunda:script", UNSUPPORTED, 11),  # nested in the listener
        ("camunda:properties", IGNORED, 13),  # its camunda:property children are harmless and not listed
    ]
    assert [(e.name, e.treatment, e.line) for e in process.node("zeebe_user_task").extensions] == [
        ("zeebe:assignmentDefinition", MAPPED, 20),
        ("zeebe:ioMapping", UNSUPPORTED, 21),
        ("zeebe:input", UNSUPPORTED, 22),
    ]
    assert process.node("zeebe_user_task").assignee == "demo"
