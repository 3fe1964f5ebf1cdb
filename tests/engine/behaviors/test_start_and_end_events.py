"""Start events, none and terminate end events, intermediate none throw events."""
from __future__ import annotations

import pytest

from orchestrator.errors import EngineError
from orchestrator.runtime.commands import CancelJob
from orchestrator.runtime.events import JobCompleted
from tests.engine.builder import Model, completed_ids, job_at


def test_none_start_to_none_end_completes_with_no_token_left():
    m = Model().start().end()
    m.flow("start", "end")
    result = m.engine().start()
    assert result.status == "completed"
    assert result.state["tokens"] == {}
    assert completed_ids(result.history) == ["start", "end"]


def test_intermediate_none_throw_event_passes_the_token():
    m = Model().start().node("intermediateThrowEvent", "milestone").end()
    m.chain("start", "milestone", "end")
    result = m.engine().start()
    assert completed_ids(result.history) == ["start", "milestone", "end"]


def test_a_start_event_with_two_outgoing_flows_splits():
    m = Model().start().user("a").user("b").end("ea").end("eb")
    m.flow("start", "a").flow("start", "b").flow("a", "ea").flow("b", "eb")
    result = m.engine().start()
    assert sorted(t["node"] for t in result.state["tokens"].values()) == ["a", "b"]


def test_starting_at_a_named_start_event():
    m = Model().start("s1").start("s2").task("t1").task("t2").end()
    m.chain("s1", "t1", "end").chain("s2", "t2", "end")
    result = m.engine().start(start_event="s2")
    assert completed_ids(result.history) == ["s2", "t2", "end"]


def test_starting_at_something_that_is_not_a_start_event_is_refused():
    m = Model().start().task("t").end()
    m.chain("start", "t", "end")
    with pytest.raises(EngineError, match="'t' is not a start event"):
        m.engine().start(start_event="t")


def test_terminate_end_event_at_process_level_ends_every_token_and_cancels_their_jobs():
    m = Model().start().par("split").service("slow", "echo").user("person").terminate("stop").end()
    m.chain("start", "split").flow("split", "slow").flow("split", "person").flow("split", "stop")
    m.flow("slow", "end").flow("person", "end")
    result = m.engine().start()
    assert result.status == "terminated"
    assert result.state["tokens"] == {}
    cancelled = sorted(c.element for c in result.commands if isinstance(c, CancelJob))
    assert cancelled == ["person", "slow"]
    history = [(h["event"], h["element"]) for h in result.history if h["event"] == "cancelled"]
    assert sorted(history) == [("cancelled", "person"), ("cancelled", "slow")]


def test_terminate_inside_a_sub_process_ends_only_the_sub_process_and_the_parent_continues():
    m = Model().start().sub("sp").task("after").end()
    m.chain("start", "sp", "after", "end")
    m.start("s_in", scope="sp").par("fork", scope="sp").user("wait_in", scope="sp").terminate("stop_in", scope="sp")
    m.end("e_in", scope="sp")
    m.chain("s_in", "fork").flow("fork", "wait_in").flow("fork", "stop_in").flow("wait_in", "e_in")
    result = m.engine().start()
    assert result.status == "completed"
    assert completed_ids(result.history)[-3:] == ["sp", "after", "end"]
    assert [c.element for c in result.commands if isinstance(c, CancelJob)] == ["wait_in"]


def test_a_late_completion_after_terminate_is_ignored():
    m = Model().start().par("split").user("person").user("other").terminate("stop").end("e1").end("e2")
    m.chain("start", "split").flow("split", "person").flow("split", "other").flow("person", "stop")
    m.flow("other", "e2")
    engine = m.engine()
    first = engine.start()
    job_person, job_other = job_at(first.state, "person"), job_at(first.state, "other")
    terminated = engine.handle(first.state, JobCompleted(job_person, {}))
    assert terminated.status == "terminated"
    late = engine.handle(terminated.state, JobCompleted(job_other, {"x": 1}))
    assert late.ignored == "the instance is terminated"
    assert late.state["variables"] == {}
