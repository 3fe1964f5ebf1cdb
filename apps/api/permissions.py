"""Grant checks: who may do what to which definition key (apps.access decides, this asks).

Lists and detail lookups are scoped to the keys the caller may read (in the viewsets'
querysets), so an object you may not read is a 404 before any of these run. These classes then
answer 403 for what you may read but not do.
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.access.models import Action
from apps.access.selectors import user_may, user_may_deploy, user_task_is_offered
from apps.definitions.models import ProcessDefinition
from apps.instances.models import Incident, ProcessInstance, UserTask


def definition_key_of(obj) -> str | None:
    """The definition key a definition, instance, task or incident belongs to (None for anything else)."""
    if isinstance(obj, ProcessDefinition):
        return obj.key
    if isinstance(obj, ProcessInstance):
        return obj.definition.key
    if isinstance(obj, (UserTask, Incident)):
        return obj.instance.definition.key
    return None


class HasGrant(BasePermission):
    """The grant named by `view.grants[view.action]`: `deploy` for the whole view call, keyed
    actions on the object (or on the definition a create starts). Actions not named need only
    an authenticated user (reads are scoped by the queryset)."""

    message = "you may not do this"

    def _grant(self, view) -> Action | None:
        return getattr(view, "grants", {}).get(getattr(view, "action", None))

    def has_permission(self, request, view) -> bool:
        grant = self._grant(view)
        if grant == Action.DEPLOY:
            self.message = "you may not deploy or retire models"
            return user_may_deploy(user=request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        grant = self._grant(view)
        if grant is None or grant == Action.DEPLOY:
            return True
        key = definition_key_of(obj)
        if key is None:  # not one of ours (the browsable API asks about rendered data): no
            return False
        self.message = f"you may not {grant} processes of {key!r}"
        return user_may(user=request.user, action=grant, key=key)


class TaskIsOffered(BasePermission):
    """Claiming or completing a task needs it offered to the caller (assigned to them, or open
    to them as a candidate; `HasGrant` checks `complete` on its key). Unclaiming needs `operate`
    on its key, or the task offered to the caller (when assigned: to them) and `complete` on its key."""

    message = "this task is not offered to you"

    def has_object_permission(self, request, view, task) -> bool:
        action = getattr(view, "action", None)
        if not isinstance(task, UserTask):
            return action not in ("claim", "complete", "unclaim")
        if action in ("claim", "complete"):
            return user_task_is_offered(user=request.user, task=task)
        if action == "unclaim":
            self.message = "only its assignee or an operator may unclaim this task"
            key = definition_key_of(task)
            if user_may(user=request.user, action=Action.OPERATE, key=key):
                return True
            # Offered: assigned to the caller (or unassigned and open to them: then "not claimed", 409).
            return (user_task_is_offered(user=request.user, task=task)
                    and user_may(user=request.user, action=Action.COMPLETE, key=key))
        return True
