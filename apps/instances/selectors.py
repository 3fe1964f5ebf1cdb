"""Reading process instances: the one place that turns an instance into the documented object.

The CLI (`manage.py start`, `manage.py instance`) and the API both print `instance_to_dict`, so
the two can never disagree about what an instance looks like:

    {"id": 42, "definition": {"key": "order", "version": 3}, "state": "running",
     "suspended": false, "business_key": "A-17",
     "variables": {"qty": 2, "due": {"$type": "date", "value": "2024-05-01"}},
     "active": [{"id": "review", "type": "userTask"}],
     "incidents": [{"id": 7, "element": "charge", "message": "..."}],
     "started_at": "2024-05-01T12:00:00.123456Z", "ended_at": null}

- `variables` are the stored JSON, sorted by name. Dates, times, datetimes and decimals keep
  their typed form `{"$type": ..., "value": ...}` so that a reader can tell the date
  "2024-05-01" from the string "2024-05-01"; `plain_value` turns them into their ISO text for
  people.
- `active` has one entry per token (two tokens at one join: two entries), in the order the tokens
  were created; a token in a sub-process and the sub-process's own token are both listed.
  `type` is the element's BPMN tag from the deployed model.
- `incidents` are the open ones, oldest first; `id` is the incident row's id (what an operator
  retries).
- Times are ISO 8601 in UTC with a `Z` (as Django REST framework writes them); `ended_at` is null
  while the instance runs.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Any

from django.db.models import QuerySet

from apps.definitions.engines import engine_for
from apps.instances.models import (
    FlowNodeInstance, Incident, InstanceState, Job, JobState, PendingEvent, ProcessInstance, Variable,
)
from orchestrator.runtime.variables import TYPE_KEY

# Job states in which a job is still automated work: a worker has it or will get it. A chain link
# planned ahead is not counted: it becomes work only when the engine reaches its element, and
# whatever gets the engine there is itself work (a queue, an event, an unfinished job).
UNFINISHED_JOB_STATES = (JobState.PENDING, JobState.DISPATCHED, JobState.STARTED, JobState.RETRY)


def instance_get(instance_id: int) -> ProcessInstance | None:
    """The instance with its definition, or None when there is no such instance."""
    return ProcessInstance.objects.select_related("definition").filter(pk=instance_id).first()


def instance_variables(instance: ProcessInstance) -> dict[str, Any]:
    """The stored (JSON) values by name, sorted by name."""
    return dict(Variable.objects.filter(instance=instance).order_by("name").values_list("name", "value"))


def instance_open_incidents(instance: ProcessInstance) -> QuerySet[Incident]:
    return Incident.objects.filter(instance=instance, resolved_at__isnull=True).order_by("opened_at", "id")


def instance_active(instance: ProcessInstance) -> list[dict[str, str]]:
    """One `{"id", "type"}` per token, in the order the tokens were created."""
    tokens = (instance.engine_state or {}).get("tokens") or {}
    if not tokens:
        return []
    nodes = engine_for(instance.definition_id).process.flow_nodes
    ordered = sorted(tokens.items(), key=lambda item: _token_order(item[0]))
    active = []
    for _, token in ordered:
        node = nodes.get(token["node"])
        active.append({"id": token["node"], "type": node.kind.value if node is not None else "unknown"})
    return active


def instance_to_dict(instance: ProcessInstance) -> dict[str, Any]:
    """The documented instance object (see the module docstring)."""
    return _to_dict(instance, instance_variables(instance), list(instance_open_incidents(instance)))


def instances_to_dicts(instances: Iterable[ProcessInstance]) -> list[dict[str, Any]]:
    """The documented objects of many instances (a page of a list) in two queries more, not two
    per instance: their variables and their open incidents are read together."""
    instances = list(instances)
    ids = [instance.pk for instance in instances]
    variables: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    for instance_id, name, value in (Variable.objects.filter(instance_id__in=ids).order_by("name")
                                     .values_list("instance_id", "name", "value")):
        variables[instance_id][name] = value
    incidents: dict[int, list[Incident]] = {pk: [] for pk in ids}
    for incident in Incident.objects.filter(instance_id__in=ids, resolved_at__isnull=True).order_by("opened_at", "id"):
        incidents[incident.instance_id].append(incident)
    return [_to_dict(instance, variables[instance.pk], incidents[instance.pk]) for instance in instances]


def _to_dict(instance: ProcessInstance, variables: dict[str, Any], incidents: list[Incident]) -> dict[str, Any]:
    definition = instance.definition
    return {
        "id": instance.pk,
        "definition": {"key": definition.key, "version": definition.version},
        "state": instance.state,
        "suspended": instance.suspended,
        "business_key": instance.business_key,
        "variables": variables,
        "active": instance_active(instance),
        "incidents": [{"id": incident.pk, "element": incident.element_id, "message": incident.message}
                      for incident in incidents],
        "started_at": iso_utc(instance.started_at),
        "ended_at": iso_utc(instance.ended_at),
    }


def instance_history(instance: ProcessInstance) -> list[dict[str, Any]]:
    """The history rows in the order they were written: one per flow node instance (and one per
    sequence flow taken), with `duration_ms` null while the node is still active."""
    rows = FlowNodeInstance.objects.filter(instance=instance).order_by("id")
    return [
        {
            "element_id": row.element_id,
            "element_type": row.element_type,
            "token": row.token,
            "state": row.state,
            "started_at": iso_utc(row.started_at),
            "ended_at": iso_utc(row.ended_at),
            "duration_ms": _milliseconds(row.duration),
            "attempt": row.attempt,
            "error": row.error,
        }
        for row in rows
    ]


def instance_is_settled(instance: ProcessInstance) -> bool:
    """True when no automated work is left: the instance ended, is suspended, or waits only for
    a person, a message, a timer or an operator (no unapplied event, no unfinished job and an
    empty engine queue). `manage.py start --wait` polls this; it never runs a step itself."""
    if instance.state != InstanceState.RUNNING or instance.suspended:
        return True
    if (instance.engine_state or {}).get("queue"):
        return False
    if PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).exists():
        return False
    return not Job.objects.filter(instance=instance, state__in=UNFINISHED_JOB_STATES).exists()


def plain_value(value: Any) -> Any:
    """A stored value for people: typed values (`{"$type": "date", "value": "2024-05-01"}`)
    become their ISO text; everything else is returned as it is."""
    if isinstance(value, dict):
        if len(value) == 2 and TYPE_KEY in value and "value" in value:
            return value["value"]
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_value(item) for item in value]
    return value


def iso_utc(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, or None."""
    if moment is None:
        return None
    text = moment.astimezone(dt.timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _milliseconds(duration: dt.timedelta | None) -> int | None:
    return None if duration is None else round(duration.total_seconds() * 1000)


def _token_order(token_id: str) -> tuple[int, str]:
    """Token ids are the engine's counter as text: "10" comes after "9"."""
    return (int(token_id), "") if token_id.isdigit() else (1 << 62, token_id)
