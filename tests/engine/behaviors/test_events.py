"""Message, signal, error and escalation events; boundary events; event-based gateways; event
sub-processes. (Timers: test_timer_events.py.)"""
from __future__ import annotations

from orchestrator.runtime.commands import (
    BroadcastSignal, CancelJob, Escalate, OpenIncident, RunServiceTask, SendMessage, Subscribe, Unsubscribe,
)
from orchestrator.runtime.events import JobCompleted, JobFailed, MessageReceived, SignalReceived
from tests.engine.builder import Model, completed_ids, job_at

MESSAGES = ('<bpmn:message id="m_paid" name="paid"/>\n<bpmn:message id="m_cancel" name="cancel"/>\n'
            '<bpmn:signal id="s_stop" name="stop"/>\n<bpmn:error id="e_card" errorCode="CARD_DECLINED"/>\n'
            '<bpmn:escalation id="esc_late" escalationCode="LATE"/>\n')


def _event(kind: str, ref: str | None = None) -> str:
    attr = {"message": "messageRef", "signal": "signalRef", "error": "errorRef", "escalation": "escalationRef"}
    return f'<bpmn:{kind}EventDefinition {attr[kind]}="{ref}"/>' if ref else f"<bpmn:{kind}EventDefinition/>"


def _model() -> Model:
    m = Model()
    m.extra_root = MESSAGES
    return m


def subscription(result, element: str) -> Subscribe:
    [command] = [c for c in result.commands if isinstance(c, Subscribe) and c.element == element]
    return command


def test_message_catch_event_waits_and_merges_the_payload():
    m = _model().start().node("intermediateCatchEvent", "wait_paid", body=_event("message", "m_paid")).end()
    m.chain("start", "wait_paid", "end")
    engine = m.engine()
    first = engine.start()
    sub = subscription(first, "wait_paid")
    assert (sub.kind, sub.name) == ("message", "paid")
    done = engine.handle(first.state, MessageReceived(sub.subscription, {"amount": 10}))
    assert done.status == "completed" and done.state["variables"] == {"amount": 10}
    again = engine.handle(done.state, MessageReceived(sub.subscription, {"amount": 99}))
    assert again.ignored is not None


def test_interrupting_message_boundary_cancels_the_activity_and_its_job():
    m = _model().start().service("work", "slow").node("boundaryEvent", "cancelled", attachedToRef="work",
                                                      body=_event("message", "m_cancel"))
    m.end("done").end("stopped")
    m.chain("start", "work", "done").chain("cancelled", "stopped")
    engine = m.engine()
    first = engine.start()
    job = job_at(first.state, "work")
    sub = subscription(first, "cancelled")
    fired = engine.handle(first.state, MessageReceived(sub.subscription))
    assert fired.status == "completed"
    assert completed_ids(fired.history) == ["cancelled", "stopped"]
    assert [c.job for c in fired.commands if isinstance(c, CancelJob)] == [job]
    late = engine.handle(fired.state, JobCompleted(job, {"x": 1}))
    assert late.ignored is not None


def test_the_boundary_stops_watching_when_the_activity_completes():
    m = _model().start().user("work").node("boundaryEvent", "cancelled", attachedToRef="work",
                                           body=_event("message", "m_cancel")).end("done").end("stopped")
    m.chain("start", "work", "done").chain("cancelled", "stopped")
    engine = m.engine()
    first = engine.start()
    sub = subscription(first, "cancelled")
    done = engine.handle(first.state, JobCompleted(job_at(first.state, "work"), {}))
    assert [c.subscription for c in done.commands if isinstance(c, Unsubscribe)] == [sub.subscription]
    assert done.state["subscriptions"] == {}


def test_non_interrupting_signal_boundary_adds_a_path_and_keeps_the_activity():
    m = _model().start().user("work").node("boundaryEvent", "remind", attachedToRef="work", cancelActivity="false",
                                           body=_event("signal", "s_stop"))
    m.script("count", "reminders = reminders + 1").end("done").end("reminded")
    m.chain("start", "work", "done").chain("remind", "count", "reminded")
    engine = m.engine()
    state = engine.start({"reminders": 0}).state
    sub = next(iter(state["subscriptions"]))
    for _ in range(2):
        state = engine.handle(state, SignalReceived(sub)).state
    assert state["variables"]["reminders"] == 2
    assert [t["node"] for t in state["tokens"].values()] == ["work"]
    done = engine.handle(state, JobCompleted(job_at(state, "work"), {}))
    assert done.status == "completed"


def test_event_based_gateway_the_first_event_wins_and_the_others_are_cancelled():
    m = _model().start().node("eventBasedGateway", "gw")
    m.node("intermediateCatchEvent", "on_paid", body=_event("message", "m_paid"))
    m.node("receiveTask", "on_cancel", messageRef="m_cancel")
    m.node("intermediateCatchEvent", "on_stop", body=_event("signal", "s_stop"))
    m.end("e1").end("e2").end("e3")
    m.chain("start", "gw").flow("gw", "on_paid").flow("gw", "on_cancel").flow("gw", "on_stop")
    m.chain("on_paid", "e1").chain("on_cancel", "e2").chain("on_stop", "e3")
    engine = m.engine()
    first = engine.start()
    subs = {c.element: c.subscription for c in first.commands if isinstance(c, Subscribe)}
    assert set(subs) == {"on_paid", "on_cancel", "on_stop"}
    won = engine.handle(first.state, MessageReceived(subs["on_cancel"], {"why": "changed mind"}))
    assert won.status == "completed"
    assert completed_ids(won.history) == ["gw", "on_cancel", "e2"]
    assert sorted(c.subscription for c in won.commands if isinstance(c, Unsubscribe)) == sorted(
        [subs["on_paid"], subs["on_stop"], subs["on_cancel"]])
    assert engine.handle(won.state, MessageReceived(subs["on_paid"])).ignored is not None


def test_a_business_error_from_a_plugin_is_caught_by_the_error_boundary_with_its_code():
    m = _model().start().service("charge", "payments.charge")
    m.node("boundaryEvent", "declined", attachedToRef="charge", body=_event("error", "e_card"))
    m.end("paid").end("refused")
    m.chain("start", "charge", "paid").chain("declined", "refused")
    engine = m.engine()
    first = engine.start()
    caught = engine.handle(first.state, JobFailed(job_at(first.state, "charge"), "card declined",
                                                  code="CARD_DECLINED", variables={"reason": "limit"}))
    assert caught.status == "completed"
    assert completed_ids(caught.history) == ["declined", "refused"]
    assert caught.state["variables"] == {"reason": "limit"}


def test_an_uncaught_business_error_opens_an_incident_naming_the_code():
    m = _model().start().service("charge", "payments.charge").end()
    m.chain("start", "charge", "end")
    engine = m.engine()
    first = engine.start()
    failed = engine.handle(first.state, JobFailed(job_at(first.state, "charge"), "nope", code="OTHER"))
    [incident] = [c for c in failed.commands if isinstance(c, OpenIncident)]
    assert incident.element == "charge" and "'OTHER' was not caught" in incident.message


def test_an_error_end_event_in_a_sub_process_reaches_the_sub_process_boundary():
    m = _model().start().sub("sp").end("ok").end("handled")
    m.node("boundaryEvent", "on_error", attachedToRef="sp", body=_event("error"))  # catch-all
    m.chain("start", "sp", "ok").chain("on_error", "handled")
    m.start("s_in", scope="sp").par("fork", scope="sp").user("wait", scope="sp")
    m.node("endEvent", "fail", scope="sp", body=_event("error", "e_card")).end("e_in", scope="sp")
    m.chain("s_in", "fork").flow("fork", "wait").flow("fork", "fail").chain("wait", "e_in")
    result = m.engine().start()
    assert result.status == "completed"
    assert completed_ids(result.history)[-2:] == ["on_error", "handled"]
    assert [c.element for c in result.commands if isinstance(c, CancelJob)] == ["wait"]
    assert list(result.state["scopes"]) == ["0"]


def test_an_error_event_sub_process_catches_an_error_in_its_scope_and_interrupts_it():
    m = _model().start().user("work").end()
    m.chain("start", "work", "end")
    m.sub("handler", triggeredByEvent="true")
    m.node("startEvent", "h_start", scope="handler", body=_event("error", "e_card"))
    m.script("h_do", "handled = True", scope="handler").end("h_end", scope="handler")
    m.chain("h_start", "h_do", "h_end")
    m.node("intermediateThrowEvent", "never", body="")  # an unrelated milestone, never reached
    engine = m.engine()
    first = engine.start()
    failed = engine.handle(first.state, JobFailed(job_at(first.state, "work"), "bad card", code="CARD_DECLINED"))
    assert failed.status == "completed"
    assert failed.state["variables"] == {"handled": True}
    assert "h_end" in completed_ids(failed.history) and "end" not in completed_ids(failed.history)


def test_non_interrupting_message_event_sub_process_runs_beside_the_main_flow():
    m = _model().start().user("work").end()
    m.chain("start", "work", "end")
    m.sub("on_paid", triggeredByEvent="true")
    m.node("startEvent", "p_start", scope="on_paid", isInterrupting="false", body=_event("message", "m_paid"))
    m.script("p_note", "notes = notes + 1", scope="on_paid").end("p_end", scope="on_paid")
    m.chain("p_start", "p_note", "p_end")
    engine = m.engine()
    first = engine.start({"notes": 0})
    sub = subscription(first, "p_start")
    state = engine.handle(first.state, MessageReceived(sub.subscription)).state
    state = engine.handle(state, MessageReceived(sub.subscription)).state
    assert state["variables"]["notes"] == 2 and state["status"] == "running"
    done = engine.handle(state, JobCompleted(job_at(state, "work"), {}))
    assert done.status == "completed"
    assert any(isinstance(c, Unsubscribe) and c.subscription == sub.subscription for c in done.commands)


def test_escalation_end_event_reaches_a_non_interrupting_escalation_boundary():
    m = _model().start().sub("sp").end("ok").end("escalated")
    m.node("boundaryEvent", "on_late", attachedToRef="sp", cancelActivity="false", body=_event("escalation", "esc_late"))
    m.chain("start", "sp", "ok").chain("on_late", "escalated")
    m.start("s_in", scope="sp").node("intermediateThrowEvent", "shout", scope="sp", body=_event("escalation", "esc_late"))
    m.end("e_in", scope="sp")
    m.chain("s_in", "shout", "e_in")
    result = m.engine().start()
    assert result.status == "completed"
    assert {"escalated", "ok", "e_in"} <= set(completed_ids(result.history))


def test_an_uncaught_escalation_is_reported_and_the_instance_goes_on():
    m = _model().start().node("intermediateThrowEvent", "shout", body=_event("escalation", "esc_late")).end()
    m.chain("start", "shout", "end")
    result = m.engine().start()
    assert result.status == "completed"
    assert [(c.code, c.element) for c in result.commands if isinstance(c, Escalate)] == [("LATE", "shout")]


def test_a_signal_thrown_by_the_instance_is_broadcast_and_a_message_is_sent():
    m = _model().start().node("intermediateThrowEvent", "tell", body=_event("signal", "s_stop"))
    m.node("endEvent", "reply", body=_event("message", "m_paid"))
    m.chain("start", "tell", "reply")
    result = m.engine().start()
    assert [c.name for c in result.commands if isinstance(c, BroadcastSignal)] == ["stop"]
    assert [c.name for c in result.commands if isinstance(c, SendMessage)] == ["paid"]
    assert result.status == "completed"


def test_link_events_jump_within_the_scope():
    m = _model().start().node("intermediateThrowEvent", "go", body='<bpmn:linkEventDefinition name="L"/>')
    m.node("intermediateCatchEvent", "land", body='<bpmn:linkEventDefinition name="L"/>').end()
    m.chain("start", "go").chain("land", "end")
    result = m.engine().start()
    assert completed_ids(result.history) == ["start", "go", "land", "end"]


def test_an_unbound_send_task_sends_its_message():
    m = _model().start().node("sendTask", "notify", messageRef="m_paid").end()
    m.chain("start", "notify", "end")
    result = m.engine().start()
    assert [c.name for c in result.commands if isinstance(c, SendMessage)] == ["paid"]
    assert not [c for c in result.commands if isinstance(c, RunServiceTask)]


def test_call_activity_in_simulate_runs_the_child_with_mappings_and_catches_its_error():
    from orchestrator.bpmn.parser import parse
    from orchestrator.runtime.simulator import simulate

    xml = """<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:error id="e" errorCode="TOO_BIG"/>
  <bpmn:process id="parent" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call" calledElement="child">
      <bpmn:extensionElements><camunda:in source="x" target="n"/><camunda:out source="doubled" target="y"/>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:boundaryEvent id="big" attachedToRef="call"><bpmn:errorEventDefinition errorRef="e"/></bpmn:boundaryEvent>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e1"/>
    <bpmn:sequenceFlow id="f3" sourceRef="big" targetRef="e2"/>
  </bpmn:process>
  <bpmn:process id="child" isExecutable="true">
    <bpmn:startEvent id="cs"/>
    <bpmn:scriptTask id="double"><bpmn:script>doubled = n * 2
secret = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="g" default="ok"/>
    <bpmn:endEvent id="ce"/>
    <bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="e"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="cs" targetRef="double"/>
    <bpmn:sequenceFlow id="c2" sourceRef="double" targetRef="g"/>
    <bpmn:sequenceFlow id="ok" sourceRef="g" targetRef="ce"/>
    <bpmn:sequenceFlow id="bad" sourceRef="g" targetRef="boom">
      <bpmn:conditionExpression>doubled &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""
    definitions = parse(xml).definitions
    small = simulate(definitions, process_id="parent", variables={"x": 4})
    assert small.state == "completed" and small.variables == {"x": 4, "y": 8}
    big = simulate(definitions, process_id="parent", variables={"x": 60})
    assert big.state == "completed" and big.completed[-2:] == ["big", "e2"]


def test_a_message_correlation_key_named_by_the_model_is_evaluated_when_the_subscription_opens():
    m = Model().start().node("intermediateCatchEvent", "wait", body='<bpmn:messageEventDefinition messageRef="m"/>').end()
    m.extra_root = ('<bpmn:message id="m" name="paid"><bpmn:extensionElements>'
                    '<zeebe:subscription xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" correlationKey="=order.id"/>'
                    "</bpmn:extensionElements></bpmn:message>")
    m.chain("start", "wait", "end")
    [sub] = [c for c in m.engine().start({"order": {"id": "A-17"}}).commands if isinstance(c, Subscribe)]
    assert (sub.name, sub.correlation_key) == ("paid", "A-17")
