"""What a token does at a flow node the engine cannot run: it fails, naming the reason."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.context import StepContext, Token


class Unsupported(Behavior):
    def __init__(self, reason: str) -> None:
        self.reason = reason

    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.record("started", node, token)
        ctx.fail(token, node, f"Baton cannot run this element: {self.reason}")

    def complete(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        self.enter(ctx, token, node)
