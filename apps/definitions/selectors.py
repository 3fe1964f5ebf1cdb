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
