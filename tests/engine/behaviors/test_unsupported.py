"""A token that reaches an element the engine cannot run opens an incident naming why."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident
from tests.engine.builder import Model


def test_a_complex_gateway_fails_when_reached_and_not_before():
    m = Model().start().script("before", "x = 1").node("complexGateway", "cx").end()
    m.chain("start", "before", "cx", "end")
    result = m.engine().start()
    assert result.state["variables"] == {"x": 1}
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "cx"
    assert "complexGateway is not supported yet" in incident.message


def test_a_conditional_catch_event_fails_when_reached():
    m = Model().start().node("intermediateCatchEvent", "wait", body=(
        "<bpmn:conditionalEventDefinition><bpmn:condition>ready</bpmn:condition></bpmn:conditionalEventDefinition>"
    )).end()
    m.chain("start", "wait", "end")
    [incident] = [c for c in m.engine().start().commands if isinstance(c, OpenIncident)]
    assert "conditional intermediateCatchEvent is not supported yet" in incident.message


def test_an_activity_with_an_unsupported_boundary_event_fails_at_the_boundary_event_not_silently():
    m = Model().start().user("work").node("boundaryEvent", "too_late", attachedToRef="work", body=(
        "<bpmn:conditionalEventDefinition><bpmn:condition>late</bpmn:condition></bpmn:conditionalEventDefinition>"))
    m.end().end("late_end")
    m.chain("start", "work", "end").chain("too_late", "late_end")
    result = m.engine().start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "too_late"
    assert "conditional boundaryEvent is not supported yet" in incident.message
    assert result.state["jobs"] == {}  # the activity itself never started its work
