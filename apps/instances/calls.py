"""Call activities in the running system: child instances linked to their parent and root.

The parent's engine asks for a child (StartCallActivity); the child is a process instance of its
own, started like any other (recorded, then run by workers). When it ends, its variables go back
to the parent as the call activity's job result; a BPMN error it did not catch goes back as a
failed job with the code, for the call activity's error boundary. Nothing here locks the parent
while the child is locked: the parent learns of its child's end through a PendingEvent and a
step in the outbox, so lock order stays parent before child everywhere (cancel cascades down).
"""
from __future__ import annotations

from django.conf import settings

from apps.definitions.models import ProcessDefinition
from apps.instances import outbox
from apps.instances.models import InstanceState, PendingEvent, ProcessInstance, Variable
from orchestrator.runtime.commands import ErrorToCaller, StartCallActivity
from orchestrator.runtime.events import JobCompleted, JobFailed, Start

STEP_TASK = "baton.instance.step"


def _called_definition(parent: ProcessInstance, command: StartCallActivity) -> ProcessDefinition | None:
    versions = ProcessDefinition.objects.filter(key=command.process_key, tenant_id=parent.tenant_id)
    if command.binding == "version" and command.version is not None:
        return versions.filter(version=command.version).first()
    if command.binding == "deployment":
        return versions.filter(deployment_id=parent.definition.deployment_id).order_by("-version").first()
    return versions.filter(retired=False).order_by("-version").first()


def _depth(instance: ProcessInstance) -> int:
    depth, current = 0, instance
    while current.parent_id is not None and depth <= settings.BATON_MAX_CALL_DEPTH:
        current = ProcessInstance.objects.only("parent_id").get(pk=current.parent_id)
        depth += 1
    return depth


def _tell_parent(parent_id: int, event) -> None:
    PendingEvent.objects.create(instance_id=parent_id, event=event.to_dict())
    outbox.add(STEP_TASK, {"instance_id": parent_id}, queue="baton.engine")


def start_child(parent: ProcessInstance, command: StartCallActivity) -> ProcessInstance | None:
    """Create and record the child; an unknown key or a too deep nesting fails the call activity."""
    definition = _called_definition(parent, command)
    if definition is None:
        how = f"version {command.version}" if command.binding == "version" else command.binding
        _tell_parent(parent.pk, JobFailed(command.job, f"no deployed process {command.process_key!r} ({how}) to call"))
        return None
    if _depth(parent) + 1 > settings.BATON_MAX_CALL_DEPTH:
        _tell_parent(parent.pk, JobFailed(command.job, f"call activities nest deeper than "
                                                       f"{settings.BATON_MAX_CALL_DEPTH} levels"))
        return None
    child = ProcessInstance.objects.create(
        definition=definition, business_key=parent.business_key, tenant_id=parent.tenant_id, parent=parent,
        parent_element=command.element, parent_job=command.job, root_id=parent.root_id or parent.pk,
        engine_state={}, active_elements=[],
    )
    Variable.objects.bulk_create([Variable(instance=child, name=k, value=v) for k, v in command.variables.items()])
    PendingEvent.objects.create(instance=child, event=Start(called=True).to_dict())
    outbox.add(STEP_TASK, {"instance_id": child.pk}, queue="baton.starts")
    return child


def child_ended(child: ProcessInstance, commands: list) -> None:
    """A child reached an end: its parent's call activity completes, or catches its error."""
    if child.parent_id is None or not child.parent_job:
        return
    thrown = next((c for c in commands if isinstance(c, ErrorToCaller)), None)
    if thrown is not None:
        _tell_parent(child.parent_id, JobFailed(child.parent_job, thrown.message or f"BPMN error {thrown.code!r}",
                                                code=thrown.code))
    elif child.state in (InstanceState.COMPLETED, InstanceState.TERMINATED):
        variables = dict(Variable.objects.filter(instance=child).values_list("name", "value"))
        _tell_parent(child.parent_id, JobCompleted(child.parent_job, variables))


def children_of_jobs(parent: ProcessInstance, jobs: list[str]) -> list[int]:
    """Running children started by these call-activity jobs (to cancel them with their parent)."""
    return list(ProcessInstance.objects.filter(parent=parent, parent_job__in=jobs, state=InstanceState.RUNNING)
                .values_list("pk", flat=True))
