"""The step context: the only way behaviours touch instance state.

Behaviours never call each other; they move tokens, queue work and emit commands through these
methods, and the engine's loop picks the queued work up. This keeps every step O(work done):
no method here scans the history, and only terminate and cancel scan the tokens.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from orchestrator.bpmn.model import Expression, FlowNode, Kind
from orchestrator.errors import BatonError, ScriptError, VariableError
from orchestrator.runtime.commands import CancelJob, Command, OpenIncident, ResolveIncident
from orchestrator.runtime.executable import ExecutableProcess
from orchestrator.runtime.state import ROOT_SCOPE, Phase, Status
from orchestrator.runtime.variables import decode_variables, encode_value

Token = dict[str, Any]

ENTER = "enter"
COMPLETE = "complete"


class StepContext:
    def __init__(self, exe: ExecutableProcess, state: dict[str, Any], *, script_jobs: bool = False,
                 now: datetime | None = None, tz: tzinfo = timezone.utc,
                 min_timer_interval: timedelta = timedelta(seconds=1)) -> None:
        self.exe = exe
        self.script_jobs = script_jobs
        self.now = now or datetime.now(timezone.utc)
        self.tz = tz
        self.min_timer_interval = min_timer_interval
        self.process = exe.process
        self.state = state
        self.tokens: dict[str, Token] = state["tokens"]
        self.scopes: dict[str, dict[str, Any]] = state["scopes"]
        self.commands: list[Command] = []
        self.history: list[dict[str, Any]] = []
        self.changed: set[str] = set()
        self.deleted: set[str] = set()
        self._decoded: dict[str, Any] | None = None

    # -- ids, queue, history --------------------------------------------------------------------

    def new_id(self) -> str:
        value = self.state["next_id"]
        self.state["next_id"] = value + 1
        return str(value)

    def enqueue(self, action: str, token: Token) -> None:
        token["phase"] = Phase.QUEUED.value
        self.state["queue"].append([action, token["id"]])

    def emit(self, command: Command) -> None:
        self.commands.append(command)

    def record(self, event: str, node: FlowNode, token: Token, **extra: Any) -> None:
        entry = {"event": event, "element": node.id, "kind": node.kind.value, "token": token["id"], "scope": token["scope"]}
        if extra:
            entry.update(extra)
        self.history.append(entry)

    # -- variables ---------------------------------------------------------------------------

    @property
    def variables(self) -> dict[str, Any]:
        return self.state["variables"]

    def decoded_variables(self) -> dict[str, Any]:
        """Python values for scripts and conditions; cached until a variable changes."""
        if self._decoded is None:
            self._decoded = decode_variables(self.state["variables"])
        return self._decoded

    def set_variables(self, values: dict[str, Any], *, element: str | None = None) -> None:
        """Store values, refusing (with the variable's name) anything that cannot be stored."""
        encoded = {}
        for name, value in values.items():
            if type(name) is not str or not name:
                raise VariableError(f"variable names must be non-empty strings, not {name!r}", element=element)
            try:
                encoded[name] = encode_value(name, value)
            except VariableError as exc:
                raise VariableError(exc.message, element=element) from None
        store = self.state["variables"]
        for name, value in encoded.items():
            store[name] = value
            self.changed.add(name)
            self.deleted.discard(name)
        self._decoded = None

    def delete_variables(self, names: list[str]) -> None:
        store = self.state["variables"]
        for name in names:
            if name in store:
                del store[name]
                self.deleted.add(name)
                self.changed.discard(name)
        self._decoded = None

    def evaluate(self, owner: str, expression: Expression, token: Token | None = None) -> Any:
        variables = self.variables_for(token) if token is not None else self.decoded_variables()
        return self.exe.evaluate(owner, expression, variables)

    # -- local variables (multi-instance items, loop counters) ---------------------------------------
    # Variables are process-scoped, as in Camunda; an inner instance of a multi-instance activity
    # or loop holds a few of its own (the item, loopCounter, the output item) on its token, and a
    # sub-process started for one inherits them through its scope. Reads see the innermost value;
    # a write to a name held locally stays local, any other write goes to the process.

    def _local_chain(self, token: Token) -> list[dict[str, Any]]:
        chain = []
        if token.get("locals"):
            chain.append(token["locals"])
        scope = self.scopes.get(token["scope"])
        while scope is not None:
            # a sub-process run for one item: everything inside sees its owner token's locals
            owner = self.tokens.get(scope["token"]) if scope["token"] else None
            if owner is not None and owner.get("locals"):
                chain.append(owner["locals"])
            scope = self.scopes.get(scope["parent"]) if scope["parent"] else None
        return chain

    def variables_for(self, token: Token) -> dict[str, Any]:
        chain = self._local_chain(token)
        if not chain:
            return self.decoded_variables()
        merged = dict(self.decoded_variables())
        for level in reversed(chain):
            merged.update(decode_variables(level))
        return merged

    def local_values(self, token: Token) -> dict[str, Any]:
        """The token's local variables (innermost wins), as stored (JSON): what a job of it must
        see over the process variables."""
        merged: dict[str, Any] = {}
        for level in reversed(self._local_chain(token)):
            merged.update(level)
        return merged

    def store(self, token: Token, values: dict[str, Any], *, element: str | None = None) -> None:
        """Write variables as seen from `token`: local names stay local, the rest is process-wide."""
        chain = self._local_chain(token)
        if not chain:
            self.set_variables(values, element=element)
            return
        shared = {}
        for name, value in values.items():
            level = next((lv for lv in chain if name in lv), None)
            if level is None:
                shared[name] = value
                continue
            try:
                level[name] = encode_value(name, value)
            except VariableError as exc:
                raise VariableError(exc.message, element=element) from None
        if shared:
            self.set_variables(shared, element=element)

    def unset(self, token: Token, names: list[str]) -> None:
        chain = self._local_chain(token)
        for name in names:
            level = next((lv for lv in chain if name in lv), None)
            if level is not None:
                level[name] = None
            else:
                self.delete_variables([name])

    # -- timers (the arithmetic lives in orchestrator.runtime.timers) --------------------------------

    def read_timer(self, node: FlowNode, definition: Any) -> Any:
        from orchestrator.runtime import timers

        return timers.read_timer(definition, element_id=node.id, variables=self.decoded_variables(),
                                 evaluate=lambda expression: self.evaluate(node.id, expression), tz=self.tz,
                                 min_interval=self.min_timer_interval)

    def timer_first_due(self, spec: Any) -> datetime:
        from orchestrator.runtime import timers

        return timers.first_due(spec, now=self.now, tz=self.tz)

    def timer_spec_to_dict(self, spec: Any) -> dict[str, Any]:
        from orchestrator.runtime import timers

        return timers.spec_to_dict(spec)

    def timer_next_due(self, stored: dict[str, Any]) -> datetime | None:
        """The next repetition of a stored cycle after `stored["due"]`, or None when done."""
        from orchestrator.runtime import timers

        spec = timers.spec_from_dict(stored)
        return timers.next_due(spec, previous_due=datetime.fromisoformat(stored["due"]), fired=stored["fired"],
                               tz=self.tz)

    # -- tokens --------------------------------------------------------------------------------

    def new_token(self, node_id: str, scope: str, *, flow: str | None = None) -> Token:
        token = {"id": self.new_id(), "node": node_id, "scope": scope, "phase": Phase.QUEUED.value, "flow": flow}
        self.tokens[token["id"]] = token
        self.scopes[scope]["count"] += 1
        self.enqueue(ENTER, token)
        return token

    def move(self, token: Token, flow_ids: list[str]) -> None:
        """Send the token along the given sequence flows: itself along the first, copies along
        the rest (an implicit or explicit parallel split)."""
        flows = self.process.sequence_flows
        if token.get("subs"):
            from orchestrator.runtime.subscriptions import close_for_token

            close_for_token(self, token)  # its boundary events stop watching as it leaves
        for index, flow_id in enumerate(flow_ids):
            flow = flows[flow_id]
            self.history.append({"event": "flow", "element": flow_id, "kind": "sequenceFlow",
                                 "token": token["id"], "scope": token["scope"]})
            if index == 0:
                token["node"] = flow.target
                token["flow"] = flow_id
                self.enqueue(ENTER, token)
            else:
                self.new_token(flow.target, token["scope"], flow=flow_id)

    def leave(self, token: Token, node: FlowNode) -> None:
        """The node is done with the token: take its outgoing flows the way activities and
        events do (every unconditional flow, every conditional flow whose condition holds, the
        default flow when no other is taken); a node with none ends the token's path."""
        if token.get("inner") is not None:
            from orchestrator.runtime.behaviors import multi_instance

            self.record("completed", node, token)
            multi_instance.inner_done(self, token, node)
            return
        from orchestrator.runtime import compensation

        if token.get("compensation_for") is not None:
            self.record("completed", node, token)
            compensation.handler_done(self, token, node)
            return
        if node.kind.is_activity:
            compensation.record_completion(self, token, node)
        flow_ids = self.activity_outgoing(token, node)
        if flow_ids is None:
            return
        self.record("completed", node, token)
        if flow_ids:
            self.move(token, flow_ids)
        else:
            self.consume(token)

    def activity_outgoing(self, token: Token, node: FlowNode) -> list[str] | None:
        """The flows an activity or event leaves by; None when it failed (an incident is open)."""
        outgoing = node.outgoing
        if not outgoing:
            return []
        flows = self.process.sequence_flows
        default = getattr(node, "default", None)
        taken: list[str] = []
        for flow_id in outgoing:
            if flow_id == default:
                continue
            condition = flows[flow_id].condition
            if condition is None:
                taken.append(flow_id)
                continue
            try:
                if self.evaluate(flow_id, condition, token):
                    taken.append(flow_id)
            except BatonError as exc:
                self.fail(token, node, f"condition of sequence flow {flow_id!r} failed: {exc.message}", at=COMPLETE)
                return None
        if not taken and default:
            taken.append(default)
        if not taken:
            self.fail(token, node, "no outgoing sequence flow can be taken: every condition is false and there is no default flow",
                      at=COMPLETE)
            return None
        return taken

    def consume(self, token: Token) -> None:
        """Remove a token whose path ended; a scope with no token left completes."""
        if token.get("subs"):
            from orchestrator.runtime.subscriptions import close_for_token

            close_for_token(self, token)
        del self.tokens[token["id"]]
        scope = self.scopes[token["scope"]]
        scope["count"] -= 1
        if scope["count"] == 0:
            self.scope_finished(scope)

    def scope_finished(self, scope: dict[str, Any]) -> None:
        if self.state.get("subscriptions"):
            from orchestrator.runtime.subscriptions import close_for_scopes

            close_for_scopes(self, {scope["id"]})  # its event sub-processes stop watching
        if scope["id"] == ROOT_SCOPE:
            if self.state["status"] == Status.RUNNING.value:
                self.state["status"] = Status.COMPLETED.value
            return
        parent_token = self.tokens.get(scope["token"])
        del self.scopes[scope["id"]]
        if parent_token is not None:
            self.enqueue(COMPLETE, parent_token)

    def open_scope(self, token: Token, node: FlowNode) -> dict[str, Any]:
        scope = {"id": self.new_id(), "node": node.id, "parent": token["scope"], "token": token["id"], "count": 0}
        self.scopes[scope["id"]] = scope
        return scope

    def wait(self, token: Token, job: str | None = None) -> None:
        token["phase"] = Phase.WAITING.value
        if job is not None:
            token["job"] = job
            self.state["jobs"][job] = token["id"]

    def release_job(self, token: Token) -> None:
        job = token.pop("job", None)
        if job is not None:
            self.state["jobs"].pop(job, None)

    def fail(self, token: Token, node: FlowNode, message: str, *, at: str = ENTER, job: str | None = None) -> None:
        """Open an incident: the token stays at the node until an operator retries it."""
        incident = self.new_id()
        token["phase"] = Phase.FAILED.value
        token["incident"] = incident
        token["failed_at"] = at
        self.state["incidents"][incident] = {"id": incident, "token": token["id"], "node": node.id,
                                             "message": message, "job": job}
        self.record("failed", node, token, message=message)
        self.emit(OpenIncident(incident=incident, token=token["id"], element=node.id, message=message, job=job))

    def fail_script(self, token: Token, node: FlowNode, exc: BatonError, *, at: str = ENTER) -> None:
        prefix = "script failed" if isinstance(exc, ScriptError) else "cannot continue"
        self.fail(token, node, f"{prefix}: {exc.message}", at=at)

    # -- removing tokens (terminate, cancel) ----------------------------------------------------

    def remove_scope_contents(self, scope_id: str) -> None:
        """Remove every token in a scope and in the scopes nested in it, cancelling their jobs
        and resolving their incidents; the scope itself stays (its owner decides what next)."""
        doomed_scopes = {scope_id}
        changed = True
        while changed:
            changed = False
            for scope in self.scopes.values():
                if scope["parent"] in doomed_scopes and scope["id"] not in doomed_scopes:
                    doomed_scopes.add(scope["id"])
                    changed = True
        if self.state.get("subscriptions"):
            from orchestrator.runtime.subscriptions import close_for_scopes, close_for_token

            close_for_scopes(self, doomed_scopes)
            for token in [t for t in self.tokens.values() if t["scope"] in doomed_scopes and t.get("subs")]:
                close_for_token(self, token)
        for token in [t for t in self.tokens.values() if t["scope"] in doomed_scopes]:
            node = self.process.flow_nodes.get(token["node"])
            job = token.get("job")
            if job is not None:
                self.emit(CancelJob(job=job, element=token["node"]))
                self.state["jobs"].pop(job, None)
            incident = token.get("incident")
            if incident is not None:
                self.state["incidents"].pop(incident, None)
                self.emit(ResolveIncident(incident=incident))
            if node is not None:
                self.record("cancelled", node, token)
            del self.tokens[token["id"]]
        for key in [k for k in self.state["joins"] if k.split("/", 1)[0] in doomed_scopes]:
            del self.state["joins"][key]
        for sid in doomed_scopes - {scope_id}:
            del self.scopes[sid]
        self.scopes[scope_id]["count"] = 0

    def node(self, node_id: str) -> FlowNode:
        return self.process.flow_nodes[node_id]

    def scope_node_kind(self, scope_id: str) -> Kind | None:
        node_id = self.scopes[scope_id]["node"]
        return self.process.flow_nodes[node_id].kind if node_id else None
