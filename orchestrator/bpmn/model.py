"""The parsed BPMN model: immutable, typed data keyed by element id.

The model knows nothing of runtime state: tokens refer to element ids, never to these objects,
so one `Definitions` can serve every instance of a process version at once. Field names follow
the BPMN 2.0 spec (`flow node`, `sequence flow`, `boundary event`, `scope`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping

MODEL_SCHEMA_VERSION = 1


class Kind(str, Enum):
    """Flow node kinds, named as the BPMN XML elements are."""

    START_EVENT = "startEvent"
    END_EVENT = "endEvent"
    INTERMEDIATE_THROW_EVENT = "intermediateThrowEvent"
    INTERMEDIATE_CATCH_EVENT = "intermediateCatchEvent"
    BOUNDARY_EVENT = "boundaryEvent"
    TASK = "task"
    MANUAL_TASK = "manualTask"
    SCRIPT_TASK = "scriptTask"
    SERVICE_TASK = "serviceTask"
    SEND_TASK = "sendTask"
    RECEIVE_TASK = "receiveTask"
    USER_TASK = "userTask"
    BUSINESS_RULE_TASK = "businessRuleTask"
    SUB_PROCESS = "subProcess"
    TRANSACTION = "transaction"
    AD_HOC_SUB_PROCESS = "adHocSubProcess"
    CALL_ACTIVITY = "callActivity"
    EXCLUSIVE_GATEWAY = "exclusiveGateway"
    PARALLEL_GATEWAY = "parallelGateway"
    INCLUSIVE_GATEWAY = "inclusiveGateway"
    EVENT_BASED_GATEWAY = "eventBasedGateway"
    COMPLEX_GATEWAY = "complexGateway"

    @property
    def is_gateway(self) -> bool:
        return self.value.endswith("Gateway")

    @property
    def is_event(self) -> bool:
        return self.value.endswith("Event")

    @property
    def is_activity(self) -> bool:
        return not (self.is_gateway or self.is_event)

    @property
    def is_scope(self) -> bool:
        """Kinds that hold flow nodes of their own."""
        return self in (Kind.SUB_PROCESS, Kind.TRANSACTION, Kind.AD_HOC_SUB_PROCESS)


class EventType(str, Enum):
    """Event definition types; `none` stands for an event with no definition."""

    NONE = "none"
    MESSAGE = "message"
    TIMER = "timer"
    ERROR = "error"
    ESCALATION = "escalation"
    CANCEL = "cancel"
    COMPENSATE = "compensate"
    CONDITIONAL = "conditional"
    LINK = "link"
    SIGNAL = "signal"
    TERMINATE = "terminate"


class ExpressionLanguage(str, Enum):
    """The language an expression was written in; only Python runs, the others are translated."""

    PYTHON = "python"
    JUEL = "juel"
    FEEL = "feel"
    XPATH = "xpath"
    OTHER = "other"


@dataclass(frozen=True)
class Expression:
    """An expression as written, and its Python form when Baton can run it.

    `python` is None when the expression cannot be run; `error` then says why (XPath, a JUEL
    construct beyond the simple subset, free text), so validation can name the element.
    """

    source: str
    language: ExpressionLanguage
    python: str | None
    error: str | None = None


@dataclass(frozen=True)
class Script:
    """A script body; `error` is set when its language is not one Baton runs."""

    source: str
    format: str
    error: str | None = None


@dataclass(frozen=True)
class EventDefinition:
    """One event definition of an event (a message, a timer, an error code, ...)."""

    type: EventType
    ref: str | None = None  # messageRef / signalRef / errorRef / escalationRef / activityRef
    time_date: Expression | None = None
    time_duration: Expression | None = None
    time_cycle: Expression | None = None
    condition: Expression | None = None
    link_name: str | None = None


@dataclass(frozen=True)
class LoopCharacteristics:
    """Multi-instance or standard loop characteristics of an activity (run in a later issue)."""

    kind: str  # "multiInstance" or "standard"
    is_sequential: bool = False
    loop_cardinality: Expression | None = None
    collection: str | None = None
    element_variable: str | None = None
    output_collection: str | None = None
    output_element: str | None = None
    completion_condition: Expression | None = None
    loop_condition: Expression | None = None
    test_before: bool = False
    loop_maximum: int | None = None


@dataclass(frozen=True)
class Extension:
    """A vendor extension found on an element, and how Baton treats it."""

    name: str  # e.g. "camunda:executionListener"
    treatment: str  # "mapped", "ignored" or "unsupported"
    line: int | None = None


@dataclass(frozen=True)
class FlowNode:
    """Any flow node. Kind-specific fields live in the subclasses below."""

    id: str
    kind: Kind
    name: str | None
    line: int | None
    scope: str | None  # id of the enclosing sub-process, None at process level
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    extensions: tuple[Extension, ...] = ()
    documentation: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Event(FlowNode):
    event_definitions: tuple[EventDefinition, ...] = ()
    attached_to: str | None = None  # boundary events
    cancel_activity: bool = True  # boundary events
    is_interrupting: bool = True  # start events of event sub-processes
    parallel_multiple: bool = False

    @property
    def event_type(self) -> EventType:
        """The single event type; several definitions count as 'multiple' (reported as such)."""
        if not self.event_definitions:
            return EventType.NONE
        return self.event_definitions[0].type


@dataclass(frozen=True)
class Gateway(FlowNode):
    default: str | None = None


@dataclass(frozen=True)
class Activity(FlowNode):
    default: str | None = None
    loop: LoopCharacteristics | None = None
    is_for_compensation: bool = False


@dataclass(frozen=True)
class ScriptTask(Activity):
    script: Script | None = None
    result_variable: str | None = None


@dataclass(frozen=True)
class ServiceTask(Activity):
    """Service, send and business rule tasks bound to a plugin (a Celery task name).

    `inputs` maps argument names to expressions where the model declares them (an input
    mapping); None means the plugin receives the variables it declares.
    """

    plugin: str | None = None
    binding: str | None = None  # how the plugin was named: "baton", "camunda-external", "zeebe", "spiff"
    inputs: Mapping[str, Expression] | None = None
    result_variable: str | None = None
    queue: str | None = None
    retry_cycle: str | None = None
    message_ref: str | None = None  # send tasks: the message sent when no plugin is bound
    time_limit: float | None = None  # baton:timeLimit, seconds (hard)
    soft_time_limit: float | None = None  # baton:softTimeLimit, seconds


@dataclass(frozen=True)
class UserTask(Activity):
    assignee: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    form_fields: tuple[str, ...] | None = None  # None: the model declares no form fields
    form_key: str | None = None


@dataclass(frozen=True)
class ReceiveTask(Activity):
    message_ref: str | None = None


@dataclass(frozen=True)
class SubProcess(Activity):
    """An embedded sub-process (also transaction and ad-hoc): a scope of its own."""

    triggered_by_event: bool = False
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariableMapping:
    """One camunda:in/out mapping: `source` (a variable name) or `expression`, into `target`;
    `all` copies every variable."""

    target: str | None = None
    source: str | None = None
    expression: Expression | None = None
    all: bool = False


@dataclass(frozen=True)
class CallActivity(Activity):
    called_element: str | None = None
    binding: str = "latest"  # camunda:calledElementBinding: latest | deployment | version
    version: int | None = None  # camunda:calledElementVersion
    inputs: tuple[VariableMapping, ...] | None = None  # None: the child gets every variable
    outputs: tuple[VariableMapping, ...] | None = None  # None: every child variable comes back


@dataclass(frozen=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    line: int | None
    name: str | None = None
    condition: Expression | None = None
    scope: str | None = None


@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class DiagramElement:
    """A BPMNShape or BPMNEdge: kept so that diagrams can be rendered; never needed to run."""

    element: str
    bounds: Bounds | None = None
    waypoints: tuple[tuple[float, float], ...] = ()
    is_expanded: bool | None = None
    is_horizontal: bool | None = None


@dataclass(frozen=True)
class Diagram:
    id: str | None
    name: str | None
    plane_element: str | None
    elements: tuple[DiagramElement, ...] = ()


@dataclass(frozen=True)
class Process:
    """One executable unit: its flow nodes and sequence flows, keyed by id, with scope indexes."""

    id: str
    name: str | None
    line: int | None
    is_executable: bool
    flow_nodes: Mapping[str, FlowNode]
    sequence_flows: Mapping[str, SequenceFlow]
    # scope id ("" for the process itself) -> ids of the flow nodes directly in it
    scopes: Mapping[str, tuple[str, ...]]
    # activity id -> ids of the boundary events attached to it
    boundary_events: Mapping[str, tuple[str, ...]]
    data_objects: tuple[str, ...] = ()
    lanes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # activity id -> its compensation handler (the activity a compensation boundary event of it
    # is associated with)
    compensation_handlers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def node(self, element_id: str) -> FlowNode:
        return self.flow_nodes[element_id]

    def flow(self, flow_id: str) -> SequenceFlow:
        return self.sequence_flows[flow_id]

    def start_events(self, scope: str | None = None) -> tuple[Event, ...]:
        """Start events placed directly in `scope` (None: the process level)."""
        ids = self.scopes.get(scope or "", ())
        return tuple(
            node  # type: ignore[misc]
            for node in (self.flow_nodes[i] for i in ids)
            if node.kind is Kind.START_EVENT
        )

    def none_start_event(self, scope: str | None = None) -> Event | None:
        """The start event a plain start (or a sub-process) begins at."""
        for event in self.start_events(scope):
            if event.event_type is EventType.NONE:
                return event
        return None


@dataclass(frozen=True)
class RootElement:
    """A message, signal, error or escalation declared at the top of the file."""

    id: str
    kind: str
    name: str | None
    code: str | None = None  # errorCode / escalationCode
    correlation_key: Expression | None = None  # messages: zeebe:subscription correlationKey


@dataclass(frozen=True)
class Definitions:
    """A whole BPMN file: its processes, the root elements they reference and its diagrams."""

    id: str | None
    target_namespace: str | None
    exporter: str | None
    exporter_version: str | None
    processes: Mapping[str, Process]
    root_elements: Mapping[str, RootElement]
    diagrams: tuple[Diagram, ...]
    collaboration_participants: Mapping[str, str | None]  # participant id -> processRef
    message_flows: tuple[tuple[str, str, str], ...] = ()  # (id, sourceRef, targetRef)
    schema_version: int = MODEL_SCHEMA_VERSION

    def process(self, process_id: str | None = None) -> Process:
        """The named process, or the only (or first executable) one when none is named."""
        if process_id is not None:
            return self.processes[process_id]
        executable = [p for p in self.processes.values() if p.is_executable]
        candidates = executable or list(self.processes.values())
        return candidates[0]


def frozen_mapping(data: dict) -> Mapping:
    """A read-only view, so that nobody changes a parsed model shared between instances."""
    return MappingProxyType(data)
