"""Exclusive gateway: every token passes (no join); it leaves by the first flow whose condition
holds, in document order (Camunda's rule; the spec leaves the order open), else the default."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, Gateway
from orchestrator.errors import BatonError
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class ExclusiveGateway(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, Gateway)
        ctx.record("started", node, token)
        flows = ctx.process.sequence_flows
        chosen = None
        for flow_id in node.outgoing:
            if flow_id == node.default:
                continue
            condition = flows[flow_id].condition
            try:
                if condition is None or ctx.evaluate(flow_id, condition, token):
                    chosen = flow_id
                    break
            except BatonError as exc:
                ctx.fail(token, node, f"condition of sequence flow {flow_id!r} failed: {exc.message}")
                return
        if chosen is None:
            chosen = node.default
        if chosen is None:
            if not node.outgoing:
                ctx.record("completed", node, token)
                ctx.consume(token)
                return
            ctx.fail(token, node, "no outgoing sequence flow can be taken: every condition is false and there is no default flow")
            return
        ctx.record("completed", node, token)
        ctx.move(token, [chosen])
