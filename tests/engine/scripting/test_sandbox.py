"""Script and expression semantics: variables in and out, copies, errors naming element and line."""
from __future__ import annotations

import copy
import re
import datetime as dt
import types
from decimal import Decimal
from typing import Any, Callable

import pytest

import RestrictedPython
from orchestrator.errors import ScriptError, ScriptMemoryError, ScriptTimeout
from orchestrator.scripting import CompiledExpression, CompiledScript, Sandbox, SandboxLimits, ScriptResult

SANDBOX = Sandbox()


def run(source: str, variables: dict[str, Any] | None = None, sandbox: Sandbox = SANDBOX) -> ScriptResult:
    return sandbox.run_script(sandbox.compile_script(source, element_id="Task_1"), variables or {})


def evaluate(source: str, variables: dict[str, Any] | None = None, sandbox: Sandbox = SANDBOX) -> Any:
    return sandbox.evaluate(sandbox.compile_expression(source, element_id="Flow_1"), variables or {})


def error_of(call: Callable[[], Any], kind: type[ScriptError] = ScriptError) -> ScriptError:
    """The ScriptError a call raises; exactly of class `kind`."""
    with pytest.raises(ScriptError) as caught:
        call()
    assert type(caught.value) is kind, caught.value
    return caught.value


# -- variables in and out -------------------------------------------------------------


def test_assignments_are_set_and_del_is_reported():
    result = run("total = price * qty\ndel scratch", {"price": 3, "qty": 4, "scratch": 1})
    assert result == ScriptResult(set={"total": 12}, deleted=["scratch"])


def test_changes_are_compared_by_value_not_identity():
    variables = {"same": [1, {"a": 2}], "rebuilt": {"k": [1, 2]}, "n": 5}
    result = run("same = [1, {'a': 2}]\nrebuilt = dict(rebuilt)\nn = 5", variables)
    assert result.set == {} and result.deleted == []


def test_a_change_of_type_is_a_change_even_when_equal():
    result = run("a = True\nb = 1.0\nc = [True]", {"a": 1, "b": 1, "c": [1]})
    assert result.set == {"a": True, "b": 1.0, "c": [True]}
    assert type(result.set["a"]) is bool and type(result.set["b"]) is float


def test_in_place_changes_are_reported_and_never_reach_the_callers_objects():
    variables = {
        "testvar": {"a": 1, "nested": {"list": [1, 2]}},
        "items": [{"id": 1}],
        "when": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        "price": Decimal("1.10"),
    }
    before = copy.deepcopy(variables)
    inner = variables["testvar"]["nested"]["list"]
    result = run(
        "testvar['new'] = 'x'\ntestvar['nested']['list'].append(3)\nitems[0]['id'] = 2\nitems.append({'id': 3})\n"
        "del testvar['a']",
        variables,
    )
    assert variables == before and variables["testvar"]["nested"]["list"] is inner and inner == [1, 2]
    assert result.set == {
        "testvar": {"nested": {"list": [1, 2, 3]}, "new": "x"},
        "items": [{"id": 2}, {"id": 3}],
    }


def test_results_do_not_alias_the_callers_objects():
    variables = {"source": {"a": [1]}}
    result = run("copy = source", variables)
    result.set["copy"]["a"].append(2)
    assert variables == {"source": {"a": [1]}}


def test_functions_lambdas_generators_and_modules_never_become_variables():
    source = (
        "def helper():\n    return 1\n"
        "double = lambda x: x * 2\n"
        "gen = (i for i in range(3))\n"
        "m = math\n"
        "f = len\n"
        "d = Decimal\n"
        "it = iter([1])\n"
        "keys = {'a': 1}.keys()\n"
        "value = helper() + double(2)\n"
    )
    result = run(source)
    assert result.set == {"value": 5}


def test_only_named_variables_are_offered_and_others_untouched():
    result = run("y = x + 1", {"x": 1, "_private": 2, "not an identifier": 3, "big": list(range(1000))})
    assert result.set == {"y": 2} and result.deleted == []


def test_deleting_a_variable_the_script_created_is_not_reported():
    assert run("tmp = 1\ndel tmp").deleted == []


def test_global_statement_in_functions_writes_process_variables():
    result = run("def bump():\n    global count\n    count += 1\nbump()\nbump()", {"count": 1})
    assert result.set == {"count": 3}


def test_augmented_assignment_to_items_and_list_aliasing_behave_like_python():
    source = "d['n'] += 1\nd['s'] += 'b'\nalias = l\nl += [2]\nsame = alias is l\nl *= 2\nc[1] -= 1"
    result = run(source, {"d": {"n": 1, "s": "a"}, "l": [1], "c": [5, 5]})
    assert result.set == {"d": {"n": 2, "s": "ab"}, "l": [1, 2, 1, 2], "alias": [1, 2, 1, 2], "same": True,
                          "c": [5, 4]}


def test_unpacking_slices_comprehensions_and_fstrings_work():
    source = (
        "a, (b, *c) = 1, (2, 3, 4)\n"
        "pairs = [f'{k}={v!r:>3}' for k, v in sorted(d.items())]\n"
        "l[1:2] = [9, 9]\n"
        "width = f'{3.14159:.2f}|{\"x\":{fill}>4}'\n"
    )
    result = run(source, {"d": {"b": 2, "a": 1}, "l": [1, 2, 3], "fill": "*"})
    assert result.set == {"a": 1, "b": 2, "c": [3, 4], "pairs": ["a=  1", "b=  2"], "l": [1, 9, 9, 3],
                          "width": "3.14|***x"}


def test_the_allowed_builtins_and_helpers_work():
    source = (
        "n = len([1, 2]) + sum(range(4)) + max(1, 2) + abs(-1) + round(2.6)\n"
        "s = str(5) + repr('x') + str(int('7'))\n"
        "checks = [isinstance('a', str), isinstance(1, int), isinstance(True, int), isinstance(1.0, (str, float))]\n"
        "j = json_loads(json_dumps({'when': date(2026, 1, 2), 'price': Decimal('1.5'), 'n': [1]}, sort_keys=True))\n"
        "due = datetime(2026, 3, 28, tzinfo=timezone.utc) + timedelta(days=2)\n"
        "root = math.sqrt(16) + math.floor(2.5)\n"
        "z = list(zip('ab', reversed([1, 2])))\n"
        "e = list(enumerate(filter(None, map(abs, [-1, 0, 2]))))\n"
        "flags = [any([0, 1]), all([]), callable(len), chr(65), ord('A'), divmod(7, 2)]\n"
        "u = 'A b'.lower().split()\n"
        "fixed = 'x'.ljust(3, '.') + ','.join(['a', 'b']) + 'aa'.replace('a', 'b')\n"
        "when = datetime.fromisoformat('2026-01-02T03:04:05').strftime('%Y/%m/%d')\n"
    )
    result = run(source).set
    assert result["n"] == 2 + 6 + 2 + 1 + 3
    assert result["s"] == "5'x'7"
    assert result["checks"] == [True, True, True, True]
    assert result["j"] == {"n": [1], "price": "1.5", "when": "2026-01-02"}
    assert result["due"] == dt.datetime(2026, 3, 30, tzinfo=dt.timezone.utc)
    assert result["root"] == 6.0
    assert result["z"] == [("a", 2), ("b", 1)]
    assert result["e"] == [(0, 1), (1, 2)]
    assert result["flags"] == [True, True, True, "A", 65, (3, 1)]
    assert result["u"] == ["a", "b"] and result["fixed"] == "x..a,bbb" and result["when"] == "2026/01/02"


def test_print_is_collected_bounded_and_ignored_by_equality():
    result = run("print('hello', 1, sep='-')\ndef f():\n    print('inner')\nf()\nseen = printed")
    assert result.output == "hello-1\ninner\n"
    assert result.set == {"seen": "hello-1\ninner\n"}
    assert result == ScriptResult(set={"seen": "hello-1\ninner\n"}, deleted=[])
    flood = run("for i in range(100000):\n    print('0123456789')")
    assert len(flood.output) < 70_000 and flood.output.endswith("[output truncated]\n")
    wide = run("print(1, 2, sep='-' * 10**7, end='!' * 10**7, flush=True)\nprint('dropped')")
    assert len(wide.output) < 70_000 and wide.output.startswith("1---") and "dropped" not in wide.output


def test_scripts_are_dedented_as_bpmn_editors_indent_them():
    assert run("\n    x = 1\n    if x:\n        y = 2\n").set == {"x": 1, "y": 2}


def test_extra_globals_are_offered_and_data_ones_never_leak_between_runs():
    calls: list[int] = []
    sandbox = Sandbox(extra_globals={"record": calls.append, "config": {"retries": 3}, "LIMIT": 10})
    first = run("record(1)\nconfig['retries'] += 1\nn = config['retries'] + LIMIT", sandbox=sandbox)
    second = run("n = config['retries']", sandbox=sandbox)
    assert calls == [1]
    assert first.set == {"config": {"retries": 4}, "n": 14}
    assert second.set == {"n": 3}
    assert run("config = 'mine'", {"config": "theirs"}, sandbox=sandbox).set == {"config": "mine"}


@pytest.mark.parametrize("name", ["_hidden", "not a name", "__builtins__"])
def test_extra_globals_must_be_names_scripts_can_use(name: str):
    with pytest.raises(ValueError, match="not a name scripts can use"):
        Sandbox(extra_globals={name: 1})


def test_compile_once_run_many(monkeypatch: pytest.MonkeyPatch):
    script = SANDBOX.compile_script("x = x + 1", element_id="Task_1")
    assert isinstance(script, CompiledScript) and isinstance(script.code, types.CodeType)
    assert (script.source, script.element_id) == ("x = x + 1", "Task_1")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("run_script must not compile")

    monkeypatch.setattr(RestrictedPython.compile, "_compile_restricted_mode", refuse)
    monkeypatch.setattr("builtins.compile", refuse)
    assert [SANDBOX.run_script(script, {"x": i}).set["x"] for i in range(3)] == [1, 2, 3]


# -- expressions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ("x > 1", {"x": 2}, True),
        ("  amount >= 1000 and not vip\n", {"amount": 1000, "vip": False}, True),
        ("order['total'] > 100", {"order": {"total": 150}}, True),
        ("status in ('open', 'new')", {"status": "closed"}, False),
        ("len(items) if items else -1", {"items": [1, 2]}, 2),
        ("sum(i * i for i in range(n))", {"n": 4}, 14),
        ("d.get('missing', 'default')", {"d": {}}, "default"),
    ],
)
def test_expressions_evaluate(source: str, variables: dict[str, Any], expected: Any):
    assert evaluate(source, variables) == expected


def test_simple_comparisons_are_cheap_and_anything_calling_is_not():
    assert SANDBOX.compile_expression("a > 1 and b['k'] in ('x', 'y')").cheap
    assert not SANDBOX.compile_expression("len(a) > 1").cheap
    assert not SANDBOX.compile_expression("a + 1 > 1").cheap
    assert not SANDBOX.compile_expression("[i for i in a]").cheap
    assert not SANDBOX.compile_expression("a[1:]").cheap


def test_an_expression_result_is_a_copy_and_its_evaluation_mutates_nothing():
    variables = {"items": [1, 2], "d": {"k": [1]}}
    result = evaluate("items", variables)
    result.append(3)
    evaluate("d['k'].append(2) or d", variables)
    assert variables == {"items": [1, 2], "d": {"k": [1]}}
    assert isinstance(SANDBOX.compile_expression("x"), CompiledExpression)


def test_print_is_refused_in_expressions():
    with pytest.raises(ScriptError, match="print is not available in expressions"):
        SANDBOX.compile_expression("print(1)", element_id="Flow_1")


# -- errors ---------------------------------------------------------------------------


def test_a_runtime_error_names_element_and_script_line():
    with pytest.raises(ScriptError) as caught:
        run("a = 1\nb = 2\nc = x")
    assert type(caught.value) is ScriptError
    assert caught.value.element == "Task_1"
    assert caught.value.message == "line 3: name 'x' is not defined"
    assert str(caught.value) == "element 'Task_1': line 3: name 'x' is not defined"


def test_an_error_inside_a_function_names_the_line_that_raised():
    error = error_of(lambda: run("def f(n):\n    return 1 / n\n\nf(0)"))
    assert error.message == "line 2: ZeroDivisionError: division by zero"


def test_a_raised_exception_is_kept_as_the_cause_without_the_scripts_frames():
    error = error_of(lambda: run("x = 1\nraise ValueError('bad input')"))
    assert error.message == "line 2: ValueError: bad input"
    cause = error.__cause__
    assert type(cause) is ValueError and cause.__traceback__ is None


def test_exceptions_can_be_caught_inside_scripts():
    source = "try:\n    x = 1 / 0\nexcept ZeroDivisionError as e:\n    x = str(e)\nfinally:\n    done = True"
    assert run(source).set == {"x": "division by zero", "done": True}


def test_an_expression_error_names_the_element_without_a_line():
    with pytest.raises(ScriptError) as caught:
        evaluate("missing > 1")
    assert (caught.value.element, caught.value.message) == ("Flow_1", "name 'missing' is not defined")
    error = error_of(lambda: evaluate("a > 1", {"a": "text"}))
    assert error.message == "TypeError: '>' not supported between instances of 'str' and 'int'"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = = 1", r"^line 1: syntax error in the script: invalid syntax \('x = = 1'\)$"),
        ("a = 1\nreturn a", r"^line 2: syntax error in the script: 'return' outside function"),
        ("import os", r"^line 1: import statements are not allowed; math, datetime"),
        ("from os import path", r"^line 1: import statements are not allowed"),
        ("class A:\n    pass", r"^line 1: class definitions are not allowed in scripts$"),
        ("x = 1\nwith x:\n    pass", r"^line 2: with statements are not allowed in scripts$"),
        ("d.attr = 1", r"^line 1: assigning or deleting attributes \('.attr'\) is not allowed"),
        ("del d.attr", r"^line 1: assigning or deleting attributes"),
        ("x: int = 1", r"^line 1: AnnAssign statements are not allowed"),
        ("l[1:2] += [1]", r"^line 1: augmented assignment to a slice is not allowed"),
        ("a = l[0:0] = [1]", r"assigning to a slice is only allowed as a single"),
        ("import os\nx.__class__", r"^line 1: import .*; line 2: \"__class__\" is an invalid attribute name"),
    ],
)
def test_compile_refusals_say_why_and_where(source: str, message: str):
    error = error_of(lambda: SANDBOX.compile_script(source, element_id="Task_9"))
    assert error.element == "Task_9"
    assert re.search(message, error.message), error.message


def test_compile_refuses_non_text_and_absurd_sources():
    with pytest.raises(ScriptError, match="must be text"):
        SANDBOX.compile_script(b"x = 1", element_id="T")  # type: ignore[arg-type]
    with pytest.raises(ScriptError, match="nested too deeply"):
        SANDBOX.compile_expression("+".join(["1"] * 200_000), element_id="T")
    with pytest.raises(ScriptError, match="syntax error in the expression"):
        SANDBOX.compile_expression("x = 1", element_id="T")


def test_recursion_is_a_script_error():
    with pytest.raises(ScriptError, match="RecursionError: maximum recursion depth exceeded"):
        run("def f(n):\n    return f(n + 1)\nf(0)")


def test_huge_exception_messages_are_not_expanded():
    with pytest.raises(ScriptError, match=r"ValueError: \(message too long to show\)"):
        run("s = 'x' * 1000000\nraise ValueError([s] * 1000)")


def test_runtime_interrupts_propagate_but_scripts_cannot_raise_them():
    def interrupt() -> None:
        raise KeyboardInterrupt

    sandbox = Sandbox(extra_globals={"interrupt": interrupt, "Exit": SystemExit})
    with pytest.raises(KeyboardInterrupt):
        run("interrupt()", sandbox=sandbox)
    with pytest.raises(ScriptError, match="scripts can only raise exceptions derived from Exception"):
        run("raise Exit(0)", sandbox=sandbox)
    with pytest.raises(ScriptError, match="name 'SystemExit' is not defined"):
        run("raise SystemExit(0)")


def test_error_classes_are_distinct():
    assert issubclass(ScriptTimeout, ScriptError) and issubclass(ScriptMemoryError, ScriptError)
    assert SandboxLimits() == SandboxLimits(5.0, 10_000_000, 100_000, 512 * 1024 * 1024)
    with pytest.raises(ValueError):
        SandboxLimits(time_limit=0)
