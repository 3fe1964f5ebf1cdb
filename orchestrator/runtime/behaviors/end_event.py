"""End events: none ends the token's path; terminate ends its whole scope.

A terminate end event inside a sub-process ends only that sub-process, which then completes
and lets its token continue (BPMN 2.0 section 10.5.3, and Camunda's behaviour); at process
level it ends the instance as `terminated`.
"""
from __future__ import annotations

from orchestrator.bpmn.model import Event, EventType, FlowNode
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token
from orchestrator.runtime.state import ROOT_SCOPE, Status


class EndEvent(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.record("started", node, token)
        ctx.record("completed", node, token)
        assert isinstance(node, Event)
        if node.event_type is EventType.TERMINATE:
            self._terminate(ctx, token)
        else:
            ctx.consume(token)

    def _terminate(self, ctx: StepContext, token: Token) -> None:
        scope = ctx.scopes[token["scope"]]
        del ctx.tokens[token["id"]]
        ctx.remove_scope_contents(scope["id"])
        if scope["id"] == ROOT_SCOPE:
            ctx.state["status"] = Status.TERMINATED.value
            ctx.state["joins"].clear()
        else:
            ctx.scope_finished(scope)
