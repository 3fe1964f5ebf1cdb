"""Grants in the admin: added and deleted through the services (a change is a delete and an add)."""
from __future__ import annotations

from django.contrib import admin

from apps.access.models import Grant
from apps.access.services import grant_create, grant_delete


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("definition_key", "action", "user", "group", "created_at")
    list_filter = ("action",)
    search_fields = ("definition_key", "user__username", "group__name")
    autocomplete_fields = ("user", "group")
    fields = ("user", "group", "action", "definition_key")

    def has_change_permission(self, request, obj=None) -> bool:
        # Grants are added and deleted, never edited: the change page is read only.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj: Grant, form, change: bool) -> None:
        # The form already ran the model's checks (its constraints included); the service repeats them.
        created = grant_create(action=obj.action, definition_key=obj.definition_key, user=obj.user, group=obj.group)
        obj.pk = created.pk

    def delete_model(self, request, obj: Grant) -> None:
        grant_delete(grant=obj)

    def delete_queryset(self, request, queryset) -> None:
        for grant in queryset:
            grant_delete(grant=grant)
