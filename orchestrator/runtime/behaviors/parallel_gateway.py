"""Parallel gateway: joins by waiting for a token on every incoming flow, then splits along
every outgoing flow (conditions on them are a validation error and are ignored here)."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode
from orchestrator.runtime.behaviors import joins
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class ParallelGateway(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        if len(node.incoming) > 1:
            join = joins.arrive(ctx, token, node)
            if not all(join.get(flow) for flow in node.incoming):
                return
            token = joins.fire(ctx, token["scope"], node, join)
        else:
            ctx.record("started", node, token)
        ctx.record("completed", node, token)
        if node.outgoing:
            ctx.move(token, list(node.outgoing))
        else:
            ctx.consume(token)
