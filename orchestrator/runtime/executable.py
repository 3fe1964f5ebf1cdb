"""A process prepared for running: compiled scripts and conditions, and graph facts.

Built once per process version and shared by every instance of it (the Celery layer keeps one
per definition in each worker), so a script is compiled once per definition, not once per run.
Everything here is derived from the immutable model; the caches only ever grow.
"""
from __future__ import annotations

from typing import Any

from typing import Mapping

from orchestrator.bpmn.model import Expression, FlowNode, Kind, Process, RootElement, ScriptTask
from orchestrator.errors import ExpressionError, ScriptError
from orchestrator.runtime.support import unsupported_reason
from orchestrator.scripting import CompiledExpression, CompiledScript, Sandbox


class ExecutableProcess:
    def __init__(self, process: Process, sandbox: Sandbox,
                 root_elements: Mapping[str, RootElement] | None = None) -> None:
        self.process = process
        self.sandbox = sandbox
        self.root_elements: Mapping[str, RootElement] = root_elements or {}
        self._unsupported: dict[str, str | None] = {}
        self._scripts: dict[str, CompiledScript | ScriptError] = {}
        self._expressions: dict[tuple[str, str], CompiledExpression | ScriptError] = {}
        self._upstream: dict[str, frozenset[str]] = {}
        self._start_nodes: dict[str, tuple[str, ...]] = {}

    def unsupported(self, node_id: str) -> str | None:
        """Why the engine cannot run this flow node (cached), or None."""
        try:
            return self._unsupported[node_id]
        except KeyError:
            node = self.process.flow_nodes[node_id]
            # A token placed on a start event means its trigger already happened.
            reason = None if node.kind is Kind.START_EVENT else unsupported_reason(node)
            self._unsupported[node_id] = reason
            return reason

    def unsupported_boundary(self, node_id: str) -> tuple[str, str] | None:
        """(boundary event id, reason) for the first boundary event attached to this activity
        that the engine cannot run. An activity must not run as if it were not drawn: the
        token fails at the boundary event instead, so nothing is ignored silently."""
        key = "@" + node_id
        if key not in self._unsupported:
            found = None
            for boundary_id in self.process.boundary_events.get(node_id, ()):
                reason = self.unsupported(boundary_id)
                if reason is not None:
                    found = f"{boundary_id}\0{reason}"
                    break
            self._unsupported[key] = found
        value = self._unsupported[key]
        if value is None:
            return None
        boundary_id, reason = value.split("\0", 1)
        return boundary_id, reason

    def script(self, node: ScriptTask) -> CompiledScript:
        """The compiled script of a script task; raises ScriptError (cached) when it cannot run."""
        cached = self._scripts.get(node.id)
        if cached is None:
            try:
                if node.script is None:
                    raise ScriptError("the script task has no script", element=node.id, line=node.line)
                if node.script.error:
                    raise ScriptError(node.script.error, element=node.id, line=node.line)
                cached = self.sandbox.compile_script(node.script.source, element_id=node.id)
            except ScriptError as exc:
                cached = exc
            self._scripts[node.id] = cached
        if isinstance(cached, ScriptError):
            raise cached
        return cached

    def evaluate(self, owner: str, expression: Expression, variables: dict[str, Any]) -> Any:
        """Evaluate an expression that belongs to element `owner` (a sequence flow, say)."""
        key = (owner, expression.source)
        compiled = self._expressions.get(key)
        if compiled is None:
            try:
                if expression.python is None:
                    raise ExpressionError(expression.error or "the expression cannot be evaluated", element=owner)
                compiled = self.sandbox.compile_expression(expression.python, element_id=owner)
            except (ScriptError, ExpressionError) as exc:
                compiled = exc if isinstance(exc, ScriptError) else ScriptError(exc.message, element=owner)
            self._expressions[key] = compiled
        if isinstance(compiled, ScriptError):
            raise compiled
        return self.sandbox.evaluate(compiled, variables)

    def upstream(self, join: FlowNode) -> frozenset[str]:
        """Flow nodes in the join's scope from which a token can still reach the join without
        passing through it: the tokens an inclusive join must wait for."""
        cached = self._upstream.get(join.id)
        if cached is None:
            flows = self.process.sequence_flows
            seen: set[str] = set()
            stack = [flows[f].source for f in join.incoming if f in flows]
            while stack:
                node_id = stack.pop()
                if node_id in seen or node_id == join.id or node_id not in self.process.flow_nodes:
                    continue
                seen.add(node_id)
                node = self.process.flow_nodes[node_id]
                stack.extend(flows[f].source for f in node.incoming if f in flows)
                if node.kind is Kind.BOUNDARY_EVENT and node.attached_to:  # type: ignore[attr-defined]
                    stack.append(node.attached_to)  # type: ignore[attr-defined]
            cached = frozenset(seen)
            self._upstream[join.id] = cached
        return cached

    def chain_after(self, node_id: str, *, limit: int = 10, scripts: bool = False) -> tuple[str, ...]:
        """The service tasks that will certainly run next, in order, once `node_id` completes:
        followed along single unconditional sequence flows, through flow nodes that only pass
        the token or run a script inline (or taking script tasks as links too, when scripts run
        as jobs), and stopping at anything that waits, branches or
        joins. The Celery layer sends such a run out as one chain; if the instance goes another
        way after all (a failure, a cancel), the links it did not reach find no job and do
        nothing, so the prediction can only save messages, never change what runs."""
        flows = self.process.sequence_flows
        nodes = self.process.flow_nodes
        found: list[str] = []
        current = nodes[node_id]
        seen = {node_id}
        while len(found) < limit:
            if len(current.outgoing) != 1 or self.process.boundary_events.get(current.id):
                break
            flow = flows.get(current.outgoing[0])
            if flow is None or flow.condition is not None or flow.target not in nodes:
                break
            nxt = nodes[flow.target]
            if nxt.id in seen or len(nxt.incoming) != 1 or self.unsupported(nxt.id) is not None:
                break
            seen.add(nxt.id)
            if nxt.kind is Kind.SERVICE_TASK and getattr(nxt, "plugin", None):
                found.append(nxt.id)
            elif nxt.kind is Kind.SCRIPT_TASK and scripts:
                found.append(nxt.id)  # scripts run as jobs: they are links too
            elif nxt.kind not in (Kind.SCRIPT_TASK, Kind.TASK, Kind.MANUAL_TASK, Kind.INTERMEDIATE_THROW_EVENT):
                break
            current = nxt
        return tuple(found)

    def start_nodes(self, scope_node: str | None) -> tuple[str, ...]:
        """Where tokens begin in a scope: its none start event, or, for a sub-process drawn
        without one (allowed by the spec), every flow node with no incoming flow."""
        key = scope_node or ""
        cached = self._start_nodes.get(key)
        if cached is None:
            start = self.process.none_start_event(scope_node)
            if start is not None:
                cached = (start.id,)
            else:
                members = self.process.scopes.get(key, ())
                cached = tuple(
                    node_id for node_id in members
                    if not self.process.flow_nodes[node_id].incoming
                    and self.process.flow_nodes[node_id].kind not in (Kind.BOUNDARY_EVENT, Kind.START_EVENT)
                    and not getattr(self.process.flow_nodes[node_id], "is_for_compensation", False)
                    and not getattr(self.process.flow_nodes[node_id], "triggered_by_event", False)
                ) if scope_node is not None else ()
            self._start_nodes[key] = cached
        return cached
