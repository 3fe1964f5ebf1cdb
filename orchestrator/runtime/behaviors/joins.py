"""Join bookkeeping shared by the parallel and inclusive gateways: tokens waiting per incoming
flow, counted in the state so that a join never walks the history or the token tree."""
from __future__ import annotations

from orchestrator.bpmn.model import FlowNode
from orchestrator.runtime.context import StepContext, Token


def join_key(scope: str, node_id: str) -> str:
    return f"{scope}/{node_id}"


def arrive(ctx: StepContext, token: Token, node: FlowNode) -> dict[str, list[str]]:
    """Park the token at the join under the flow it came by; return the join's record."""
    join = ctx.state["joins"].setdefault(join_key(token["scope"], node.id), {})
    join.setdefault(token.get("flow") or "", []).append(token["id"])
    ctx.wait(token)
    return join


def fire(ctx: StepContext, scope: str, node: FlowNode, join: dict[str, list[str]]) -> Token:
    """Take one token from each incoming flow that has one: the first continues, the others
    are consumed. Tokens that arrived twice on one flow stay for the next firing."""
    arrived = [join[flow].pop(0) for flow in list(join) if join[flow]]
    for flow in [f for f, waiting in join.items() if not waiting]:
        del join[flow]
    if not join:
        del ctx.state["joins"][join_key(scope, node.id)]
    keep = ctx.tokens[arrived[0]]
    for token_id in arrived[1:]:
        ctx.consume(ctx.tokens[token_id])
    ctx.record("started", node, keep)
    return keep
