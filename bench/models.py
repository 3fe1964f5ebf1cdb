"""BPMN models for the engine benchmark, generated as XML text.

Each generator returns a `BenchModel`: one XML document (fed byte for byte to Baton and to
SpiffWorkflow), the variables to start it with, the variables it must end with (checked after
every run, so neither engine can meet a target by skipping work), and how many steps it takes.

A step is a token entering a flow node; a join counts every token that arrives at it. Both
engines do exactly these steps on these models.

Scripts are plain Python (`x = x + 1`) and conditions are Python expressions, which both
engines run as they are. The models carry no diagram: neither engine needs one, and a
10,000-task chain stays well under Baton's 5 MiB file limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

PROCESS_ID = "bench"

_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'id="bench_definitions" targetNamespace="http://baton.dev/bench">\n'
    f'<bpmn:process id="{PROCESS_ID}" isExecutable="true">\n'
)
_FOOTER = "</bpmn:process>\n</bpmn:definitions>\n"


@dataclass(frozen=True)
class BenchModel:
    name: str
    """Short case name, e.g. "chain 400"."""
    xml: str
    steps: int
    """Tokens entering flow nodes during one run (a join counts each arriving token)."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Variables to start each run with."""
    expected: dict[str, Any] = field(default_factory=dict)
    """The final variables of a correct run, exactly."""

    @property
    def process_id(self) -> str:
        return PROCESS_ID


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = [_HEADER]
        self.flows = 0

    def start(self, node_id: str) -> None:
        self.parts.append(f'<bpmn:startEvent id="{node_id}"/>\n')

    def end(self, node_id: str) -> None:
        self.parts.append(f'<bpmn:endEvent id="{node_id}"/>\n')

    def script(self, node_id: str, source: str) -> None:
        self.parts.append(
            f'<bpmn:scriptTask id="{node_id}" scriptFormat="python">'
            f"<bpmn:script>{escape(source)}</bpmn:script></bpmn:scriptTask>\n"
        )

    def gateway(self, tag: str, node_id: str, *, default: str | None = None) -> None:
        attr = f' default="{default}"' if default else ""
        self.parts.append(f'<bpmn:{tag} id="{node_id}"{attr}/>\n')

    def flow(self, source: str, target: str, *, flow_id: str | None = None, condition: str | None = None) -> str:
        if flow_id is None:
            self.flows += 1
            flow_id = f"f{self.flows}"
        if condition is None:
            self.parts.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>\n')
        else:
            self.parts.append(
                f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
                f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
                "</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
            )
        return flow_id

    def xml(self) -> str:
        return "".join(self.parts) + _FOOTER


def chain(length: int) -> BenchModel:
    """start -> `length` script tasks, each `x = x + 1` -> end."""
    if length < 1:
        raise ValueError("a chain needs at least one script task")
    w = _Writer()
    w.start("start")
    previous = "start"
    for index in range(1, length + 1):
        node_id = f"t{index}"
        w.script(node_id, "x = x + 1")
        w.flow(previous, node_id)
        previous = node_id
    w.end("end")
    w.flow(previous, "end")
    return BenchModel(f"chain {length:,}", w.xml(), steps=length + 2, variables={"x": 0}, expected={"x": length})


def parallel(branches: int) -> BenchModel:
    """start -> parallel split -> `branches` script tasks (branch i sets `b<i> = x + i`) ->
    parallel join -> end. Each branch writes its own variable: what a join does with two
    branches writing the same one differs between engines, and is not what this measures."""
    if branches < 2:
        raise ValueError("a parallel split needs at least two branches")
    w = _Writer()
    w.start("start")
    w.gateway("parallelGateway", "split")
    w.gateway("parallelGateway", "join")
    w.end("end")
    w.flow("start", "split")
    expected: dict[str, Any] = {"x": 0}
    for index in range(1, branches + 1):
        node_id = f"t{index}"
        w.script(node_id, f"b{index} = x + {index}")
        w.flow("split", node_id)
        w.flow(node_id, "join")
        expected[f"b{index}"] = index
    w.flow("join", "end")
    # start, split, each branch's task, each token arriving at the join, end
    return BenchModel(f"parallel {branches}", w.xml(), steps=2 * branches + 3, variables={"x": 0}, expected=expected)


def loop(iterations: int) -> BenchModel:
    """start -> merge -> script `x = x + 1` -> exclusive gateway: back to merge while
    `x < iterations`, else (the default flow) -> end."""
    if iterations < 1:
        raise ValueError("a loop needs at least one iteration")
    w = _Writer()
    w.start("start")
    w.gateway("exclusiveGateway", "merge")
    w.script("body", "x = x + 1")
    w.gateway("exclusiveGateway", "test", default="done")
    w.end("end")
    w.flow("start", "merge")
    w.flow("merge", "body")
    w.flow("body", "test")
    w.flow("test", "merge", flow_id="again", condition=f"x < {iterations}")
    w.flow("test", "end", flow_id="done")
    # start, then per iteration merge + body + test, then end
    return BenchModel(f"loop {iterations:,}", w.xml(), steps=3 * iterations + 2, variables={"x": 0},
                      expected={"x": iterations})
