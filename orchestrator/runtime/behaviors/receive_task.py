"""Receive task: waits for its message (a message subscription); after an event-based gateway
the message has already arrived."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, ReceiveTask as ReceiveTaskNode
from orchestrator.runtime import subscriptions
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class ReceiveTask(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, ReceiveTaskNode)
        ctx.record("started", node, token)
        if token.pop("triggered", False):
            ctx.leave(token, node)
            return
        if subscriptions.open_subscription(ctx, node, None, role=subscriptions.CATCH, token=token,
                                           scope=token["scope"]) is not None:
            ctx.wait(token)
