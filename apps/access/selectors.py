"""Reading grants: which definition keys a user may act on, and which user tasks are offered to
a user. The API scopes every list, create and command with these; writes go through
`services.py`.

- `read` is implied by any other keyed grant on the same key (start, operate, complete,
  correlate, signal): you cannot act on what you cannot see.
- A user task is *offered* to a user when it is assigned to them, or when it is unassigned and
  either names them among its candidate users, names one of their groups among its candidate
  groups, or names no candidates at all. Whoever may complete it needs the offer and the
  `complete` grant on its definition key.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Lookup, Q, QuerySet, Value
from django.db.models import CharField

from apps.access.models import ALL_KEYS, KEYED_ACTIONS, Action, Grant
from apps.instances.models import UserTask


@dataclass(frozen=True)
class KeyScope:
    """The definition keys one user may act on for one action: every key, or a set of them."""

    every_key: bool
    keys: frozenset[str] = frozenset()

    def allows(self, key: str) -> bool:
        return self.every_key or key in self.keys

    def filter(self, queryset: QuerySet, field: str) -> QuerySet:
        """The rows of `queryset` whose definition key (at the lookup path `field`) is in scope."""
        if self.every_key:
            return queryset
        return queryset.filter(**{f"{field}__in": sorted(self.keys)})


NOTHING = KeyScope(every_key=False)
EVERYTHING = KeyScope(every_key=True)


def _grants_of(user) -> QuerySet[Grant]:
    return Grant.objects.filter(Q(user=user) | Q(group__in=user.groups.all()))


def grant_scope(*, user, action: Action | str) -> KeyScope:
    """The keys `user` may `action`; `read` includes every key the user holds any keyed grant on."""
    action = Action(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    actions = list(KEYED_ACTIONS) if action == Action.READ else [action]
    keys = frozenset(_grants_of(user).filter(action__in=actions).values_list("definition_key", flat=True))
    if ALL_KEYS in keys:
        return EVERYTHING
    return KeyScope(every_key=False, keys=keys)


def user_may(*, user, action: Action | str, key: str) -> bool:
    """May `user` do `action` on the processes of definition key `key`?"""
    return grant_scope(user=user, action=action).allows(key)


def user_may_deploy(*, user) -> bool:
    """May `user` deploy (and retire) models? A global grant: it runs code on the workers."""
    return grant_scope(user=user, action=Action.DEPLOY).every_key


def _group_names(user) -> list[str]:
    return list(user.groups.values_list("name", flat=True))


def user_task_is_offered(*, user, task: UserTask) -> bool:
    """Is the task assigned to `user`, or unassigned and open to them as a candidate (or to
    anyone, when it names no candidates)? Superusers are offered every task."""
    if user.is_superuser:
        return True
    if task.assignee:
        return task.assignee == user.get_username()
    if not task.candidate_users and not task.candidate_groups:
        return True
    return user.get_username() in task.candidate_users or bool(set(_group_names(user)) & set(task.candidate_groups))


def user_tasks_offered(*, user, queryset: QuerySet[UserTask]) -> QuerySet[UserTask]:
    """The tasks of `queryset` offered to `user` (see `user_task_is_offered`), in the database."""
    if user.is_superuser:
        return queryset
    username = user.get_username()
    unassigned = Q(assignee__isnull=True) | Q(assignee="")
    offer = Q(candidate_users=[], candidate_groups=[]) | JSONArrayHas(F("candidate_users"), Value(username, CharField()))
    for name in _group_names(user):
        offer |= JSONArrayHas(F("candidate_groups"), Value(name, CharField()))
    return queryset.filter(Q(assignee=username) | (unassigned & offer))


class JSONArrayHas(Lookup):
    """`lhs` (a JSON array of strings) has the string `rhs` as one of its elements, exactly.

    Django's `contains` on a JSONField is not supported on SQLite, and `icontains` ignores case;
    this is exact on both: `jsonb ? text` on PostgreSQL, `json_each` on SQLite."""

    lookup_name = "baton_array_has"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (f"EXISTS (SELECT 1 FROM json_each({lhs}) AS element WHERE element.value = {rhs})",
                (*lhs_params, *rhs_params))

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"({lhs} ? {rhs})", (*lhs_params, *rhs_params)
