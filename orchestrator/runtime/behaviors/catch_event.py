"""Intermediate catch events (timer, message, signal, link): the token waits until its event
arrives. After an event-based gateway the event has already happened, and the token passes."""
from __future__ import annotations

from orchestrator.bpmn.model import Event, EventType, FlowNode
from orchestrator.runtime import subscriptions
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class IntermediateCatchEvent(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, Event)
        ctx.record("started", node, token)
        if token.pop("triggered", False) or node.event_type is EventType.LINK:
            ctx.leave(token, node)
            return
        if subscriptions.open_subscription(ctx, node, node.event_definitions[0], role=subscriptions.CATCH,
                                           token=token, scope=token["scope"]) is not None:
            ctx.wait(token)
