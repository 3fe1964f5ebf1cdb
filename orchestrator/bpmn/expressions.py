"""Expressions: Python is what runs; simple JUEL (`${...}`) and FEEL (`=...`) are translated.

Real models carry conditions in several languages. Rather than guess at semantics we do not
implement, we translate only the small subset whose meaning is the same in Python (names,
dotted paths, literals, comparisons and boolean operators) and refuse everything else with a
message that names the construct, so that `validate` can point the author at it.
"""
from __future__ import annotations

import ast
import re

from orchestrator.bpmn.model import Expression, ExpressionLanguage

XPATH_LANGUAGES = {"http://www.w3.org/1999/xpath", "xpath"}
PYTHON_LANGUAGES = {"python", "text/x-python", "py", "python3", "text/python"}
JUEL_LANGUAGES = {"juel", "http://camunda.org/juel", "${}", "uel", "http://www.omg.org/spec/bpmn/20100524/juel"}
FEEL_LANGUAGES = {"feel", "http://camunda.org/feel", "https://www.omg.org/spec/dmn/20191111/feel/"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\.|=)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_WORD_OPERATORS = {
    "and": "and", "or": "or", "not": "not",
    "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_SYMBOL_OPERATORS = {"&&": "and", "||": "or", "!": "not", "==": "==", "!=": "!=",
                     "<": "<", ">": ">", "<=": "<=", ">=": ">=", "(": "(", ")": ")"}


class UntranslatableExpression(ValueError):
    """The expression uses a construct outside the simple subset Baton translates."""


def translate_simple(body: str, *, dialect: str) -> str:
    """Translate a simple JUEL or FEEL body into an equivalent Python expression.

    Dotted paths become item access (`order.total` -> `order["total"]`), because process
    variables are JSON objects, not Python objects with attributes.
    """
    out: list[str] = []
    previous_kind = None
    comparisons = [0]  # comparisons seen per parenthesis depth since the last and/or
    for match in _TOKEN.finditer(body):
        kind, text = match.lastgroup, match.group()
        if kind == "ws":
            continue
        if kind == "other":
            raise UntranslatableExpression(f"{dialect}: {text!r} is not supported (only names, dotted paths, literals, comparisons and and/or/not)")
        if kind == "string":
            if dialect == "FEEL" and text.startswith("'"):
                raise UntranslatableExpression("FEEL: strings are written in double quotes")
            out.append(repr(ast.literal_eval(text)))
        elif kind == "number":
            out.append(text)
        elif kind == "name":
            if text in _LITERALS:
                out.append(_LITERALS[text])
            elif text in _WORD_OPERATORS:
                python_op = _WORD_OPERATORS[text]
                out.append(python_op)
                _count_comparison(python_op, comparisons, dialect)
            elif previous_kind == "dot":
                out[-1] = f"{out[-1]}[{text!r}]"
                previous_kind = "name"
                continue
            else:
                out.append(text)
        elif kind == "op":
            if text == ".":
                if previous_kind != "name" or not out:
                    raise UntranslatableExpression(f"{dialect}: a '.' must follow a name")
                previous_kind = "dot"
                continue
            if text == "=":
                if dialect != "FEEL":
                    raise UntranslatableExpression(f"{dialect}: assignment '=' is not supported")
                text = "=="
            elif text == "(" and previous_kind == "name":
                raise UntranslatableExpression(f"{dialect}: method and function calls are not supported")
            python_op = _SYMBOL_OPERATORS.get(text, text)
            if python_op == "(":
                comparisons.append(0)
            elif python_op == ")" and len(comparisons) > 1:
                comparisons.pop()
            out.append(python_op)
            _count_comparison(python_op, comparisons, dialect)
        previous_kind = kind
    if previous_kind == "dot":
        raise UntranslatableExpression(f"{dialect}: a dotted path cannot end with '.'")
    if dialect == "JUEL":
        out = _coerce_boolean_strings(out)
    python = " ".join(out)
    if not python:
        raise UntranslatableExpression(f"{dialect}: the expression is empty")
    try:
        ast.parse(python, mode="eval")
    except SyntaxError as exc:
        raise UntranslatableExpression(f"{dialect}: cannot read {body.strip()!r} ({exc.msg})") from None
    return python


_COMPARISONS = {"==", "!=", "<", ">", "<=", ">="}
_BOOLEAN_STRINGS = {"'true'": "(True, 'true')", "'false'": "(False, 'false')"}


def _coerce_boolean_strings(out: list[str]) -> list[str]:
    """JUEL coerces both sides of `==` to Boolean when one is: `${flag == 'true'}` holds for a
    Boolean true as for the string (Camunda form fields submit either). Python would not."""
    result = list(out)
    for index in range(1, len(result) - 1):
        if result[index] in ("==", "!=") and result[index + 1] in _BOOLEAN_STRINGS:
            result[index + 1] = _BOOLEAN_STRINGS[result[index + 1]]
            result[index] = "in" if result[index] == "==" else "not in"
    return result


def _count_comparison(python_op: str, comparisons: list[int], dialect: str) -> None:
    """Refuse `a == b != c` and `x > 5 == false`: JUEL and FEEL read them left to right, Python
    as a chain, so the same text would mean something else. Parentheses make it explicit."""
    if python_op in ("and", "or"):
        comparisons[-1] = 0
    elif python_op in _COMPARISONS:
        comparisons[-1] += 1
        if comparisons[-1] > 1:
            raise UntranslatableExpression(f"{dialect}: chained comparisons are not supported; add parentheses")


_JUEL = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)


def read_expression(text: str | None, language: str | None = None) -> Expression | None:
    """Read an expression as found in a model, deciding its language and its Python form.

    `language` is the expression element's own `language` attribute, which wins. Without one,
    the shape decides: `${...}`/`#{...}` is JUEL, a leading `=` is FEEL, XPath functions are
    XPath, anything Python can parse is Python. The file-level `expressionLanguage` is not
    taken at its word (callers do not pass it): modellers leave XPath or FEEL there while the
    conditions are written in JUEL or Python.
    """
    if text is None:
        return None
    source = text.strip()
    if not source:
        return None
    lang = (language or "").strip().lower()
    if lang in XPATH_LANGUAGES:
        # Modellers stamp XPath on conditions by default; a JUEL or FEEL shape is unmistakable,
        # anything else is taken to be the XPath it says it is.
        if _JUEL.match(source):
            return _juel(source)
        if source.startswith("="):
            return _feel(source)
        return Expression(source, ExpressionLanguage.XPATH, None, "XPath expressions are not supported; write the condition in Python")
    if lang:
        if lang in PYTHON_LANGUAGES:
            return _python(source)
        if lang in JUEL_LANGUAGES:
            return _juel(source)
        if lang in FEEL_LANGUAGES:
            return _feel(source)
        return Expression(source, ExpressionLanguage.OTHER, None, f"expression language {language!r} is not supported; Baton runs Python (and translates simple JUEL and FEEL)")
    if _JUEL.match(source):
        return _juel(source)
    if source.startswith("="):
        return _feel(source)
    if re.search(r"\b(bpmn|fn):[A-Za-z]+\s*\(", source) or source.startswith("/"):
        return Expression(source, ExpressionLanguage.XPATH, None, "XPath expressions are not supported; write the condition in Python")
    return _python(source)


def _python(source: str) -> Expression:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "${" in source or "#{" in source:
            return _juel(source)
        return Expression(source, ExpressionLanguage.PYTHON, None, f"not a Python expression ({exc.msg}); free text cannot be evaluated")
    return Expression(source, ExpressionLanguage.PYTHON, source)


def _juel(source: str) -> Expression:
    match = _JUEL.match(source)
    if not match or source.count("${") + source.count("#{") > 1:
        return Expression(source, ExpressionLanguage.JUEL, None, "JUEL: only a single ${...} expression is supported, not text mixed with expressions")
    try:
        return Expression(source, ExpressionLanguage.JUEL, translate_simple(match.group("body"), dialect="JUEL"))
    except UntranslatableExpression as exc:
        return Expression(source, ExpressionLanguage.JUEL, None, str(exc))


def _feel(source: str) -> Expression:
    body = source[1:] if source.startswith("=") else source
    try:
        return Expression(source, ExpressionLanguage.FEEL, translate_simple(body, dialect="FEEL"))
    except UntranslatableExpression as exc:
        return Expression(source, ExpressionLanguage.FEEL, None, str(exc))


SCRIPT_PYTHON_FORMATS = PYTHON_LANGUAGES | {""}


def script_format_error(script_format: str | None) -> str | None:
    """Why a script in this format cannot run, or None when it is Python."""
    fmt = (script_format or "").strip().lower()
    if fmt in SCRIPT_PYTHON_FORMATS:
        return None
    return f"scripts in {script_format!r} are not supported; Baton runs Python scripts only"
