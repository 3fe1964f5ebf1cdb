"""Event subscriptions: what a token or a scope waits for, and what happens when it arrives.

Four roles share one mechanism:

- `catch`: an intermediate catch event or receive task holds its token until the event comes;
- `boundary`: a boundary event watches its activity while the activity's token is there;
- `gateway`: an event-based gateway holds its token; the first of its events wins;
- `event_sub`: an event sub-process's start event watches its enclosing scope.

A subscription lives in the state (`state["subscriptions"]`) and outside it as a timer row or a
message/signal subscription row, kept in step by the Subscribe/ScheduleTimer/Unsubscribe
commands. Removing a token or a scope closes what it held, so nothing fires for a token that is
gone; a late event for a closed subscription is ignored by the engine.

Errors and escalations are not subscriptions: they are thrown and caught by searching upwards
through the scopes (BPMN 2.0 section 10.5.5): the activity's own boundary events, then the event
sub-processes of the scope, then the boundary events of the sub-process that owns the scope, and
so on to the process; an uncaught error opens an incident, an uncaught escalation is reported
and the instance goes on.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from orchestrator.bpmn.model import Event, EventDefinition, EventType, FlowNode, Kind, ReceiveTask, SubProcess
from orchestrator.errors import BatonError
from orchestrator.runtime.commands import (
    CancelJob, Escalate, OpenIncident, ResolveIncident, ScheduleTimer, Subscribe, Unsubscribe,
)
from orchestrator.runtime.context import COMPLETE, ENTER, StepContext, Token
from orchestrator.runtime.state import ROOT_SCOPE, Phase

CATCH, BOUNDARY, GATEWAY, EVENT_SUB = "catch", "boundary", "gateway", "event_sub"


# -- opening and closing ----------------------------------------------------------------------------

def open_subscription(ctx: StepContext, node: FlowNode, definition: EventDefinition | None, *, role: str,
                      token: Token | None, scope: str, flow: str | None = None, event_sub: str | None = None,
                      interrupting: bool = True) -> str | None:
    """Subscribe for one event definition (a receive task counts as a message); returns the id,
    or None when the subscription could not be opened (an incident is then open on `token`)."""
    sub_id = ctx.new_id()
    sub: dict[str, Any] = {"id": sub_id, "element": node.id, "role": role, "scope": scope,
                           "token": token["id"] if token else None, "interrupting": interrupting}
    if flow:
        sub["flow"] = flow
    if event_sub:
        sub["event_sub"] = event_sub
    kind = "message" if isinstance(node, ReceiveTask) else definition.type.value if definition else "none"
    sub["kind"] = kind
    try:
        if kind == "timer":
            assert definition is not None
            spec = ctx.read_timer(node, definition)
            due = ctx.timer_first_due(spec)
            sub["timer"] = {**ctx.timer_spec_to_dict(spec), "fired": 0, "due": due.isoformat()}
            ctx.emit(ScheduleTimer(subscription=sub_id, element=node.id, due=due.isoformat(), repetition=1,
                                   repetitions=sub["timer"]["repetitions"]))
        elif kind in ("message", "signal"):
            ref = node.message_ref if isinstance(node, ReceiveTask) else (definition.ref if definition else None)
            root = ctx.exe.root_elements.get(ref or "")
            name = (root.name if root is not None and root.name else ref) or node.name or node.id
            sub["name"] = name
            key = None
            correlation = getattr(root, "correlation_key", None) if root is not None else None
            if kind == "message" and correlation is not None:
                key = ctx.evaluate(node.id, correlation)
            sub["correlation_key"] = key
            ctx.emit(Subscribe(subscription=sub_id, kind=kind, name=name, element=node.id, correlation_key=key,
                               interrupting=interrupting))
        else:
            raise BatonError(f"a {kind} event cannot be waited for", element=node.id)
    except BatonError as exc:
        if token is not None:
            ctx.fail(token, node, f"cannot wait for this event: {exc.message}")
        else:
            raise
        return None
    ctx.state["subscriptions"][sub_id] = sub
    if token is not None:
        token.setdefault("subs", []).append(sub_id)
    return sub_id


def close(ctx: StepContext, sub_id: str) -> None:
    sub = ctx.state["subscriptions"].pop(sub_id, None)
    if sub is None:
        return
    ctx.emit(Unsubscribe(subscription=sub_id, element=sub["element"]))
    token = ctx.tokens.get(sub["token"]) if sub["token"] else None
    if token is not None and sub_id in token.get("subs", ()):
        token["subs"].remove(sub_id)


def close_for_token(ctx: StepContext, token: Token) -> None:
    for sub_id in list(token.get("subs", ())):
        close(ctx, sub_id)
    token.pop("subs", None)


def close_for_scopes(ctx: StepContext, scope_ids: set[str]) -> None:
    for sub_id, sub in list(ctx.state["subscriptions"].items()):
        if sub["role"] == EVENT_SUB and sub["scope"] in scope_ids:
            close(ctx, sub_id)


def open_boundaries(ctx: StepContext, token: Token, activity: FlowNode) -> bool:
    """Watch the activity's timer, message and signal boundary events; False on failure."""
    for boundary_id in ctx.process.boundary_events.get(activity.id, ()):
        boundary = ctx.process.flow_nodes[boundary_id]
        assert isinstance(boundary, Event)
        definition = boundary.event_definitions[0] if boundary.event_definitions else None
        if definition is None or definition.type not in (EventType.TIMER, EventType.MESSAGE, EventType.SIGNAL):
            continue  # error and escalation boundaries are found when something is thrown
        if open_subscription(ctx, boundary, definition, role=BOUNDARY, token=token, scope=token["scope"],
                             interrupting=boundary.cancel_activity) is None:
            return False
    return True


def open_event_subprocesses(ctx: StepContext, scope_id: str, scope_node: str | None) -> None:
    """Watch the start events of the event sub-processes placed directly in a new scope."""
    for node_id in ctx.process.scopes.get(scope_node or "", ()):
        node = ctx.process.flow_nodes[node_id]
        if not (isinstance(node, SubProcess) and node.triggered_by_event):
            continue
        for start in ctx.process.start_events(node.id):
            definition = start.event_definitions[0] if start.event_definitions else None
            if definition is None or definition.type not in (EventType.TIMER, EventType.MESSAGE, EventType.SIGNAL):
                continue
            open_subscription(ctx, start, definition, role=EVENT_SUB, token=None, scope=scope_id, event_sub=node.id,
                              interrupting=start.is_interrupting)


# -- removing a token with everything it holds ------------------------------------------------------

def interrupt(ctx: StepContext, token: Token) -> None:
    """Remove a token that an event interrupts: its job is cancelled, its subscriptions closed,
    its incident resolved, and the scope it owns (a sub-process) removed with its contents. The
    caller puts the next token in place first, so the enclosing scope never looks finished."""
    node = ctx.process.flow_nodes.get(token["node"])
    close_for_token(ctx, token)
    # the inner instances of a multi-instance activity or loop go with their body
    for inner in [t for t in ctx.tokens.values() if (t.get("inner") or {}).get("body") == token["id"]]:
        interrupt(ctx, inner)
    owned = [sid for sid, scope in ctx.scopes.items() if scope["token"] == token["id"]]
    for scope_id in owned:
        ctx.remove_scope_contents(scope_id)
        close_for_scopes(ctx, {scope_id})
        del ctx.scopes[scope_id]
    job = token.pop("job", None)
    if job is not None:
        ctx.state["jobs"].pop(job, None)
        ctx.emit(CancelJob(job=job, element=token["node"]))
    incident = token.pop("incident", None)
    if incident is not None:
        ctx.state["incidents"].pop(incident, None)
        ctx.emit(ResolveIncident(incident=incident))
    if node is not None:
        ctx.record("cancelled", node, token)
    del ctx.tokens[token["id"]]
    ctx.scopes[token["scope"]]["count"] -= 1


# -- firing -----------------------------------------------------------------------------------------

def fire(ctx: StepContext, sub_id: str, variables: dict[str, Any] | None) -> str | None:
    """An awaited event arrived; returns why it is ignored, or None when applied."""
    sub = ctx.state["subscriptions"].get(sub_id)
    if sub is None:
        return f"subscription {sub_id!r} is not open (its event already happened, or its token moved on)"
    node = ctx.process.flow_nodes[sub["element"]]
    if variables:
        ctx.set_variables(variables, element=node.id)
    role = sub["role"]
    if role == CATCH:
        token = ctx.tokens[sub["token"]]
        close(ctx, sub_id)
        ctx.enqueue(COMPLETE, token)
    elif role == GATEWAY:
        token = ctx.tokens[sub["token"]]
        gateway = ctx.process.flow_nodes[token["node"]]
        close_for_token(ctx, token)
        token["triggered"] = True
        ctx.record("completed", gateway, token)
        ctx.move(token, [sub["flow"]])
    elif role == BOUNDARY:
        activity_token = ctx.tokens.get(sub["token"])
        if activity_token is None:
            close(ctx, sub_id)
            return "the activity already ended"
        repeat = _repeat_timer(ctx, sub)
        if not repeat and (sub["interrupting"] or sub["kind"] == "timer"):
            close(ctx, sub_id)
        ctx.new_token(node.id, activity_token["scope"])
        if sub["interrupting"]:
            interrupt(ctx, activity_token)
    elif role == EVENT_SUB:
        scope = ctx.scopes.get(sub["scope"])
        if scope is None:
            close(ctx, sub_id)
            return "the scope already ended"
        repeat = _repeat_timer(ctx, sub)
        if sub["interrupting"] or (not repeat and sub["kind"] == "timer"):
            close(ctx, sub_id)
        _start_event_subprocess(ctx, scope["id"], sub["event_sub"], node.id, interrupting=sub["interrupting"])
    return None


def _repeat_timer(ctx: StepContext, sub: dict[str, Any]) -> bool:
    """A non-interrupting timer cycle schedules its next repetition; True when it did."""
    timer = sub.get("timer")
    if timer is None or sub["interrupting"]:
        return False
    timer["fired"] += 1
    following = ctx.timer_next_due(timer)
    if following is None:
        return False
    timer["due"] = following.isoformat()
    ctx.emit(ScheduleTimer(subscription=sub["id"], element=sub["element"], due=timer["due"],
                           repetition=timer["fired"] + 1, repetitions=timer["repetitions"]))
    return True


def _start_event_subprocess(ctx: StepContext, scope_id: str, event_sub: str, start: str, *,
                            interrupting: bool) -> None:
    token = ctx.new_token(event_sub, scope_id)
    token["start_at"] = start
    if interrupting:
        for other_sub, sub in list(ctx.state["subscriptions"].items()):
            if sub["role"] == EVENT_SUB and sub["scope"] == scope_id:
                close(ctx, other_sub)
        for other in [t for t in ctx.tokens.values() if t["scope"] == scope_id and t["id"] != token["id"]]:
            interrupt(ctx, other)
        for key in [k for k in ctx.state["joins"] if k.split("/", 1)[0] == scope_id]:
            del ctx.state["joins"][key]


# -- errors and escalations -------------------------------------------------------------------------

def _code_of(ctx: StepContext, definition: EventDefinition | None) -> str | None:
    if definition is None or definition.ref is None:
        return None
    root = ctx.exe.root_elements.get(definition.ref)
    return (root.code if root is not None and root.code else definition.ref) if root is not None else definition.ref


def _matches(ctx: StepContext, node: FlowNode, kind: EventType, code: str | None, *, exact: bool) -> bool:
    if not isinstance(node, Event) or not node.event_definitions or node.event_definitions[0].type is not kind:
        return False
    catches = _code_of(ctx, node.event_definitions[0])
    return catches == code if exact else catches is None


def _find_boundary(ctx: StepContext, activity: str, kind: EventType, code: str | None) -> Event | None:
    boundaries = [ctx.process.flow_nodes[b] for b in ctx.process.boundary_events.get(activity, ())]
    for exact in (True, False):
        for boundary in boundaries:
            if _matches(ctx, boundary, kind, code, exact=exact):
                return boundary  # type: ignore[return-value]
    return None


def _find_event_sub(ctx: StepContext, scope_node: str | None, kind: EventType, code: str | None
                    ) -> tuple[str, Event] | None:
    candidates = []
    for node_id in ctx.process.scopes.get(scope_node or "", ()):
        node = ctx.process.flow_nodes[node_id]
        if isinstance(node, SubProcess) and node.triggered_by_event:
            candidates.extend((node.id, start) for start in ctx.process.start_events(node.id))
    for exact in (True, False):
        for event_sub, start in candidates:
            if _matches(ctx, start, kind, code, exact=exact):
                return event_sub, start
    return None


def throw(ctx: StepContext, token: Token, origin: FlowNode, kind: EventType, code: str | None, *,
          from_activity: bool, message: str = "") -> bool:
    """Throw an error or escalation from `origin`, where `token` is. Returns True when a catcher
    took it over (the origin's token was removed or, for a non-interrupting catch, left alone)."""
    what = "error" if kind is EventType.ERROR else "escalation"
    if from_activity:
        boundary = _find_boundary(ctx, origin.id, kind, code)
        if boundary is not None:
            ctx.new_token(boundary.id, token["scope"])
            if boundary.cancel_activity:
                interrupt(ctx, token)
            return True
    scope_id = token["scope"]
    while True:
        scope = ctx.scopes[scope_id]
        found = _find_event_sub(ctx, scope["node"], kind, code)
        if found is not None:
            event_sub, start = found
            _start_event_subprocess(ctx, scope_id, event_sub, start.id, interrupting=start.is_interrupting)
            return True
        if scope_id == ROOT_SCOPE:
            break
        owner = ctx.tokens[scope["token"]]
        owner_node = ctx.process.flow_nodes[owner["node"]]
        boundary = _find_boundary(ctx, owner_node.id, kind, code)
        if boundary is not None:
            ctx.new_token(boundary.id, owner["scope"])
            if boundary.cancel_activity:
                interrupt(ctx, owner)
            return True
        scope_id = owner["scope"]
    if kind is EventType.ESCALATION:
        ctx.emit(Escalate(code=code, element=origin.id))
        return False
    if ctx.state.get("called"):
        # Nobody here catches it: the instance ends and its caller's call activity gets it.
        from orchestrator.runtime.commands import ErrorToCaller
        from orchestrator.runtime.state import Status

        ctx.emit(ErrorToCaller(code=code, element=origin.id, message=message))
        ctx.remove_scope_contents(ROOT_SCOPE)
        ctx.state["status"] = Status.TERMINATED.value
        return True
    detail = f": {message}" if message else ""
    ctx.fail(token, origin, f"BPMN {what} {code!r} was not caught{detail}" if code else f"BPMN {what} was not caught{detail}")
    return True


__all__ = ["open_subscription", "close", "close_for_token", "close_for_scopes", "open_boundaries",
           "open_event_subprocesses", "interrupt", "fire", "throw", "ENTER", "Phase", "OpenIncident", "datetime",
           "Kind"]
