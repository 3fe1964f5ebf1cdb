"""Property test: random acyclic models of gateways and script tasks never leave a token behind.

Models are built so that every split is matched by a join of the same kind (parallel with
parallel, inclusive with inclusive, exclusive with exclusive), nested at random, with random
conditions over random inputs; whatever the inputs, a run completes, no token is left and the
join bookkeeping is empty.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.builder import Model


class _Gen:
    def __init__(self, draw) -> None:
        self.draw = draw
        self.model = Model()
        self.count = 0

    def new_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def block(self, depth: int) -> tuple[str, str]:
        """Add a single-entry single-exit block; return its (entry, exit) ids."""
        choice = self.draw(st.sampled_from(["script", "seq", "par", "xor", "inc"] if depth < 3 else ["script"]))
        if choice == "script":
            sid = self.new_id("s")
            var = self.draw(st.sampled_from(["a", "b", "c"]))
            self.model.script(sid, f"{var} = {var} + 1\ntrail = trail + ['{sid}']")
            return sid, sid
        if choice == "seq":
            first_in, first_out = self.block(depth + 1)
            second_in, second_out = self.block(depth + 1)
            self.model.flow(first_out, second_in)
            return first_in, second_out
        split, join = self.new_id(choice + "_split"), self.new_id(choice + "_join")
        add = {"par": self.model.par, "xor": self.model.xor, "inc": self.model.inc}[choice]
        branches = self.draw(st.integers(min_value=1, max_value=3))
        default_flow = f"{split}_default" if choice != "par" else None
        add(split, default=default_flow)
        add(join)
        for index in range(branches):
            entry, exit_ = self.block(depth + 1)
            flow_id = default_flow if index == branches - 1 and default_flow else f"{split}_{index}"
            condition = None
            if choice != "par" and flow_id != default_flow:
                var = self.draw(st.sampled_from(["a", "b", "c"]))
                condition = f"{var} % 2 == {self.draw(st.integers(0, 1))}"
            self.model.flow(split, entry, condition, flow_id=flow_id)
            self.model.flow(exit_, join)
        return split, join


@st.composite
def models(draw):
    gen = _Gen(draw)
    gen.model.start()
    entry, exit_ = gen.block(0)
    gen.model.end()
    gen.model.flow("start", entry).flow(exit_, "end")
    return gen.model


@settings(max_examples=60, deadline=None)
@given(model=models(), a=st.integers(0, 3), b=st.integers(0, 3), c=st.integers(0, 3))
def test_every_run_ends_with_no_token_left_behind(model, a, b, c):
    result = model.engine().start({"a": a, "b": b, "c": c, "trail": []})
    assert result.status == "completed", result.state
    assert result.state["tokens"] == {}
    assert result.state["joins"] == {}
    assert list(result.state["scopes"]) == ["0"]
    assert result.state["scopes"]["0"]["count"] == 0
