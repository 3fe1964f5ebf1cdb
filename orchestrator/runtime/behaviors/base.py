"""The behaviour interface: what a flow node does when a token enters it and when its work is done."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode
from orchestrator.runtime.context import StepContext, Token


class Behavior:
    """One per BPMN element kind. `enter` runs when a token arrives; `complete` when the work
    the node waited for (a job, a person, a sub-process) is done. Neither calls another
    behaviour: they move tokens and queue work through the context."""

    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.record("started", node, token)
        ctx.leave(token, node)

    def complete(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        ctx.leave(token, node)


class PassThrough(Behavior):
    """Flow nodes that do nothing but pass the token on (task, manual task, none events)."""
