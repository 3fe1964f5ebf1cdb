"""What throw events and end events send out: signals, messages, errors, escalations, links.
Shared by the intermediate throw and end event behaviours."""
from __future__ import annotations

from orchestrator.bpmn.model import Event, EventType
from orchestrator.runtime import subscriptions
from orchestrator.runtime.commands import BroadcastSignal, SendMessage
from orchestrator.runtime.context import ENTER, StepContext, Token


def _name(ctx: StepContext, node: Event) -> str:
    ref = node.event_definitions[0].ref
    root = ctx.exe.root_elements.get(ref or "")
    return (root.name if root is not None and root.name else ref) or node.name or node.id


def send(ctx: StepContext, token: Token, node: Event) -> bool:
    """Send a signal or message; True when the token may go on."""
    kind = node.event_type
    if kind is EventType.SIGNAL:
        name = _name(ctx, node)
        # A signal is a broadcast: this instance's own subscriptions catch it now, in this step
        # (an event sub-process it starts must not miss it because the throwing path ended);
        # the running system delivers it to the other instances.
        for sub_id, sub in list(ctx.state["subscriptions"].items()):
            if sub["kind"] == "signal" and sub.get("name") == name and sub_id in ctx.state["subscriptions"]:
                subscriptions.fire(ctx, sub_id, None)
        ctx.emit(BroadcastSignal(name=name, element=node.id))
    elif kind is EventType.MESSAGE:
        ctx.emit(SendMessage(name=_name(ctx, node), element=node.id))
    return True


def throw(ctx: StepContext, token: Token, node: Event) -> bool:
    """Throw an error or escalation; True when the token may go on (an escalation nobody
    caught, or one caught without interrupting)."""
    definition = node.event_definitions[0]
    code = subscriptions._code_of(ctx, definition)
    token_id = token["id"]
    subscriptions.throw(ctx, token, node, node.event_type, code, from_activity=False)
    return node.event_type is not EventType.ERROR and token_id in ctx.tokens


def jump(ctx: StepContext, token: Token, node: Event) -> bool:
    """A link throw event moves its token to the link catch event of the same name in its scope."""
    name = node.event_definitions[0].link_name or node.name
    for candidate_id in ctx.process.scopes.get(node.scope or "", ()):
        candidate = ctx.process.flow_nodes[candidate_id]
        if (isinstance(candidate, Event) and candidate.kind.value == "intermediateCatchEvent"
                and candidate.event_type is EventType.LINK
                and (candidate.event_definitions[0].link_name or candidate.name) == name):
            ctx.record("completed", node, token)
            token["node"] = candidate.id
            token["flow"] = None
            ctx.enqueue(ENTER, token)
            return False
    ctx.fail(token, node, f"no link catch event named {name!r} in the same scope")
    return False
