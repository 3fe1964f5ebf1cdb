"""Known ways out of RestrictedPython, one test each: refused when compiling or failing with a
ScriptError when run, never reaching a module, a frame, the builtins or `os`.

Advisories against RestrictedPython (GHSA ids from its security advisories page):
  GHSA-wqc8-x2pr-7jqh  CVE-2023-37271  stack frames via generators (gi_frame, f_back, ...)
  GHSA-xjw2-6jm9-rf67  CVE-2023-41039  str.format / format_map / string.Formatter traversal
  PYSEC-2024-186       CVE-2024-47532  AttributeError.obj and the string module
  GHSA-gmj9-h825-chq2  CVE-2025-22153  try/except* type confusion
  GHSA-ffg3-p8fm-mjx2  CVE-2026-55830  positional-only parameters shadowing guard names
  GHSA-hp3v-5vw7-fx9w  CVE-2026-76825  string.Formatter field resolution
plus the classic introspection walks every Python sandbox is tried with.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from orchestrator.errors import ScriptError
from orchestrator.scripting import Sandbox, ScriptResult

SANDBOX = Sandbox()


def run(source: str, variables: dict[str, Any] | None = None) -> ScriptResult:
    return SANDBOX.run_script(SANDBOX.compile_script(source, element_id="Task_1"), variables or {})


def refused_at_compile(source: str) -> str:
    with pytest.raises(ScriptError) as caught:
        SANDBOX.compile_script(source, element_id="Task_1")
    assert caught.value.element == "Task_1"
    return caught.value.message


def refused_at_run(source: str, variables: dict[str, Any] | None = None) -> str:
    script = SANDBOX.compile_script(source, element_id="Task_1")  # compiles: the refusal is at run time
    with pytest.raises(ScriptError) as caught:
        SANDBOX.run_script(script, variables or {})
    assert type(caught.value) is ScriptError and caught.value.element == "Task_1"
    return caught.value.message


# -- CVE-2023-37271: generator frames -------------------------------------------------

GENERATOR_FRAME_SOURCES = [
    "g = (i for i in [1])\nf = g.gi_frame",
    "g = (i for i in [1])\nc = g.gi_code",
    "def gen():\n    yield 1\nf = gen().gi_frame.f_back",
    "g = (i for i in [1])\nb = g.gi_frame.f_back.f_globals['__builtins__']",
    "g = (i for i in [1])\nb = g.gi_frame.f_builtins",
    "g = (i for i in [1])\nx = g.gi_yieldfrom",
]


@pytest.mark.parametrize("source", GENERATOR_FRAME_SOURCES)
def test_generator_frames_are_refused_at_compile_time(source: str):
    message = refused_at_compile(source)
    assert re.search(r'line 2: "(gi_frame|gi_code|gi_yieldfrom)" is a restricted name', message) or re.search(
        r'line 3: "gi_frame" is a restricted name', message
    ), message


@pytest.mark.parametrize(
    "source",
    [
        "g = (i for i in [1])\nf = getattr(g, 'gi_frame')",
        "def gen():\n    yield 1\nf = getattr(gen(), 'gi_code')",
        "def gen():\n    yield 1\nf = getattr(getattr(gen(), 'gi_frame', None), 'f_back')",
        "g = (i for i in [1])\nf = getattr(g, 'gi' + '_frame')",
    ],
)
def test_generator_frames_are_refused_at_run_time(source: str):
    message = refused_at_run(source)
    assert re.search(r"AttributeError: '(generator|NoneType)' object has no attribute '(gi_frame|gi_code|f_back)' "
                     r"that scripts may use", message), message


def test_generators_still_work_and_their_frame_is_invisible():
    result = run("def gen():\n    yield 1\n    yield 2\nvalues = list(gen())\nframe = getattr(gen(), 'gi_frame', None)")
    assert result.set == {"values": [1, 2], "frame": None}


# -- CVE-2023-41039 and CVE-2026-76825: format traversal ------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "x = '{0.__class__}'.format(1)",
        "x = '{0.__class__.__base__.__subclasses__}'.format(1)",
        "x = '{a.__class__}'.format_map({'a': 1})",
        "x = str.format('{0.__class__}', 1)",
        "f = getattr('', 'format')\nx = f('{0.__globals__}', json_dumps)",
    ],
)
def test_str_format_is_refused(source: str):
    message = refused_at_run(source)
    assert re.search(r"AttributeError: str\.format(_map)? is not available in scripts; use an f-string", message), message


def test_string_formatter_is_out_of_reach():
    assert refused_at_compile("import string\nf = string.Formatter()").startswith(
        "line 1: import statements are not allowed"
    )
    assert refused_at_run("f = string.Formatter().get_field('0.__class__', [1], {})") == (
        "line 1: name 'string' is not defined"
    )


def test_fstrings_cannot_traverse_attributes():
    assert 'line 1: "__class__" is an invalid attribute name' in refused_at_compile("x = f'{d.__class__}'")
    assert run("x = f'{d!r:>{w}}'", {"d": {"k": 1}, "w": 10}).set == {"x": "  {'k': 1}"}


# -- CVE-2024-47532: AttributeError.obj ---------------------------------------------


def test_attribute_error_obj_is_not_readable():
    message = refused_at_run("try:\n    x = d.nope\nexcept AttributeError as e:\n    leak = e.obj", {"d": {}})
    assert message == "line 4: AttributeError: 'AttributeError' object has no attribute 'obj' that scripts may use"


@pytest.mark.parametrize("target", ["math", "d", "json_dumps", "Decimal('1')"])
def test_attribute_errors_carry_no_object(target: str):
    source = f"try:\n    x = {target}.nope\nexcept AttributeError as e:\n    leak = getattr(e, 'obj', 'hidden')\n    args = e.args"
    result = run(source, {"d": {}})
    assert result.set["leak"] == "hidden"
    assert "nope" in result.set["args"][0]


# -- CVE-2025-22153: try/except* ------------------------------------------------------


def test_except_star_is_refused():
    message = refused_at_compile("try:\n    pass\nexcept* ValueError:\n    pass")
    assert message == "line 1: TryStar statements are not allowed."


# -- CVE-2026-55830: positional-only parameters shadowing guards ----------------------


@pytest.mark.parametrize("guard", ["_getattr_", "_getitem_", "_write_", "_print_", "_inplacevar_", "_handler_guard_"])
def test_guard_names_cannot_be_shadowed(guard: str):
    message = refused_at_compile(f"def f({guard}, /):\n    return 1")
    assert f'"{guard}" is an invalid variable name because it starts with "_"' in message
    assert f'"{guard}" is an invalid variable name' in refused_at_compile(f"{guard} = getattr")
    assert f'"{guard}" is an invalid variable name' in refused_at_compile(f"f = lambda {guard}: 1")


# -- classic walks and forbidden builtins ---------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = ().__class__.__bases__[0].__subclasses__()", '"__class__" is an invalid attribute name'),
        ("x = [c for c in object.__subclasses__()]", '"__subclasses__" is an invalid attribute name'),
        ("x = __import__('os')", '"__import__" is an invalid variable name'),
        ("x = __builtins__['open']", '"__builtins__" is an invalid variable name'),
        ("breakpoint()", '"breakpoint" is a reserved name'),
        ("x = eval('1')", "Eval calls are not allowed"),
        ("exec('x = 1')", "Exec calls are not allowed"),
        ("import os", "import statements are not allowed"),
        ("from os import system", "import statements are not allowed"),
        ("x = json_dumps.__globals__", '"__globals__" is an invalid attribute name'),
        ("x = getattr.__closure__", '"__closure__" is an invalid attribute name'),
        ("math.pi = 3", "assigning or deleting attributes"),
        ("try:\n    1/0\nexcept Exception as e:\n    tb = e.__traceback__.tb_frame", '"__traceback__"'),
        ("def f():\n    pass\ng = f.__code__", '"__code__" is an invalid attribute name'),
        ("async def f():\n    pass", "AsyncFunctionDef statements are not allowed"),
        ("def f():\n    x = 1\n    def g():\n        nonlocal x", "Nonlocal statements are not allowed"),
    ],
)
def test_classic_escapes_are_refused_at_compile_time(source: str, message: str):
    assert message in refused_at_compile(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = getattr((), '__class__')", "attribute '__class__' is not available in scripts"),
        ("x = getattr(getattr, '__globals__')", "attribute '__globals__' is not available in scripts"),
        ("x = getattr(math, '__loader__')", "attribute '__loader__' is not available in scripts"),
        ("x = getattr(math, 'sys', None) or math.sys", "'module math' object has no attribute 'sys'"),
        ("x = getattr(datetime, '__subclasses__')", "attribute '__subclasses__' is not available"),
        ("x = getattr(json_dumps, '__globals__')", "attribute '__globals__' is not available"),
        ("x = str.mro()", "'str' object has no attribute 'mro'"),
        ("x = Decimal(1).as_integer_ratio()", "'Decimal' object has no attribute 'as_integer_ratio'"),
        ("x = 'a'.encode()", "AttributeError: bytes are not available in scripts"),
        ("x = getattr(1, 1)", "TypeError: attribute name must be a string"),
        ("x = type(1)", "name 'type' is not defined"),
        ("x = object", "name 'object' is not defined"),
        ("x = open('/etc/passwd')", "name 'open' is not defined"),
        ("x = compile('1', '', 'eval')", "name 'compile' is not defined"),
        ("x = globals()", "name 'globals' is not defined"),
        ("x = vars()", "name 'vars' is not defined"),
        ("x = locals()", "name 'locals' is not defined"),
        ("x = dir()", "name 'dir' is not defined"),
        ("help()", "name 'help' is not defined"),
        ("exit()", "name 'exit' is not defined"),
        ("quit()", "name 'quit' is not defined"),
        ("x = os.system('id')", "name 'os' is not defined"),
        ("x = sys.modules", "name 'sys' is not defined"),
        ("x = bytes(10**10)", "name 'bytes' is not defined"),
        ("x = bytearray(10)", "name 'bytearray' is not defined"),
        ("setattr(math, 'pi', 3)", "name 'setattr' is not defined"),
        ("x = max(iter(int, 1))", "TypeError: iter(callable, sentinel) is not available in scripts"),
        ("x = sum([[1]] * 10, [])", "TypeError: sum() in scripts adds numbers only"),
        ("g = (i for i in [1])\ng.throw(ValueError)", "'generator' object has no attribute 'throw'"),
        ("d = {}\nd.items().mapping['x'] = 1", "'dict_items' object has no attribute 'mapping'"),
        ("x = print.__self__", None),
    ],
)
def test_classic_escapes_fail_at_run_time(source: str, message: str | None):
    if message is None:  # refused earlier still counts: it must not run
        assert '"__self__" is an invalid attribute name' in refused_at_compile(source)
        return
    assert message in refused_at_run(source)


def test_shared_state_cannot_be_poisoned_for_the_next_run():
    assert "assigning or deleting attributes" in refused_at_compile("json_dumps.x = 1")
    assert '"_members" is an invalid attribute name' in refused_at_compile("x = math._members")
    run("m = math\nd = {'sqrt': None}\nlen = 5")  # rebinding builtins is local to the run
    assert run("x = math.sqrt(4) + len([1])").set == {"x": 3.0}


def test_nothing_from_the_runtime_is_reachable_through_values():
    source = (
        "found = []\n"
        "for value in [math, json_dumps, getattr, str, int, Decimal, datetime.now(), (i for i in []), len]:\n"
        "    for name in ['__class__', '__globals__', '__dict__', '__self__', '__module__', 'gi_frame', 'f_globals',\n"
        "                 'func', '_members', '__closure__', '__builtins__', 'mro', '__subclasses__', 'os', 'sys']:\n"
        "        if hasattr(value, name):\n"
        "            found.append(name)\n"
    )
    assert run(source).set["found"] == []
