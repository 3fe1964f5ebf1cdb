"""Reading process definitions. Writes go through `services.py`."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.definitions.models import ProcessDefinition


def definition_versions(key: str, *, tenant_id: str | None = None) -> QuerySet[ProcessDefinition]:
    """Every version of one process, newest first (retired ones included)."""
    return ProcessDefinition.objects.filter(key=key, tenant_id=tenant_id).order_by("-version")


def definition_latest(key: str, *, tenant_id: str | None = None) -> ProcessDefinition | None:
    """The version new instances start on: the highest version that is not retired, or None
    when the key was never deployed or every version of it is retired."""
    return definition_versions(key, tenant_id=tenant_id).filter(retired=False).first()


def definition_diagram_svg(definition: ProcessDefinition, *, diagram_index: int = 0, active=(), taken=(),
                           incidents=()) -> str:
    """A definition's diagram as self-contained SVG, elements marked by their state: the one
    place outside the engine that reads a stored model for drawing (the API and the admin ask
    here rather than parsing BPMN themselves)."""
    from django.conf import settings

    from orchestrator.bpmn.parser import parse
    from orchestrator.bpmn.render import render_svg

    parsed = parse(definition.xml, max_bytes=max(settings.BATON_MAX_BPMN_BYTES, len(definition.xml.encode()) + 1))
    return render_svg(parsed.definitions, tree=parsed.tree, diagram_index=diagram_index, active=active, taken=taken,
                      incidents=incidents)
