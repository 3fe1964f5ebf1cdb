"""Regressions found by review of the parser and the expression translator (each was a real bug)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.bpmn.test_parser import (
    BPMN_URI, CORPUS, DOCTYPE_REFUSED, MODELS, _document, _http_listener, _watched_file,
)
from orchestrator.bpmn import extensions as ext
from orchestrator.bpmn.expressions import read_expression
from orchestrator.bpmn.model import EventType, Extension
from orchestrator.bpmn.parser import parse
from orchestrator.errors import BpmnParseError


# B1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE definitions SYSTEM "file://{fifo}">\n',
        '<!DOCTYPE definitions [\n  <!ENTITY % local SYSTEM "file://{fifo}">\n  %local;\n]>\n',
    ],
    ids=["external-dtd", "parameter-entity"],
)
def test_a_local_external_dtd_or_parameter_entity_is_never_read(tmp_path: Path, prolog: str):
    with _watched_file(tmp_path) as (fifo, opened):
        with pytest.raises(BpmnParseError):
            parse(_document('  <bpmn:process id="p"/>\n', prolog=prolog.format(fifo=fifo)))

    assert opened == []


# B2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prolog, body",
    [
        ('<!DOCTYPE definitions SYSTEM "http://127.0.0.1:{port}/bpmn.dtd">\n', '  <bpmn:process id="p"/>\n'),
        ('<!DOCTYPE definitions [\n  <!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/e.dtd">\n  %remote;\n]>\n',
         '  <bpmn:process id="p"/>\n'),
        ('<!DOCTYPE definitions [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n',
         '  <bpmn:process id="p" name="&xxe;"/>\n'),
        (None, None),  # billion_laughs.bpmn (entity used in an attribute)
    ],
    ids=["external-dtd-http", "parameter-entity-http", "xxe-in-attribute", "billion-laughs-fixture"],
)
def test_every_doctype_is_refused_by_name(prolog, body):
    with _http_listener() as (port, _connections):
        data = (MODELS / "billion_laughs.bpmn").read_bytes() if prolog is None else _document(body, prolog=prolog.format(port=port))
        with pytest.raises(BpmnParseError) as caught:
            parse(data)

    assert caught.value.message == DOCTYPE_REFUSED


# B3 -------------------------------------------------------------------------------------------
def test_text_with_a_latin1_declaration_keeps_its_characters():
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<definitions xmlns="{BPMN_URI}" id="d"><process id="p" name="Rechnung klären"/></definitions>\n'
    )

    assert parse(text).definitions.process().name == "Rechnung klären"


# B4 -------------------------------------------------------------------------------------------
def test_a_definitions_root_in_another_namespace_names_that_namespace():
    beta = "http://www.omg.org/spec/BPMN/20100501/MODEL"
    with pytest.raises(BpmnParseError) as caught:
        parse(f'<definitions xmlns="{beta}" id="d"/>')

    assert beta in caught.value.message


# B5 -------------------------------------------------------------------------------------------
def test_vendor_attributes_on_an_event_definition_are_recorded():
    """Camunda runs `camunda:expression` on a message throw event like a service task."""
    process = parse((CORPUS / "camunda/c7platform__HistoricActivityInstanceTest.testEvents.bpmn").read_bytes()).definitions.process()

    assert process.node("intermediateMessageThrowEvent").extensions == (
        Extension("camunda:expression", ext.UNSUPPORTED, 65),
    )


# B6 -------------------------------------------------------------------------------------------
def test_an_event_definition_ref_is_resolved_or_reported():
    text = (
        '<?xml version="1.0"?>\n'
        f'<definitions xmlns="{BPMN_URI}" id="d">\n'
        '  <timerEventDefinition id="one_hour"><timeDuration>PT1H</timeDuration></timerEventDefinition>\n'
        '  <process id="p">\n'
        '    <intermediateCatchEvent id="wait"><eventDefinitionRef>one_hour</eventDefinitionRef></intermediateCatchEvent>\n'
        '  </process>\n'
        '</definitions>\n'
    )

    result = parse(text)

    wait = result.definitions.process().node("wait")
    assert wait.event_type is EventType.TIMER or [p.element for p in result.problems] == ["wait"]


# B7 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, variables, juel_result",
    [
        ("${score > 5 == false}", {"score": 3}, True),      # (score > 5) == false
        ("${a == b != c}", {"a": 1, "b": 2, "c": True}, True),  # (a == b) != c -> False != True
    ],
)
def test_juel_comparisons_do_not_become_python_chains(source, variables, juel_result):
    expression = read_expression(source)

    assert expression.python is None or eval(expression.python, {"__builtins__": {}}, dict(variables)) == juel_result


# B8 -------------------------------------------------------------------------------------------
def test_two_juel_expressions_with_text_between_are_refused_as_mixed_text():
    expression = read_expression("${a} and ${b}")

    assert expression.error == "JUEL: only a single ${...} expression is supported, not text mixed with expressions"


# B9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["string-length(name) > 0", "$approved = 'yes'", "count(items) > 0"])
def test_explicit_xpath_that_is_not_a_bpmn_function_is_refused_as_xpath(source):
    expression = read_expression(source, "http://www.w3.org/1999/XPath")

    assert expression.python is None
    assert "XPath" in expression.error
