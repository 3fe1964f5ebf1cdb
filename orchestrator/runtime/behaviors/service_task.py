"""Service task (and send and business rule tasks bound to a plugin): a job for a plugin.

The engine only asks for the plugin to run; the Celery layer (or `simulate`) runs it and
answers with JobCompleted or JobFailed. The result is merged into the variables by the engine
when the answer is applied (see Engine._job_completed).
"""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, ServiceTask as ServiceTaskNode
from orchestrator.errors import BatonError
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.bpmn.model import Kind
from orchestrator.runtime.commands import RunServiceTask, SendMessage
from orchestrator.runtime.context import StepContext, Token


class ServiceTask(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, ServiceTaskNode)
        ctx.record("started", node, token)
        if not node.plugin and node.kind is Kind.SEND_TASK:
            # No plugin: the message goes to whoever of ours waits for it (correlated directly).
            root = ctx.exe.root_elements.get(node.message_ref or "")
            name = (root.name if root is not None and root.name else node.message_ref) or node.name or node.id
            ctx.emit(SendMessage(name=name, element=node.id))
            ctx.leave(token, node)
            return
        if not node.plugin:
            ctx.fail(token, node, "the service task is not bound to a plugin (name one with baton:task)")
            return
        inputs = None
        if node.inputs is not None:
            try:
                inputs = {name: ctx.evaluate(node.id, expression, token) for name, expression in node.inputs.items()}
            except BatonError as exc:
                ctx.fail(token, node, f"input mapping failed: {exc.message}")
                return
        job = ctx.new_id()
        ctx.wait(token, job)
        ctx.emit(RunServiceTask(job=job, token=token["id"], element=node.id, plugin=node.plugin, inputs=inputs,
                                locals=ctx.local_values(token) or None,
                                queue=node.queue, retry_cycle=node.retry_cycle, time_limit=node.time_limit,
                                soft_time_limit=node.soft_time_limit))
