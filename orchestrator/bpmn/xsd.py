"""Validate a parsed BPMN document against the OMG BPMN 2.0 XML schema.

The schema files ship in `orchestrator/bpmn/xsd/` (BPMN20.xsd includes Semantic.xsd and imports
BPMNDI.xsd, which imports DC.xsd and DI.xsd). Every `schemaLocation` is resolved to those local
copies: loading the schema never touches the network, and validating a document never follows
its `xsi:schemaLocation` hints.

One deliberate change to the OMG schema, made in memory so that the shipped file stays the
OMG's own: `callActivity/@calledElement` is a `xsd:string` instead of a `xsd:QName`, as in
Camunda and Flowable, whose models put expressions such as `${processKey}` there.
"""
from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

from lxml import etree

from orchestrator.bpmn import namespaces as ns
from orchestrator.errors import Problem, Severity

XSD_DIR = Path(__file__).with_name("xsd")
SCHEMA_FILES = frozenset({"BPMN20.xsd", "Semantic.xsd", "BPMNDI.xsd", "DC.xsd", "DI.xsd"})

_CALLED_ELEMENT_QNAME = '<xsd:attribute name="calledElement" type="xsd:QName" use="optional"/>'
_CALLED_ELEMENT_STRING = '<xsd:attribute name="calledElement" type="xsd:string" use="optional"/>'

_CLARK_NAME = re.compile(r"\{[^}]*\}[A-Za-z_][\w.\-]*")

# lxml keeps the errors of the last run on the schema object: one validation at a time.
_validate_lock = threading.Lock()


def _patched_semantic_xsd() -> bytes:
    text = (XSD_DIR / "Semantic.xsd").read_text(encoding="utf-8")
    if text.count(_CALLED_ELEMENT_QNAME) != 1:
        raise RuntimeError(
            f"{XSD_DIR / 'Semantic.xsd'} no longer declares callActivity/@calledElement as expected; "
            "update the calledElement relaxation in orchestrator/bpmn/xsd.py"
        )
    return text.replace(_CALLED_ELEMENT_QNAME, _CALLED_ELEMENT_STRING).encode("utf-8")


class _LocalSchemaResolver(etree.Resolver):
    """Serves the schema's includes and imports from XSD_DIR and nothing else."""

    def resolve(self, url, pubid, context):
        name = url.rsplit("/", 1)[-1]
        if name not in SCHEMA_FILES:
            raise ValueError(f"the BPMN schema refers to {url!r}, which is not shipped in {XSD_DIR}")
        if name == "Semantic.xsd":
            return self.resolve_string(_patched_semantic_xsd(), context, base_url=str(XSD_DIR / name))
        return self.resolve_filename(str(XSD_DIR / name), context)


@functools.cache
def bpmn_schema() -> etree.XMLSchema:
    """The compiled BPMN 2.0 schema (built once per process: about 0.1 s)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_LocalSchemaResolver())
    document = etree.parse(str(XSD_DIR / "BPMN20.xsd"), parser)
    return etree.XMLSchema(document)


def validate_against_xsd(root: etree._Element) -> list[Problem]:
    """Every place where the document under `root` breaks the BPMN 2.0 schema, in document order.

    Vendor extensions (camunda:, zeebe:, flowable:, spiffworkflow:, ...) are allowed where the
    schema allows them: as attributes from other namespaces and inside `extensionElements`.
    """
    schema = bpmn_schema()
    with _validate_lock:
        schema.validate(root)
        errors = list(schema.error_log)
    if not errors:
        return []
    tree = root.getroottree()
    # libxml2 writes an error's path with the document's own prefixes (`/bpmn:definitions/bpmn:task`).
    prefixes = {prefix: uri for prefix, uri in tree.xpath("//namespace::*") if prefix}
    return [
        Problem(
            _readable(error.message),
            element=_nearest_id(_node_at(tree, error.path, prefixes)),
            line=error.line or None,
            severity=Severity.ERROR,
        )
        for error in errors
    ]


def _readable(message: str) -> str:
    """libxml2's message with `{namespace}local` names written as a modeller would (`bpmn:task`)."""
    return _CLARK_NAME.sub(lambda match: ns.pretty(match.group(0)), message)


def _node_at(tree: etree._ElementTree, path: str | None, prefixes: dict[str, str]) -> etree._Element | None:
    if not path:
        return None
    try:
        found = tree.xpath(path, namespaces=prefixes)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _nearest_id(node: etree._Element | None) -> str | None:
    while node is not None:
        element_id = node.get("id")
        if element_id:
            return element_id
        node = node.getparent()
    return None
