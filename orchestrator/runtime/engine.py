"""The token engine: state + event -> new state + commands.

A step is deterministic: the same state and event give the same result, whatever machine
runs it. The loop below is an explicit work queue (no recursion, no tree walks): each item is
"token T enters its node" or "token T's node is done", handled by the behaviour registered for
the node's kind. Cost is linear in the items processed.

Two bounds keep a step safe to run inside a database transaction: `chunk_steps` stops the loop
after N items (the caller commits and sends `Continue`), and `step_cap` stops a runaway
instance for good with an incident.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping

from datetime import datetime, timedelta

from orchestrator.bpmn.model import Definitions, EventType, Kind, Process, RootElement
from orchestrator.errors import BatonError, EngineError, InvalidTransition, VariableError
from orchestrator.runtime.behaviors import BEHAVIORS, Behavior, InclusiveGateway, Unsupported
from orchestrator.runtime.commands import Command, ContinueLater, ResolveIncident
from orchestrator.runtime.context import COMPLETE, ENTER, StepContext
from orchestrator.runtime import subscriptions
from orchestrator.runtime.behaviors import multi_instance
from orchestrator.runtime.events import (
    Cancel, Continue, EngineEvent, JobCompleted, JobFailed, MessageReceived, RetryIncident, SetVariables,
    SignalReceived, Start, TimerFired,
)
from orchestrator.runtime.executable import ExecutableProcess
from orchestrator.runtime.state import ROOT_SCOPE, Phase, Status, migrate, new_state
from orchestrator.runtime.support import unsupported_reason
from orchestrator.runtime.variables import encode_variables
from orchestrator.scripting import Sandbox


@dataclass(frozen=True)
class EngineOptions:
    chunk_steps: int | None = 1000
    """Items processed per step before the engine stops and asks to continue (None: no limit)."""
    step_cap: int = 1_000_000
    """Items an instance may process in its whole life; a runaway loop stops here."""
    copy_state: bool = True
    """Work on a copy of the given state, so the caller's stays as it was (a pure function)."""
    timezone: str = "UTC"
    """Where timer dates without an offset, calendar cycles and cron are read (BATON_TIMEZONE)."""
    min_timer_interval: float = 1.0
    """Seconds: shorter timer cycles are refused (they would create tokens without bound)."""
    script_jobs: bool = False
    """Ask for script tasks as jobs (RunScriptTask) instead of running them inside the step, so
    that the caller can run them outside any lock and on a queue of their own."""


@dataclass
class StepResult:
    state: dict[str, Any]
    commands: list[Command] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    changed_variables: set[str] = field(default_factory=set)
    deleted_variables: set[str] = field(default_factory=set)
    more_work: bool = False
    steps: int = 0
    ignored: str | None = None
    """Why the event changed nothing (a late or duplicate completion, say); None when applied."""

    @property
    def status(self) -> str:
        return self.state["status"]


def _copy(value: Any) -> Any:
    """A deep copy for JSON-shaped data, several times faster than copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    return value


class Engine:
    """Runs one process version. Build it once per version and reuse it for every instance."""

    def __init__(self, process: Process | ExecutableProcess, *, sandbox: Sandbox | None = None,
                 options: EngineOptions | None = None,
                 root_elements: Mapping[str, RootElement] | None = None) -> None:
        if isinstance(process, ExecutableProcess):
            self.exe = process
        else:
            self.exe = ExecutableProcess(process, sandbox or Sandbox(), root_elements=root_elements)
        self.process = self.exe.process
        self.options = options or EngineOptions()
        self._inclusive = InclusiveGateway()
        from zoneinfo import ZoneInfo

        self._tz = ZoneInfo(self.options.timezone)

    @classmethod
    def for_definitions(cls, definitions: Definitions, process_id: str | None = None, **kwargs: Any) -> "Engine":
        return cls(definitions.process(process_id), root_elements=definitions.root_elements, **kwargs)

    # -- public API --------------------------------------------------------------------------------

    def execute_script(self, element_id: str, variables: Mapping[str, Any]):
        """Run a script task's script in the sandbox (for a RunScriptTask job): returns the
        ScriptResult; raises ScriptError naming the element."""
        from orchestrator.bpmn.model import ScriptTask as ScriptTaskNode

        node = self.process.flow_nodes.get(element_id)
        if not isinstance(node, ScriptTaskNode):
            raise EngineError(f"{element_id!r} is not a script task of process {self.process.id!r}", element=element_id)
        return self.exe.sandbox.run_script(self.exe.script(node), variables)

    def start(self, variables: Mapping[str, Any] | None = None, *, start_event: str | None = None,
              now: datetime | None = None) -> StepResult:
        return self.handle(None, Start(variables=dict(variables or {}), start_event=start_event), now=now)

    def _context(self, state: dict[str, Any], now: datetime | None) -> StepContext:
        return StepContext(self.exe, state, script_jobs=self.options.script_jobs, now=now, tz=self._tz,
                           min_timer_interval=timedelta(seconds=self.options.min_timer_interval))

    def handle(self, state: dict[str, Any] | None, event: EngineEvent, *, now: datetime | None = None) -> StepResult:
        """Apply one event. `now` is the time the caller says it is (the database's clock in the
        running system, a virtual clock in simulate): timers are computed from it, so the same
        state, event and `now` always give the same result."""
        if isinstance(event, Start):
            return self._start(event, now)
        if state is None:
            raise InvalidTransition(f"{event.type} needs the state of a started instance")
        state = migrate(_copy(state) if self.options.copy_state else state)
        ctx = self._context(state, now)
        handler = {
            JobCompleted: self._job_completed, JobFailed: self._job_failed, RetryIncident: self._retry,
            Continue: self._continue, SetVariables: self._set_variables, Cancel: self._cancel,
            TimerFired: self._event_arrived, MessageReceived: self._event_arrived, SignalReceived: self._event_arrived,
        }[type(event)]
        ignored = handler(ctx, event)
        if ignored is not None:
            return StepResult(state=state, ignored=ignored)
        if isinstance(event, (SetVariables, Cancel)):
            # Neither moves a token, so neither runs queued work: callers may apply them where
            # no user code may run (the web process), and the next step carries on as before.
            state["queue"] = list(state["queue"])
            return StepResult(state=state, commands=ctx.commands, history=ctx.history,
                              changed_variables=ctx.changed, deleted_variables=ctx.deleted)
        return self._run(ctx)

    # -- events ----------------------------------------------------------------------------------

    def _start(self, event: Start, now: datetime | None) -> StepResult:
        try:
            variables = encode_variables(event.variables)
        except VariableError as exc:
            raise VariableError(exc.message, element=self.process.id) from None
        state = new_state(self.process.id, variables)
        if event.called:
            state["called"] = True
        ctx = self._context(state, now)
        if event.start_event is not None:
            node = self.process.flow_nodes.get(event.start_event)
            if node is None or node.kind is not Kind.START_EVENT or node.scope is not None:
                raise EngineError(f"{event.start_event!r} is not a start event of process {self.process.id!r}",
                                  element=event.start_event)
            starts: tuple[str, ...] = (node.id,)
        else:
            starts = self.exe.start_nodes(None)
            if not starts:
                raise EngineError(f"process {self.process.id!r} has no none start event to start at; name one",
                                  element=self.process.id, line=self.process.line)
        subscriptions.open_event_subprocesses(ctx, ROOT_SCOPE, None)
        for start in starts:
            ctx.new_token(start, ROOT_SCOPE)
        return self._run(ctx)

    def _job_completed(self, ctx: StepContext, event: JobCompleted) -> str | None:
        token = self._job_token(ctx, event.job)
        if isinstance(token, str):
            return token
        node = self.process.flow_nodes[token["node"]]
        ctx.release_job(token)
        result = event.result
        try:
            if result is not None and not isinstance(result, dict):
                raise VariableError(f"the job returned {type(result).__name__}, expected a dict of variables or None")
            if result and node.kind is Kind.CALL_ACTIVITY:
                from orchestrator.runtime.behaviors.call_activity import apply_mappings
                from orchestrator.runtime.variables import decode_variables

                returned = apply_mappings(ctx, token, node.outputs, decode_variables(result), owner=node.id)  # type: ignore[attr-defined]
                ctx.store(token, returned, element=node.id)
            elif result:
                rv = getattr(node, "result_variable", None) if node.kind is not Kind.SCRIPT_TASK else None
                ctx.store(token, {rv: result} if rv else result, element=node.id)
            if event.deleted:
                ctx.unset(token, list(event.deleted))
        except VariableError as exc:
            ctx.fail(token, node, f"cannot store the result: {exc.message}", at=COMPLETE)
            return None
        ctx.record("job_completed", node, token, job=event.job)
        ctx.enqueue(COMPLETE, token)
        return None

    def _job_failed(self, ctx: StepContext, event: JobFailed) -> str | None:
        token = self._job_token(ctx, event.job)
        if isinstance(token, str):
            return token
        node = self.process.flow_nodes[token["node"]]
        ctx.release_job(token)
        if event.code is not None:
            # A business error (BpmnError) thrown by the plugin: caught by the activity's error
            # boundary, else up the scopes; uncaught it opens an incident naming the code.
            if event.variables:
                ctx.set_variables(event.variables, element=node.id)
            subscriptions.throw(ctx, token, node, EventType.ERROR, event.code, from_activity=True,
                                message=event.message)
            return None
        ctx.fail(token, node, event.message, at=ENTER, job=event.job)
        return None

    def _event_arrived(self, ctx: StepContext, event: TimerFired | MessageReceived | SignalReceived) -> str | None:
        if ctx.state["status"] != Status.RUNNING.value:
            return f"the instance is {ctx.state['status']}"
        variables = getattr(event, "variables", None)
        return subscriptions.fire(ctx, event.subscription, dict(variables) if variables else None)

    def _job_token(self, ctx: StepContext, job: str) -> dict[str, Any] | str:
        """The token waiting for `job`, or why the completion is to be ignored."""
        if ctx.state["status"] != Status.RUNNING.value:
            return f"the instance is {ctx.state['status']}"
        token_id = ctx.state["jobs"].get(job)
        if token_id is None:
            return f"job {job!r} is not open (already finished, cancelled or unknown)"
        token = ctx.tokens.get(token_id)
        if token is None or token.get("job") != job or token["phase"] != Phase.WAITING.value:
            ctx.state["jobs"].pop(job, None)
            return f"job {job!r} is not awaited any more"
        return token

    def _retry(self, ctx: StepContext, event: RetryIncident) -> str | None:
        incident = ctx.state["incidents"].pop(event.incident, None)
        if incident is None:
            return f"incident {event.incident!r} is not open"
        token = ctx.tokens[incident["token"]]
        token.pop("incident", None)
        at = token.pop("failed_at", ENTER)
        ctx.emit(ResolveIncident(incident=event.incident))
        ctx.enqueue(at, token)
        return None

    def _continue(self, ctx: StepContext, event: Continue) -> str | None:
        if not ctx.state["queue"]:
            return "nothing left to continue"
        return None

    def _set_variables(self, ctx: StepContext, event: SetVariables) -> str | None:
        ctx.set_variables(event.set, element=self.process.id)
        ctx.delete_variables(list(event.delete))
        return None

    def _cancel(self, ctx: StepContext, event: Cancel) -> str | None:
        if ctx.state["status"] != Status.RUNNING.value:
            return f"the instance is {ctx.state['status']}"
        ctx.remove_scope_contents(ROOT_SCOPE)
        ctx.state["scopes"] = {ROOT_SCOPE: ctx.scopes[ROOT_SCOPE]}
        ctx.state["queue"] = []
        ctx.state["status"] = Status.CANCELLED.value
        return None

    # -- the loop ----------------------------------------------------------------------------------

    def _behavior(self, node_kind: Kind, node_id: str) -> Behavior:
        reason = self.exe.unsupported(node_id)
        if reason is not None:
            return Unsupported(reason)
        return BEHAVIORS[node_kind]

    def _run(self, ctx: StepContext) -> StepResult:
        state = ctx.state
        queue: deque[list[str]] = deque(state["queue"])
        state["queue"] = queue  # the context appends to it; written back as a list below
        chunk = self.options.chunk_steps
        cap = self.options.step_cap
        nodes = self.process.flow_nodes
        tokens = ctx.tokens
        done = 0
        more_work = False
        while True:
            while queue:
                if chunk is not None and done >= chunk:
                    more_work = True
                    break
                action, token_id = queue.popleft()
                token = tokens.get(token_id)
                if token is None or token["phase"] != Phase.QUEUED.value:
                    continue  # removed by a terminate or cancel after it was queued
                node = nodes.get(token["node"])
                if node is None:
                    ctx.fail(token, self._missing(token["node"]), f"no flow node {token['node']!r} in the process")
                    continue
                if state["steps"] >= cap:
                    ctx.fail(token, node, f"the instance reached its cap of {cap:,} steps (a loop that never ends?)",
                             at=action)
                    break
                state["steps"] += 1
                done += 1
                behavior = BEHAVIORS.get(node.kind) if self.exe.unsupported(node.id) is None else None
                if behavior is None:
                    behavior = self._behavior(node.kind, node.id)
                if action == ENTER and node.kind.is_activity and token.get("inner") is None:
                    boundary = self.exe.unsupported_boundary(node.id)
                    if boundary is not None:
                        ctx.fail(token, nodes[boundary[0]], f"Baton cannot run this element: {boundary[1]}")
                        continue
                    if self.process.boundary_events.get(node.id) and not subscriptions.open_boundaries(ctx, token, node):
                        continue
                    if getattr(node, "loop", None) is not None and behavior is BEHAVIORS.get(node.kind):
                        try:
                            multi_instance.enter_body(ctx, token, node)
                        except BatonError as exc:
                            if token["id"] in tokens and token["phase"] != Phase.FAILED.value:
                                ctx.fail_script(token, node, exc, at=action)
                        continue
                try:
                    if action == ENTER:
                        behavior.enter(ctx, token, node)
                    else:
                        behavior.complete(ctx, token, node)
                except BatonError as exc:
                    if token["id"] in tokens and token["phase"] != Phase.FAILED.value:
                        ctx.fail_script(token, node, exc, at=action)
            if more_work or queue or not self._fire_inclusive_joins(ctx):
                break
        state["queue"] = list(queue)
        if more_work:
            ctx.emit(ContinueLater())
        return StepResult(
            state=state, commands=ctx.commands, history=ctx.history, changed_variables=ctx.changed,
            deleted_variables=ctx.deleted, more_work=more_work, steps=done,
        )

    def _fire_inclusive_joins(self, ctx: StepContext) -> bool:
        """With no work left, inclusive joins whose missing tokens can no longer come may fire."""
        fired = False
        for key in list(ctx.state["joins"]):
            scope, node_id = key.split("/", 1)
            node = self.process.flow_nodes.get(node_id)
            if node is not None and node.kind is Kind.INCLUSIVE_GATEWAY and key in ctx.state["joins"]:
                fired = self._inclusive.try_fire(ctx, scope, node) or fired
        return fired

    def _missing(self, node_id: str):
        from orchestrator.bpmn.model import FlowNode
        return FlowNode(id=node_id, kind=Kind.TASK, name=None, line=None, scope=None)


def unsupported_map(process: Process) -> dict[str, str]:
    """Flow node id -> why the engine cannot run it, for every such node of the process."""
    return {node_id: reason for node_id, node in process.flow_nodes.items()
            if (reason := unsupported_reason(node)) is not None}
