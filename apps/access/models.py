"""Grants: who may do what to the processes of one definition key (or of every key).

A grant gives one action to one user or one group, for one definition key or for `*` (every
key). Superusers may do everything without grants. Any grant on a key also lets its holder read
that key (its definitions, instances, tasks and incidents): you cannot operate what you cannot
see. `deploy` is global: deploying a model runs code on the workers, so it is only granted for
`*`, and it lets its holder read nothing by itself.

Writes go through `services.py`, reads through `selectors.py`.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

ALL_KEYS = "*"


class Action(models.TextChoices):
    READ = "read", "read"  # see definitions, instances (variables masked), history, tasks, incidents
    START = "start", "start"  # start instances
    OPERATE = "operate", "operate"  # cancel, suspend, resume, retry incidents, change variables
    COMPLETE = "complete", "complete"  # claim and complete user tasks offered to the user
    CORRELATE = "correlate", "correlate"  # deliver messages (the events issue)
    SIGNAL = "signal", "signal"  # broadcast signals (the events issue)
    DEPLOY = "deploy", "deploy"  # deploy and retire models: global, runs code on the workers


# Actions that are granted per definition key; `deploy` is granted for every key only.
KEYED_ACTIONS = tuple(action for action in Action if action != Action.DEPLOY)


class Grant(models.Model):
    """One action on one definition key (or `*`), for one user or one group."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="baton_grants")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="baton_grants")
    action = models.CharField(max_length=16, choices=Action.choices)
    definition_key = models.CharField(max_length=255, help_text="The BPMN process id, or * for every process.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["definition_key", "action", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False, group__isnull=True)
                                   | Q(user__isnull=True, group__isnull=False), name="grant_user_xor_group",
                                   violation_error_message="A grant is for one user or one group."),
            models.CheckConstraint(condition=~Q(action="deploy") | Q(definition_key=ALL_KEYS),
                                   name="grant_deploy_every_key",
                                   violation_error_message="deploy is granted for every key (*) only."),
            models.UniqueConstraint(fields=["user", "action", "definition_key"], condition=Q(user__isnull=False),
                                    name="grant_unique_user"),
            models.UniqueConstraint(fields=["group", "action", "definition_key"], condition=Q(group__isnull=False),
                                    name="grant_unique_group"),
        ]
        indexes = [models.Index(fields=["action", "definition_key"], name="grant_action_key")]

    def __str__(self) -> str:
        who = f"user {self.user}" if self.user_id else f"group {self.group}"
        return f"{who}: {self.action} {self.definition_key}"
