"""Compile-time policy: RestrictedPython's transformer plus Baton's own rewrites.

RestrictedPython already routes attribute reads, item access and iteration through
guards and refuses underscore names. On top of that this policy:

* refuses what process scripts never need and what widens the attack surface: imports,
  class definitions, `with`, attribute assignment;
* rewrites the operators that can grow a value exponentially (`*`, `**`, `<<`, `+`, `%`),
  f-strings and slice assignment into guard calls that check the size first;
* supports `d[k] += 1` (RestrictedPython refuses it; process scripts do it all the time);
* wraps `raise` so scripts only raise `Exception`s, and starts every `except`/`finally`
  block with a guard that re-raises our time/memory aborts, which a bare `except:` would
  otherwise swallow.
"""
from __future__ import annotations

import ast
from typing import Any

from RestrictedPython.transformer import IOPERATOR_TO_STR, RestrictingNodeTransformer, copy_locations

IMPORT_REFUSAL = (
    "import statements are not allowed; math, datetime, date, time, timedelta, timezone, "
    "Decimal, json_dumps and json_loads are available without importing"
)

_GUARDED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _name(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load())


def _call(function: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(function), args=list(args), keywords=[])


class BatonPolicy(RestrictingNodeTransformer):
    """The policy passed to `compile_restricted_*` for scripts and expressions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._expression = False

    # -- refusals ---------------------------------------------------------------------

    def visit_Expression(self, node: ast.Expression) -> Any:
        self._expression = True
        return super().visit_Expression(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, IMPORT_REFUSAL)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, IMPORT_REFUSAL)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in scripts")
        return node

    def visit_With(self, node: ast.With) -> Any:
        self.error(node, "with statements are not allowed in scripts")
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if self._expression and node.id in ("print", "printed"):
            self.error(node, "print is not available in expressions")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.error(node, f"assigning or deleting attributes ('.{node.attr}') is not allowed in scripts")
            return node
        return super().visit_Attribute(node)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        if isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice):
            # The plain form `l[a:b] = v` is rewritten in visit_Assign; anything reaching
            # here (chained or unpacking assignment, a for-loop target) would grow lists
            # unchecked.
            self.error(node, "assigning to a slice is only allowed as a single 'x[a:b] = value' statement")
            return node
        return super().visit_Subscript(node)

    # -- size guards ------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None:
            return node
        call = _call(guard, node.left, node.right)
        copy_locations(call, node)
        return call

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        """f"a{x!r:>{w}}" -> _fjoin_(('a', _format_(x, 114, _fjoin_((_format_(w, -1, ''),)))))"""
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.visit(value.format_spec) if value.format_spec is not None else ast.Constant("")
                parts.append(_call("_format_", self.visit(value.value), ast.Constant(value.conversion), spec))
            else:
                parts.append(self.visit(value))
        call = _call("_fjoin_", ast.Tuple(parts, ast.Load()))
        copy_locations(call, node)
        return call

    def visit_Assign(self, node: ast.Assign) -> Any:
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
            bounds = [
                self.visit(part) if part is not None else ast.Constant(None)
                for part in (target.slice.lower, target.slice.upper, target.slice.step)
            ]
            call = _call("_setslice_", self.visit(node.value), self.visit(target.value), *bounds)
            statement = ast.Expr(call)
            copy_locations(statement, node)
            return statement
        return super().visit_Assign(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """`d[k] op= v` -> t1 = d; t2 = k; _write_(t1)[t2] = _inplacevar_(op, _getitem_(t1, t2), v)"""
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)
        if isinstance(target.slice, ast.Slice):
            self.error(node, "augmented assignment to a slice is not allowed in scripts")
            return node
        container, key = self.gen_tmp_name(), self.gen_tmp_name()
        statements: list[ast.stmt] = [
            ast.Assign([ast.Name(container, ast.Store())], self.visit(target.value)),
            ast.Assign([ast.Name(key, ast.Store())], self.visit(target.slice)),
            ast.Assign(
                [ast.Subscript(_call("_write_", _name(container)), _name(key), ast.Store())],
                _call(
                    "_inplacevar_",
                    ast.Constant(IOPERATOR_TO_STR[type(node.op)]),
                    _call("_getitem_", _name(container), _name(key)),
                    self.visit(node.value),
                ),
            ),
            ast.Delete([ast.Name(container, ast.Del()), ast.Name(key, ast.Del())]),
        ]
        for statement in statements:
            copy_locations(statement, node)
        return statements

    # -- exceptions -------------------------------------------------------------------

    def visit_Raise(self, node: ast.Raise) -> Any:
        node = self.node_contents_visit(node)
        if node.exc is not None:
            node.exc = _call("_raise_", node.exc)
            copy_locations(node.exc, node)
        if node.cause is not None and not (isinstance(node.cause, ast.Constant) and node.cause.value is None):
            node.cause = _call("_raise_", node.cause)
            copy_locations(node.cause, node)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, self._handler_guard(node))
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, self._handler_guard(node.finalbody[0]))
        return node

    @staticmethod
    def _handler_guard(where: ast.AST) -> ast.stmt:
        statement = ast.Expr(_call("_handler_guard_"))
        copy_locations(statement, where)  # type: ignore[arg-type]
        return statement
