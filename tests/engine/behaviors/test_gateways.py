"""Exclusive, parallel and inclusive gateways."""
from __future__ import annotations

from orchestrator.runtime.commands import OpenIncident
from orchestrator.runtime.events import JobCompleted
from tests.engine.builder import Model, completed_ids, job_at


# -- exclusive -------------------------------------------------------------------------------------

def _xor(default: bool = True) -> Model:
    m = Model().start().xor("g", default="g_low" if default else None).task("high").task("mid").task("low").end()
    m.chain("start", "g").flow("g", "high", "x > 10").flow("g", "mid", "x > 5").flow("g", "low")
    m.chain("high", "end").chain("mid", "end").chain("low", "end")
    return m


def test_exclusive_takes_the_first_true_condition_in_document_order():
    engine = _xor().engine()
    assert "high" in completed_ids(engine.start({"x": 20}).history)
    ran = completed_ids(engine.start({"x": 7}).history)
    assert "mid" in ran and "high" not in ran


def test_exclusive_takes_the_default_when_no_condition_holds():
    ran = completed_ids(_xor().engine().start({"x": 1}).history)
    assert "low" in ran and "mid" not in ran


def test_exclusive_with_no_true_condition_and_no_default_opens_an_incident():
    m = Model().start().xor("g").task("a").end()
    m.chain("start", "g").flow("g", "a", "x > 1").chain("a", "end")
    result = m.engine().start({"x": 0})
    [incident] = [c for c in result.commands if isinstance(c, OpenIncident)]
    assert incident.element == "g" and "no outgoing sequence flow" in incident.message


def test_exclusive_condition_written_in_juel_is_translated():
    m = Model().start().xor("g", default="g_no").task("yes").task("no").end()
    m.chain("start", "g").flow("g", "yes", "${approved && amount gt 100}").flow("g", "no")
    m.chain("yes", "end").chain("no", "end")
    engine = m.engine()
    assert "yes" in completed_ids(engine.start({"approved": True, "amount": 200}).history)
    assert "no" in completed_ids(engine.start({"approved": True, "amount": 50}).history)


def test_a_condition_that_raises_opens_an_incident_naming_the_flow():
    m = Model().start().xor("g", default="g_b").task("a").task("b").end()
    m.chain("start", "g").flow("g", "a", "missing > 1").flow("g", "b").chain("a", "end").chain("b", "end")
    [incident] = [c for c in m.engine().start().commands if isinstance(c, OpenIncident)]
    assert "g_a" in incident.message and incident.element == "g"


def test_exclusive_merge_passes_every_token():
    m = Model().start().par("fork").task("a").task("b").xor("merge").script("count", "n = n + 1").end()
    m.chain("start", "fork").flow("fork", "a").flow("fork", "b").chain("a", "merge").chain("b", "merge")
    m.chain("merge", "count", "end")
    result = m.engine().start({"n": 0})
    assert result.state["variables"]["n"] == 2  # no synchronisation: the rest runs twice
    assert result.status == "completed"


# -- parallel --------------------------------------------------------------------------------------

def _diamond() -> Model:
    m = Model().start().par("fork").user("a").user("b").user("c").par("join").script("after", "done = True").end()
    m.chain("start", "fork").flow("fork", "a").flow("fork", "b").flow("fork", "c")
    m.chain("a", "join").chain("b", "join").chain("c", "join").chain("join", "after", "end")
    return m


def test_parallel_join_waits_for_a_token_on_every_incoming_flow():
    engine = _diamond().engine()
    state = engine.start().state
    for element in ("b", "a"):
        result = engine.handle(state, JobCompleted(job_at(state, element), {element: 1}))
        state = result.state
        assert "join" not in completed_ids(result.history)
        assert state["status"] == "running"
    result = engine.handle(state, JobCompleted(job_at(state, "c"), {"c": 1}))
    assert completed_ids(result.history) == ["c", "join", "after", "end"]
    assert result.status == "completed"
    assert result.state["variables"] == {"a": 1, "b": 1, "c": 1, "done": True}
    assert result.state["joins"] == {}


def test_parallel_branch_writes_land_in_completion_order():
    engine = _diamond().engine()
    state = engine.start().state
    for element, value in (("c", 3), ("a", 1), ("b", 2)):
        state = engine.handle(state, JobCompleted(job_at(state, element), {"last": value})).state
    assert state["variables"]["last"] == 2


def test_parallel_join_that_gets_two_tokens_on_one_flow_keeps_the_second_for_the_next_firing():
    m = Model().start().par("fork").task("a1").task("a2").user("b").par("join").end()
    m.chain("start", "fork").flow("fork", "a1").flow("fork", "a2").flow("fork", "b")
    m.flow("a1", "join", flow_id="fa").flow("a2", "join", flow_id="fa2").chain("b", "join").chain("join", "end")
    # a1 and a2 both arrive before b: the join needs all three flows, so it waits for b
    engine = m.engine()
    first = engine.start()
    assert "join" not in completed_ids(first.history)
    done = engine.handle(first.state, JobCompleted(job_at(first.state, "b"), {}))
    assert done.status == "completed"


def test_parallel_gateway_ignores_nothing_and_splits_to_every_flow():
    m = Model().start().par("fork").script("a", "a = 1").script("b", "b = 2").par("join").end()
    m.chain("start", "fork").flow("fork", "a").flow("fork", "b").chain("a", "join").chain("b", "join").chain("join", "end")
    result = m.engine().start()
    assert result.state["variables"] == {"a": 1, "b": 2}
    assert result.status == "completed"


def test_exclusive_split_feeding_a_parallel_join_deadlocks_as_the_spec_says():
    m = Model().start().xor("choose").task("a").task("b").par("join").end()
    m.chain("start", "choose").flow("choose", "a", "go_a").flow("choose", "b", "not go_a")
    m.chain("a", "join").chain("b", "join").chain("join", "end")
    result = m.engine().start({"go_a": True})
    assert result.status == "running"
    assert [t["node"] for t in result.state["tokens"].values()] == ["join"]
    assert result.commands == []


# -- inclusive -------------------------------------------------------------------------------------

def _inclusive() -> Model:
    m = Model().start().inc("split", default="split_d").user("u").user("w").script("d", "v = v + 1")
    m.inc("join").end()
    m.chain("start", "split").flow("split", "u", "u > 0").flow("split", "w", "w > 0").flow("split", "d")
    m.chain("u", "join").chain("w", "join").chain("d", "join").chain("join", "end")
    return m


def test_inclusive_split_takes_every_true_flow_and_not_the_default():
    result = _inclusive().engine().start({"u": 1, "w": 1, "v": 0})
    assert sorted(t["node"] for t in result.state["tokens"].values()) == ["u", "w"]


def test_inclusive_split_takes_the_default_when_nothing_holds():
    result = _inclusive().engine().start({"u": 0, "w": 0, "v": 0})
    assert result.status == "completed"
    assert result.state["variables"]["v"] == 1


def test_inclusive_join_waits_for_every_token_that_can_still_arrive():
    engine = _inclusive().engine()
    state = engine.start({"u": 1, "w": 1, "v": 0}).state
    first = engine.handle(state, JobCompleted(job_at(state, "u"), {}))
    assert "join" not in completed_ids(first.history)
    second = engine.handle(first.state, JobCompleted(job_at(first.state, "w"), {}))
    assert completed_ids(second.history) == ["w", "join", "end"]
    assert second.status == "completed"


def test_inclusive_join_fires_with_one_token_when_only_one_branch_was_taken():
    engine = _inclusive().engine()
    state = engine.start({"u": 1, "w": 0, "v": 0}).state
    done = engine.handle(state, JobCompleted(job_at(state, "u"), {}))
    assert done.status == "completed"


def test_inclusive_join_fires_once_a_token_elsewhere_takes_another_path():
    # fork -> (a: user task -> xor: to the join, or away to its own end) and (b -> join)
    m = Model().start().par("fork").user("a").xor("route", default="route_away").task("b").inc("join")
    m.task("away").end("e_join").end("e_away")
    m.chain("start", "fork").flow("fork", "a").flow("fork", "b").chain("a", "route")
    m.flow("route", "join", "to_join").flow("route", "away").chain("away", "e_away")
    m.chain("b", "join").chain("join", "e_join")
    engine = m.engine()
    state = engine.start().state
    assert [t["node"] for t in state["tokens"].values() if t["node"] == "join"] == ["join"]
    done = engine.handle(state, JobCompleted(job_at(state, "a"), {"to_join": False}))
    assert done.status == "completed"
    assert completed_ids(done.history).count("join") == 1


def test_inclusive_gateway_in_a_loop_waits_correctly():
    m = Model().start().inc("merge").script("inc", "n = n + 1").xor("again", default="again_end").end()
    m.chain("start", "merge", "inc", "again").flow("again", "merge", "n < 5").flow("again", "end")
    result = m.engine().start({"n": 0})
    assert result.status == "completed"
    assert result.state["variables"]["n"] == 5
