"""Draw BPMN diagrams as SVG from their BPMNDI, on the server: no JavaScript, no external references.

    svg = render_svg(parsed.definitions, tree=parsed.tree, active={"review"}, taken={"start", "f1"})

Every shape and edge is one group that browsers, tests and people can find by element id:

    <g class="bpmn-element bpmn-shape bpmn-userTask baton-active" data-element="review"
       data-kind="userTask" data-state="active">…</g>

`data-state` (and the class `baton-<state>`) is `incident` (red), `active` (a thick blue outline)
or `taken` (green: nodes completed and sequence flows taken), in that order of precedence.

- The output is well-formed XML and self-contained: colours and widths are presentation
  attributes on each element (no `<style>`, which would leak into the page around an inline SVG),
  arrowheads are polygons (no `<marker>` ids that two diagrams on one page could share), no
  images, fonts or links.
- Every name is untrusted input and is escaped; characters XML cannot carry are dropped.
- A file may hold several diagrams (a collapsed sub-process drawn on a plane of its own, one per
  process): `render_all` draws each one. A file without BPMNDI is drawn as a list of its flow
  nodes (`baton-diagram-fallback`), with the same groups and states, so callers need no
  second code path.
- The model keeps flow nodes, flows, participants and lanes; names of pools and lanes, data
  objects, data stores, annotations and groups are only in the document. Pass the parsed tree
  (`ParseResult.tree`) to draw those with their names and shapes; without it they are drawn as
  plain boxes.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from lxml import etree

from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.model import (
    Activity, Bounds, Definitions, Diagram, DiagramElement, Event, EventType, FlowNode, Kind, SubProcess,
)

# -- look ---------------------------------------------------------------------------------------------

INK = "#22242a"
PAPER = "#ffffff"
MUTED = "#6e7781"
FONT = "Arial, Helvetica, sans-serif"
FONT_SIZE = 12.0
LINE_HEIGHT = 14.0
CHAR_WIDTH = FONT_SIZE * 0.56  # an average glyph of the fonts above, for wrapping
MARGIN = 20.0
HEADER = 30.0  # the name band of a pool or lane


@dataclass(frozen=True)
class Paint:
    """How one element is coloured: by its state, or plain."""

    stroke: str
    fill: str
    width: float  # stroke width for outlines drawn at 1.5 when plain
    text: str = INK


PLAIN = Paint(INK, PAPER, 1.5)
STATE_PAINT = {
    "incident": Paint("#cf222e", "#ffebe9", 4.0, "#82071e"),
    "active": Paint("#0969da", "#ddf4ff", 4.0, "#0a3069"),
    "taken": Paint("#1a7f37", "#dafbe1", 2.5, "#044f1e"),
}
STATES = ("incident", "active", "taken")  # precedence

# -- what each element is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementInfo:
    """What the renderer needs to know of one element, whatever it is."""

    kind: str  # the BPMN tag: "userTask", "participant", "lane", "dataStoreReference", "sequenceFlow", ...
    name: str | None = None
    event_types: tuple[EventType, ...] = ()
    throwing: bool = False
    interrupting: bool = True
    parallel_multiple: bool = False
    loop: str | None = None  # "standard", "parallel" or "sequential" (multi-instance)
    compensation: bool = False
    triggered_by_event: bool = False
    children: tuple[str, ...] = ()
    is_default: bool = False  # a sequence flow that is its source's default
    is_conditional: bool = False  # a sequence flow with a condition leaving an activity
    is_collection: bool = False


_THROWING = {Kind.END_EVENT, Kind.INTERMEDIATE_THROW_EVENT}
_DATA_TAGS = {"dataObjectReference", "dataObject", "dataStoreReference", "dataInput", "dataOutput"}


def element_index(definitions: Definitions, tree: etree._Element | None = None) -> dict[str, ElementInfo]:
    """Every element id the diagrams may name, with what it is: from the model, then from the
    document (when given) for what the model does not keep."""
    index: dict[str, ElementInfo] = {}
    for participant in definitions.collaboration_participants:
        index[participant] = ElementInfo("participant")
    for flow_id, _source, _target in definitions.message_flows:
        index[flow_id] = ElementInfo("messageFlow")
    for process in definitions.processes.values():
        index.setdefault(process.id, ElementInfo("process", process.name))
        for lane in process.lanes:
            index[lane] = ElementInfo("lane")
        for node in process.flow_nodes.values():
            index[node.id] = _node_info(node)
        for flow in process.sequence_flows.values():
            source = process.flow_nodes.get(flow.source)
            index[flow.id] = ElementInfo(
                "sequenceFlow", flow.name,
                is_default=bool(source is not None and getattr(source, "default", None) == flow.id),
                is_conditional=bool(flow.condition is not None and source is not None and source.kind.is_activity),
            )
    if tree is not None:
        _index_document(tree, index)
    return index


def _node_info(node: FlowNode) -> ElementInfo:
    fields: dict = {"kind": node.kind.value, "name": node.name}
    if isinstance(node, Event):
        fields.update(
            event_types=tuple(d.type for d in node.event_definitions), throwing=node.kind in _THROWING,
            interrupting=node.cancel_activity if node.kind is Kind.BOUNDARY_EVENT else node.is_interrupting,
            parallel_multiple=node.parallel_multiple,
        )
    if isinstance(node, Activity):
        loop = None
        if node.loop is not None:
            loop = "standard" if node.loop.kind == "standard" else ("sequential" if node.loop.is_sequential else "parallel")
        fields.update(loop=loop, compensation=node.is_for_compensation)
    if isinstance(node, SubProcess):
        fields.update(triggered_by_event=node.triggered_by_event, children=node.children)
    return ElementInfo(**fields)


def _index_document(tree: etree._Element, index: dict[str, ElementInfo]) -> None:
    """Names of participants, lanes and message flows, and the artifacts the model leaves out."""
    category_values = {el.get("id"): el.get("value") for el in tree.iter(ns.q(ns.BPMN, "categoryValue"))}
    data_objects = {el.get("id"): el for el in tree.iter(ns.q(ns.BPMN, "dataObject"))}
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        uri, tag = ns.split(el.tag)
        element_id = el.get("id")
        if uri != ns.BPMN or not element_id:
            continue
        known = index.get(element_id)
        if known is not None:
            if known.kind in ("participant", "lane", "messageFlow") and known.name is None and el.get("name"):
                index[element_id] = ElementInfo(known.kind, el.get("name"))
            continue
        if tag == "textAnnotation":
            text = el.find(ns.q(ns.BPMN, "text"))
            index[element_id] = ElementInfo(tag, "".join(text.itertext()) if text is not None else None)
        elif tag == "group":
            ref = (el.get("categoryValueRef") or "").rsplit(":", 1)[-1]
            index[element_id] = ElementInfo(tag, el.get("name") or category_values.get(ref))
        elif tag in _DATA_TAGS:
            collection = el.get("isCollection") == "true"
            target = data_objects.get((el.get("dataObjectRef") or "").rsplit(":", 1)[-1])
            if target is not None:
                collection = collection or target.get("isCollection") == "true"
            index[element_id] = ElementInfo(tag, el.get("name"), is_collection=collection)
        else:
            index[element_id] = ElementInfo(tag, el.get("name"))


# -- entry points -----------------------------------------------------------------------------------


def render_svg(definitions: Definitions, *, diagram_index: int = 0, active: Iterable[str] = (),
               taken: Iterable[str] = (), incidents: Iterable[str] = (), tree: etree._Element | None = None,
               index: Mapping[str, ElementInfo] | None = None) -> str:
    """One diagram of the file as an SVG document (a list of flow nodes when the file has none).

    `active`, `taken` and `incidents` are element ids (flow nodes and sequence flows) to mark.
    `index` may be given instead of `tree` when the caller has already built it."""
    if index is None:
        index = element_index(definitions, tree)
    states = _states(active, taken, incidents)
    if not definitions.diagrams:
        return _render_list(definitions, index, states)
    diagram = definitions.diagrams[diagram_index]
    return _Drawing(diagram, index, states).svg()


def render_all(definitions: Definitions, *, active: Iterable[str] = (), taken: Iterable[str] = (),
               incidents: Iterable[str] = (), tree: etree._Element | None = None) -> list[str]:
    """Every diagram of the file, in document order (the list fallback alone when it has none)."""
    index = element_index(definitions, tree)
    active, taken, incidents = tuple(active), tuple(taken), tuple(incidents)
    count = max(1, len(definitions.diagrams))
    return [render_svg(definitions, diagram_index=i, active=active, taken=taken, incidents=incidents, index=index)
            for i in range(count)]


def _states(active: Iterable[str], taken: Iterable[str], incidents: Iterable[str]) -> dict[str, str]:
    states: dict[str, str] = {}
    for state, ids in (("taken", taken), ("active", active), ("incident", incidents)):
        for element_id in ids:
            states[element_id] = state  # later wins: incident over active over taken
    return states


# -- text -------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def esc(text: object) -> str:
    """Text or attribute value, escaped (quotes too); characters XML cannot carry are dropped."""
    return html.escape(_NOT_XML.sub("", str(text)), quote=True)


def _n(value: float) -> str:
    if not math.isfinite(value):
        value = 0.0
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def wrap(text: str, width: float, *, max_lines: int | None = None, font_size: float = FONT_SIZE) -> list[str]:
    """Break text into lines that fit `width` (by an average glyph width); long words are cut,
    and lines past `max_lines` are dropped with an ellipsis on the last one kept."""
    limit = max(1, int(width / (font_size * 0.56)))
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while len(word) > limit:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:limit])
                word = word[limit:]
            candidate = f"{line} {word}" if line else word
            if len(candidate) <= limit:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    if max_lines is not None and len(lines) > max(1, max_lines):
        lines = lines[: max(1, max_lines)]
        last = lines[-1]
        lines[-1] = (last[: max(0, limit - 1)] + "…") if len(last) >= limit else last + "…"
    return lines


def _text(lines: list[str], x: float, top: float, *, anchor: str = "middle", color: str = INK,
          size: float = FONT_SIZE, css_class: str = "bpmn-label") -> str:
    if not lines:
        return ""
    height = size + (LINE_HEIGHT - FONT_SIZE)
    spans = "".join(f'<tspan x="{_n(x)}" y="{_n(top + size + i * height)}">{esc(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text class="{css_class}" text-anchor="{anchor}" fill="{color}" font-size="{_n(size)}">{spans}</text>'


def _centered_text(lines: list[str], cx: float, cy: float, **kwargs) -> str:
    return _text(lines, cx, cy - len(lines) * LINE_HEIGHT / 2 - 1, **kwargs)


# -- geometry helpers -------------------------------------------------------------------------------


def _poly(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _arrowhead(points: tuple[tuple[float, float], ...], *, size: float = 10.0) -> tuple[tuple[float, float], ...] | None:
    """The triangle at the end of a polyline, pointing along its last segment of non-zero length."""
    if len(points) < 2:
        return None
    tip = points[-1]
    for previous in reversed(points[:-1]):
        dx, dy = tip[0] - previous[0], tip[1] - previous[1]
        length = math.hypot(dx, dy)
        if length > 0.01:
            ux, uy = dx / length, dy / length
            bx, by = tip[0] - ux * size, tip[1] - uy * size
            half = size * 0.4
            return tip, (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)
    return None


def _along(points: tuple[tuple[float, float], ...], distance: float) -> tuple[float, float, float, float]:
    """The point `distance` along the polyline from its start, with the unit direction there."""
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 0.01:
            continue
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        if distance <= length:
            return x1 + ux * distance, y1 + uy * distance, ux, uy
        distance -= length
    x, y = points[-1]
    return x, y, 1.0, 0.0


def _midpoint(points: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    total = sum(math.hypot(x2 - x1, y2 - y1) for (x1, y1), (x2, y2) in zip(points, points[1:]))
    x, y, _, _ = _along(points, total / 2)
    return x, y


# -- event markers ----------------------------------------------------------------------------------


def _event_marker(types: tuple[EventType, ...], parallel: bool, cx: float, cy: float, r: float, filled: bool,
                  color: str) -> str:
    s = r / 18.0

    def pts(*points: tuple[float, float]) -> str:
        return _poly((cx + x * s, cy + y * s) for x, y in points)

    fill = color if filled else "none"
    line = f'stroke="{color}" stroke-width="{_n(1.5 * s)}" stroke-linejoin="round"'
    if len(types) > 1:
        if parallel:
            return (f'<polygon class="bpmn-marker" points="{pts((-2, -8), (2, -8), (2, -2), (8, -2), (8, 2), (2, 2), (2, 8), (-2, 8), (-2, 2), (-8, 2), (-8, -2), (-2, -2))}" '
                    f'fill="{fill}" {line}/>')
        return f'<polygon class="bpmn-marker" points="{pts((0, -9), (8.5, -3), (5.3, 7), (-5.3, 7), (-8.5, -3))}" fill="{fill}" {line}/>'
    if not types:
        return ""
    kind = types[0]
    if kind is EventType.MESSAGE:
        flap = "#ffffff" if filled else color
        return (f'<g class="bpmn-marker bpmn-marker-message"><rect x="{_n(cx - 9 * s)}" y="{_n(cy - 6 * s)}" width="{_n(18 * s)}" '
                f'height="{_n(12 * s)}" fill="{fill if filled else "#ffffff"}" {line}/>'
                f'<polyline points="{pts((-9, -6), (0, 1), (9, -6))}" fill="none" stroke="{flap}" stroke-width="{_n(1.5 * s)}"/></g>')
    if kind is EventType.TIMER:
        ticks = "".join(
            f'<line x1="{_n(cx + math.cos(a) * 8.5 * s)}" y1="{_n(cy + math.sin(a) * 8.5 * s)}" '
            f'x2="{_n(cx + math.cos(a) * 10.5 * s)}" y2="{_n(cy + math.sin(a) * 10.5 * s)}" stroke="{color}" stroke-width="{_n(s)}"/>'
            for a in (i * math.pi / 6 for i in range(12)))
        return (f'<g class="bpmn-marker bpmn-marker-timer"><circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(11 * s)}" fill="#ffffff" {line}/>{ticks}'
                f'<polyline points="{pts((0, -7), (0, 0), (5, 3))}" fill="none" {line}/></g>')
    if kind is EventType.ERROR:
        return f'<polygon class="bpmn-marker bpmn-marker-error" points="{pts((-8, 8), (-3, -7), (2, 1), (7, -8), (3, 8), (-2, -1))}" fill="{fill}" {line}/>'
    if kind is EventType.ESCALATION:
        return f'<polygon class="bpmn-marker bpmn-marker-escalation" points="{pts((0, -9), (6, 8), (0, 2), (-6, 8))}" fill="{fill}" {line}/>'
    if kind is EventType.SIGNAL:
        return f'<polygon class="bpmn-marker bpmn-marker-signal" points="{pts((0, -9), (8, 6), (-8, 6))}" fill="{fill}" {line}/>'
    if kind is EventType.CANCEL:
        return (f'<polygon class="bpmn-marker bpmn-marker-cancel" points="{pts((-7, -4), (-4, -7), (0, -3), (4, -7), (7, -4), (3, 0), (7, 4), (4, 7), (0, 3), (-4, 7), (-7, 4), (-3, 0))}" '
                f'fill="{fill}" {line}/>')
    if kind is EventType.COMPENSATE:
        return (f'<g class="bpmn-marker bpmn-marker-compensate"><polygon points="{pts((-9, 0), (-1, -6), (-1, 6))}" fill="{fill}" {line}/>'
                f'<polygon points="{pts((-1, 0), (7, -6), (7, 6))}" fill="{fill}" {line}/></g>')
    if kind is EventType.CONDITIONAL:
        rows = "".join(f'<line x1="{_n(cx - 4 * s)}" y1="{_n(cy + y * s)}" x2="{_n(cx + 4 * s)}" y2="{_n(cy + y * s)}" stroke="{color}" stroke-width="{_n(s)}"/>'
                       for y in (-5, -1.5, 2, 5.5))
        return (f'<g class="bpmn-marker bpmn-marker-conditional"><rect x="{_n(cx - 6 * s)}" y="{_n(cy - 8 * s)}" width="{_n(12 * s)}" '
                f'height="{_n(16 * s)}" fill="#ffffff" {line}/>{rows}</g>')
    if kind is EventType.LINK:
        return f'<polygon class="bpmn-marker bpmn-marker-link" points="{pts((-8, -3), (1, -3), (1, -8), (9, 0), (1, 8), (1, 3), (-8, 3))}" fill="{fill}" {line}/>'
    if kind is EventType.TERMINATE:
        return f'<circle class="bpmn-marker bpmn-marker-terminate" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r * 0.6)}" fill="{color}"/>'
    return f'<text class="bpmn-marker" x="{_n(cx)}" y="{_n(cy + 4)}" text-anchor="middle" fill="{color}">{esc(kind.value[:1].upper())}</text>'


# -- task markers -----------------------------------------------------------------------------------


def _task_marker(kind: str, x: float, y: float, color: str) -> str:
    """The type icon in a task's top-left corner."""
    line = f'stroke="{color}" stroke-width="1.2" fill="none" stroke-linejoin="round"'
    ox, oy = x + 6, y + 6
    if kind == Kind.USER_TASK.value:
        return (f'<g class="bpmn-marker bpmn-marker-user"><path d="M{_n(ox + 1)},{_n(oy + 17)} c0,-6 3,-8 8,-8 c5,0 8,2 8,8 z" fill="#ffffff" stroke="{color}" stroke-width="1.2"/>'
                f'<circle cx="{_n(ox + 9)}" cy="{_n(oy + 5)}" r="4" fill="#ffffff" stroke="{color}" stroke-width="1.2"/></g>')
    if kind == Kind.SERVICE_TASK.value:
        cx, cy = ox + 8, oy + 8
        teeth = "".join(
            f'<line x1="{_n(cx + math.cos(a) * 5)}" y1="{_n(cy + math.sin(a) * 5)}" x2="{_n(cx + math.cos(a) * 8)}" '
            f'y2="{_n(cy + math.sin(a) * 8)}" stroke="{color}" stroke-width="2.6"/>'
            for a in (i * math.pi / 4 for i in range(8)))
        return (f'<g class="bpmn-marker bpmn-marker-service">{teeth}<circle cx="{_n(cx)}" cy="{_n(cy)}" r="5.5" fill="#ffffff" '
                f'stroke="{color}" stroke-width="1.2"/><circle cx="{_n(cx)}" cy="{_n(cy)}" r="2" fill="none" stroke="{color}" stroke-width="1.2"/></g>')
    if kind == Kind.SCRIPT_TASK.value:
        rows = "".join(f'<line x1="{_n(ox + 5)}" y1="{_n(oy + v)}" x2="{_n(ox + 12)}" y2="{_n(oy + v)}" stroke="{color}" stroke-width="1"/>'
                       for v in (5, 9, 13))
        return (f'<g class="bpmn-marker bpmn-marker-script"><path d="M{_n(ox + 3)},{_n(oy + 1)} h12 c-4,4 4,10 0,16 h-12 '
                f'c4,-6 -4,-12 0,-16 z" {line}/>{rows}</g>')
    if kind in (Kind.SEND_TASK.value, Kind.RECEIVE_TASK.value):
        send = kind == Kind.SEND_TASK.value
        return (f'<g class="bpmn-marker bpmn-marker-{"send" if send else "receive"}"><rect x="{_n(ox)}" y="{_n(oy + 2)}" width="18" height="12" '
                f'fill="{color if send else "#ffffff"}" stroke="{color}" stroke-width="1.2"/>'
                f'<polyline points="{_poly(((ox, oy + 2), (ox + 9, oy + 9), (ox + 18, oy + 2)))}" fill="none" '
                f'stroke="{"#ffffff" if send else color}" stroke-width="1.2"/></g>')
    if kind == Kind.MANUAL_TASK.value:
        return (f'<path class="bpmn-marker bpmn-marker-manual" d="M{_n(ox)},{_n(oy + 8)} l5,-5 h11 a1.5,1.5 0 0 1 0,3 h-7 h9 '
                f'a1.5,1.5 0 0 1 0,3 h-9 h8 a1.5,1.5 0 0 1 0,3 h-8 h6 a1.5,1.5 0 0 1 0,3 h-12 l-3,-3 z" {line}/>')
    if kind == Kind.BUSINESS_RULE_TASK.value:
        return (f'<g class="bpmn-marker bpmn-marker-business-rule"><rect x="{_n(ox)}" y="{_n(oy + 2)}" width="18" height="13" fill="#ffffff" '
                f'stroke="{color}" stroke-width="1.2"/><rect x="{_n(ox)}" y="{_n(oy + 2)}" width="18" height="4" fill="{color}"/>'
                f'<line x1="{_n(ox)}" y1="{_n(oy + 10.5)}" x2="{_n(ox + 18)}" y2="{_n(oy + 10.5)}" stroke="{color}" stroke-width="1"/>'
                f'<line x1="{_n(ox + 6)}" y1="{_n(oy + 6)}" x2="{_n(ox + 6)}" y2="{_n(oy + 15)}" stroke="{color}" stroke-width="1"/></g>')
    return ""


def _bottom_markers(names: list[str], cx: float, bottom: float, color: str) -> str:
    """Loop, multi-instance, compensation, ad-hoc and collapsed markers, centred at the bottom."""
    if not names:
        return ""
    size, gap = 14.0, 4.0
    left = cx - (len(names) * size + (len(names) - 1) * gap) / 2
    out = []
    for i, name in enumerate(names):
        x, y = left + i * (size + gap), bottom - size - 4
        line = f'stroke="{color}" stroke-width="1.5" fill="none"'
        if name == "collapsed":
            out.append(f'<g class="bpmn-marker bpmn-marker-collapsed"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(size)}" height="{_n(size)}" fill="#ffffff" '
                       f'stroke="{color}" stroke-width="1.2"/><path d="M{_n(x + 3)},{_n(y + 7)} h8 M{_n(x + 7)},{_n(y + 3)} v8" {line}/></g>')
        elif name == "parallel":
            out.append(f'<path class="bpmn-marker bpmn-marker-parallel" d="M{_n(x + 3)},{_n(y + 1)} v12 M{_n(x + 7)},{_n(y + 1)} v12 '
                       f'M{_n(x + 11)},{_n(y + 1)} v12" {line}/>')
        elif name == "sequential":
            out.append(f'<path class="bpmn-marker bpmn-marker-sequential" d="M{_n(x + 1)},{_n(y + 3)} h12 M{_n(x + 1)},{_n(y + 7)} h12 '
                       f'M{_n(x + 1)},{_n(y + 11)} h12" {line}/>')
        elif name == "standard":
            out.append(f'<g class="bpmn-marker bpmn-marker-loop"><path d="M{_n(x + 4)},{_n(y + 12)} a5.5,5.5 0 1 1 6,0" {line}/>'
                       f'<polyline points="{_poly(((x + 1, y + 10), (x + 4, y + 12), (x + 2, y + 15)))}" {line}/></g>')
        elif name == "compensation":
            out.append(f'<g class="bpmn-marker bpmn-marker-compensation"><polygon points="{_poly(((x, y + 7), (x + 7, y + 2), (x + 7, y + 12)))}" {line}/>'
                       f'<polygon points="{_poly(((x + 7, y + 7), (x + 14, y + 2), (x + 14, y + 12)))}" {line}/></g>')
        elif name == "adhoc":
            out.append(f'<path class="bpmn-marker bpmn-marker-adhoc" d="M{_n(x + 1)},{_n(y + 8)} c3,-5 6,-5 6,0 c0,5 4,5 6,0" {line}/>')
    return "".join(out)


# -- the drawing ------------------------------------------------------------------------------------

_EVENTS = {k.value for k in Kind if k.is_event}
_GATEWAYS = {k.value for k in Kind if k.is_gateway}
_SUBPROCESSES = {Kind.SUB_PROCESS.value, Kind.TRANSACTION.value, Kind.AD_HOC_SUB_PROCESS.value}
_ACTIVITIES = {k.value for k in Kind if k.is_activity}
_LABEL_BELOW = _EVENTS | _GATEWAYS | _DATA_TAGS
_UNKNOWN = ElementInfo("unknown")


class _Drawing:
    """One BPMNDiagram: layers in a fixed order (pools and lanes, expanded sub-processes, other
    shapes, edges, boundary events) so containers never hide what they contain."""

    def __init__(self, diagram: Diagram, index: Mapping[str, ElementInfo], states: Mapping[str, str]) -> None:
        self.diagram = diagram
        self.index = index
        self.states = states
        shaped = {e.element for e in diagram.elements if e.bounds is not None and not e.waypoints}
        self.shaped = shaped

    def info(self, element: DiagramElement) -> ElementInfo:
        return self.index.get(element.element, _UNKNOWN)

    def expanded(self, element: DiagramElement, info: ElementInfo) -> bool:
        if info.kind not in _SUBPROCESSES and info.kind != Kind.CALL_ACTIVITY.value:
            return False
        if element.is_expanded is not None:
            return element.is_expanded
        # isExpanded is optional: drawn expanded when its children are drawn on this plane.
        return any(child in self.shaped for child in info.children)

    def svg(self) -> str:
        pools, containers, shapes, edges, boundary = [], [], [], [], []
        for element in self.diagram.elements:
            info = self.info(element)
            if element.waypoints:
                edges.append(self.edge(element, info))
            elif element.bounds is not None:
                if info.kind in ("participant", "lane"):
                    pools.append(self.pool(element, info))
                elif self.expanded(element, info):
                    area = element.bounds.width * element.bounds.height
                    containers.append((-area, len(containers), self.shape(element, info)))
                elif info.kind == Kind.BOUNDARY_EVENT.value:
                    boundary.append(self.shape(element, info))
                else:
                    shapes.append(self.shape(element, info))
        containers.sort()
        body = "".join(pools) + "".join(c[2] for c in containers) + "".join(shapes) + "".join(edges) + "".join(boundary)
        x0, y0, x1, y1 = self.extent()
        width, height = x1 - x0, y1 - y0
        title = self.diagram.name or self.diagram.id or "diagram"
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="baton-diagram" data-diagram="{esc(self.diagram.id or "")}" '
            f'data-plane="{esc(self.diagram.plane_element or "")}" role="img" aria-label="{esc(title)}" '
            f'width="{_n(width)}" height="{_n(height)}" viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(height)}" '
            f'font-family="{FONT}" font-size="{_n(FONT_SIZE)}" style="max-width:100%;height:auto;background:#ffffff">'
            f'<title>{esc(title)}</title>{body}</svg>'
        )

    def extent(self) -> tuple[float, float, float, float]:
        xs: list[float] = []
        ys: list[float] = []
        for element in self.diagram.elements:
            if element.waypoints:
                for x, y in element.waypoints:
                    xs.append(x)
                    ys.append(y)
            elif element.bounds is not None:
                b = element.bounds
                xs += [b.x, b.x + b.width]
                ys += [b.y, b.y + b.height]
                if self.info(element).kind in _LABEL_BELOW:
                    xs += [b.x + b.width / 2 - 50, b.x + b.width / 2 + 50]
                    ys.append(b.y + b.height + 4 + 3 * LINE_HEIGHT)
        xs = [v for v in xs if math.isfinite(v)] or [0.0]
        ys = [v for v in ys if math.isfinite(v)] or [0.0]
        return min(xs) - MARGIN, min(ys) - MARGIN, max(max(xs) + MARGIN, min(xs) + 1), max(max(ys) + MARGIN, min(ys) + 1)

    # -- groups ------------------------------------------------------------------------------------

    def group(self, element: DiagramElement, info: ElementInfo, role: str, content: str) -> str:
        state = self.states.get(element.element)
        classes = f"bpmn-element bpmn-{role} bpmn-{esc(info.kind)}" + (f" baton-{state}" if state else "")
        label = info.name or element.element
        tooltip = f"{label} ({info.kind})" + (f": {state}" if state else "")
        return (f'<g class="{classes}" data-element="{esc(element.element)}" data-kind="{esc(info.kind)}"'
                f'{f" data-state={chr(34)}{state}{chr(34)}" if state else ""}><title>{esc(tooltip)}</title>{content}</g>')

    def paint(self, element: DiagramElement) -> Paint:
        state = self.states.get(element.element)
        return STATE_PAINT[state] if state else PLAIN

    # -- shapes ------------------------------------------------------------------------------------

    def shape(self, element: DiagramElement, info: ElementInfo) -> str:
        b = element.bounds
        assert b is not None
        paint = self.paint(element)
        kind = info.kind
        if kind in _EVENTS:
            body = self.event(b, info, paint)
        elif kind in _GATEWAYS:
            body = self.gateway(b, info, paint)
        elif kind in _ACTIVITIES:
            body = self.activity(b, info, paint, expanded=self.expanded(element, info))
        elif kind in ("dataObjectReference", "dataObject", "dataInput", "dataOutput"):
            body = self.data_object(b, info, paint)
        elif kind == "dataStoreReference":
            body = self.data_store(b, info, paint)
        elif kind == "textAnnotation":
            body = self.annotation(b, info)
        elif kind == "group":
            body = self.artifact_group(b, info)
        else:
            body = (f'<rect class="bpmn-outline" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" height="{_n(b.height)}" rx="4" '
                    f'fill="none" stroke="{MUTED}" stroke-width="1" stroke-dasharray="4 3"/>'
                    + _centered_text(wrap(info.name or "", b.width - 8, max_lines=max(1, int(b.height // LINE_HEIGHT))),
                                     b.x + b.width / 2, b.y + b.height / 2, color=MUTED))
        state = self.states.get(element.element)
        if state == "incident":
            body += self.badge(b, kind)
        return self.group(element, info, "shape", body)

    def badge(self, b: Bounds, kind: str) -> str:
        """A red '!' at the top-right corner of an element with an open incident."""
        x, y = b.x + b.width, b.y
        if kind in _EVENTS or kind in _GATEWAYS:
            x, y = b.x + b.width * 0.85, b.y + b.height * 0.15
        return (f'<g class="baton-incident-badge"><circle cx="{_n(x)}" cy="{_n(y)}" r="8" fill="#cf222e" stroke="#ffffff" stroke-width="1.5"/>'
                f'<text x="{_n(x)}" y="{_n(y + 4)}" text-anchor="middle" font-size="11" font-weight="bold" fill="#ffffff">!</text></g>')

    def event(self, b: Bounds, info: ElementInfo, paint: Paint) -> str:
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        r = max(1.0, min(b.width, b.height) / 2)
        dash = "" if info.interrupting else ' stroke-dasharray="5 3"'
        fill = paint.fill if paint is not PLAIN else PAPER
        if info.kind == Kind.START_EVENT.value:
            outline = (f'<circle class="bpmn-outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" stroke="{paint.stroke}" '
                       f'stroke-width="{_n(max(1.5, paint.width if paint is not PLAIN else 1.5))}"{dash}/>')
        elif info.kind == Kind.END_EVENT.value:
            outline = (f'<circle class="bpmn-outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" stroke="{paint.stroke}" '
                       f'stroke-width="{_n(max(4.0, paint.width + 1))}"/>')
        else:
            outer_width = 1.5 if paint is PLAIN else paint.width
            outline = (f'<circle class="bpmn-outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" stroke="{paint.stroke}" '
                       f'stroke-width="{_n(outer_width)}"{dash}/>'
                       f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(max(1.0, r - 3))}" fill="none" stroke="{paint.stroke}" '
                       f'stroke-width="1.2"{dash}/>')
        marker = _event_marker(info.event_types, info.parallel_multiple, cx, cy, r, info.throwing, paint.stroke)
        return outline + marker + self.label_below(b, info, paint)

    def gateway(self, b: Bounds, info: ElementInfo, paint: Paint) -> str:
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        w, h = b.width, b.height
        outline = (f'<polygon class="bpmn-outline" points="{_poly(((cx, b.y), (b.x + w, cy), (cx, b.y + h), (b.x, cy)))}" '
                   f'fill="{paint.fill}" stroke="{paint.stroke}" stroke-width="{_n(paint.width)}" stroke-linejoin="round"/>')
        k = min(w, h) / 50.0
        thick = f'stroke="{paint.stroke}" stroke-width="{_n(4 * k)}" stroke-linecap="round"'
        kind = info.kind
        if kind == Kind.EXCLUSIVE_GATEWAY.value:
            d = 8 * k
            marker = f'<path class="bpmn-marker bpmn-marker-exclusive" d="M{_n(cx - d)},{_n(cy - d)} L{_n(cx + d)},{_n(cy + d)} M{_n(cx + d)},{_n(cy - d)} L{_n(cx - d)},{_n(cy + d)}" {thick}/>'
        elif kind == Kind.PARALLEL_GATEWAY.value:
            d = 11 * k
            marker = f'<path class="bpmn-marker bpmn-marker-parallel" d="M{_n(cx - d)},{_n(cy)} H{_n(cx + d)} M{_n(cx)},{_n(cy - d)} V{_n(cy + d)}" {thick}/>'
        elif kind == Kind.INCLUSIVE_GATEWAY.value:
            marker = (f'<circle class="bpmn-marker bpmn-marker-inclusive" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(10 * k)}" fill="none" '
                      f'stroke="{paint.stroke}" stroke-width="{_n(2.5 * k)}"/>')
        elif kind == Kind.COMPLEX_GATEWAY.value:
            d, e = 11 * k, 7.8 * k
            marker = (f'<path class="bpmn-marker bpmn-marker-complex" d="M{_n(cx - d)},{_n(cy)} H{_n(cx + d)} M{_n(cx)},{_n(cy - d)} V{_n(cy + d)} '
                      f'M{_n(cx - e)},{_n(cy - e)} L{_n(cx + e)},{_n(cy + e)} M{_n(cx + e)},{_n(cy - e)} L{_n(cx - e)},{_n(cy + e)}" {thick}/>')
        elif kind == Kind.EVENT_BASED_GATEWAY.value:
            pentagon = _poly((cx + math.cos(a) * 6 * k, cy + math.sin(a) * 6 * k)
                             for a in (-math.pi / 2 + i * 2 * math.pi / 5 for i in range(5)))
            marker = (f'<g class="bpmn-marker bpmn-marker-event-based"><circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(12 * k)}" fill="none" '
                      f'stroke="{paint.stroke}" stroke-width="{_n(k)}"/><circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(10 * k)}" fill="none" '
                      f'stroke="{paint.stroke}" stroke-width="{_n(k)}"/><polygon points="{pentagon}" fill="none" '
                      f'stroke="{paint.stroke}" stroke-width="{_n(1.2 * k)}"/></g>')
        else:
            marker = ""
        return outline + marker + self.label_below(b, info, paint)

    def activity(self, b: Bounds, info: ElementInfo, paint: Paint, *, expanded: bool) -> str:
        kind = info.kind
        radius = min(10.0, b.height / 4, b.width / 4)
        width = paint.width
        if kind == Kind.CALL_ACTIVITY.value:
            width = max(4.0, paint.width + 1)
        dash = ' stroke-dasharray="2 3"' if info.triggered_by_event else ""
        outline = (f'<rect class="bpmn-outline" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" height="{_n(b.height)}" '
                   f'rx="{_n(radius)}" fill="{paint.fill}" stroke="{paint.stroke}" stroke-width="{_n(width)}"{dash}/>')
        if kind == Kind.TRANSACTION.value:
            outline += (f'<rect x="{_n(b.x + 3)}" y="{_n(b.y + 3)}" width="{_n(max(0.0, b.width - 6))}" height="{_n(max(0.0, b.height - 6))}" '
                        f'rx="{_n(max(0.0, radius - 3))}" fill="none" stroke="{paint.stroke}" stroke-width="1.2"/>')
        markers: list[str] = []
        if info.loop:
            markers.append(info.loop)
        if info.compensation:
            markers.append("compensation")
        if kind == Kind.AD_HOC_SUB_PROCESS.value:
            markers.append("adhoc")
        is_container = kind in _SUBPROCESSES or kind == Kind.CALL_ACTIVITY.value
        if is_container and not expanded and kind != Kind.CALL_ACTIVITY.value:
            markers.append("collapsed")
        cx = b.x + b.width / 2
        text = info.name or ""
        if expanded:
            label = _text(wrap(text, b.width - 16, max_lines=2), b.x + 8, b.y + 4, anchor="start", color=paint.text)
        else:
            room = b.height - (22 if markers else 8)
            label = _centered_text(wrap(text, b.width - 12, max_lines=max(1, int(room // LINE_HEIGHT))), cx,
                                   b.y + (b.height - (14 if markers else 0)) / 2, color=paint.text)
        return (outline + _task_marker(kind, b.x, b.y, paint.stroke) + label
                + _bottom_markers(markers, cx, b.y + b.height, paint.stroke))

    def data_object(self, b: Bounds, info: ElementInfo, paint: Paint) -> str:
        fold = min(10.0, b.width / 3, b.height / 3)
        x, y, w, h = b.x, b.y, b.width, b.height
        body = (f'<path class="bpmn-outline" d="M{_n(x)},{_n(y)} H{_n(x + w - fold)} L{_n(x + w)},{_n(y + fold)} V{_n(y + h)} H{_n(x)} Z" '
                f'fill="{paint.fill}" stroke="{paint.stroke}" stroke-width="{_n(paint.width)}" stroke-linejoin="round"/>'
                f'<path d="M{_n(x + w - fold)},{_n(y)} V{_n(y + fold)} H{_n(x + w)}" fill="none" stroke="{paint.stroke}" stroke-width="1.2"/>')
        if info.kind in ("dataInput", "dataOutput"):
            filled = paint.stroke if info.kind == "dataOutput" else "none"
            body += (f'<polygon class="bpmn-marker bpmn-marker-data-{"output" if info.kind == "dataOutput" else "input"}" '
                     f'points="{_poly(((x + 4, y + 6), (x + 10, y + 6), (x + 10, y + 3), (x + 16, y + 9), (x + 10, y + 15), (x + 10, y + 12), (x + 4, y + 12)))}" '
                     f'fill="{filled}" stroke="{paint.stroke}" stroke-width="1"/>')
        if info.is_collection:
            body += _bottom_markers(["parallel"], x + w / 2, y + h + 2, paint.stroke)
        return body + self.label_below(b, info, paint)

    def data_store(self, b: Bounds, info: ElementInfo, paint: Paint) -> str:
        x, y, w, h = b.x, b.y, b.width, b.height
        ry = min(8.0, h / 6)
        stroke = f'stroke="{paint.stroke}" stroke-width="{_n(paint.width)}"'
        return (f'<path class="bpmn-outline" d="M{_n(x)},{_n(y + ry)} A{_n(w / 2)},{_n(ry)} 0 0 1 {_n(x + w)},{_n(y + ry)} V{_n(y + h - ry)} '
                f'A{_n(w / 2)},{_n(ry)} 0 0 1 {_n(x)},{_n(y + h - ry)} Z" fill="{paint.fill}" {stroke}/>'
                f'<path d="M{_n(x)},{_n(y + ry)} A{_n(w / 2)},{_n(ry)} 0 0 0 {_n(x + w)},{_n(y + ry)} M{_n(x)},{_n(y + 2 * ry)} '
                f'A{_n(w / 2)},{_n(ry)} 0 0 0 {_n(x + w)},{_n(y + 2 * ry)}" fill="none" stroke="{paint.stroke}" stroke-width="1.2"/>'
                + self.label_below(b, info, paint))

    def annotation(self, b: Bounds, info: ElementInfo) -> str:
        bracket = min(15.0, b.width)
        lines = wrap(info.name or "", b.width - 10, max_lines=max(1, int((b.height - 4) // LINE_HEIGHT)) + 2)
        return (f'<path class="bpmn-outline" d="M{_n(b.x + bracket)},{_n(b.y)} H{_n(b.x)} V{_n(b.y + b.height)} H{_n(b.x + bracket)}" '
                f'fill="none" stroke="{INK}" stroke-width="1.2"/>'
                + _text(lines, b.x + 6, b.y + 2, anchor="start"))

    def artifact_group(self, b: Bounds, info: ElementInfo) -> str:
        return (f'<rect class="bpmn-outline" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" height="{_n(b.height)}" rx="10" '
                f'fill="none" stroke="{INK}" stroke-width="1.2" stroke-dasharray="8 3 1 3"/>'
                + _text(wrap(info.name or "", b.width - 8, max_lines=2), b.x + b.width / 2, b.y + 2))

    def label_below(self, b: Bounds, info: ElementInfo, paint: Paint) -> str:
        if not info.name:
            return ""
        width = max(90.0, b.width + 20)
        return _text(wrap(info.name, width, max_lines=3), b.x + b.width / 2, b.y + b.height + 2, color=paint.text)

    def pool(self, element: DiagramElement, info: ElementInfo) -> str:
        """A pool or lane: its outline and its name in the header band, written along the band."""
        b = element.bounds
        assert b is not None
        horizontal = element.is_horizontal is not False
        fill = PAPER if info.kind == "participant" else "none"
        body = (f'<rect class="bpmn-outline" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" height="{_n(b.height)}" '
                f'fill="{fill}" stroke="{INK}" stroke-width="1.5"/>')
        name = info.name or ""
        if horizontal:
            band = min(HEADER, b.width)
            if info.kind == "participant":
                body += f'<line x1="{_n(b.x + band)}" y1="{_n(b.y)}" x2="{_n(b.x + band)}" y2="{_n(b.y + b.height)}" stroke="{INK}" stroke-width="1.5"/>'
            cx, cy = b.x + band / 2, b.y + b.height / 2
            lines = wrap(name, b.height - 10, max_lines=2)
            if lines:
                body += (f'<g transform="rotate(-90 {_n(cx)} {_n(cy)})">'
                         + _centered_text(lines, cx, cy, css_class="bpmn-label bpmn-pool-label") + "</g>")
        else:
            band = min(HEADER, b.height)
            if info.kind == "participant":
                body += f'<line x1="{_n(b.x)}" y1="{_n(b.y + band)}" x2="{_n(b.x + b.width)}" y2="{_n(b.y + band)}" stroke="{INK}" stroke-width="1.5"/>'
            body += _centered_text(wrap(name, b.width - 10, max_lines=2), b.x + b.width / 2, b.y + band / 2,
                                   css_class="bpmn-label bpmn-pool-label")
        return self.group(element, info, "shape", body)

    # -- edges -------------------------------------------------------------------------------------

    def edge(self, element: DiagramElement, info: ElementInfo) -> str:
        points = tuple((x if math.isfinite(x) else 0.0, y if math.isfinite(y) else 0.0) for x, y in element.waypoints)
        paint = self.paint(element)
        state = self.states.get(element.element)
        color = paint.stroke if state else INK
        width = {"incident": 3.5, "active": 3.0, "taken": 3.0}.get(state or "", 1.5)
        kind = info.kind
        parts: list[str] = []
        if kind == "messageFlow":
            color = paint.stroke if state else INK
            parts.append(f'<polyline class="bpmn-line" points="{_poly(points)}" fill="none" stroke="{color}" stroke-width="{_n(width)}" '
                         f'stroke-dasharray="8 5" stroke-linejoin="round"/>')
            sx, sy = points[0]
            parts.append(f'<circle cx="{_n(sx)}" cy="{_n(sy)}" r="4" fill="#ffffff" stroke="{color}" stroke-width="1.2"/>')
            head = _arrowhead(points)
            if head:
                parts.append(f'<polygon class="bpmn-arrow" points="{_poly(head)}" fill="#ffffff" stroke="{color}" stroke-width="1.2"/>')
        elif kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
            parts.append(f'<polyline class="bpmn-line" points="{_poly(points)}" fill="none" stroke="{color}" stroke-width="{_n(width)}" '
                         f'stroke-dasharray="2 4" stroke-linecap="round"/>')
            head = _arrowhead(points, size=9)
            if head and kind != "association":
                parts.append(f'<polyline class="bpmn-arrow" points="{_poly((head[1], head[0], head[2]))}" fill="none" '
                             f'stroke="{color}" stroke-width="1.2"/>')
        elif kind == "sequenceFlow":
            parts.append(f'<polyline class="bpmn-line" points="{_poly(points)}" fill="none" stroke="{color}" stroke-width="{_n(width)}" '
                         f'stroke-linejoin="round"/>')
            head = _arrowhead(points)
            if head:
                parts.append(f'<polygon class="bpmn-arrow" points="{_poly(head)}" fill="{color}" stroke="{color}" stroke-width="1"/>')
            if info.is_default and len(points) > 1:
                x, y, ux, uy = _along(points, 10)
                parts.append(f'<line class="bpmn-marker bpmn-marker-default" x1="{_n(x - 5 * ux + 5 * uy)}" y1="{_n(y - 5 * uy - 5 * ux)}" '
                             f'x2="{_n(x + 5 * ux - 5 * uy)}" y2="{_n(y + 5 * uy + 5 * ux)}" stroke="{color}" stroke-width="1.5"/>')
            elif info.is_conditional and len(points) > 1:
                x0, y0 = points[0]
                _, _, ux, uy = _along(points, 0)
                diamond = ((x0, y0), (x0 + 7 * ux + 4 * uy, y0 + 7 * uy - 4 * ux), (x0 + 14 * ux, y0 + 14 * uy),
                           (x0 + 7 * ux - 4 * uy, y0 + 7 * uy + 4 * ux))
                parts.append(f'<polygon class="bpmn-marker bpmn-marker-conditional" points="{_poly(diamond)}" fill="#ffffff" '
                             f'stroke="{color}" stroke-width="1.2"/>')
        else:
            parts.append(f'<polyline class="bpmn-line" points="{_poly(points)}" fill="none" stroke="{MUTED}" stroke-width="1" '
                         f'stroke-dasharray="3 3"/>')
        if info.name and points:
            mx, my = _midpoint(points)
            parts.append(_text(wrap(info.name, 110, max_lines=3, font_size=11), mx, my - 6 - LINE_HEIGHT, color=color if state else INK,
                               size=11))
        return self.group(element, info, "edge", "".join(parts))


# -- the fallback: a list of flow nodes --------------------------------------------------------------

_ROW = 24.0
_INDENT = 20.0


def _render_list(definitions: Definitions, index: Mapping[str, ElementInfo], states: Mapping[str, str]) -> str:
    """No BPMNDI: every process's flow nodes as rows (indented by scope), marked like shapes."""
    rows: list[str] = []
    y = MARGIN
    widest = 300.0
    for process in definitions.processes.values():
        title = f"Process {process.name or process.id}" + (f" ({process.id})" if process.name else "")
        rows.append(_text([title], MARGIN, y, anchor="start", css_class="bpmn-label bpmn-process-label")
                    .replace('<text ', '<text font-weight="bold" ', 1))
        widest = max(widest, MARGIN * 2 + len(title) * CHAR_WIDTH)
        y += _ROW
        for node in process.flow_nodes.values():
            depth = _depth(process.flow_nodes, node)
            x = MARGIN + _INDENT * (depth + 1)
            info = index.get(node.id, _node_info(node))
            state = states.get(node.id)
            paint = STATE_PAINT[state] if state else PLAIN
            icon_y = y + 2
            if node.kind.is_event:
                width = 4.0 if node.kind is Kind.END_EVENT else paint.width
                icon = (f'<circle class="bpmn-outline" cx="{_n(x + 8)}" cy="{_n(icon_y + 8)}" r="8" fill="{paint.fill}" '
                        f'stroke="{paint.stroke}" stroke-width="{_n(width)}"/>')
            elif node.kind.is_gateway:
                icon = (f'<polygon class="bpmn-outline" points="{_poly(((x + 8, icon_y - 1), (x + 17, icon_y + 8), (x + 8, icon_y + 17), (x - 1, icon_y + 8)))}" '
                        f'fill="{paint.fill}" stroke="{paint.stroke}" stroke-width="{_n(paint.width)}"/>')
            else:
                icon = (f'<rect class="bpmn-outline" x="{_n(x)}" y="{_n(icon_y)}" width="18" height="16" rx="4" fill="{paint.fill}" '
                        f'stroke="{paint.stroke}" stroke-width="{_n(paint.width)}"/>')
            text = f"{node.label} · {_KIND_WORDS.get(node.kind, node.kind.value)}"
            if node.name:
                text += f" ({node.id})"
            if state:
                text += f" · {state}"
            widest = max(widest, x + 28 + len(text) * CHAR_WIDTH + MARGIN)
            classes = f"bpmn-element bpmn-row bpmn-{node.kind.value}" + (f" baton-{state}" if state else "")
            rows.append(f'<g class="{classes}" data-element="{esc(node.id)}" data-kind="{node.kind.value}"'
                        f'{f" data-state={chr(34)}{state}{chr(34)}" if state else ""}><title>{esc(node.label)}</title>{icon}'
                        + _text([text], x + 26, y, anchor="start", color=paint.text) + "</g>")
            y += _ROW
        y += _ROW / 2
    if not definitions.processes:
        rows.append(_text(["This file has no processes."], MARGIN, y, anchor="start"))
        y += _ROW
    height = y + MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="baton-diagram baton-diagram-fallback" role="img" '
        f'aria-label="flow nodes (the file has no diagram)" width="{_n(widest)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(widest)} {_n(height)}" font-family="{FONT}" font-size="{_n(FONT_SIZE)}" '
        f'style="max-width:100%;height:auto;background:#ffffff"><title>flow nodes (the file has no diagram)</title>'
        + "".join(rows) + "</svg>"
    )


def _depth(nodes: Mapping[str, FlowNode], node: FlowNode) -> int:
    depth, scope, seen = 0, node.scope, set()
    while scope and scope in nodes and scope not in seen:
        seen.add(scope)
        depth += 1
        scope = nodes[scope].scope
    return depth


_KIND_WORDS = {
    Kind.START_EVENT: "start event", Kind.END_EVENT: "end event", Kind.INTERMEDIATE_THROW_EVENT: "intermediate throw event",
    Kind.INTERMEDIATE_CATCH_EVENT: "intermediate catch event", Kind.BOUNDARY_EVENT: "boundary event", Kind.TASK: "task",
    Kind.MANUAL_TASK: "manual task", Kind.SCRIPT_TASK: "script task", Kind.SERVICE_TASK: "service task",
    Kind.SEND_TASK: "send task", Kind.RECEIVE_TASK: "receive task", Kind.USER_TASK: "user task",
    Kind.BUSINESS_RULE_TASK: "business rule task", Kind.SUB_PROCESS: "sub-process", Kind.TRANSACTION: "transaction",
    Kind.AD_HOC_SUB_PROCESS: "ad-hoc sub-process", Kind.CALL_ACTIVITY: "call activity",
    Kind.EXCLUSIVE_GATEWAY: "exclusive gateway", Kind.PARALLEL_GATEWAY: "parallel gateway",
    Kind.INCLUSIVE_GATEWAY: "inclusive gateway", Kind.EVENT_BASED_GATEWAY: "event-based gateway",
    Kind.COMPLEX_GATEWAY: "complex gateway",
}
