"""Deploying BPMN files: validate, then create a new version of each changed process."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from lxml import etree

from apps.definitions.errors import DeploymentRefused
from apps.definitions.models import Deployment, ProcessDefinition
from apps.events.services import definition_events_install, definition_events_remove
from apps.plugins.registry import discover_plugins
from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.parser import parse
from orchestrator.bpmn.validation import validate
from orchestrator.errors import BpmnParseError, Problem
from orchestrator.scripting import Sandbox, SandboxLimits


@dataclass(frozen=True)
class DeployedDefinition:
    id: int
    key: str
    version: int
    name: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "version": self.version, "name": self.name, "created": self.created}


@dataclass(frozen=True)
class DeployResult:
    definitions: list[DeployedDefinition]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def created_any(self) -> bool:
        return any(d.created for d in self.definitions)

    def to_dict(self) -> dict[str, Any]:
        return {"definitions": [d.to_dict() for d in self.definitions], "warnings": [w.to_dict() for w in self.warnings]}


def process_checksum(tree: etree._Element, process_id: str) -> str:
    """Of the process element's canonical XML: layout (BPMNDI) changes do not make a version."""
    for element in tree.iter(ns.q(ns.BPMN, "process")):
        if element.get("id") == process_id:
            canonical = etree.tostring(element, method="c14n")
            return hashlib.sha256(canonical).hexdigest()
    raise KeyError(process_id)


def definition_deploy(*, data: bytes, source_name: str = "", user=None, tenant_id: str | None = None) -> DeployResult:
    """Deploy every executable process in a BPMN file. Refused whole when the file is invalid or
    a process cannot run (an unknown plugin, a Groovy script, an unsupported element)."""
    try:
        parsed = parse(data, max_bytes=settings.BATON_MAX_BPMN_BYTES)
    except BpmnParseError as exc:
        raise DeploymentRefused(f"{source_name or 'the file'}: {exc}", problems=[exc.to_problem()]) from None
    report = validate(parsed, plugins=set(discover_plugins()),
                      sandbox=Sandbox(SandboxLimits(time_limit=settings.BATON_SCRIPT_TIME_LIMIT)))
    if not report.valid:
        raise DeploymentRefused("the file is not valid BPMN", problems=list(report.errors))
    if not report.executable:
        blocking = [w for w in report.warnings if w.executable_only] or list(report.warnings)
        raise DeploymentRefused("Baton cannot run this file", problems=blocking, code="not_executable")
    # Stored as text in the encoding the file declares (the parser read it so), not assumed UTF-8.
    encoding = parsed.tree.getroottree().docinfo.encoding or "utf-8"
    text = data.decode(encoding) if isinstance(data, bytes) else data
    deployed: list[DeployedDefinition] = []
    with transaction.atomic():
        deployment = Deployment.objects.create(
            created_by=user if getattr(user, "is_authenticated", False) else None, source_name=source_name[:255],
            source=text, checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(), tenant_id=tenant_id,
        )
        for process_id in report.executable_processes:
            process = parsed.definitions.processes[process_id]
            checksum = process_checksum(parsed.tree, process_id)
            latest = (ProcessDefinition.objects.select_for_update()
                      .filter(key=process_id, tenant_id=tenant_id).order_by("-version").first())
            if latest is not None and latest.checksum == checksum and not latest.retired:
                deployed.append(DeployedDefinition(latest.id, latest.key, latest.version, latest.name, False))
                continue
            definition = ProcessDefinition.objects.create(
                key=process_id, version=(latest.version + 1) if latest else 1, name=process.name or "",
                xml=text, checksum=checksum, deployment=deployment, tenant_id=tenant_id,
            )
            # The new latest version's timer, message and signal start events replace the older ones'.
            definition_events_install(definition=definition)
            deployed.append(DeployedDefinition(definition.id, definition.key, definition.version, definition.name, True))
        if not any(d.created for d in deployed):
            deployment.delete()  # nothing new: the deploy call leaves no trace but its answer
    return DeployResult(deployed, [w for w in report.warnings if not w.executable_only])


def definition_retire(*, definition: ProcessDefinition) -> ProcessDefinition:
    """New instances no longer start on this version: by hand, or by its start events (its start
    timers and message and signal start subscriptions are removed)."""
    with transaction.atomic():
        ProcessDefinition.objects.select_for_update().filter(pk=definition.pk).first()  # as deploy does: one at a time
        definition.retired = True
        definition.save(update_fields=["retired"])
        definition_events_remove(definition=definition)
    return definition
