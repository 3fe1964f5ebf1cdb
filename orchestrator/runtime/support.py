"""What the token engine can run today, in one place.

Validation asks this module whether a process is executable, and the engine asks it before a
token enters a flow node, so the two can never disagree: anything refused here is a warning
from `validate` and a failed run (an incident) when a token reaches it.
"""
from __future__ import annotations

from orchestrator.bpmn.model import (
    Event, EventType, FlowNode, Kind, ServiceTask,
)

# Event types per event kind that the engine runs.
SUPPORTED_EVENTS: dict[Kind, frozenset[EventType]] = {
    # Timer, message and signal starts are triggered by the running system (timer rows,
    # correlation, broadcast); error and escalation starts only begin event sub-processes.
    Kind.START_EVENT: frozenset({EventType.NONE, EventType.TIMER, EventType.MESSAGE, EventType.SIGNAL,
                                 EventType.ERROR, EventType.ESCALATION, EventType.COMPENSATE}),
    Kind.END_EVENT: frozenset({EventType.NONE, EventType.TERMINATE, EventType.ERROR, EventType.ESCALATION,
                               EventType.SIGNAL, EventType.MESSAGE, EventType.COMPENSATE, EventType.CANCEL}),
    Kind.INTERMEDIATE_THROW_EVENT: frozenset({EventType.NONE, EventType.SIGNAL, EventType.MESSAGE,
                                              EventType.ESCALATION, EventType.LINK, EventType.COMPENSATE}),
    Kind.INTERMEDIATE_CATCH_EVENT: frozenset({EventType.TIMER, EventType.MESSAGE, EventType.SIGNAL, EventType.LINK}),
    Kind.BOUNDARY_EVENT: frozenset({EventType.TIMER, EventType.MESSAGE, EventType.SIGNAL, EventType.ERROR,
                                    EventType.ESCALATION, EventType.COMPENSATE, EventType.CANCEL}),
}

SUPPORTED_ACTIVITIES = frozenset({
    Kind.TASK, Kind.MANUAL_TASK, Kind.SCRIPT_TASK, Kind.SERVICE_TASK, Kind.SEND_TASK,
    Kind.BUSINESS_RULE_TASK, Kind.USER_TASK, Kind.RECEIVE_TASK, Kind.SUB_PROCESS, Kind.CALL_ACTIVITY,
    Kind.TRANSACTION,
})

SUPPORTED_GATEWAYS = frozenset({Kind.EXCLUSIVE_GATEWAY, Kind.PARALLEL_GATEWAY, Kind.INCLUSIVE_GATEWAY,
                                Kind.EVENT_BASED_GATEWAY})

# Kinds a token waits in until the outside world says they are done.
WAIT_STATES = frozenset({Kind.USER_TASK, Kind.RECEIVE_TASK})


def unsupported_reason(node: FlowNode) -> str | None:
    """Why the engine cannot run this flow node yet, or None when it can."""
    if isinstance(node, Event):
        allowed = SUPPORTED_EVENTS.get(node.kind, frozenset())
        if len(node.event_definitions) > 1:
            return f"{node.kind.value} with several event definitions (a multiple event) is not supported yet"
        if node.event_type not in allowed:
            what = node.event_type.value
            article = "an" if what[0] in "aeiou" else "a"
            return f"{article} {what} {node.kind.value} is not supported yet"
        return None
    if node.kind.is_gateway:
        if node.kind not in SUPPORTED_GATEWAYS:
            return f"{node.kind.value} is not supported yet"
        return None
    if node.kind not in SUPPORTED_ACTIVITIES:
        return f"{node.kind.value} is not supported yet"

    if node.kind is Kind.BUSINESS_RULE_TASK and not (isinstance(node, ServiceTask) and node.plugin):
        return "a businessRuleTask must be bound to a plugin (baton:task) to run"
    return None
