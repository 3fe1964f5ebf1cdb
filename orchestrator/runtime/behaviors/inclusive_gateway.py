"""Inclusive gateway.

Split: every flow whose condition holds (unconditional flows always), else the default.
Join: fires when at least one token waits and no other token in the same scope can still reach
it without passing through it (BPMN 2.0 section 13.4.3), so it waits for every token that can
still arrive rather than for a fixed count. Whether a token can still arrive is decided from a
precomputed set of upstream flow nodes, and re-checked whenever the work queue runs dry,
because a token elsewhere taking another path is what releases the join.
"""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, Gateway
from orchestrator.errors import BatonError
from orchestrator.runtime.behaviors import joins
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class InclusiveGateway(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        if len(node.incoming) > 1:
            joins.arrive(ctx, token, node)
            self.try_fire(ctx, token["scope"], node)
            return
        ctx.record("started", node, token)
        self._split(ctx, token, node)

    def try_fire(self, ctx: StepContext, scope: str, node: FlowNode) -> bool:
        join = ctx.state["joins"].get(joins.join_key(scope, node.id))
        if not join:
            return False
        parked = {token_id for waiting in join.values() for token_id in waiting}
        upstream = ctx.exe.upstream(node)
        for other in ctx.tokens.values():
            if other["scope"] != scope or other["id"] in parked:
                continue
            # Upstream tokens can still arrive; a token already on the join but still queued
            # to enter it has arrived and must be parked before the join may fire.
            if other["node"] in upstream or other["node"] == node.id:
                return False
        token = joins.fire(ctx, scope, node, join)
        self._split(ctx, token, node)
        return True

    def _split(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, Gateway)
        if not node.outgoing:
            ctx.record("completed", node, token)
            ctx.consume(token)
            return
        flows = ctx.process.sequence_flows
        taken = []
        for flow_id in node.outgoing:
            if flow_id == node.default:
                continue
            condition = flows[flow_id].condition
            try:
                if condition is None or ctx.evaluate(flow_id, condition, token):
                    taken.append(flow_id)
            except BatonError as exc:
                ctx.fail(token, node, f"condition of sequence flow {flow_id!r} failed: {exc.message}", at="complete")
                return
        if not taken and node.default:
            taken = [node.default]
        if not taken:
            ctx.fail(token, node, "no outgoing sequence flow can be taken: every condition is false and there is no default flow",
                     at="complete")
            return
        ctx.record("completed", node, token)
        ctx.move(token, taken)

    def complete(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        # Reached only when an operator retries a failed split.
        self._split(ctx, token, node)
