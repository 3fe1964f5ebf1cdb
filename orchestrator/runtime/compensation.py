"""Compensation: undoing what completed, in reverse order of completion (BPMN 2.0 section 10.7).

An activity with a compensation handler (an activity marked isForCompensation, associated with a
compensation boundary event of it) is recorded when it completes, with the scopes it ran in and
its local variables. A compensation throw event (intermediate or end) compensates one activity
(`activityRef`) or everything its scope and the scopes nested in it completed: the handlers run
one at a time, last completed first, while the throwing token waits; each record is compensated
once. A sub-process with a compensation event sub-process is compensated by running that event
sub-process instead. A cancel end event inside a transaction compensates what the transaction
completed and then leaves by the transaction's cancel boundary event.
"""
from __future__ import annotations

from typing import Any

from orchestrator.bpmn.model import Event, EventType, FlowNode, Kind, SubProcess
from orchestrator.runtime.context import COMPLETE, StepContext, Token


def _scope_path(ctx: StepContext, token: Token) -> list[str]:
    path, scope = [], ctx.scopes.get(token["scope"])
    while scope is not None:
        path.append(scope["id"])
        scope = ctx.scopes.get(scope["parent"]) if scope["parent"] else None
    return path


def _compensation_event_sub(ctx: StepContext, node: FlowNode) -> tuple[str, str] | None:
    """(event sub-process, its compensation start event) placed inside a sub-process."""
    if not isinstance(node, SubProcess):
        return None
    for child_id in ctx.process.scopes.get(node.id, ()):
        child = ctx.process.flow_nodes[child_id]
        if isinstance(child, SubProcess) and child.triggered_by_event:
            for start in ctx.process.start_events(child.id):
                if start.event_type is EventType.COMPENSATE:
                    return child.id, start.id
    return None


def record_completion(ctx: StepContext, token: Token, node: FlowNode) -> None:
    if node.id not in ctx.process.compensation_handlers and _compensation_event_sub(ctx, node) is None:
        return
    ctx.state.setdefault("compensable", []).append(
        {"activity": node.id, "path": _scope_path(ctx, token), "locals": token.get("locals")})


def compensate(ctx: StepContext, thrower: Token, node: Event, *, scope_id: str | None = None) -> bool:
    """Start compensating; True when handlers run (the thrower waits for them)."""
    records: list[dict[str, Any]] = ctx.state.get("compensable", [])
    ref = node.event_definitions[0].ref if node.event_definitions else None
    scope_id = scope_id or thrower["scope"]
    chosen = [r for r in records if (r["activity"] == ref if ref else scope_id in r["path"])]
    if not chosen:
        return False
    ctx.state["compensable"] = [r for r in records if r not in chosen]
    runs = []
    for record in reversed(chosen):
        handler = ctx.process.compensation_handlers.get(record["activity"])
        if handler is not None:
            runs.append({"handler": handler, "locals": record["locals"]})
            continue
        event_sub = _compensation_event_sub(ctx, ctx.process.flow_nodes[record["activity"]])
        if event_sub is not None:
            runs.append({"handler": event_sub[0], "start_at": event_sub[1], "locals": record["locals"]})
    if not runs:
        return False
    thrower["compensating"] = runs
    ctx.wait(thrower)
    _next(ctx, thrower)
    return True


def _next(ctx: StepContext, thrower: Token) -> None:
    run = thrower["compensating"].pop(0)
    token = ctx.new_token(run["handler"], thrower["scope"])
    token["compensation_for"] = thrower["id"]
    if run.get("locals"):
        token["locals"] = dict(run["locals"])
    if run.get("start_at"):
        token["start_at"] = run["start_at"]


def handler_done(ctx: StepContext, token: Token, node: FlowNode) -> None:
    """A compensation handler finished: run the next one, or let the thrower go on."""
    thrower = ctx.tokens.get(token.pop("compensation_for"))
    del ctx.tokens[token["id"]]
    ctx.scopes[token["scope"]]["count"] -= 1
    if thrower is None:
        return
    if thrower.get("compensating"):
        _next(ctx, thrower)
        return
    thrower.pop("compensating", None)
    ctx.enqueue(COMPLETE, thrower)


def cancel_transaction(ctx: StepContext, token: Token, node: Event) -> None:
    """A cancel end event: compensate what the transaction completed, then leave it by its cancel
    boundary event (the token completes this once the handlers are done)."""
    token["cancel_transaction"] = True
    if not compensate(ctx, token, node, scope_id=token["scope"]):
        finish_cancel(ctx, token, node)


def finish_cancel(ctx: StepContext, token: Token, node: Event) -> None:
    from orchestrator.runtime.subscriptions import interrupt

    scope = ctx.scopes[token["scope"]]
    owner = ctx.tokens.get(scope["token"]) if scope["token"] else None
    transaction = ctx.process.flow_nodes.get(owner["node"]) if owner else None
    if owner is None or transaction is None or transaction.kind is not Kind.TRANSACTION:
        ctx.fail(token, node, "a cancel end event must be inside a transaction")
        return
    boundary = next((ctx.process.flow_nodes[b] for b in ctx.process.boundary_events.get(transaction.id, ())
                     if isinstance(ctx.process.flow_nodes[b], Event)
                     and ctx.process.flow_nodes[b].event_type is EventType.CANCEL), None)  # type: ignore[union-attr]
    if boundary is None:
        ctx.fail(token, node, f"transaction {transaction.id!r} has no cancel boundary event to leave by")
        return
    ctx.new_token(boundary.id, owner["scope"])
    interrupt(ctx, owner)
