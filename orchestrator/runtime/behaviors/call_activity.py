"""Call activity: the token waits while a child instance of another process runs.

With no mapping the child gets every variable and returns all of its own (Camunda's default
for `camunda:in variables="all"`); `camunda:in`/`camunda:out` with `source`, `sourceExpression`
or `variables="all"` choose what crosses. A BPMN error the child ends with comes back as a
failed job with its code, so the call activity's error boundary catches it.
"""
from __future__ import annotations

from typing import Any

from orchestrator.bpmn.expressions import read_expression
from orchestrator.bpmn.model import CallActivity as CallActivityNode, FlowNode, VariableMapping
from orchestrator.errors import BatonError, EngineError
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.commands import StartCallActivity
from orchestrator.runtime.context import StepContext, Token


def apply_mappings(ctx: StepContext, token: Token, mappings: tuple[VariableMapping, ...] | None,
                   source: dict[str, Any], *, owner: str) -> dict[str, Any]:
    """The variables that cross, read from `source` (decoded values)."""
    if mappings is None:
        return dict(source)
    out: dict[str, Any] = {}
    for mapping in mappings:
        if mapping.all:
            out.update(source)
        elif mapping.expression is not None:
            out[mapping.target or ""] = ctx.exe.evaluate(owner, mapping.expression, source)
        elif mapping.source is not None:
            if mapping.source in source:
                out[mapping.target or mapping.source] = source[mapping.source]
    return out


class CallActivity(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, CallActivityNode)
        ctx.record("started", node, token)
        try:
            key = node.called_element or ""
            if "${" in key or "#{" in key:
                expression = read_expression(key)
                if expression is None or expression.python is None:
                    raise EngineError(f"cannot read calledElement {key!r}", element=node.id)
                key = str(ctx.evaluate(node.id, expression, token))
            if not key:
                raise EngineError("the call activity names no process (calledElement)", element=node.id)
            variables = apply_mappings(ctx, token, node.inputs, ctx.variables_for(token), owner=node.id)
        except BatonError as exc:
            ctx.fail(token, node, exc.message)
            return
        job = ctx.new_id()
        ctx.wait(token, job)
        from orchestrator.runtime.variables import encode_variables

        ctx.emit(StartCallActivity(job=job, token=token["id"], element=node.id, process_key=key, binding=node.binding,
                                   version=node.version, variables=encode_variables(variables)))
