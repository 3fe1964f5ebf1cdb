"""Intermediate throw events: none (a milestone), signal and message (sent out), escalation
(thrown up the scopes), link (a jump to the catch event of the same name)."""
from __future__ import annotations

from orchestrator.bpmn.model import Event, EventType, FlowNode
from orchestrator.runtime import compensation
from orchestrator.runtime.behaviors import throwing
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class IntermediateThrowEvent(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, Event)
        ctx.record("started", node, token)
        kind = node.event_type
        if kind is EventType.LINK:
            throwing.jump(ctx, token, node)
            return
        if kind is EventType.COMPENSATE and compensation.compensate(ctx, token, node):
            return  # goes on (complete) once the handlers have run
        if kind in (EventType.SIGNAL, EventType.MESSAGE):
            throwing.send(ctx, token, node)
        elif kind is EventType.ESCALATION:
            if not throwing.throw(ctx, token, node) or token["id"] not in ctx.tokens:
                return
        ctx.leave(token, node)
