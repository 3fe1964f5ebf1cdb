"""Read a BPMN 2.0 XML file into the immutable model.

The parser is a table from tag to parse function (`_NODE_PARSERS`); each returns one typed
flow node. It never refuses a file for what it means, only for what it is (not XML, a DOCTYPE,
too large, not BPMN): meaning is judged by `orchestrator.bpmn.validation`, so that every problem
in a file can be reported at once, each with its element id and line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from lxml import etree

from orchestrator.bpmn import extensions as ext
from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.expressions import read_expression, script_format_error
from orchestrator.bpmn.model import (
    Activity, Bounds, CallActivity, Definitions, Diagram, DiagramElement, Event, EventDefinition,
    EventType, Expression, ExpressionLanguage, Extension, FlowNode, Gateway, Kind,
    LoopCharacteristics, Process, ReceiveTask, RootElement, Script, ScriptTask, SequenceFlow,
    ServiceTask, SubProcess, UserTask, VariableMapping, frozen_mapping,
)
from orchestrator.errors import BpmnParseError, Problem, Severity

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

Element = etree._Element


@dataclass
class ParseResult:
    """The model, the parsed tree (for XSD validation) and problems only the parser can see."""

    definitions: Definitions
    tree: Element
    problems: list[Problem] = field(default_factory=list)


def _hardened_parser() -> etree.XMLParser:
    # No DTD, no entity expansion, no network: a BPMN file is untrusted input.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_blank_text=False, collect_ids=False,
    )


_CODECS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_DOCTYPE_MARKERS = tuple((marker.encode(codec), codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in _CODECS)
_XML_DECLARATION = re.compile(r"^(\ufeff?\s*<\?xml[^>]*?)\s+encoding\s*=\s*([\"'])[^\"']*\2", re.DOTALL)


def _refuse_doctype(raw: bytes) -> None:
    """Refuse a DOCTYPE before libxml2 sees the bytes: even with DTD loading off, libxml2 opens
    an external subset or parameter entity while reading the prolog, so refusing afterwards
    would be too late (a local file could be read, a network address touched)."""
    for marker, codec in _DOCTYPE_MARKERS:
        position = raw.find(marker)
        if position != -1:
            prefix = raw[:position].decode(codec, errors="ignore")
            raise BpmnParseError(DOCTYPE_REFUSED, line=prefix.count("\n") + 1)


DOCTYPE_REFUSED = "a DOCTYPE is not allowed in a BPMN file (DTDs and entities are refused)"


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Element:
    """Parse untrusted XML safely, refusing a DOCTYPE and anything over `max_bytes`."""
    if isinstance(data, str):
        # The text is already decoded: whatever encoding its declaration names no longer
        # applies to it, so the declaration is rewritten to the UTF-8 we encode it in.
        data = _XML_DECLARATION.sub(r'\1 encoding="UTF-8"', data, count=1).lstrip("\ufeff")
        raw = data.encode("utf-8")
    else:
        raw = data
    if len(raw) > max_bytes:
        raise BpmnParseError(f"the file is {len(raw):,} bytes, over the limit of {max_bytes:,} bytes")
    if not raw.strip():
        raise BpmnParseError("the file is empty")
    _refuse_doctype(raw)
    try:
        root = etree.fromstring(raw, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise BpmnParseError(f"not well-formed XML: {exc.msg}", line=line) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise BpmnParseError(DOCTYPE_REFUSED, line=1)
    if root.tag != ns.q(ns.BPMN, "definitions"):
        uri, local = ns.split(root.tag)
        if local == "definitions":
            raise BpmnParseError(
                f"not a BPMN 2.0 file: the root element 'definitions' is in namespace {uri or '(none)'}, "
                f"but BPMN 2.0 uses {ns.BPMN}", line=root.sourceline,
            )
        raise BpmnParseError(
            f"not a BPMN 2.0 file: the root element is {ns.pretty(root.tag)!r}, expected bpmn:definitions "
            f"in namespace {ns.BPMN}", line=root.sourceline,
        )
    return root


def parse(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParseResult:
    root = parse_xml(data, max_bytes=max_bytes)
    return _Reader(root).read()


def parse_file(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParseResult:
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise BpmnParseError(f"cannot read {path}: {exc.strerror}") from None
    return parse(data, max_bytes=max_bytes)


def _b(tag: str) -> str:
    return ns.q(ns.BPMN, tag)


def _children(el: Element, tag: str) -> list[Element]:
    return [c for c in el if c.tag == _b(tag)]


def _child(el: Element, tag: str) -> Element | None:
    for c in el:
        if c.tag == _b(tag):
            return c
    return None


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext())
    return text if text.strip() else None


def _camunda_attr(el: Element, name: str) -> str | None:
    for uri in ns.CAMUNDA_FAMILY:
        value = el.get(ns.q(uri, name))
        if value is not None:
            return value
    return None


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def _extension_elements(el: Element) -> list[Element]:
    holder = _child(el, "extensionElements")
    return [c for c in holder] if holder is not None else []


def _iter_extension_tree(el: Element) -> Iterable[Element]:
    holder = _child(el, "extensionElements")
    if holder is None:
        return []
    return [c for c in holder.iter() if c is not holder and isinstance(c.tag, str)]


def _find_ext(el: Element, uris: Iterable[str], local: str) -> list[Element]:
    tags = {ns.q(uri, local) for uri in uris}
    return [c for c in _iter_extension_tree(el) if c.tag in tags]


class _Reader:
    """One pass over a document; collects problems instead of stopping at the first."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.seen_ids: dict[str, int | None] = {}
        self.synthetic = 0
        self.current_process: str | None = None
        # Event definitions declared at the top of the file, for <eventDefinitionRef>.
        self.shared_event_definitions: dict[str, Element] = {
            child.get("id"): child for child in root
            if isinstance(child.tag, str) and child.tag in _EVENT_DEFINITION_TAGS and child.get("id")
        }

    # -- helpers -----------------------------------------------------------------------------

    def problem(self, message: str, el: Element | None, *, element: str | None = None, warning: bool = False,
                executable_only: bool = False) -> None:
        self.problems.append(Problem(
            message, element=element or (el.get("id") if el is not None else None),
            line=el.sourceline if el is not None else None,
            severity=Severity.WARNING if warning else Severity.ERROR,
            executable_only=executable_only, process=self.current_process,
        ))

    def element_id(self, el: Element, *, prefix: str) -> str:
        """The element's id; elements without one (allowed by the XSD) get a stable synthetic id."""
        value = el.get("id")
        if not value:
            self.synthetic += 1
            value = f"{prefix}_{el.sourceline or 0}_{self.synthetic}"
        if value in self.seen_ids:
            self.problem(f"duplicate id {value!r} (first used on line {self.seen_ids[value]})", el, element=value)
        else:
            self.seen_ids[value] = el.sourceline
        return value

    def expression(self, el: Element | None) -> Expression | None:
        if el is None:
            return None
        return read_expression(_text(el), el.get("language"))

    def extensions_of(self, el: Element) -> tuple[Extension, ...]:
        found: list[Extension] = []
        for name, _value in el.attrib.items():
            uri, _ = ns.split(name)
            if uri is None or uri == ns.BPMN:
                continue
            found.append(Extension(ns.pretty(name, el.nsmap), ext.classify(name), el.sourceline))
        for child in _extension_elements(el):
            if not isinstance(child.tag, str):
                continue
            found.append(Extension(ns.pretty(child.tag, child.nsmap), ext.classify(child.tag), child.sourceline))
            # Listeners and connectors can hide inside mapped holders (camunda:properties is fine,
            # a camunda:inputOutput holds scripts): record nested unsupported ones too.
            for nested in child.iter():
                if nested is child or not isinstance(nested.tag, str):
                    continue
                treatment = ext.classify(nested.tag)
                if treatment == ext.UNSUPPORTED:
                    found.append(Extension(ns.pretty(nested.tag, nested.nsmap), treatment, nested.sourceline))
        return tuple(found)

    # -- document ----------------------------------------------------------------------------

    def read(self) -> ParseResult:
        root = self.root
        root_elements: dict[str, RootElement] = {}
        for kind in ("message", "signal", "error", "escalation"):
            for el in _children(root, kind):
                rid = self.element_id(el, prefix=kind)
                code = el.get("errorCode") if kind == "error" else el.get("escalationCode") if kind == "escalation" else None
                correlation = None
                for subscription in _find_ext(el, [ns.ZEEBE], "subscription"):
                    correlation = read_expression(subscription.get("correlationKey"))
                root_elements[rid] = RootElement(rid, kind, el.get("name"), code, correlation)

        participants: dict[str, str | None] = {}
        message_flows: list[tuple[str, str, str]] = []
        for collab in _children(root, "collaboration"):
            self.element_id(collab, prefix="collaboration")
            for participant in _children(collab, "participant"):
                pid = self.element_id(participant, prefix="participant")
                participants[pid] = _local_ref(participant.get("processRef"))
            for flow in _children(collab, "messageFlow"):
                fid = self.element_id(flow, prefix="messageFlow")
                message_flows.append((fid, flow.get("sourceRef") or "", flow.get("targetRef") or ""))

        processes: dict[str, Process] = {}
        for proc_el in _children(root, "process"):
            process = self._process(proc_el)
            processes[process.id] = process

        diagrams = tuple(self._diagram(d) for d in root if d.tag == ns.q(ns.BPMNDI, "BPMNDiagram"))
        definitions = Definitions(
            id=root.get("id"), target_namespace=root.get("targetNamespace"),
            exporter=root.get("exporter"), exporter_version=root.get("exporterVersion"),
            processes=frozen_mapping(processes), root_elements=frozen_mapping(root_elements),
            diagrams=diagrams, collaboration_participants=frozen_mapping(participants),
            message_flows=tuple(message_flows),
        )
        return ParseResult(definitions, root, self.problems)

    # -- processes and scopes ----------------------------------------------------------------

    def _process(self, el: Element) -> Process:
        pid = self.element_id(el, prefix="process")
        self.current_process = pid
        nodes: dict[str, FlowNode] = {}
        flows: dict[str, SequenceFlow] = {}
        scopes: dict[str, list[str]] = {}
        data_objects: list[str] = []
        self._scope(el, None, nodes, flows, scopes, data_objects)

        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for flow in flows.values():
            outgoing.setdefault(flow.source, []).append(flow.id)
            incoming.setdefault(flow.target, []).append(flow.id)
        boundary: dict[str, list[str]] = {}
        final: dict[str, FlowNode] = {}
        for nid, node in nodes.items():
            final[nid] = _replace(node, incoming=tuple(incoming.get(nid, ())), outgoing=tuple(outgoing.get(nid, ())))
            if isinstance(node, Event) and node.attached_to:
                boundary.setdefault(node.attached_to, []).append(nid)
        # A compensation boundary event is tied to its handler by an association, not a flow.
        associations = {a.get("sourceRef"): a.get("targetRef") for a in el.iter(_b("association"))}
        handlers: dict[str, str] = {}
        for nid, node in nodes.items():
            if isinstance(node, Event) and node.attached_to and node.event_type is EventType.COMPENSATE:
                target = associations.get(nid)
                if target in nodes:
                    handlers[node.attached_to] = target
        lanes: dict[str, tuple[str, ...]] = {}
        for lane in el.iter(_b("lane")):
            lanes[lane.get("id") or ""] = tuple(_text(r) or "" for r in _children(lane, "flowNodeRef"))
        self.current_process = None
        return Process(
            id=pid, name=el.get("name"), line=el.sourceline,
            is_executable=_bool(el.get("isExecutable"), False),
            flow_nodes=frozen_mapping(final), sequence_flows=frozen_mapping(flows),
            scopes=frozen_mapping({k: tuple(v) for k, v in scopes.items()}),
            boundary_events=frozen_mapping({k: tuple(v) for k, v in boundary.items()}),
            data_objects=tuple(data_objects), lanes=frozen_mapping(lanes),
            compensation_handlers=frozen_mapping(handlers),
        )

    def _scope(self, el: Element, scope: str | None, nodes: dict[str, FlowNode], flows: dict[str, SequenceFlow],
               scopes: dict[str, list[str]], data_objects: list[str]) -> list[str]:
        members = scopes.setdefault(scope or "", [])
        for child in el:
            if not isinstance(child.tag, str):
                continue
            uri, local = ns.split(child.tag)
            if uri != ns.BPMN:
                continue
            if local == "sequenceFlow":
                flow = self._sequence_flow(child, scope)
                flows.setdefault(flow.id, flow)  # a duplicate id is reported; the first one counts
            elif local in ("dataObject",):
                data_objects.append(child.get("name") or child.get("id") or "")
            elif local in _NODE_PARSERS:
                node = _NODE_PARSERS[local](self, child, scope)
                if node.id in nodes:
                    continue  # reported as a duplicate id
                nodes[node.id] = node
                members.append(node.id)
                if isinstance(node, SubProcess):
                    children = self._scope(child, node.id, nodes, flows, scopes, data_objects)
                    nodes[node.id] = _replace(node, children=tuple(children))
            elif local in _UNSUPPORTED_FLOW_ELEMENTS:
                nid = self.element_id(child, prefix=local)
                self.problem(f"{local} is not a flow node Baton knows", child, element=nid, warning=True, executable_only=True)
        return members

    def _sequence_flow(self, el: Element, scope: str | None) -> SequenceFlow:
        fid = self.element_id(el, prefix="sequenceFlow")
        return SequenceFlow(
            id=fid, source=el.get("sourceRef") or "", target=el.get("targetRef") or "", line=el.sourceline,
            name=el.get("name"), condition=self.expression(_child(el, "conditionExpression")), scope=scope,
        )

    # -- flow nodes --------------------------------------------------------------------------

    def _base(self, el: Element, scope: str | None, kind: Kind) -> dict:
        return dict(
            id=self.element_id(el, prefix=kind.value), kind=kind, name=el.get("name"), line=el.sourceline,
            scope=scope, extensions=self.extensions_of(el), documentation=_text(_child(el, "documentation")),
        )

    def _event(self, el: Element, scope: str | None) -> Event:
        kind = Kind(ns.split(el.tag)[1])
        base = self._base(el, scope, kind)
        definition_elements = [d for d in el if isinstance(d.tag, str) and d.tag in _EVENT_DEFINITION_TAGS]
        for ref in _children(el, "eventDefinitionRef"):
            target = self.shared_event_definitions.get((_text(ref) or "").strip())
            if target is None:
                self.problem(f"eventDefinitionRef {(_text(ref) or '').strip()!r} names no event definition of the file",
                             ref, element=base["id"])
            else:
                definition_elements.append(target)
        # Vendor attributes on an event definition change behaviour too (camunda:expression on
        # a message throw runs code in Camunda), so they are classified with the event's own.
        base["extensions"] = base["extensions"] + tuple(
            extension for d in definition_elements for extension in self.extensions_of(d)
        )
        return Event(
            **base, event_definitions=tuple(self._event_definition(d) for d in definition_elements),
            attached_to=_local_ref(el.get("attachedToRef")),
            cancel_activity=_bool(el.get("cancelActivity"), True),
            is_interrupting=_bool(el.get("isInterrupting"), True),
            parallel_multiple=_bool(el.get("parallelMultiple"), False),
        )

    def _event_definition(self, el: Element) -> EventDefinition:
        local = ns.split(el.tag)[1]
        etype = EventType(local[: -len("EventDefinition")])
        ref = _local_ref(el.get(_EVENT_REF_ATTR[etype])) if etype in _EVENT_REF_ATTR else None
        if etype is EventType.TIMER:
            return EventDefinition(
                etype, time_date=_raw(_child(el, "timeDate")), time_duration=_raw(_child(el, "timeDuration")),
                time_cycle=_raw(_child(el, "timeCycle")),
            )
        if etype is EventType.CONDITIONAL:
            return EventDefinition(etype, condition=self.expression(_child(el, "condition")))
        if etype is EventType.LINK:
            return EventDefinition(etype, link_name=el.get("name"))
        return EventDefinition(etype, ref=ref)

    def _activity_fields(self, el: Element) -> dict:
        return dict(
            default=el.get("default"), loop=self._loop(el),
            is_for_compensation=_bool(el.get("isForCompensation"), False),
        )

    def _loop(self, el: Element) -> LoopCharacteristics | None:
        mi = _child(el, "multiInstanceLoopCharacteristics")
        if mi is not None:
            zeebe = next(iter(_find_ext(mi, [ns.ZEEBE], "loopCharacteristics")), None)
            input_item = _child(mi, "inputDataItem")
            output_item = _child(mi, "outputDataItem")
            return LoopCharacteristics(
                kind="multiInstance", is_sequential=_bool(mi.get("isSequential"), False),
                loop_cardinality=self.expression(_child(mi, "loopCardinality")),
                collection=_camunda_attr(mi, "collection") or _text(_child(mi, "loopDataInputRef"))
                or (zeebe.get("inputCollection") if zeebe is not None else None),
                element_variable=_camunda_attr(mi, "elementVariable")
                or (input_item.get("name") or input_item.get("id") if input_item is not None else None)
                or (zeebe.get("inputElement") if zeebe is not None else None),
                output_collection=_text(_child(mi, "loopDataOutputRef")) or (zeebe.get("outputCollection") if zeebe is not None else None),
                output_element=(output_item.get("name") or output_item.get("id") if output_item is not None else None)
                or (zeebe.get("outputElement") if zeebe is not None else None),
                completion_condition=self.expression(_child(mi, "completionCondition")),
            )
        std = _child(el, "standardLoopCharacteristics")
        if std is not None:
            maximum = std.get("loopMaximum")
            return LoopCharacteristics(
                kind="standard", test_before=_bool(std.get("testBefore"), False),
                loop_condition=self.expression(_child(std, "loopCondition")),
                loop_maximum=int(maximum) if maximum and maximum.strip().isdigit() else None,
            )
        return None

    def _task(self, el: Element, scope: str | None) -> Activity:
        kind = Kind(ns.split(el.tag)[1])
        return Activity(**self._base(el, scope, kind), **self._activity_fields(el))

    def _script_task(self, el: Element, scope: str | None) -> ScriptTask:
        base = self._base(el, scope, Kind.SCRIPT_TASK)
        body = _text(_child(el, "script"))
        fmt = el.get("scriptFormat") or ""
        script = None
        if body is not None:
            script = Script(body, fmt, script_format_error(fmt))
        elif _camunda_attr(el, "resource") is not None:
            script = Script("", fmt, "external script resources (camunda:resource) are not supported; put the script in the model")
        return ScriptTask(**base, **self._activity_fields(el), script=script,
                          result_variable=_camunda_attr(el, "resultVariable"))

    def _service_task(self, el: Element, scope: str | None) -> ServiceTask:
        kind = Kind(ns.split(el.tag)[1])
        base = self._base(el, scope, kind)
        plugin = binding = result_variable = None
        inputs: dict[str, Expression] | None = None
        if el.get(ns.q(ns.BATON, "task")):
            plugin, binding = el.get(ns.q(ns.BATON, "task")), "baton"
            result_variable = el.get(ns.q(ns.BATON, "resultVariable"))
        elif _camunda_attr(el, "type") == "external" and _camunda_attr(el, "topic"):
            plugin, binding = _camunda_attr(el, "topic"), "camunda-external"
        else:
            zeebe = _find_ext(el, [ns.ZEEBE], "taskDefinition")
            spiff = _find_ext(el, [ns.SPIFF], "serviceTaskOperator")
            if zeebe and zeebe[0].get("type"):
                plugin, binding = zeebe[0].get("type"), "zeebe"
            elif spiff and spiff[0].get("id"):
                plugin, binding = spiff[0].get("id"), "spiff"
                # SpiffWorkflow's own default, followed for models written for it.
                result_variable = spiff[0].get("resultVariable") or f"spiff__{base['id'].replace('-', '_')}_result"
                inputs = {}
                for param in _find_ext(el, [ns.SPIFF], "parameter"):
                    expression = read_expression(param.get("value") or "None", "python")
                    if expression is not None:
                        inputs[param.get("id") or ""] = expression
        retry = _find_ext(el, ns.CAMUNDA_FAMILY, "failedJobRetryTimeCycle")
        return ServiceTask(
            **base, **self._activity_fields(el), plugin=plugin, binding=binding,
            inputs=frozen_mapping(inputs) if inputs is not None else None,
            result_variable=result_variable or _camunda_attr(el, "resultVariable"),
            queue=el.get(ns.q(ns.BATON, "queue")),
            time_limit=self._seconds(el, "timeLimit"), soft_time_limit=self._seconds(el, "softTimeLimit"),
            message_ref=_local_ref(el.get("messageRef")),
            retry_cycle=_text(retry[0]).strip() if retry and _text(retry[0]) else None,
        )

    def _seconds(self, el: Element, name: str) -> float | None:
        value = el.get(ns.q(ns.BATON, name))
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if seconds <= 0:
            self.problem(f"baton:{name} must be a positive number of seconds, not {value!r}", el)
            return None
        return seconds

    def _user_task(self, el: Element, scope: str | None) -> UserTask:
        base = self._base(el, scope, Kind.USER_TASK)
        assignee = _camunda_attr(el, "assignee")
        groups = _split_list(_camunda_attr(el, "candidateGroups"))
        users = _split_list(_camunda_attr(el, "candidateUsers"))
        for zeebe in _find_ext(el, [ns.ZEEBE], "assignmentDefinition"):
            assignee = assignee or zeebe.get("assignee")
            groups = groups or _split_list(zeebe.get("candidateGroups"))
            users = users or _split_list(zeebe.get("candidateUsers"))
        for performer in _children(el, "humanPerformer"):
            text = _text(performer.find(f".//{_b('formalExpression')}"))
            if text and not assignee:
                assignee = _owner_value(text)
        for owner in _children(el, "potentialOwner"):
            text = _text(owner.find(f".//{_b('formalExpression')}"))
            for item in _split_list(text):
                if item.startswith("user("):
                    users = users + (_owner_value(item),)
                else:
                    groups = groups + (_owner_value(item),)
        fields = _find_ext(el, ns.CAMUNDA_FAMILY, "formField")
        return UserTask(
            **base, **self._activity_fields(el), assignee=assignee, candidate_groups=groups,
            candidate_users=users, form_fields=tuple(f.get("id") or "" for f in fields) if fields else None,
            form_key=_camunda_attr(el, "formKey"),
        )

    def _receive_task(self, el: Element, scope: str | None) -> ReceiveTask:
        return ReceiveTask(**self._base(el, scope, Kind.RECEIVE_TASK), **self._activity_fields(el),
                           message_ref=_local_ref(el.get("messageRef")))

    def _sub_process(self, el: Element, scope: str | None) -> SubProcess:
        kind = Kind(ns.split(el.tag)[1])
        return SubProcess(**self._base(el, scope, kind), **self._activity_fields(el),
                          triggered_by_event=_bool(el.get("triggeredByEvent"), False))

    def _call_activity(self, el: Element, scope: str | None) -> CallActivity:
        called = el.get("calledElement")
        for zeebe in _find_ext(el, [ns.ZEEBE], "calledElement"):
            called = called or zeebe.get("processId")
        version = _camunda_attr(el, "calledElementVersion")
        return CallActivity(
            **self._base(el, scope, Kind.CALL_ACTIVITY), **self._activity_fields(el), called_element=called,
            binding=_camunda_attr(el, "calledElementBinding") or "latest",
            version=int(version) if version and version.strip().isdigit() else None,
            inputs=self._mappings(el, "in"), outputs=self._mappings(el, "out"),
        )

    def _mappings(self, el: Element, direction: str) -> tuple[VariableMapping, ...] | None:
        found = _find_ext(el, ns.CAMUNDA_FAMILY, direction)
        if not found:
            return None
        mappings = []
        for item in found:
            if (item.get("variables") or "").strip() == "all":
                mappings.append(VariableMapping(all=True))
                continue
            expression = item.get("sourceExpression")
            mappings.append(VariableMapping(
                target=item.get("target"), source=item.get("source"),
                expression=read_expression(expression) if expression else None,
            ))
        return tuple(mappings)

    def _gateway(self, el: Element, scope: str | None) -> Gateway:
        kind = Kind(ns.split(el.tag)[1])
        return Gateway(**self._base(el, scope, kind), default=el.get("default"))

    # -- diagrams ----------------------------------------------------------------------------

    def _diagram(self, el: Element) -> Diagram:
        plane = el.find(ns.q(ns.BPMNDI, "BPMNPlane"))
        elements: list[DiagramElement] = []
        if plane is not None:
            for item in plane:
                if item.tag == ns.q(ns.BPMNDI, "BPMNShape"):
                    b = item.find(ns.q(ns.DC, "Bounds"))
                    bounds = None
                    if b is not None:
                        bounds = Bounds(*(_float(b.get(k)) for k in ("x", "y", "width", "height")))
                    expanded = item.get("isExpanded")
                    horizontal = item.get("isHorizontal")
                    elements.append(DiagramElement(
                        item.get("bpmnElement") or "", bounds=bounds,
                        is_expanded=None if expanded is None else _bool(expanded, False),
                        is_horizontal=None if horizontal is None else _bool(horizontal, False),
                    ))
                elif item.tag == ns.q(ns.BPMNDI, "BPMNEdge"):
                    points = tuple((_float(p.get("x")), _float(p.get("y"))) for p in item.findall(ns.q(ns.DI, "waypoint")))
                    elements.append(DiagramElement(item.get("bpmnElement") or "", waypoints=points))
        return Diagram(el.get("id"), el.get("name"), plane.get("bpmnElement") if plane is not None else None, tuple(elements))


def _local_ref(value: str | None) -> str | None:
    """A QName reference (`tns:Task_1`) names the element by its local id."""
    if value is None:
        return None
    return value.rsplit(":", 1)[-1] if ":" in value and not value.startswith(("http:", "https:")) else value


def _float(value: str | None) -> float:
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def _raw(el: Element | None) -> Expression | None:
    """Timer values are read by the timer code (ISO 8601, cron, then expressions); keep them as written."""
    text = _text(el)
    if text is None:
        return None
    return Expression(text.strip(), ExpressionLanguage.OTHER, None)


def _split_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _owner_value(text: str) -> str:
    text = text.strip()
    for prefix in ("user(", "group("):
        if text.startswith(prefix) and text.endswith(")"):
            return text[len(prefix):-1].strip()
    return text


def _replace(node, **changes):
    from dataclasses import replace
    return replace(node, **changes)


_EVENT_DEFINITION_TAGS = {
    _b(f"{t.value}EventDefinition") for t in EventType if t is not EventType.NONE
}
_EVENT_REF_ATTR = {
    EventType.MESSAGE: "messageRef", EventType.SIGNAL: "signalRef", EventType.ERROR: "errorRef",
    EventType.ESCALATION: "escalationRef", EventType.COMPENSATE: "activityRef",
}

_NODE_PARSERS: dict[str, Callable[[_Reader, Element, str | None], FlowNode]] = {
    "startEvent": _Reader._event, "endEvent": _Reader._event,
    "intermediateThrowEvent": _Reader._event, "intermediateCatchEvent": _Reader._event,
    "boundaryEvent": _Reader._event,
    "task": _Reader._task, "manualTask": _Reader._task,
    "scriptTask": _Reader._script_task,
    "serviceTask": _Reader._service_task, "sendTask": _Reader._service_task,
    "businessRuleTask": _Reader._service_task,
    "userTask": _Reader._user_task, "receiveTask": _Reader._receive_task,
    "subProcess": _Reader._sub_process, "transaction": _Reader._sub_process,
    "adHocSubProcess": _Reader._sub_process,
    "callActivity": _Reader._call_activity,
    "exclusiveGateway": _Reader._gateway, "parallelGateway": _Reader._gateway,
    "inclusiveGateway": _Reader._gateway, "eventBasedGateway": _Reader._gateway,
    "complexGateway": _Reader._gateway,
}

# Flow elements that are not flow nodes Baton models; reported, never silently dropped.
_UNSUPPORTED_FLOW_ELEMENTS = {"callChoreography", "choreographyTask", "subChoreography", "implicitThrowEvent"}
