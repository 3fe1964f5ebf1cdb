"""Embedded sub-processes are scopes: they complete when no token is left inside."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident
from orchestrator.runtime.events import JobCompleted
from tests.engine.builder import Model, completed_ids, job_at


def _model() -> Model:
    m = Model().start().sub("sp").script("after", "after = True").end()
    m.chain("start", "sp", "after", "end")
    m.start("s_in", scope="sp").par("fork", scope="sp").user("a", scope="sp").user("b", scope="sp")
    m.end("ea", scope="sp").end("eb", scope="sp")
    m.chain("s_in", "fork").flow("fork", "a").flow("fork", "b").chain("a", "ea").chain("b", "eb")
    return m


def test_the_sub_process_completes_only_when_no_token_is_left_inside():
    engine = _model().engine()
    state = engine.start().state
    assert sorted(t["node"] for t in state["tokens"].values()) == ["a", "b", "sp"]
    half = engine.handle(state, JobCompleted(job_at(state, "a"), {}))
    assert "sp" not in completed_ids(half.history)
    done = engine.handle(half.state, JobCompleted(job_at(half.state, "b"), {}))
    assert completed_ids(done.history) == ["b", "eb", "sp", "after", "end"]
    assert done.status == "completed"
    assert list(done.state["scopes"]) == ["0"]


def test_variables_written_inside_are_process_variables():
    m = Model().start().sub("sp").end()
    m.chain("start", "sp", "end")
    m.start("s_in", scope="sp").script("inner", "x = 42", scope="sp").end("e_in", scope="sp")
    m.chain("s_in", "inner", "e_in")
    assert m.engine().start().state["variables"] == {"x": 42}


def test_nested_sub_processes_and_a_sub_process_without_a_start_event():
    m = Model().start().sub("outer").end()
    m.chain("start", "outer", "end")
    m.sub("inner", scope="outer").script("mark", "y = 1", scope="outer")
    m.chain("inner", "mark")
    m.script("deep", "x = 1", scope="inner")  # no start event: begins at nodes without incoming flows
    result = m.engine().start()
    assert result.status == "completed"
    assert result.state["variables"] == {"x": 1, "y": 1}
    assert completed_ids(result.history) == ["start", "deep", "inner", "mark", "outer", "end"]


def test_an_incident_inside_holds_the_sub_process():
    m = Model().start().sub("sp").end()
    m.chain("start", "sp", "end")
    m.start("s_in", scope="sp").script("bad", "1 / 0", scope="sp").end("e_in", scope="sp")
    m.chain("s_in", "bad", "e_in")
    result = m.engine().start()
    assert result.status == "running"
    assert [c.element for c in result.commands if isinstance(c, OpenIncident)] == ["bad"]
