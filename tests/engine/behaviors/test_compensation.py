"""Compensation (sagas) and transactions with cancel end events."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident
from orchestrator.runtime.simulator import simulate
from tests.engine.builder import Model

COMP = "<bpmn:compensateEventDefinition/>"


def _saga() -> Model:
    """book flight -> book hotel -> charge; if the card is declined, undo in reverse order."""
    m = Model().start()
    for step in ("flight", "hotel"):
        m.script(step, f"booked = booked + ['{step}']")
        m.node("boundaryEvent", f"undo_{step}_b", attachedToRef=step, body=COMP)
        m.script(f"undo_{step}", f"cancelled = cancelled + ['{step}']", isForCompensation="true")
        m.extra_process += f'<bpmn:association id="a_{step}" sourceRef="undo_{step}_b" targetRef="undo_{step}"/>\n'
    m.xor("charge", default="charge_ok").node("intermediateThrowEvent", "compensate_all", body=COMP).end("failed")
    m.end("paid")
    m.chain("start", "flight", "hotel", "charge").flow("charge", "compensate_all", "card_declined", flow_id="charge_bad")
    m.flow("charge", "paid", flow_id="charge_ok").chain("compensate_all", "failed")
    return m


def _run(m: Model, variables: dict):
    return simulate(m.definitions(), variables=variables)


def test_compensation_runs_the_handlers_of_completed_activities_in_reverse_order():
    result = _run(_saga(), {"booked": [], "cancelled": [], "card_declined": True})
    assert result.state == "completed"
    assert result.variables["cancelled"] == ["hotel", "flight"]
    assert result.completed[-4:] == ["undo_hotel", "undo_flight", "compensate_all", "failed"]


def test_without_compensation_the_handlers_never_run():
    result = _run(_saga(), {"booked": [], "cancelled": [], "card_declined": False})
    assert result.state == "completed" and result.variables["cancelled"] == []
    assert "undo_hotel" not in result.completed


def test_an_activity_is_compensated_once():
    m = _saga()
    m.nodes = [n for n in m.nodes if n[1] != "failed"]
    m.flows = [f for f in m.flows if f[0] != "compensate_all_failed"]
    m.node("intermediateThrowEvent", "again", body=COMP).end("failed")
    m.chain("compensate_all", "again", "failed")
    result = _run(m, {"booked": [], "cancelled": [], "card_declined": True})
    assert result.variables["cancelled"] == ["hotel", "flight"]


TRANSACTION = """<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="tx" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:transaction id="booking">
      <bpmn:startEvent id="ts"/>
      <bpmn:scriptTask id="reserve"><bpmn:script>reserved = True</bpmn:script></bpmn:scriptTask>
      <bpmn:boundaryEvent id="reserve_comp" attachedToRef="reserve"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      <bpmn:scriptTask id="release" isForCompensation="true"><bpmn:script>reserved = False
released = True</bpmn:script></bpmn:scriptTask>
      <bpmn:exclusiveGateway id="ok" default="fine"/>
      <bpmn:endEvent id="te"/>
      <bpmn:endEvent id="abort"><bpmn:cancelEventDefinition/></bpmn:endEvent>
      <bpmn:sequenceFlow id="t1" sourceRef="ts" targetRef="reserve"/>
      <bpmn:sequenceFlow id="t2" sourceRef="reserve" targetRef="ok"/>
      <bpmn:sequenceFlow id="fine" sourceRef="ok" targetRef="te"/>
      <bpmn:sequenceFlow id="bad" sourceRef="ok" targetRef="abort"><bpmn:conditionExpression>cancel</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:association id="a1" sourceRef="reserve_comp" targetRef="release"/>
    </bpmn:transaction>
    <bpmn:boundaryEvent id="cancelled" attachedToRef="booking"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>
    <bpmn:endEvent id="done"/><bpmn:endEvent id="undone"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="booking"/>
    <bpmn:sequenceFlow id="f2" sourceRef="booking" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="cancelled" targetRef="undone"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_cancel_end_event_compensates_the_transaction_and_leaves_by_its_cancel_boundary():
    from orchestrator.bpmn.parser import parse

    definitions = parse(TRANSACTION).definitions
    done = simulate(definitions, variables={"cancel": False})
    assert done.state == "completed" and done.completed[-2:] == ["booking", "done"]
    assert done.variables["reserved"] is True
    undone = simulate(definitions, variables={"cancel": True})
    assert undone.state == "completed" and undone.completed[-2:] == ["cancelled", "undone"]
    assert undone.variables["reserved"] is False and undone.variables["released"] is True
    assert "booking" not in undone.completed


def test_a_cancel_end_event_outside_a_transaction_opens_an_incident():
    m = Model().start().node("endEvent", "abort", body="<bpmn:cancelEventDefinition/>")
    m.chain("start", "abort")
    [incident] = [c for c in m.engine().start().commands if isinstance(c, OpenIncident)]
    assert incident.element == "abort" and "inside a transaction" in incident.message
