"""A token that reaches an element the engine cannot run opens an incident naming why."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident
from tests.engine.builder import Model


def test_a_call_activity_fails_when_reached_and_not_before():
    m = Model().start().script("before", "x = 1").node("callActivity", "call", calledElement="child").end()
    m.chain("start", "before", "call", "end")
    result = m.engine().start()
    assert result.state["variables"] == {"x": 1}
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "call"
    assert "callActivity is not supported yet" in incident.message


def test_an_intermediate_timer_fails_when_reached():
    m = Model().start().node("intermediateCatchEvent", "wait", body=(
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>")).end()
    m.chain("start", "wait", "end")
    [incident] = [c for c in m.engine().start().commands if isinstance(c, OpenIncident)]
    assert "timer intermediateCatchEvent is not supported yet" in incident.message


def test_an_activity_with_an_unsupported_boundary_event_fails_at_the_boundary_event_not_silently():
    m = Model().start().user("work").node("boundaryEvent", "too_late", attachedToRef="work", body=(
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"))
    m.end().end("late_end")
    m.chain("start", "work", "end").chain("too_late", "late_end")
    result = m.engine().start()
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "too_late"
    assert "timer boundaryEvent is not supported yet" in incident.message
    assert result.state["jobs"] == {}  # the activity itself never started its work
