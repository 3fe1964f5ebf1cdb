"""Script task: runs its Python in the sandbox and stores what it assigned.

The script sees the process variables as names; assignments become variables and `del`
removes them. Any failure (a compile refusal, an exception, a time-out, a memory bomb, a value
that cannot be stored) opens an incident at once: scripts are deterministic, so retrying them
without a change would fail the same way.
"""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode, ScriptTask as ScriptTaskNode
from orchestrator.errors import BatonError
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.commands import RunScriptTask
from orchestrator.runtime.context import StepContext, Token


class ScriptTask(Behavior):
    def enter(self, ctx: StepContext, token: Token, node: FlowNode) -> None:
        assert isinstance(node, ScriptTaskNode)
        ctx.record("started", node, token)
        if ctx.script_jobs:
            try:
                ctx.exe.script(node)  # a script that cannot compile fails here, not on a worker
            except BatonError as exc:
                ctx.fail_script(token, node, exc)
                return
            job = ctx.new_id()
            ctx.wait(token, job)
            ctx.emit(RunScriptTask(job=job, token=token["id"], element=node.id, locals=ctx.local_values(token) or None))
            return
        try:
            compiled = ctx.exe.script(node)
            result = ctx.exe.sandbox.run_script(compiled, ctx.variables_for(token))
            ctx.store(token, result.set, element=node.id)
            ctx.unset(token, list(result.deleted))
        except BatonError as exc:
            ctx.fail_script(token, node, exc)
            return
        ctx.leave(token, node)
