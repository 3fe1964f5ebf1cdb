"""Build small BPMN files for tests: real XML, read by the real parser.

    m = Model()
    m.start("s").script("a", "x = 1").end("e")
    m.flow("s", "a").flow("a", "e")
    engine = m.engine()

Nodes added with `scope="sub"` are placed inside the sub-process `sub`.
"""
from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from orchestrator.bpmn.parser import parse
from orchestrator.runtime.engine import Engine, EngineOptions
from orchestrator.scripting import Sandbox

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:baton="http://baton.dev/schema/bpmn/1.0" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'id="defs" targetNamespace="http://baton.dev/tests">\n'
)


class Model:
    def __init__(self, process_id: str = "p", *, executable: bool = True) -> None:
        self.process_id = process_id
        self.executable = executable
        self.nodes: list[tuple[str, str, dict[str, str], str, str | None]] = []
        self.flows: list[tuple[str, str, str, str | None]] = []
        self.scope_of: dict[str, str | None] = {}
        self.extra_root = ""
        self.extra_process = ""  # raw XML placed in the process (associations, say)

    # -- nodes -------------------------------------------------------------------------------------

    def node(self, tag: str, node_id: str, *, body: str = "", scope: str | None = None, **attrs: Any) -> "Model":
        clean = {k.replace("__", ":"): str(v) for k, v in attrs.items() if v is not None}
        self.nodes.append((tag, node_id, clean, body, scope))
        self.scope_of[node_id] = scope
        return self

    def start(self, node_id: str = "start", **kw: Any) -> "Model":
        return self.node("startEvent", node_id, **kw)

    def end(self, node_id: str = "end", **kw: Any) -> "Model":
        return self.node("endEvent", node_id, **kw)

    def terminate(self, node_id: str, **kw: Any) -> "Model":
        return self.node("endEvent", node_id, body="<bpmn:terminateEventDefinition/>", **kw)

    def task(self, node_id: str, **kw: Any) -> "Model":
        return self.node("task", node_id, **kw)

    def script(self, node_id: str, source: str, **kw: Any) -> "Model":
        return self.node("scriptTask", node_id, body=f"<bpmn:script>{escape(source)}</bpmn:script>", **kw)

    def service(self, node_id: str, plugin: str, **kw: Any) -> "Model":
        return self.node("serviceTask", node_id, baton__task=plugin, **kw)

    def user(self, node_id: str, **kw: Any) -> "Model":
        return self.node("userTask", node_id, **kw)

    def xor(self, node_id: str, **kw: Any) -> "Model":
        return self.node("exclusiveGateway", node_id, **kw)

    def par(self, node_id: str, **kw: Any) -> "Model":
        return self.node("parallelGateway", node_id, **kw)

    def inc(self, node_id: str, **kw: Any) -> "Model":
        return self.node("inclusiveGateway", node_id, **kw)

    def sub(self, node_id: str, **kw: Any) -> "Model":
        return self.node("subProcess", node_id, **kw)

    def flow(self, source: str, target: str, condition: str | None = None, *, flow_id: str | None = None) -> "Model":
        self.flows.append((flow_id or f"{source}_{target}", source, target, condition))
        return self

    def chain(self, *ids: str) -> "Model":
        for source, target in zip(ids, ids[1:]):
            self.flow(source, target)
        return self

    # -- output ------------------------------------------------------------------------------------

    def xml(self) -> str:
        return HEADER + self.extra_root + self._process() + "</bpmn:definitions>\n"

    def _process(self) -> str:
        return (f'<bpmn:process id="{self.process_id}" isExecutable="{str(self.executable).lower()}">\n'
                + self._scope(None) + self.extra_process + "</bpmn:process>\n")

    def _scope(self, scope: str | None) -> str:
        parts = []
        for tag, node_id, attrs, body, node_scope in self.nodes:
            if node_scope != scope:
                continue
            attr_text = "".join(f" {k if ':' in k else k}={quoteattr(v)}" for k, v in attrs.items())
            inner = body
            if tag == "subProcess":
                inner += self._scope(node_id)
            parts.append(f'<bpmn:{tag} id="{node_id}"{attr_text}>{inner}</bpmn:{tag}>\n')
        for flow_id, source, target, condition in self.flows:
            if self.scope_of.get(source) != scope:
                continue
            cond = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
                    "</bpmn:conditionExpression>") if condition else ""
            parts.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{cond}'
                         "</bpmn:sequenceFlow>\n")
        return "".join(parts)

    def definitions(self):
        return parse(self.xml()).definitions

    def engine(self, *, sandbox: Sandbox | None = None, **options: Any) -> Engine:
        opts = EngineOptions(**options) if options else None
        return Engine.for_definitions(self.definitions(), self.process_id, sandbox=sandbox, options=opts)


def completed_ids(history: list[dict]) -> list[str]:
    return [entry["element"] for entry in history if entry["event"] == "completed"]


def waiting_jobs(state: dict) -> dict[str, str]:
    """job id -> the element its token waits at."""
    return {job: state["tokens"][token]["node"] for job, token in state["jobs"].items()}


def job_at(state: dict, element: str) -> str:
    matches = [job for job, node in waiting_jobs(state).items() if node == element]
    assert len(matches) == 1, f"expected one job at {element}, found {waiting_jobs(state)}"
    return matches[0]
