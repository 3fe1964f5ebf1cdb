"""Receive task: a wait state until its message arrives (JobCompleted with the payload)."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, ReceiveTask as ReceiveTaskNode
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.commands import WaitForMessage
from orchestrator.runtime.context import StepContext, Token


class ReceiveTask(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, ReceiveTaskNode)
        ctx.record("started", node, token)
        job = ctx.new_id()
        ctx.wait(token, job)
        message = None
        if node.message_ref:
            root = ctx.exe.root_elements.get(node.message_ref)
            message = root.name if root is not None and root.name else node.message_ref
        ctx.emit(WaitForMessage(job=job, token=token["id"], element=node.id, message=message))
