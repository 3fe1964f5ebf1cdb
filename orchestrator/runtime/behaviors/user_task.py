"""User task: a wait state until a person completes it (JobCompleted with their input)."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, UserTask as UserTaskNode
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.commands import CreateUserTask
from orchestrator.runtime.context import StepContext, Token


class UserTask(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, UserTaskNode)
        ctx.record("started", node, token)
        job = ctx.new_id()
        ctx.wait(token, job)
        ctx.emit(CreateUserTask(
            job=job, token=token["id"], element=node.id, name=node.name, assignee=node.assignee,
            candidate_groups=list(node.candidate_groups), candidate_users=list(node.candidate_users),
            form_fields=list(node.form_fields) if node.form_fields is not None else None,
        ))
