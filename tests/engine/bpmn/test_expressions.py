"""Expressions: Python runs as written, simple JUEL and FEEL are translated to Python with the
same meaning, and everything else is refused with a message that names the construct."""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.bpmn.expressions import (
    UntranslatableExpression, read_expression, script_format_error, translate_simple,
)
from orchestrator.bpmn.model import Expression, ExpressionLanguage

PYTHON, JUEL, FEEL, XPATH, OTHER = (
    ExpressionLanguage.PYTHON, ExpressionLanguage.JUEL, ExpressionLanguage.FEEL, ExpressionLanguage.XPATH,
    ExpressionLanguage.OTHER,
)
XPATH_URI = "http://www.w3.org/1999/XPath"

NOT_SUPPORTED = "{dialect}: {token!r} is not supported (only names, dotted paths, literals, comparisons and and/or/not)"
CALLS = "{dialect}: method and function calls are not supported"
MIXED_TEXT = "JUEL: only a single ${...} expression is supported, not text mixed with expressions"
XPATH_REFUSED = "XPath expressions are not supported; write the condition in Python"
UNKNOWN_LANGUAGE = (
    "expression language {language!r} is not supported; Baton runs Python (and translates simple JUEL and FEEL)"
)
SCRIPT_REFUSED = "scripts in {format!r} are not supported; Baton runs Python scripts only"


def _evaluate(python: str, variables: dict[str, Any]) -> Any:
    return eval(python, {"__builtins__": {}}, dict(variables))  # noqa: S307 - test of the translation's meaning


# (source, explicit language, language read, Python, [(variables, value), ...])
TRANSLATED = [
    # Python stays Python.
    ("approved", None, PYTHON, "approved", [({"approved": True}, True), ({"approved": False}, False)]),
    ("amount > 1000 and not vip", None, PYTHON, "amount > 1000 and not vip",
     [({"amount": 1500, "vip": False}, True), ({"amount": 1500, "vip": True}, False)]),
    ("order['total'] >= 100", "python", PYTHON, "order['total'] >= 100", [({"order": {"total": 100}}, True)]),
    ("approved", "text/x-python", PYTHON, "approved", [({"approved": True}, True)]),
    # JUEL, with ${...} and #{...}.
    ("${approved}", None, JUEL, "approved", [({"approved": True}, True), ({"approved": False}, False)]),
    ("${!approved}", None, JUEL, "not approved", [({"approved": True}, False), ({"approved": False}, True)]),
    ("#{approved}", None, JUEL, "approved", [({"approved": True}, True)]),
    ("  ${ approved }\n", None, JUEL, "approved", [({"approved": False}, False)]),
    ("${a > 1 && b}", None, JUEL, "a > 1 and b",
     [({"a": 2, "b": True}, True), ({"a": 1, "b": True}, False), ({"a": 2, "b": False}, False)]),
    ("${a || !b}", None, JUEL, "a or not b", [({"a": False, "b": False}, True), ({"a": False, "b": True}, False)]),
    ("${x eq 'y'}", None, JUEL, "x == 'y'", [({"x": "y"}, True), ({"x": "z"}, False)]),
    # JUEL coerces both sides to Boolean when one is (EL 2.2 section 1.8.2): a Boolean true and the
    # string a form submits both hold.
    ("${notEnoughInformation == 'true'}", None, JUEL, "notEnoughInformation in (True, 'true')",
     [({"notEnoughInformation": "true"}, True), ({"notEnoughInformation": "false"}, False),
      ({"notEnoughInformation": True}, True), ({"notEnoughInformation": False}, False)]),
    ("${order.total gt 100}", None, JUEL, "order['total'] > 100",
     [({"order": {"total": 150}}, True), ({"order": {"total": 100}}, False)]),
    ("${customer.address.country ne 'CH'}", None, JUEL, "customer['address']['country'] != 'CH'",
     [({"customer": {"address": {"country": "DE"}}}, True)]),
    ("${a ne null}", None, JUEL, "a != None", [({"a": 0}, True), ({"a": None}, False)]),
    ("${score le 5 and not vip}", None, JUEL, "score <= 5 and not vip", [({"score": 5, "vip": False}, True)]),
    ('${status == "open"}', None, JUEL, "status == 'open'", [({"status": "open"}, True)]),
    ("${x == 1.5 || done == true}", None, JUEL, "x == 1.5 or done == True",
     [({"x": 1.5, "done": False}, True), ({"x": 2, "done": False}, False)]),
    ("${approved}", "juel", JUEL, "approved", [({"approved": True}, True)]),
    # FEEL, with a leading '='.
    ("= approved", None, FEEL, "approved", [({"approved": True}, True), ({"approved": False}, False)]),
    ("= a = 1", None, FEEL, "a == 1", [({"a": 1}, True), ({"a": 2}, False)]),
    ("= x and y", None, FEEL, "x and y", [({"x": True, "y": True}, True), ({"x": True, "y": False}, False)]),
    ('=status != "closed"', None, FEEL, "status != 'closed'", [({"status": "open"}, True)]),
    ("= order.total >= 100", None, FEEL, "order['total'] >= 100", [({"order": {"total": 99}}, False)]),
    ("= x = null", None, FEEL, "x == None", [({"x": None}, True)]),
    ("approved", "feel", FEEL, "approved", [({"approved": True}, True)]),
]


@pytest.mark.parametrize(("source", "language", "read_as", "python", "cases"), TRANSLATED,
                         ids=[f"{row[0].strip()}|{row[1]}" for row in TRANSLATED])
def test_translated_expressions_keep_their_meaning(source: str, language: str | None, read_as: ExpressionLanguage,
                                                   python: str, cases: list[tuple[dict[str, Any], Any]]):
    expression = read_expression(source, language)

    assert expression == Expression(source.strip(), read_as, python, None)
    for variables, expected in cases:
        assert _evaluate(expression.python, variables) == expected, variables


# (source, explicit language, language read, error)
REFUSED = [
    # JUEL beyond the simple subset.
    ("${execution.getVariable('x')}", None, JUEL, CALLS.format(dialect="JUEL")),
    ("${approvalService.isApproved(order)}", None, JUEL, CALLS.format(dialect="JUEL")),
    ("${x+5}", None, JUEL, NOT_SUPPORTED.format(dialect="JUEL", token="+")),
    ("${x - 5 > 0}", None, JUEL, NOT_SUPPORTED.format(dialect="JUEL", token="-")),
    ("${a ? b : c}", None, JUEL, NOT_SUPPORTED.format(dialect="JUEL", token="?")),
    ("${items[0]}", None, JUEL, NOT_SUPPORTED.format(dialect="JUEL", token="[")),
    ("Hello ${name}", None, JUEL, MIXED_TEXT),
    ("${a}!", None, JUEL, MIXED_TEXT),
    ("${empty items}", None, JUEL, "JUEL: cannot read 'empty items' (invalid syntax)"),
    ("${}", None, JUEL, "JUEL: the expression is empty"),
    ("${order.}", None, JUEL, "JUEL: a dotted path cannot end with '.'"),
    ("${.total}", None, JUEL, "JUEL: a '.' must follow a name"),
    ("${x = 1}", None, JUEL, "JUEL: assignment '=' is not supported"),
    # FEEL beyond the simple subset.
    ("= count(items) > 1", None, FEEL, CALLS.format(dialect="FEEL")),
    ("= not(approved)", None, FEEL, CALLS.format(dialect="FEEL")),
    ("= x = 'y'", None, FEEL, "FEEL: strings are written in double quotes"),
    ("= x in [1..5]", None, FEEL, NOT_SUPPORTED.format(dialect="FEEL", token="[")),
    ('Vacation Approval = "Approved"', "https://www.omg.org/spec/DMN/20191111/FEEL/", FEEL,
     "FEEL: cannot read 'Vacation Approval = \"Approved\"' (invalid syntax)"),
    # XPath, by shape or with the XPath language named explicitly.
    ("bpmn:getDataObject('approved')", None, XPATH, XPATH_REFUSED),
    ("not(bpmn:getDataObject('approved'))", None, XPATH, XPATH_REFUSED),
    ("bpmn:getDataObject('clarified') = 'yes'", XPATH_URI, XPATH, XPATH_REFUSED),
    ("/order/total > 100", XPATH_URI, XPATH, XPATH_REFUSED),
    ("fn:exists(approved)", "xpath", XPATH, XPATH_REFUSED),
    # Free text and languages Baton does not run.
    ("approved if the manager agrees", None, PYTHON,
     "not a Python expression (expected 'else' after 'if' expression); free text cannot be evaluated"),
    ("the manager agrees", None, PYTHON, "not a Python expression (invalid syntax); free text cannot be evaluated"),
    ("approved == true", "groovy", OTHER, UNKNOWN_LANGUAGE.format(language="groovy")),
    ("ProcessProperty1", "NCalc", OTHER, UNKNOWN_LANGUAGE.format(language="NCalc")),
    ("approved", "http://example.com/lang", OTHER, UNKNOWN_LANGUAGE.format(language="http://example.com/lang")),
]


@pytest.mark.parametrize(("source", "language", "read_as", "error"), REFUSED,
                         ids=[f"{row[0]}|{row[1]}" for row in REFUSED])
def test_untranslatable_expressions_are_refused_with_a_reason(source: str, language: str | None,
                                                              read_as: ExpressionLanguage, error: str):
    expression = read_expression(source, language)

    assert expression == Expression(source, read_as, None, error)


def test_xpath_named_as_the_language_is_followed_unless_the_text_is_unmistakably_juel_or_feel():
    """An element that says XPath is XPath, except for a JUEL or FEEL shape no XPath can have."""
    assert read_expression("${approved}", XPATH_URI) == Expression("${approved}", JUEL, "approved")
    assert read_expression("= approved", XPATH_URI) == Expression("= approved", FEEL, "approved")
    refused = read_expression("approved", XPATH_URI)
    assert refused is not None and refused.python is None and refused.language is XPATH


@pytest.mark.parametrize("source", [None, "", "   \n\t"])
def test_no_expression_reads_as_none(source: str | None):
    assert read_expression(source) is None
    assert read_expression(source, "python") is None


# -- translate_simple ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "dialect", "python"),
    [
        ("a > 1 && b", "JUEL", "a > 1 and b"),
        ("!approved", "JUEL", "not approved"),
        ("x eq 'y' or y lt 2", "JUEL", "x == 'y' or y < 2"),
        ("a.b.c ge 3", "JUEL", "a['b']['c'] >= 3"),
        ("(a || b) && c", "JUEL", "( a or b ) and c"),
        ("a = 1", "FEEL", "a == 1"),
        ('name = "x"', "FEEL", "name == 'x'"),
        ("true and not false", "FEEL", "True and not False"),
    ],
)
def test_translate_simple(body: str, dialect: str, python: str):
    assert translate_simple(body, dialect=dialect) == python


@pytest.mark.parametrize(
    ("body", "dialect", "message"),
    [
        ("execution.getVariable('x')", "JUEL", CALLS.format(dialect="JUEL")),
        ("x+5", "JUEL", NOT_SUPPORTED.format(dialect="JUEL", token="+")),
        ("a ? b : c", "JUEL", NOT_SUPPORTED.format(dialect="JUEL", token="?")),
        ("a = 1", "JUEL", "JUEL: assignment '=' is not supported"),
        ("date(x) > 1", "FEEL", CALLS.format(dialect="FEEL")),
        ("x = 'y'", "FEEL", "FEEL: strings are written in double quotes"),
        ("   ", "FEEL", "FEEL: the expression is empty"),
        ("a &&", "JUEL", "JUEL: cannot read 'a &&' (invalid syntax)"),
    ],
)
def test_translate_simple_refuses_with_the_construct_named(body: str, dialect: str, message: str):
    with pytest.raises(UntranslatableExpression) as caught:
        translate_simple(body, dialect=dialect)

    assert str(caught.value) == message


# -- script formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("script_format", [None, "", "python", "Python", "text/x-python", "python3", " python "])
def test_python_script_formats_are_accepted(script_format: str | None):
    assert script_format_error(script_format) is None


@pytest.mark.parametrize("script_format", ["groovy", "javascript", "JavaScript", "juel", "text/x-groovy"])
def test_other_script_formats_are_refused_by_name(script_format: str):
    assert script_format_error(script_format) == SCRIPT_REFUSED.format(format=script_format)
