"""Writing grants: the admin and any future API both go through here."""
from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from apps.access.models import ALL_KEYS, Action, Grant
from apps.definitions.errors import Conflict, InvalidInput


@transaction.atomic
def grant_create(*, action: Action | str, definition_key: str, user=None, group: Group | None = None) -> Grant:
    """Give `action` on `definition_key` (`*` for every key) to one user or one group."""
    if (user is None) == (group is None):
        raise InvalidInput("a grant is for one user or one group, not both and not neither")
    if action not in Action.values:
        raise InvalidInput(f"unknown action {action!r}; one of {', '.join(Action.values)}")
    definition_key = (definition_key or "").strip()
    if not definition_key:
        raise InvalidInput("a grant needs a definition key, or * for every key")
    if action == Action.DEPLOY and definition_key != ALL_KEYS:
        raise InvalidInput("deploy is granted for every key (*) only: deploying a model runs code on the workers")
    holder = {"user": user} if user is not None else {"group": group}
    if Grant.objects.filter(action=action, definition_key=definition_key, **holder).exists():
        raise Conflict(f"{'user' if user is not None else 'group'} already has {action} on {definition_key}")
    grant = Grant(action=action, definition_key=definition_key, **holder)
    grant.full_clean()
    grant.save()
    return grant


@transaction.atomic
def grant_delete(*, grant: Grant) -> None:
    grant.delete()
