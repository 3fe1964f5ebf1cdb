"""Two questions about a BPMN file, answered separately: is it valid, and can Baton run it?

*Valid* means the OMG BPMN 2.0 schema accepts it and its structure holds together: every
reference names an element that exists, ids are unique, every flow node can be reached and
can be left (with the exceptions BPMN 2.0 makes), default flows leave their own gateway,
parallel gateways split without conditions, every process has a start event and no sequence
flow crosses a sub-process boundary. Breaking any of these is an *error*.

*Executable* is asked only of processes marked `isExecutable="true"`: every element kind is
one the engine runs (`orchestrator.runtime.support`), every service task names an installed
plugin, every script and expression is Python (or translatable JUEL/FEEL) that compiles in the
sandbox, and no vendor extension would be silently dropped. What only stops Baton from running
a process is a *warning* with `executable_only=True`; the file stays valid.

Soundness findings (`orchestrator.bpmn.soundness`) are added as plain warnings. Every problem
names the element id and the line, so that an editor can point at the diagram.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Container, Iterable, Iterator, Mapping

from lxml import etree

from orchestrator.bpmn import extensions as ext
from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.model import (
    Activity, Definitions, Event, EventType, Expression, FlowNode, Gateway, Kind, Process,
    ReceiveTask, ScriptTask, ServiceTask, SubProcess,
)
from orchestrator.bpmn.expressions import read_expression
from orchestrator.bpmn.parser import DEFAULT_MAX_BYTES, ParseResult, parse
from orchestrator.bpmn.soundness import check_soundness
from orchestrator.bpmn.xsd import validate_against_xsd
from orchestrator.errors import BpmnParseError, Problem, ScriptError, Severity
from orchestrator.runtime.support import unsupported_reason
from orchestrator.scripting import Sandbox

Element = etree._Element

# -- messages: constants, so that tests and callers match on them --------------------------------

DANGLING_REF = "{attribute} refers to {target!r}, which is not {what}"
MISSING_REF = "{attribute} is missing: a {what} must be named"
WRONG_KIND_REF = "{attribute} refers to {target!r}, which is {actual}, not {what}"
NOT_CONNECTED = "{kind} {label!r} is not connected: it has no incoming and no outgoing sequence flow"
NO_INCOMING = "{kind} {label!r} has no incoming sequence flow, so no token can reach it"
START_WITHOUT_OUTGOING = "start event {label!r} has no outgoing sequence flow, so nothing can follow it"
IMPLICIT_END = "{kind} {label!r} has no outgoing sequence flow: its path ends here without an end event"
INCOMING_FORBIDDEN = "{kind} {label!r} must not be the target of a sequence flow ({flows})"
OUTGOING_FORBIDDEN = "end event {label!r} must not be the source of a sequence flow ({flows})"
DEFAULT_NOT_OUTGOING = "default flow {flow!r} is not an outgoing sequence flow of {node!r} (it leaves {source!r})"
DEFAULT_WITH_CONDITION = "default flow {flow!r} has a condition; BPMN ignores the condition of a default flow"
CONDITION_AFTER_GATEWAY = ("sequence flow {flow!r} leaves {kind} {gateway!r} and has a condition; "
                           "the outgoing flows of a {kind} must be unconditional")
NO_START_EVENT = "process {process!r} has no start event; a process needs at least one"
EVENT_SUB_PROCESS_WITHOUT_START = "event sub-process {node!r} has no start event to trigger it"
CROSSES_SCOPE = "sequence flow {flow!r} crosses a sub-process boundary: {source!r} is in {source_scope}, {target!r} is in {target_scope}"
BOUNDARY_OTHER_SCOPE = "boundary event {event!r} is in {event_scope} but the activity {activity!r} it is attached to is in {activity_scope}"

NOT_EXECUTABLE_ELEMENT = "not executable: {reason}"
NO_PLUGIN = "not executable: the {kind} is not bound to a plugin; name one with baton:task"
FOREIGN_IMPLEMENTATION = ("not executable: the {kind} is implemented by {extension}, which runs code in the engine "
                          "the model was drawn for; bind it to a plugin with baton:task instead")
UNKNOWN_PLUGIN = "not executable: plugin {plugin!r} is not installed"
NO_SCRIPT = "not executable: the script task has no script"
SCRIPT_NOT_RUNNABLE = "not executable: {reason}"
SCRIPT_REFUSED = "not executable: the sandbox refuses the script: {reason}"
EXPRESSION_NOT_RUNNABLE = "not executable: the {what} {source!r} cannot be run: {reason}"
EXPRESSION_REFUSED = "not executable: the sandbox refuses the {what} {source!r}: {reason}"
UNSUPPORTED_EXTENSION = ("not executable: {extension} {verb} not supported: such extensions change what the process "
                         "does in the engine it was drawn for, and Baton would silently skip them")
UNKNOWN_EXTENSION = "unknown extension {extension} is ignored"
NO_EXECUTABLE_PROCESS = 'not executable: no process in this file is marked isExecutable="true"'

# Camunda-family attributes that say how a service task is implemented (as a Java class, ...).
_IMPLEMENTATION_EXTENSIONS = {"class", "delegateExpression", "expression", "connector", "type", "decisionRef"}


@dataclass(frozen=True)
class ValidationReport:
    """The answers to both questions, with every problem that led to them.

    `executable_processes` lists the processes Baton can run; it is empty when the file is not
    valid, because an invalid file is never deployed.
    """

    valid: bool
    executable: bool
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    executable_processes: tuple[str, ...] = ()

    @classmethod
    def unreadable(cls, problem: Problem) -> ValidationReport:
        """The report for a file that could not be read as BPMN at all (its one error)."""
        return cls(valid=False, executable=False, errors=(problem,), warnings=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "executable": self.executable,
            "errors": [problem.to_dict() for problem in self.errors],
            "warnings": [problem.to_dict() for problem in self.warnings],
        }


def validate_bytes(data: bytes, *, plugins: Container[str] | None = None, sandbox: Sandbox | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> ValidationReport:
    """Parse and validate a file's bytes; a file that is not BPMN at all gives one error."""
    try:
        result = parse(data, max_bytes=max_bytes)
    except BpmnParseError as exc:
        return ValidationReport.unreadable(exc.to_problem())
    return validate(result, plugins=plugins, sandbox=sandbox)


TIMER_READING = "the timer is read as {reading}{what}"
_READINGS = {"literal": "an ISO 8601 or cron literal", "juel": "a JUEL expression, evaluated when the timer starts",
             "python": "a Python expression, evaluated when the timer starts"}


def validate(result: ParseResult, *, plugins: Container[str] | None = None,
             sandbox: Sandbox | None = None) -> ValidationReport:
    """Judge a parsed file.

    `plugins` is the set of installed plugin names; None means plugin names are not checked
    (a simulation with mocked plugins). `sandbox` compiles scripts and expressions.
    """
    definitions = result.definitions
    context = _Context(definitions, _index_ids(result.tree))
    problems: list[Problem] = _schema_problems(result)
    problems.extend(result.problems)
    problems.extend(_collaboration_refs(context))
    for process in definitions.processes.values():
        for rule in _STRUCTURE_RULES:
            problems.extend(_in_process(rule(process, context), process))

    executable_candidates = [p for p in definitions.processes.values() if p.is_executable]
    if executable_candidates:
        checker = _ExecutabilityChecker(context, plugins, sandbox or Sandbox())
        for process in executable_candidates:
            problems.extend(_in_process(checker.check(process), process))
    # A soundness finding about an element that already has an error at that line ("can never
    # be reached" where the error says "has no incoming sequence flow") would only repeat it.
    reported = {(p.element, p.line) for p in problems if p.severity is Severity.ERROR}
    for process in definitions.processes.values():
        problems.extend(
            replace(problem, severity=Severity.WARNING, executable_only=False, process=process.id)
            for problem in check_soundness(process)
            if (problem.element, problem.line) not in reported
        )

    errors = tuple(_in_line_order(p for p in problems if p.severity is Severity.ERROR))
    warnings = list(_in_line_order(p for p in problems if p.severity is not Severity.ERROR))
    valid = not errors
    blocked = {p.process for p in problems if p.executable_only or p.severity is Severity.ERROR}
    runnable = tuple(p.id for p in executable_candidates if p.id not in blocked) if valid else ()
    if not executable_candidates:
        warnings.insert(0, _no_executable_process(result))
    return ValidationReport(
        valid=valid, executable=bool(runnable), errors=errors, warnings=tuple(warnings),
        executable_processes=runnable,
    )


# -- shared helpers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    definitions: Definitions
    elements: Mapping[str, Element]  # id -> the first XML element with that id

    def line_of(self, element_id: str) -> int | None:
        el = self.elements.get(element_id)
        return el.sourceline if el is not None else None


def _index_ids(root: Element) -> dict[str, Element]:
    index: dict[str, Element] = {}
    for el in root.iter():
        if isinstance(el.tag, str):
            element_id = el.get("id")
            if element_id and element_id not in index:
                index[element_id] = el
    return index


def _local(ref: str) -> str:
    """The id in a QName reference (`tns:Message_1` -> `Message_1`); ids cannot contain ':'."""
    return ref.strip().rsplit(":", 1)[-1]


def _error(message: str, element: str | None, line: int | None) -> Problem:
    return Problem(message, element=element, line=line, severity=Severity.ERROR)


def _warning(message: str, element: str | None, line: int | None, *, executable_only: bool = True) -> Problem:
    return Problem(message, element=element, line=line, severity=Severity.WARNING, executable_only=executable_only)


def _in_process(problems: Iterable[Problem], process: Process) -> Iterator[Problem]:
    for problem in problems:
        yield problem if problem.process else replace(problem, process=process.id)


def _in_line_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _scope_name(scope: str | None) -> str:
    return "the process" if scope is None else f"sub-process {scope!r}"


def _no_executable_process(result: ParseResult) -> Problem:
    processes = list(result.definitions.processes.values())
    if processes:
        return _warning(NO_EXECUTABLE_PROCESS, processes[0].id, processes[0].line)
    return _warning(NO_EXECUTABLE_PROCESS, result.definitions.id, result.tree.sourceline)


def _schema_problems(result: ParseResult) -> list[Problem]:
    """The XSD's findings, less its complaint about a duplicate `xs:ID` where the parser has
    already said "duplicate id" (one finding, reported once, in the parser's words)."""
    duplicates = {(p.element, p.line) for p in result.problems if p.message.startswith("duplicate id")}
    return [
        p for p in validate_against_xsd(result.tree)
        if not ("'xs:ID'" in p.message and (p.element, p.line) in duplicates)
    ]


# -- structure ---------------------------------------------------------------------------------------

def _flow_refs(process: Process, context: _Context) -> Iterator[Problem]:
    """Every sequence flow connects two flow nodes of its own process."""
    for flow in process.sequence_flows.values():
        for attribute, target in (("sourceRef", flow.source), ("targetRef", flow.target)):
            if not target:
                yield _error(MISSING_REF.format(attribute=attribute, what="flow node"), flow.id, flow.line)
            elif target not in process.flow_nodes:
                yield _error(DANGLING_REF.format(attribute=attribute, target=target,
                                                 what=f"a flow node of process {process.id!r}"), flow.id, flow.line)


def _flows_within_scope(process: Process, context: _Context) -> Iterator[Problem]:
    """A sequence flow stays inside one (sub-)process: sub-processes are entered through their border."""
    for flow in process.sequence_flows.values():
        source, target = process.flow_nodes.get(flow.source), process.flow_nodes.get(flow.target)
        if source is None or target is None or source.scope == target.scope:
            continue
        yield _error(CROSSES_SCOPE.format(flow=flow.id, source=source.id, target=target.id,
                                          source_scope=_scope_name(source.scope),
                                          target_scope=_scope_name(target.scope)), flow.id, flow.line)


def _boundary_refs(process: Process, context: _Context) -> Iterator[Problem]:
    for node in process.flow_nodes.values():
        if node.kind is not Kind.BOUNDARY_EVENT or not isinstance(node, Event):
            continue
        if not node.attached_to:
            yield _error(MISSING_REF.format(attribute="attachedToRef", what="activity"), node.id, node.line)
            continue
        activity = process.flow_nodes.get(_local(node.attached_to))
        if activity is None:
            yield _error(DANGLING_REF.format(attribute="attachedToRef", target=node.attached_to,
                                             what=f"an activity of process {process.id!r}"), node.id, node.line)
        elif not activity.kind.is_activity:
            yield _error(WRONG_KIND_REF.format(attribute="attachedToRef", target=activity.id,
                                               actual=_a(_kind_words(activity)), what="an activity"), node.id, node.line)
        elif activity.scope != node.scope:
            yield _error(BOUNDARY_OTHER_SCOPE.format(event=node.id, activity=activity.id,
                                                     event_scope=_scope_name(node.scope),
                                                     activity_scope=_scope_name(activity.scope)), node.id, node.line)


_ROOT_REF_ATTRIBUTE = {
    EventType.MESSAGE: ("messageRef", "message"), EventType.SIGNAL: ("signalRef", "signal"),
    EventType.ERROR: ("errorRef", "error"), EventType.ESCALATION: ("escalationRef", "escalation"),
}


def _root_element_refs(process: Process, context: _Context) -> Iterator[Problem]:
    """messageRef, signalRef, errorRef and escalationRef name root elements of the right kind;
    a compensation's activityRef names an activity."""
    for node in process.flow_nodes.values():
        if isinstance(node, Event):
            for definition in node.event_definitions:
                if not definition.ref:
                    continue
                if definition.type is EventType.COMPENSATE:
                    target = process.flow_nodes.get(_local(definition.ref))
                    if target is None or not target.kind.is_activity:
                        yield _error(DANGLING_REF.format(attribute="activityRef", target=definition.ref,
                                                         what=f"an activity of process {process.id!r}"), node.id, node.line)
                elif definition.type in _ROOT_REF_ATTRIBUTE:
                    attribute, kind = _ROOT_REF_ATTRIBUTE[definition.type]
                    yield from _root_ref(context, node, attribute, definition.ref, kind)
        elif node.kind in (Kind.RECEIVE_TASK, Kind.SEND_TASK):
            ref = node.message_ref if isinstance(node, ReceiveTask) else _xml_attribute(context, node.id, "messageRef")
            if ref:
                yield from _root_ref(context, node, "messageRef", ref, "message")


def _root_ref(context: _Context, node: FlowNode, attribute: str, ref: str, kind: str) -> Iterator[Problem]:
    root = context.definitions.root_elements.get(_local(ref))
    if root is None:
        yield _error(DANGLING_REF.format(attribute=attribute, target=ref, what=f"{_a(kind)} of this file"), node.id, node.line)
    elif root.kind != kind:
        yield _error(WRONG_KIND_REF.format(attribute=attribute, target=ref, actual=_a(root.kind), what=_a(kind)),
                     node.id, node.line)


def _xml_attribute(context: _Context, element_id: str, attribute: str) -> str | None:
    el = context.elements.get(element_id)
    return el.get(attribute) if el is not None else None


def _defaults(process: Process, context: _Context) -> Iterator[Problem]:
    """A `default` names one of the element's own outgoing flows."""
    for node in process.flow_nodes.values():
        default = node.default if isinstance(node, (Gateway, Activity)) else None
        if not default:
            continue
        flow = process.sequence_flows.get(default)
        if flow is None:
            yield _error(DANGLING_REF.format(attribute="default", target=default,
                                             what=f"a sequence flow of process {process.id!r}"), node.id, node.line)
        elif flow.source != node.id:
            yield _error(DEFAULT_NOT_OUTGOING.format(flow=flow.id, node=node.id, source=flow.source), node.id, node.line)
        elif flow.condition is not None:
            yield _warning(DEFAULT_WITH_CONDITION.format(flow=flow.id), flow.id, flow.line, executable_only=False)


_UNCONDITIONAL_GATEWAYS = {Kind.PARALLEL_GATEWAY: "parallel gateway", Kind.EVENT_BASED_GATEWAY: "event-based gateway"}


def _unconditional_splits(process: Process, context: _Context) -> Iterator[Problem]:
    for flow in process.sequence_flows.values():
        source = process.flow_nodes.get(flow.source)
        if flow.condition is not None and source is not None and source.kind in _UNCONDITIONAL_GATEWAYS:
            yield _error(CONDITION_AFTER_GATEWAY.format(flow=flow.id, kind=_UNCONDITIONAL_GATEWAYS[source.kind],
                                                        gateway=source.id), flow.id, flow.line)


def _start_events(process: Process, context: _Context) -> Iterator[Problem]:
    """A process needs a start event; an event sub-process needs the one that triggers it.
    (An embedded sub-process may have none: it then starts at every node without incoming flow.)"""
    if process.flow_nodes and not process.start_events(None):
        yield _error(NO_START_EVENT.format(process=process.id), process.id, process.line)
    for node in process.flow_nodes.values():
        if isinstance(node, SubProcess) and node.triggered_by_event and not process.start_events(node.id):
            yield _error(EVENT_SUB_PROCESS_WITHOUT_START.format(node=node.id), node.id, node.line)


def _connections(process: Process, context: _Context) -> Iterator[Problem]:
    """Flow nodes can be reached and left, as BPMN 2.0 requires (sections 10.4.2 and 10.4.3):

    - in a scope with a start event, every other node needs an incoming flow (an error: nothing
      can reach it); in a scope with a start or an end event, every node that is not an end
      event needs an outgoing one (without either, nodes without flows start and end paths
      implicitly). A node that can be reached but not left only ends its path early: that is a
      warning, except for a start event that leads nowhere;
    - start events and boundary events never have incoming flows, end events never outgoing ones;
    - exempt: compensation handlers and event sub-processes (no flows at all), link catch events
      (no incoming), link throw events and compensation boundary events (no outgoing), the content
      of ad-hoc sub-processes, and an instantiating event-based gateway (no incoming).
    """
    for node in process.flow_nodes.values():
        if node.kind in (Kind.START_EVENT, Kind.BOUNDARY_EVENT) and node.incoming:
            kind = "start event" if node.kind is Kind.START_EVENT else "boundary event"
            yield _error(INCOMING_FORBIDDEN.format(kind=kind, label=node.label, flows=", ".join(node.incoming)), node.id, node.line)
        if node.kind is Kind.END_EVENT and node.outgoing:
            yield _error(OUTGOING_FORBIDDEN.format(label=node.label, flows=", ".join(node.outgoing)), node.id, node.line)

    for scope, members in process.scopes.items():
        owner = process.flow_nodes.get(scope) if scope else None
        if owner is not None and owner.kind is Kind.AD_HOC_SUB_PROCESS:
            continue
        nodes = [process.flow_nodes[i] for i in members if i in process.flow_nodes]
        has_start = any(n.kind is Kind.START_EVENT for n in nodes)
        has_end = any(n.kind is Kind.END_EVENT for n in nodes)
        for node in nodes:
            missing_in = has_start and not node.incoming and _needs_incoming(node, context)
            missing_out = (has_start or has_end) and not node.outgoing and _needs_outgoing(node)
            kind, label = _kind_words(node), node.label
            if missing_in and missing_out:
                yield _error(NOT_CONNECTED.format(kind=kind, label=label), node.id, node.line)
            elif missing_in:
                yield _error(NO_INCOMING.format(kind=kind, label=label), node.id, node.line)
            elif missing_out and node.kind is Kind.START_EVENT:
                yield _error(START_WITHOUT_OUTGOING.format(label=label), node.id, node.line)
            elif missing_out:
                # A reachable node without outgoing flow ends its path. BPMN 2.0 asks for an end
                # event once a scope uses one, but Camunda, Flowable and SpiffWorkflow all end the
                # path there, and their own models rely on it: a warning, not an error.
                yield _warning(IMPLICIT_END.format(kind=kind, label=label), node.id, node.line, executable_only=False)


_KIND_WORDS = {
    Kind.SUB_PROCESS: "sub-process", Kind.AD_HOC_SUB_PROCESS: "ad-hoc sub-process",
    Kind.EVENT_BASED_GATEWAY: "event-based gateway",
}


def _kind_words(node: FlowNode) -> str:
    """`userTask` -> `user task`, as a sentence names it."""
    if node.kind in _KIND_WORDS:
        return _KIND_WORDS[node.kind]
    return "".join(f" {c.lower()}" if c.isupper() else c for c in node.kind.value)


def _without_flows(node: FlowNode) -> bool:
    if isinstance(node, Activity) and node.is_for_compensation:
        return True
    return isinstance(node, SubProcess) and node.triggered_by_event


def _needs_incoming(node: FlowNode, context: _Context) -> bool:
    if node.kind in (Kind.START_EVENT, Kind.BOUNDARY_EVENT) or _without_flows(node):
        return False
    if isinstance(node, Event) and node.kind is Kind.INTERMEDIATE_CATCH_EVENT and node.event_type is EventType.LINK:
        return False
    if node.kind is Kind.EVENT_BASED_GATEWAY and (_xml_attribute(context, node.id, "instantiate") or "").strip() == "true":
        return False
    return True


def _needs_outgoing(node: FlowNode) -> bool:
    if node.kind is Kind.END_EVENT or _without_flows(node):
        return False
    if isinstance(node, Event):
        if node.kind is Kind.INTERMEDIATE_THROW_EVENT and node.event_type is EventType.LINK:
            return False
        if node.kind is Kind.BOUNDARY_EVENT and node.event_type is EventType.COMPENSATE:
            return False  # connected to its handler by an association, not a sequence flow
    return True


def _collaboration_refs(context: _Context) -> Iterator[Problem]:
    """Participants name processes of this file; message flows connect elements of this file."""
    definitions = context.definitions
    for participant, process_ref in definitions.collaboration_participants.items():
        if process_ref and _local(process_ref) not in definitions.processes:
            yield _error(DANGLING_REF.format(attribute="processRef", target=process_ref, what="a process of this file"),
                         participant, context.line_of(participant))
    for flow_id, source, target in definitions.message_flows:
        for attribute, ref in (("sourceRef", source), ("targetRef", target)):
            if ref and _local(ref) not in context.elements:
                yield _error(DANGLING_REF.format(attribute=attribute, target=ref, what="an element of this file"),
                             flow_id, context.line_of(flow_id))


_STRUCTURE_RULES: tuple[Callable[[Process, _Context], Iterable[Problem]], ...] = (
    _flow_refs, _flows_within_scope, _boundary_refs, _root_element_refs, _defaults,
    _unconditional_splits, _start_events, _connections,
)


# -- executability -----------------------------------------------------------------------------------

class _ExecutabilityChecker:
    """Everything that stops Baton from running an `isExecutable` process, as warnings."""

    def __init__(self, context: _Context, plugins: Container[str] | None, sandbox: Sandbox) -> None:
        self.context = context
        self.plugins = plugins
        self.sandbox = sandbox

    def check(self, process: Process) -> Iterator[Problem]:
        self.unknown_seen: set[str] = set()
        yield from self._extensions(process.id, process.line, _xml_extensions(self.context.elements.get(process.id)))
        for node in process.flow_nodes.values():
            yield from self._node(node)
        for flow in process.sequence_flows.values():
            yield from self._expression(flow.condition, "condition", flow.id, flow.line)
            yield from self._extensions(flow.id, flow.line, _xml_extensions(self.context.elements.get(flow.id)))
        # Messages, signals, errors and escalations the process uses can carry extensions that
        # change behaviour too (SpiffWorkflow's payload expressions).
        for root_id in sorted(self._root_refs(process)):
            element = self.context.elements.get(root_id)
            yield from self._extensions(root_id, element.sourceline if element is not None else None,
                                        _xml_extensions(element))

    def _root_refs(self, process: Process) -> set[str]:
        refs: set[str] = set()
        for node in process.flow_nodes.values():
            if isinstance(node, Event):
                refs.update(d.ref for d in node.event_definitions if d.ref)
            if isinstance(node, ReceiveTask) and node.message_ref:
                refs.add(node.message_ref)
            if isinstance(node, ServiceTask) and node.message_ref:
                refs.add(node.message_ref)
        return {ref for ref in refs if ref in self.context.definitions.root_elements}

    def _node(self, node: FlowNode) -> Iterator[Problem]:
        reason = unsupported_reason(node)
        if reason:
            yield _warning(NOT_EXECUTABLE_ELEMENT.format(reason=reason), node.id, node.line)
        named: set[str] = set()
        if isinstance(node, ServiceTask):
            yield from self._service_task(node, named)
        if isinstance(node, ScriptTask):
            yield from self._script(node)
        if isinstance(node, Activity) and node.loop is not None:
            loop = node.loop
            for what, expression in (("loop cardinality", loop.loop_cardinality), ("loop condition", loop.loop_condition),
                                     ("completion condition", loop.completion_condition)):
                yield from self._expression(expression, what, node.id, node.line)
        if isinstance(node, Event):
            for definition in node.event_definitions:
                yield from self._expression(definition.condition, "condition", node.id, node.line)
                if definition.type is EventType.TIMER:
                    yield from self._timer(node, definition)
        yield from self._extensions(node.id, node.line, ((e.name, e.treatment, e.line) for e in node.extensions
                                                         if e.name not in named))

    def _timer(self, node: Event, definition) -> Iterator[Problem]:
        """Say how the timer will be read (an ISO 8601 or cron literal, JUEL, or Python); an
        unreadable literal stops the process from running."""
        from datetime import timezone

        from orchestrator.runtime.timers import check_timer

        check = check_timer(definition, element_id=node.id, tz=timezone.utc)
        if not check.error and check.kind is None:
            raw = definition.time_date or definition.time_duration or definition.time_cycle
            expression = read_expression(raw.source) if raw is not None else None
            if expression is None or expression.python is None:
                reason = expression.error if expression is not None else "the timer has no value"
                check = replace(check, error=f"{raw.source if raw else ''!r} is neither an ISO 8601 or cron value "
                                             f"nor an expression ({reason})")
        if check.error:
            yield _warning(f"not executable: the timer cannot be read: {check.error}", node.id, node.line)
            return
        what = f" ({check.kind})" if check.kind else ""
        yield _warning(TIMER_READING.format(reading=_READINGS[check.reading or "python"], what=what),
                       node.id, node.line, executable_only=False)

    def _service_task(self, node: ServiceTask, named: set[str]) -> Iterator[Problem]:
        kind = _kind_words(node)
        if node.plugin is None:
            if node.kind is not Kind.SERVICE_TASK:
                return  # send and business rule tasks: unsupported_reason already says so
            implementation = next((e for e in node.extensions if e.treatment == ext.UNSUPPORTED
                                   and e.name.split(":")[-1] in _IMPLEMENTATION_EXTENSIONS), None)
            if implementation is not None:
                named.add(implementation.name)
                yield _warning(FOREIGN_IMPLEMENTATION.format(kind=kind, extension=implementation.name), node.id, node.line)
            else:
                yield _warning(NO_PLUGIN.format(kind=kind), node.id, node.line)
        elif self.plugins is not None and node.plugin not in self.plugins:
            yield _warning(UNKNOWN_PLUGIN.format(plugin=node.plugin), node.id, node.line)
        for name, expression in (node.inputs or {}).items():
            yield from self._expression(expression, f"input {name!r}", node.id, node.line)

    def _script(self, node: ScriptTask) -> Iterator[Problem]:
        script = node.script
        if script is None:
            yield _warning(NO_SCRIPT, node.id, node.line)
        elif script.error:
            yield _warning(SCRIPT_NOT_RUNNABLE.format(reason=script.error), node.id, node.line)
        else:
            try:
                self.sandbox.compile_script(script.source, element_id=node.id)
            except ScriptError as exc:
                yield _warning(SCRIPT_REFUSED.format(reason=exc.message), node.id, exc.line or node.line)

    def _expression(self, expression: Expression | None, what: str, element: str, line: int | None) -> Iterator[Problem]:
        if expression is None:
            return
        source = _shorten(expression.source)
        if expression.error:
            yield _warning(EXPRESSION_NOT_RUNNABLE.format(what=what, source=source, reason=expression.error), element, line)
        elif expression.python is not None:
            try:
                self.sandbox.compile_expression(expression.python, element_id=element)
            except ScriptError as exc:
                yield _warning(EXPRESSION_REFUSED.format(what=what, source=source, reason=exc.message), element, line)

    def _extensions(self, element: str, line: int | None,
                    found: Iterable[tuple[str, str, int | None]]) -> Iterator[Problem]:
        """One warning per element for its unsupported extensions (a listener and the script
        inside it are one finding), one per process for each unknown extension."""
        unsupported: dict[str, int | None] = {}
        for name, treatment, ext_line in found:
            if treatment == ext.UNSUPPORTED:
                unsupported.setdefault(name, ext_line or line)
            elif treatment == ext.UNKNOWN and name not in self.unknown_seen:
                self.unknown_seen.add(name)
                yield _warning(UNKNOWN_EXTENSION.format(extension=name), element, ext_line or line, executable_only=False)
        if unsupported:
            names = list(unsupported)
            yield _warning(UNSUPPORTED_EXTENSION.format(extension=", ".join(names), verb="is" if len(names) == 1 else "are"),
                           element, unsupported[names[0]])


def _shorten(source: str, limit: int = 80) -> str:
    text = " ".join(source.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _xml_extensions(el: Element | None) -> list[tuple[str, str, int | None]]:
    """Extensions on an element the model keeps none for (a process, a sequence flow): foreign
    attributes and the content of its `extensionElements`, with nested unsupported ones."""
    if el is None:
        return []
    found = []
    for name in el.attrib:
        uri, _ = ns.split(name)
        if uri is not None and uri != ns.BPMN:
            found.append((ns.pretty(name), ext.classify(name), el.sourceline))
    holder = el.find(ns.q(ns.BPMN, "extensionElements"))
    if holder is not None:
        for child in holder:
            if not isinstance(child.tag, str):
                continue
            found.append((ns.pretty(child.tag), ext.classify(child.tag), child.sourceline))
            for nested in child.iter():
                if nested is not child and isinstance(nested.tag, str) and ext.classify(nested.tag) == ext.UNSUPPORTED:
                    found.append((ns.pretty(nested.tag), ext.UNSUPPORTED, nested.sourceline))
    return found
