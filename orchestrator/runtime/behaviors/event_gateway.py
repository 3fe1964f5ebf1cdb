"""Event-based gateway: the token waits for every event behind it; the first to happen wins and
the others are cancelled in the same step (their subscriptions are closed)."""
from __future__ import annotations

from orchestrator.bpmn.model import Event, FlowNode, ReceiveTask
from orchestrator.runtime import subscriptions
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class EventBasedGateway(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.record("started", node, token)
        ctx.wait(token)
        flows = ctx.process.sequence_flows
        for flow_id in node.outgoing:
            target = ctx.process.flow_nodes[flows[flow_id].target]
            definition = target.event_definitions[0] if isinstance(target, Event) and target.event_definitions else None
            if definition is None and not isinstance(target, ReceiveTask):
                ctx.fail(token, node, f"{target.id!r} after an event-based gateway must be a catch event or a receive task")
                return
            if subscriptions.open_subscription(ctx, target, definition, role=subscriptions.GATEWAY, token=token,
                                               scope=token["scope"], flow=flow_id) is None:
                subscriptions.close_for_token(ctx, token)
                return
