"""End events: none ends the token's path; terminate ends its whole scope; error and escalation
are thrown up the scopes; signal and message are sent, then the path ends.

A terminate end event inside a sub-process ends only that sub-process, which then completes
and lets its token continue (BPMN 2.0 section 10.5.3, and Camunda's behaviour); at process
level it ends the instance as `terminated`.
"""
from __future__ import annotations

from orchestrator.bpmn.model import Event, EventType, FlowNode
from orchestrator.runtime import compensation
from orchestrator.runtime.behaviors import throwing
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token
from orchestrator.runtime.state import ROOT_SCOPE, Status


class EndEvent(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, Event)
        ctx.record("started", node, token)
        kind = node.event_type
        if kind is EventType.ERROR:
            ctx.record("completed", node, token)
            token_id = token["id"]
            throwing.throw(ctx, token, node)
            if token_id in ctx.tokens and ctx.tokens[token_id]["phase"] != "failed":
                ctx.consume(ctx.tokens[token_id])
            return
        if kind is EventType.CANCEL:
            compensation.cancel_transaction(ctx, token, node)
            return
        if kind is EventType.COMPENSATE and compensation.compensate(ctx, token, node):
            return  # ends (complete) once the handlers have run
        if kind is EventType.ESCALATION:
            throwing.throw(ctx, token, node)
            if token["id"] not in ctx.tokens:
                return
        elif kind in (EventType.SIGNAL, EventType.MESSAGE):
            throwing.send(ctx, token, node)
        ctx.record("completed", node, token)
        if kind is EventType.TERMINATE:
            self._terminate(ctx, token)
        else:
            ctx.consume(token)

    def complete(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        # after compensation: a cancel end event leaves its transaction, any other ends its path
        assert isinstance(node, Event)
        if token.pop("cancel_transaction", False):
            compensation.finish_cancel(ctx, token, node)
            return
        ctx.record("completed", node, token)
        ctx.consume(token)

    def _terminate(self, ctx: StepContext, token: Token) -> None:
        scope = ctx.scopes[token["scope"]]
        del ctx.tokens[token["id"]]
        ctx.remove_scope_contents(scope["id"])
        if scope["id"] == ROOT_SCOPE:
            ctx.state["status"] = Status.TERMINATED.value
            ctx.state["joins"].clear()
            from orchestrator.runtime.subscriptions import close_for_scopes

            close_for_scopes(ctx, {ROOT_SCOPE})
        else:
            ctx.scope_finished(scope)
