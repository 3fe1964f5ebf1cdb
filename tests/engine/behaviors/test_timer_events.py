"""Timer events: intermediate catch, boundary (interrupting and cycles), in an event-based
gateway and as event sub-process starts; driven by a virtual clock (`now`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from orchestrator.runtime.commands import CancelJob, OpenIncident, ScheduleTimer, Unsubscribe
from orchestrator.runtime.events import JobCompleted, TimerFired
from orchestrator.runtime.simulator import AdvanceTime, simulate
from tests.engine.builder import Model, completed_ids, job_at

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def _timer(kind: str, value: str) -> str:
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>"


def schedules(result) -> list[ScheduleTimer]:
    return [c for c in result.commands if isinstance(c, ScheduleTimer)]


def test_intermediate_timer_waits_until_fired():
    m = Model().start().node("intermediateCatchEvent", "wait", body=_timer("timeDuration", "PT10M")).end()
    m.chain("start", "wait", "end")
    engine = m.engine()
    first = engine.start(now=T0)
    [timer] = schedules(first)
    assert datetime.fromisoformat(timer.due) == T0 + timedelta(minutes=10)
    assert first.status == "running"
    done = engine.handle(first.state, TimerFired(timer.subscription), now=T0 + timedelta(minutes=10))
    assert done.status == "completed"


def test_a_python_timer_expression_reads_a_variable():
    m = Model().start().node("intermediateCatchEvent", "wait", body=_timer("timeDate", "due")).end()
    m.chain("start", "wait", "end")
    [timer] = schedules(m.engine().start({"due": "2026-03-02T08:00:00+00:00"}, now=T0))
    assert datetime.fromisoformat(timer.due) == datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def test_an_unreadable_timer_opens_an_incident_naming_the_element():
    m = Model().start().node("intermediateCatchEvent", "wait", body=_timer("timeDuration", "1w")).end()
    m.chain("start", "wait", "end")
    [incident] = [c for c in m.engine().start(now=T0).commands if isinstance(c, OpenIncident)]
    assert incident.element == "wait" and "cannot wait for this event" in incident.message


def test_interrupting_timer_boundary_cancels_the_task():
    m = Model().start().user("approve").node("boundaryEvent", "too_late", attachedToRef="approve",
                                             body=_timer("timeDuration", "P2D")).end().end("escalated")
    m.chain("start", "approve", "end").chain("too_late", "escalated")
    engine = m.engine()
    first = engine.start(now=T0)
    job = job_at(first.state, "approve")
    [timer] = schedules(first)
    fired = engine.handle(first.state, TimerFired(timer.subscription), now=T0 + timedelta(days=2))
    assert completed_ids(fired.history) == ["too_late", "escalated"]
    assert [c.job for c in fired.commands if isinstance(c, CancelJob)] == [job]
    assert fired.status == "completed"


def test_a_timer_whose_activity_completed_first_is_cancelled_in_the_same_step():
    m = Model().start().user("approve").node("boundaryEvent", "too_late", attachedToRef="approve",
                                             body=_timer("timeDuration", "P2D")).end().end("escalated")
    m.chain("start", "approve", "end").chain("too_late", "escalated")
    engine = m.engine()
    first = engine.start(now=T0)
    [timer] = schedules(first)
    done = engine.handle(first.state, JobCompleted(job_at(first.state, "approve"), {}), now=T0)
    assert [c.subscription for c in done.commands if isinstance(c, Unsubscribe)] == [timer.subscription]
    late = engine.handle(done.state, TimerFired(timer.subscription), now=T0 + timedelta(days=2))
    assert late.ignored is not None


def test_a_non_interrupting_cycle_fires_up_to_its_repetitions_while_the_task_is_open():
    m = Model().start().user("work").node("boundaryEvent", "remind", attachedToRef="work", cancelActivity="false",
                                          body=_timer("timeCycle", "R3/PT1H"))
    m.script("count", "reminders = reminders + 1").end().end("reminded")
    m.chain("start", "work", "end").chain("remind", "count", "reminded")
    engine = m.engine()
    result = engine.start({"reminders": 0}, now=T0)
    dues = []
    for hour in range(1, 6):
        timers = schedules(result)
        if not timers:
            break
        dues.append(datetime.fromisoformat(timers[0].due))
        result = engine.handle(result.state, TimerFired(timers[0].subscription), now=T0 + timedelta(hours=hour))
    assert dues == [T0 + timedelta(hours=h) for h in (1, 2, 3)]
    assert result.state["variables"]["reminders"] == 3
    assert [t["node"] for t in result.state["tokens"].values()] == ["work"]


def test_simulate_advances_a_virtual_clock_and_fires_due_timers_in_order():
    m = Model().start().par("fork").node("intermediateCatchEvent", "short", body=_timer("timeDuration", "PT1M"))
    m.node("intermediateCatchEvent", "long", body=_timer("timeDuration", "PT5M")).par("join").end()
    m.chain("start", "fork").flow("fork", "short").flow("fork", "long").chain("short", "join").chain("long", "join")
    m.chain("join", "end")
    definitions = m.definitions()
    waiting = simulate(definitions, actions=[AdvanceTime(120)], now=T0)
    assert waiting.state == "waiting" and "short" in waiting.completed and "long" not in waiting.completed
    done = simulate(definitions, actions=[AdvanceTime(120), AdvanceTime(300)], now=T0)
    assert done.state == "completed" and done.completed.index("short") < done.completed.index("long")


def test_event_gateway_with_a_timer_and_a_message_the_timer_wins_when_nothing_arrives():
    m = Model().start().node("eventBasedGateway", "gw")
    m.extra_root = '<bpmn:message id="m" name="reply"/>'
    m.node("intermediateCatchEvent", "reply", body='<bpmn:messageEventDefinition messageRef="m"/>')
    m.node("intermediateCatchEvent", "timeout", body=_timer("timeDuration", "PT30S")).end("answered").end("gave_up")
    m.chain("start", "gw").flow("gw", "reply").flow("gw", "timeout").chain("reply", "answered")
    m.chain("timeout", "gave_up")
    result = simulate(m.definitions(), actions=[AdvanceTime(31)], now=T0)
    assert result.state == "completed" and result.completed[-2:] == ["timeout", "gave_up"]


def test_interrupting_timer_event_sub_process_cancels_the_main_flow():
    m = Model().start().user("work").end()
    m.chain("start", "work", "end")
    m.sub("deadline", triggeredByEvent="true")
    m.node("startEvent", "d_start", scope="deadline", body=_timer("timeDuration", "PT1H"))
    m.script("d_mark", "expired = True", scope="deadline").end("d_end", scope="deadline")
    m.chain("d_start", "d_mark", "d_end")
    result = simulate(m.definitions(), actions=[AdvanceTime(3600)], now=T0)
    assert result.state == "completed" and result.variables == {"expired": True}
    assert "work" not in result.completed
