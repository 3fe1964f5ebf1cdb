"""orchestrator.bpmn.render: BPMNDI drawn as self-contained SVG, with instance states marked."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.parser import parse, parse_file
from orchestrator.bpmn.render import render_all, render_svg, wrap

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MIWG = sorted((CORPUS / "miwg").glob("*.bpmn"))
SVG = "http://www.w3.org/2000/svg"


def svg_tree(text: str) -> etree._Element:
    root = etree.fromstring(text.encode("utf-8"))
    assert root.tag == f"{{{SVG}}}svg"
    return root


def groups(root: etree._Element, element_id: str | None = None) -> list[etree._Element]:
    found = root.xpath("//svg:g[@data-element]", namespaces={"svg": SVG})
    return [g for g in found if element_id is None or g.get("data-element") == element_id]


def di_shapes_and_edges(path: Path) -> list[tuple[list[str], list[str]]]:
    """Per BPMNDiagram of the file: the bpmnElement of every BPMNShape and of every BPMNEdge."""
    tree = etree.parse(str(path))
    per_diagram = []
    for diagram in tree.iter(ns.q(ns.BPMNDI, "BPMNDiagram")):
        shapes = [s.get("bpmnElement") or "" for s in diagram.iter(ns.q(ns.BPMNDI, "BPMNShape"))]
        edges = [e.get("bpmnElement") or "" for e in diagram.iter(ns.q(ns.BPMNDI, "BPMNEdge"))]
        per_diagram.append((shapes, edges))
    return per_diagram


@pytest.mark.parametrize("path", MIWG, ids=lambda p: p.name)
def test_every_miwg_diagram_renders_well_formed_svg_with_a_group_per_di_element(path):
    parsed = parse_file(str(path))
    expected = di_shapes_and_edges(path)
    svgs = render_all(parsed.definitions, tree=parsed.tree)
    assert len(svgs) == len(expected) >= 1
    for text, (shapes, edges) in zip(svgs, expected):
        root = svg_tree(text)
        drawn_shapes = sorted(g.get("data-element") for g in groups(root) if "bpmn-shape" in g.get("class").split())
        drawn_edges = sorted(g.get("data-element") for g in groups(root) if "bpmn-edge" in g.get("class").split())
        assert drawn_shapes == sorted(shapes)
        assert drawn_edges == sorted(edges)
        # Self-contained: no style sheet, no links, no images, no script, no shared ids.
        assert not root.xpath("//svg:style | //svg:image | //svg:script | //svg:use | //svg:a | //svg:marker",
                              namespaces={"svg": SVG})
        assert "href" not in text and "url(" not in text and " id=" not in text
        width, height = (float(v) for v in root.get("viewBox").split()[2:])
        assert width > 0 and height > 0


def test_several_diagrams_of_one_file_are_each_drawn_with_their_own_plane():
    parsed = parse_file(str(CORPUS / "miwg" / "C.4.0.bpmn"))
    svgs = render_all(parsed.definitions, tree=parsed.tree)
    planes = [svg_tree(s).get("data-plane") for s in svgs]
    assert planes == [d.plane_element for d in parsed.definitions.diagrams]
    assert len(svgs) == 4
    second = svg_tree(render_svg(parsed.definitions, diagram_index=1, tree=parsed.tree))
    assert second.get("data-plane") == parsed.definitions.diagrams[1].plane_element


def _kinds(root: etree._Element) -> set[str]:
    return {g.get("data-kind") for g in groups(root)}


def test_element_kinds_get_their_shapes_and_markers():
    kinds: set[str] = set()
    classes = ""
    for name in ("camunda/bpmnjs__kitchen-sink.bpmn", "miwg/B.2.0.bpmn"):
        parsed = parse_file(str(CORPUS / name))
        root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
        kinds |= _kinds(root)
        classes += " ".join(root.xpath("//@class"))
    for kind in ("startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
                 "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask",
                 "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
                 "subProcess", "transaction", "adHocSubProcess", "callActivity", "participant", "lane",
                 "dataObjectReference", "dataStoreReference", "textAnnotation", "group", "sequenceFlow", "messageFlow"):
        assert kind in kinds, kind
    for marker in ("user", "service", "script", "send", "receive", "manual", "business-rule", "exclusive",
                   "parallel", "inclusive", "complex", "event-based", "message", "timer", "error", "escalation",
                   "signal", "cancel", "compensate", "conditional", "link", "terminate", "collapsed", "sequential",
                   "loop", "adhoc", "default"):
        assert f"bpmn-marker-{marker}" in classes, marker


def _outline(group: etree._Element) -> etree._Element:
    return group.xpath(".//*[contains(@class, 'bpmn-outline') or contains(@class, 'bpmn-line')]")[0]


def test_events_gateways_and_activities_have_their_geometry():
    parsed = parse_file(str(CORPUS / "miwg" / "A.2.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    for group in groups(root):
        kind = group.get("data-kind")
        outline = _outline(group)
        tag = etree.QName(outline).localname
        if kind == "startEvent":
            assert tag == "circle" and float(outline.get("stroke-width")) < 2
        elif kind == "endEvent":
            assert tag == "circle" and float(outline.get("stroke-width")) >= 4
        elif kind.endswith("Gateway"):
            assert tag == "polygon" and len(outline.get("points").split()) == 4
        elif kind in ("task", "userTask", "serviceTask"):
            assert tag == "rect" and float(outline.get("rx")) > 0
        elif kind == "sequenceFlow":
            assert tag == "polyline"
            assert group.xpath(".//svg:polygon[@class='bpmn-arrow']", namespaces={"svg": SVG})


def test_intermediate_events_are_double_circles_and_names_are_wrapped_inside_tasks():
    parsed = parse_file(str(CORPUS / "miwg" / "B.2.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    catch = next(g for g in groups(root) if g.get("data-kind") == "intermediateCatchEvent")
    assert len(catch.xpath("svg:circle", namespaces={"svg": SVG})) >= 2
    long_names = [g for g in groups(root) if g.get("data-kind") == "callActivity"
                  and len(g.xpath(".//svg:text[@class='bpmn-label']/svg:tspan", namespaces={"svg": SVG})) > 1]
    assert long_names, "a long activity name is written on several lines"


def test_pools_and_lanes_carry_their_names_along_the_header_band():
    parsed = parse_file(str(CORPUS / "miwg" / "C.1.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    lanes = [g for g in groups(root) if g.get("data-kind") == "lane"]
    assert {"".join(g.xpath(".//svg:tspan/text()", namespaces={"svg": SVG})) for g in lanes} >= {"Approver", "Accountant"}
    approver = next(g for g in lanes if g.get("data-element") == "Approver")
    rotated = approver.xpath(".//svg:g[starts-with(@transform, 'rotate(-90')]", namespaces={"svg": SVG})
    assert rotated, "a horizontal lane's name is written vertically"


def test_vertical_pools_write_their_names_across_the_top():
    parsed = parse_file(str(CORPUS / "miwg" / "A.4.1.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    pool = next(g for g in groups(root) if g.get("data-kind") == "participant")
    assert not pool.xpath(".//svg:g[@transform]", namespaces={"svg": SVG})
    assert pool.xpath(".//svg:tspan/text()", namespaces={"svg": SVG}) == ["Pool 1"]


def test_expanded_and_collapsed_sub_processes():
    parsed = parse_file(str(CORPUS / "miwg" / "B.1.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    subs = {g.get("data-element"): g for g in groups(root) if g.get("data-kind") == "subProcess"}
    collapsed = [i for i, g in subs.items() if g.xpath(".//*[contains(@class, 'bpmn-marker-collapsed')]", namespaces={"svg": SVG})]
    expanded = [i for i in subs if i not in collapsed]
    assert collapsed and expanded
    # An expanded sub-process is drawn before (under) the shapes it contains.
    order = [g.get("data-element") for g in groups(root)]
    for sub_id in expanded:
        node = next(p.flow_nodes[sub_id] for p in parsed.definitions.processes.values() if sub_id in p.flow_nodes)
        drawn_children = [c for c in node.children if c in order]
        assert drawn_children
        assert all(order.index(sub_id) < order.index(c) for c in drawn_children)


def test_call_activities_have_a_thick_border():
    parsed = parse_file(str(CORPUS / "miwg" / "B.1.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    call = next(g for g in groups(root) if g.get("data-kind") == "callActivity")
    assert float(_outline(call).get("stroke-width")) >= 4


def test_message_flows_are_dashed_and_sequence_flows_are_not():
    parsed = parse_file(str(CORPUS / "miwg" / "A.4.1.bpmn"))
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
    message = next(g for g in groups(root) if g.get("data-kind") == "messageFlow")
    sequence = next(g for g in groups(root) if g.get("data-kind") == "sequenceFlow")
    assert _outline(message).get("stroke-dasharray")
    assert _outline(sequence).get("stroke-dasharray") is None


# -- instance states ---------------------------------------------------------------------------------

def _miwg_a20():
    parsed = parse_file(str(CORPUS / "miwg" / "A.2.0.bpmn"))
    process = parsed.definitions.process()
    tasks = [n.id for n in process.flow_nodes.values() if n.kind.value == "task"]
    start = next(n.id for n in process.flow_nodes.values() if n.kind.value == "startEvent")
    first_flow = process.flow_nodes[start].outgoing[0]
    return parsed, tasks, start, first_flow


def test_active_taken_and_incident_elements_are_marked_on_their_ids_only():
    parsed, tasks, start, first_flow = _miwg_a20()
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree, active=[tasks[0]], taken=[start, first_flow],
                               incidents=[tasks[1]]))
    marked = {g.get("data-element"): g.get("data-state") for g in groups(root) if g.get("data-state")}
    assert marked == {tasks[0]: "active", start: "taken", first_flow: "taken", tasks[1]: "incident"}
    active = groups(root, tasks[0])[0]
    assert "baton-active" in active.get("class").split()
    outline = _outline(active)
    assert outline.get("stroke") == "#0969da" and float(outline.get("stroke-width")) >= 3
    flow = groups(root, first_flow)[0]
    assert {el.get("stroke") for el in flow.xpath(".//svg:polyline | .//svg:polygon", namespaces={"svg": SVG})} == {"#1a7f37"}
    incident = groups(root, tasks[1])[0]
    assert _outline(incident).get("stroke") == "#cf222e"
    assert incident.xpath(".//svg:g[@class='baton-incident-badge']", namespaces={"svg": SVG})
    untouched = [g for g in groups(root) if g.get("data-element") not in marked]
    assert all(not g.get("data-state") for g in untouched)


def test_an_incident_wins_over_active_and_active_over_taken():
    parsed, tasks, start, _ = _miwg_a20()
    root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree, active=[tasks[0], start], taken=[start, tasks[0]],
                               incidents=[tasks[0]]))
    assert groups(root, tasks[0])[0].get("data-state") == "incident"
    assert groups(root, start)[0].get("data-state") == "active"


# -- untrusted text ----------------------------------------------------------------------------------

HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="t">
  <bpmn:collaboration id="c">
    <bpmn:participant id="pool" name="&lt;/text&gt;&lt;script&gt;alert(2)&lt;/script&gt;" processRef="p"/>
  </bpmn:collaboration>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" name="&quot; onload=&quot;alert(1)"/>
    <bpmn:task id="t&amp;x" name="&lt;script&gt;alert('x')&lt;/script&gt; &amp; more"/>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t&amp;x" name="]]&gt;&lt;!--"/>
    <bpmn:textAnnotation id="a"><bpmn:text>&lt;img src=x onerror=alert(3)&gt;</bpmn:text></bpmn:textAnnotation>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d" name="&lt;b&gt;diagram&lt;/b&gt;">
    <bpmndi:BPMNPlane id="pl" bpmnElement="c">
      <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true"><dc:Bounds x="0" y="0" width="600" height="200"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="60" y="80" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="t_di" bpmnElement="t&amp;x"><dc:Bounds x="150" y="58" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="a_di" bpmnElement="a"><dc:Bounds x="300" y="20" width="150" height="40"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="96" y="98"/><di:waypoint x="150" y="98"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_names_are_escaped_text_never_markup():
    parsed = parse(HOSTILE)
    text = render_svg(parsed.definitions, tree=parsed.tree, active=["t&x"])
    root = svg_tree(text)
    assert not root.xpath("//*[local-name()='script' or local-name()='img' or local-name()='b']")
    assert not root.xpath("//@onload | //@onerror")
    labels = "".join(root.xpath("//svg:tspan/text()", namespaces={"svg": SVG}))
    assert "<script>alert('x')</script>" in labels.replace("\n", "") or "<script>alert('x')</script>" in "".join(
        root.xpath("//svg:title/text()", namespaces={"svg": SVG}))
    assert "&lt;script&gt;" in text and "<script" not in text
    assert groups(root, "t&x")[0].get("data-state") == "active"
    assert root.get("aria-label") == "<b>diagram</b>"


def test_characters_xml_cannot_carry_are_dropped():
    from orchestrator.bpmn.render import esc

    assert esc("a\x00b\x1fc\ufffed") == "abcd"
    assert esc('<"&\'>') == "&lt;&quot;&amp;&#x27;&gt;"


def test_wrap_fits_words_cuts_long_ones_and_ellipsises_overflow():
    assert wrap("Check for fraud", 70) == ["Check for", "fraud"]
    assert all(len(line) <= 10 for line in wrap("Supercalifragilisticexpialidocious", 70))
    lines = wrap("one two three four five six seven eight nine ten", 40, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")


# -- no diagram interchange --------------------------------------------------------------------------

NO_DI = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="p" name="Orders &lt;v2&gt;" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:subProcess id="sub" name="Pack">
      <bpmn:startEvent id="inner_start"/>
      <bpmn:userTask id="pack" name="Pack &lt;items&gt;"/>
      <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="pack"/>
    </bpmn:subProcess>
    <bpmn:exclusiveGateway id="gw"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_file_without_di_is_drawn_as_a_list_of_its_flow_nodes_with_states():
    parsed = parse(NO_DI)
    svgs = render_all(parsed.definitions, tree=parsed.tree, active=["pack"], taken=["start"])
    assert len(svgs) == 1
    root = svg_tree(svgs[0])
    assert "baton-diagram-fallback" in root.get("class").split()
    rows = groups(root)
    assert [g.get("data-element") for g in rows] == ["start", "sub", "inner_start", "pack", "gw", "end"]
    assert groups(root, "pack")[0].get("data-state") == "active"
    assert groups(root, "start")[0].get("data-state") == "taken"
    texts = root.xpath("//svg:tspan/text()", namespaces={"svg": SVG})
    assert "Process Orders <v2> (p)" in texts
    assert any(t.startswith("Pack <items> · user task") for t in texts)
    # Nested nodes are indented under their sub-process.
    x = {g.get("data-element"): float(g.xpath(".//svg:tspan", namespaces={"svg": SVG})[0].get("x")) for g in rows}
    assert x["pack"] > x["sub"] == x["start"]


def test_the_corpus_files_without_di_get_the_fallback():
    for path in sorted((CORPUS / "camunda").glob("*.bpmn20.xml")):
        parsed = parse_file(str(path))
        if parsed.definitions.diagrams:
            continue
        root = svg_tree(render_svg(parsed.definitions, tree=parsed.tree))
        assert "baton-diagram-fallback" in root.get("class")
        assert len(groups(root)) == sum(len(p.flow_nodes) for p in parsed.definitions.processes.values())


def test_without_the_document_artifacts_are_plain_boxes_and_nothing_fails():
    parsed = parse_file(str(CORPUS / "miwg" / "C.1.0.bpmn"))
    root = svg_tree(render_svg(parsed.definitions))
    assert {g.get("data-kind") for g in groups(root)} >= {"participant", "lane", "userTask", "sequenceFlow"}
