"""The sandbox the engine calls: compile once, then run many times under limits.

Per call, the work is: a small dict for the globals, copies of the variables the code
actually names (known at compile time, so a script touching `x` does not pay for copying
a large `order` it never reads), arming the limits, one `eval`, and comparing what the
script may have changed. The builtins, guards and allow-lists are built once per Sandbox.
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from types import CodeType, TracebackType
from typing import Any, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from orchestrator.errors import ScriptError, ScriptMemoryError, ScriptTimeout

from .builtins import PrintCollector, build_builtins
from .guards import Sizer
from .limits import (
    SCRIPT_FILENAME, MemoryExhausted, SandboxLimits, SizeLimitExceeded, TimeLimitExceeded, Watchdog,
)
from .policy import BatonPolicy
from .values import DATA_TYPES, IMMUTABLE_TYPES, PLAIN_TYPES, copy_value, same_value, text_size

_MAX_SOURCE_CHARS = 1_000_000
_MAX_MESSAGE_CHARS = 500
_MB = 1024 * 1024

#: Nodes an expression may consist of and still be cheap to evaluate without the time
#: limit and the memory backstop: no calls, no operators that build values, no loops.
#: Each such node does constant work on values that already exist (`in` and `==` are
#: linear in the size of the variables, which are trees, copied from stored JSON).
_CHEAP_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Compare, ast.BoolOp, ast.And, ast.Or,
    ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.IfExp, ast.Attribute, ast.Subscript,
    ast.Tuple, ast.List, ast.Set, ast.Dict,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)  # fmt: skip


@dataclass(frozen=True)
class CompiledScript:
    """A script task's code, compiled once and cached by the engine per process definition.

    `names` are the global names the code mentions (the variables it may read, write or
    delete); None means "unknown", so every variable is offered.
    """

    source: str
    element_id: str | None
    code: CodeType
    names: tuple[str, ...] | None = None
    uses_print: bool = True


@dataclass(frozen=True)
class CompiledExpression:
    """A condition or expression (mode "eval"). `cheap`: see `_CHEAP_NODES`."""

    source: str
    element_id: str | None
    code: CodeType
    names: tuple[str, ...] | None = None
    cheap: bool = False


@dataclass(frozen=True)
class ScriptResult:
    """What a script did to the process variables.

    `set` holds names the script created or whose value changed (by value and type, not
    identity); functions, lambdas, classes, modules, generators, iterators and other
    non-data values are script-local helpers and are left out. `deleted` lists input
    variables removed with `del`. `output` is what the script printed, at most 64 KiB;
    it takes no part in comparisons, so callers can ignore it.
    """

    set: dict[str, Any]
    deleted: list[str]
    output: str = field(default="", compare=False)


class Sandbox:
    """Compiles and runs process authors' Python under RestrictedPython and our limits.

    `extra_globals` are offered to every script: callables and other objects as read-only
    builtins (trusted: a callable runs unrestricted, and scripts can reach its results
    only through the attribute allow-list), data values (dict, list, str, ...) as defaults
    for variables of that name, copied into each run so no run sees another's changes.
    A script assigning to (or mutating) a default makes it a process variable.
    """

    def __init__(self, limits: SandboxLimits = SandboxLimits(), extra_globals: Mapping[str, Any] | None = None) -> None:
        self.limits = limits
        self._sizer = Sizer.from_limits(limits)
        self._watchdog = Watchdog(limits)
        builtins = build_builtins(self._sizer)
        self._defaults: dict[str, Any] = {}
        for name, value in (extra_globals or {}).items():
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"extra global {name!r} is not a name scripts can use")
            if type(value) in DATA_TYPES and type(value) not in IMMUTABLE_TYPES:
                self._defaults[name] = copy_value(value)
            else:
                builtins[name] = value
        self._builtins = builtins

    # -- compiling --------------------------------------------------------------------

    def compile_script(self, source: str, *, element_id: str | None = None) -> CompiledScript:
        """Compile a script task body (indentation common to all lines is removed, as
        BPMN editors indent script text inside the XML)."""
        tree = self._parse(textwrap.dedent(source) if isinstance(source, str) else source, "exec", element_id)
        names = _global_names(tree)
        result = self._compile(compile_restricted_exec, tree, element_id, "script")
        return CompiledScript(
            source=source,
            element_id=element_id,
            code=result,
            names=names,
            uses_print="print" in names or "printed" in names,
        )

    def compile_expression(self, source: str, *, element_id: str | None = None) -> CompiledExpression:
        """Compile a condition or expression; surrounding whitespace is ignored."""
        tree = self._parse(source.strip() if isinstance(source, str) else source, "eval", element_id)
        names = _global_names(tree)
        cheap = all(isinstance(node, _CHEAP_NODES) for node in ast.walk(tree)) and not any(
            isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) for node in ast.walk(tree)
        )
        code = self._compile(compile_restricted_eval, tree, element_id, "expression")
        return CompiledExpression(source=source, element_id=element_id, code=code, names=names, cheap=cheap)

    def _parse(self, source: Any, mode: str, element_id: str | None) -> ast.AST:
        what = "script" if mode == "exec" else "expression"
        if not isinstance(source, str):
            raise ScriptError(f"the {what} must be text, not {type(source).__name__}", element=element_id)
        if len(source) > _MAX_SOURCE_CHARS:
            raise ScriptError(f"the {what} is longer than {_MAX_SOURCE_CHARS:,} characters", element=element_id)
        try:
            return ast.parse(source, SCRIPT_FILENAME, mode)
        except SyntaxError as exc:
            raise ScriptError(_syntax_message(exc, what), element=element_id) from None
        except (RecursionError, MemoryError):
            raise ScriptError(f"the {what} is nested too deeply to compile", element=element_id) from None
        except ValueError as exc:  # e.g. null bytes
            raise ScriptError(f"the {what} cannot be compiled: {exc}", element=element_id) from None

    @staticmethod
    def _compile(compiler: Any, tree: ast.AST, element_id: str | None, what: str) -> CodeType:
        try:
            result = compiler(tree, SCRIPT_FILENAME, policy=BatonPolicy)
        except SyntaxError as exc:  # found by the compiler, not the parser: `return` outside def
            raise ScriptError(_syntax_message(exc, what), element=element_id) from None
        except (RecursionError, MemoryError):
            raise ScriptError(f"the {what} is nested too deeply to compile", element=element_id) from None
        if result.errors:
            messages = list(dict.fromkeys(_lower_line_prefix(e) for e in result.errors))
            raise ScriptError("; ".join(messages), element=element_id)
        return result.code  # type: ignore[no-any-return]

    # -- running ----------------------------------------------------------------------

    def run_script(self, script: CompiledScript, variables: Mapping[str, Any]) -> ScriptResult:
        """Run a compiled script against (copies of) the variables."""
        namespace: dict[str, Any] = {"__builtins__": self._builtins}
        collector = None
        if script.uses_print:
            collector = PrintCollector(self._sizer.to_str)
            namespace["_print_"] = collector.factory
        offered = self._offer(script.names, variables, namespace, copy=True)
        error = None
        try:
            self._watchdog.execute(script.code, namespace)
        except (KeyboardInterrupt, SystemExit):
            raise  # the runtime's, not the script's: scripts can only raise Exceptions
        except BaseException as exc:  # noqa: BLE001 - nothing a script raises may escape
            error = self._error(exc, script.element_id, "script", with_line=True)
        if error is not None:
            raise error

        changed: dict[str, Any] = {}
        for name, value in namespace.items():
            if name[0] == "_" or type(value) not in DATA_TYPES:
                continue
            original = offered.get(name, _ABSENT)
            if original is not _ABSENT and same_value(original, value):
                continue
            self._check_storable(name, value, script.element_id)
            changed[name] = value
        deleted = [name for name in offered if name not in namespace and name in variables]
        return ScriptResult(set=changed, deleted=deleted, output=collector() if collector else "")

    def evaluate(self, expression: CompiledExpression, variables: Mapping[str, Any]) -> Any:
        """Evaluate a compiled expression against the variables; return its value."""
        namespace: dict[str, Any] = {"__builtins__": self._builtins}
        error = None
        if expression.cheap:
            # Cannot call or mutate anything: read the caller's values directly.
            self._offer(expression.names, variables, namespace, copy=False)
            try:
                value = eval(expression.code, namespace)
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                error = self._error(exc, expression.element_id, "expression", with_line=False)
            if error is not None:
                raise error
            # It may be one of the caller's objects: hand back a copy, never the original.
            return copy_value(value) if type(value) in PLAIN_TYPES else value

        self._offer(expression.names, variables, namespace, copy=True)
        try:
            value = self._watchdog.execute(expression.code, namespace)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            error = self._error(exc, expression.element_id, "expression", with_line="\n" in expression.source.strip())
        if error is not None:
            raise error
        if type(value) not in IMMUTABLE_TYPES:
            self._check_storable(None, value, expression.element_id)
        return value

    def _offer(
        self, names: tuple[str, ...] | None, variables: Mapping[str, Any], namespace: dict[str, Any], copy: bool
    ) -> dict[str, Any]:
        """Put the variables the code names into its namespace; return the originals."""
        defaults = self._defaults
        if names is None:
            names = tuple(n for n in (*variables, *defaults) if isinstance(n, str) and not n.startswith("_"))
        offered: dict[str, Any] = {}
        for name in names:
            if name in variables:
                value = variables[name]
            elif name in defaults:
                value = defaults[name]
            else:
                continue
            offered[name] = value
            t = type(value)
            if t in IMMUTABLE_TYPES or (not copy and t in PLAIN_TYPES):
                namespace[name] = value
            else:
                namespace[name] = copy_value(value)
        return offered

    def _check_storable(self, name: str | None, value: Any, element_id: str | None) -> None:
        """Refuse results whose written-out form would be huge: `a = [a, a]` twenty times
        is a few hundred bytes in memory and 2**20 copies when the engine serialises it."""
        t = type(value)
        if t is str or t in IMMUTABLE_TYPES:
            return
        limit = self._sizer.max_items
        if text_size(value, limit) > limit:
            what = f"variable '{name}'" if name else "the result"
            raise ScriptMemoryError(
                f"{what} would take more than {limit:,} characters when stored", element=element_id
            )

    def _error(self, exc: BaseException, element_id: str | None, what: str, with_line: bool) -> ScriptError:
        """Translate whatever the code raised into a ScriptError naming element and line."""
        line = _script_line(exc.__traceback__)
        where = f"line {line}: " if line is not None and with_line else ""
        if isinstance(exc, TimeLimitExceeded):
            return ScriptTimeout(
                f"{where}the {what} ran longer than its time limit of {self.limits.time_limit:g} seconds",
                element=element_id,
            )
        if isinstance(exc, SizeLimitExceeded):
            return ScriptMemoryError(f"{where}{exc.message}", element=element_id)
        if isinstance(exc, (MemoryError, MemoryExhausted)):
            headroom = self.limits.memory_headroom
            bound = f" (it may use {headroom // _MB:,} MB more than the worker does)" if headroom else ""
            return ScriptMemoryError(f"{where}the {what} ran out of memory{bound}", element=element_id)
        error = ScriptError(f"{where}{_describe(exc)}", element=element_id)
        _drop_tracebacks(exc)  # keep the cause for the engine, not the script's frames
        error.__cause__ = exc
        return error


_ABSENT: Any = object()


def _global_names(tree: ast.AST) -> tuple[str, ...]:
    """Every plain name the code mentions, sorted: what it may read, write or delete."""
    return tuple(sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}))


def _script_line(tb: TracebackType | None) -> int | None:
    """Line of the innermost frame that is script code."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: BaseException) -> str:
    """`name 'x' is not defined`, `ZeroDivisionError: division by zero`; bounded in length."""
    try:
        if text_size(exc.args, 10 * _MAX_MESSAGE_CHARS) > 10 * _MAX_MESSAGE_CHARS:
            message = "(message too long to show)"
        else:
            message = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the error
        message = ""
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[:_MAX_MESSAGE_CHARS] + "..."
    if isinstance(exc, NameError) and message:
        return message
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _drop_tracebacks(exc: BaseException) -> None:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending.extend((current.__cause__, current.__context__))


def _syntax_message(exc: SyntaxError, what: str) -> str:
    text = (exc.text or "").strip()
    where = f"line {exc.lineno}: " if exc.lineno else ""
    near = f" ({text!r})" if text and len(text) <= 80 else ""
    return f"{where}syntax error in the {what}: {exc.msg}{near}"


def _lower_line_prefix(message: str) -> str:
    """RestrictedPython says 'Line 3: ...'; our messages say 'line 3: ...'."""
    return "l" + message[1:] if message.startswith("Line ") else message
