"""Namespace URIs. Elements are always matched by URI, never by prefix: real files bind BPMN to
`bpmn:`, `bpmn2:`, `semantic:`, `model:` or the default namespace, and bind `camunda:` to
Activiti's URI."""
from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

BATON = "http://baton.dev/schema/bpmn/1.0"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
FLOWABLE = "http://flowable.org/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# Camunda 7's extension attributes appear under all three URIs (Camunda grew out of Activiti,
# Flowable forked it); their meaning is the same.
CAMUNDA_FAMILY = (CAMUNDA, ACTIVITI, FLOWABLE)

VENDOR_PREFIX = {
    BATON: "baton",
    CAMUNDA: "camunda",
    ACTIVITI: "activiti",
    FLOWABLE: "flowable",
    ZEEBE: "zeebe",
    SPIFF: "spiffworkflow",
}


def q(ns: str, local: str) -> str:
    """Clark notation, as lxml spells qualified names."""
    return f"{{{ns}}}{local}"


def split(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of a Clark-notation tag."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def pretty(tag: str, nsmap: dict | None = None) -> str:
    """A tag as a modeller would write it: `camunda:class` rather than `{http://...}class`; an
    unknown vendor's name keeps the prefix the document gives it (from `nsmap`), if any."""
    ns, local = split(tag)
    if ns is None:
        return local
    if ns == BPMN:
        return f"bpmn:{local}"
    prefix = VENDOR_PREFIX.get(ns)
    if prefix is None and nsmap:
        prefix = next((p for p, uri in nsmap.items() if uri == ns and p), None)
    return f"{prefix}:{local}" if prefix else local
