"""Embedded sub-process: a scope of its own that completes when no token is left inside."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode
from orchestrator.runtime import subscriptions
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class SubProcess(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.record("started", node, token)
        start_at = token.pop("start_at", None)  # an event sub-process begins where its event hit
        starts = (start_at,) if start_at else ctx.exe.start_nodes(node.id)
        if not starts:
            ctx.leave(token, node)  # an empty sub-process completes at once
            return
        scope = ctx.open_scope(token, node)
        ctx.wait(token)
        subscriptions.open_event_subprocesses(ctx, scope["id"], node.id)
        for start in starts:
            ctx.new_token(start, scope["id"])
