"""Timers, subscriptions, messages and signal deliveries in the admin: read only. They change
only through the services (steps, deploys, correlation); the sweeper itself is paused in
django-celery-beat's periodic tasks ("baton-timers-sweep")."""
from __future__ import annotations

from django.contrib import admin

from apps.events.models import EventSubscription, Message, SignalDelivery, Timer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ("id", "element", "instance", "definition", "due_at", "state", "repetition", "repetitions",
                    "missed", "fired_at")
    list_filter = ("state",)
    search_fields = ("element", "definition__key")
    date_hierarchy = "due_at"


@admin.register(EventSubscription)
class EventSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "name", "key", "element", "instance", "definition", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "key", "element")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "key", "message_id", "buffered", "consumed_by", "created_at", "expires_at")
    list_filter = ("buffered",)
    search_fields = ("name", "key", "message_id")


@admin.register(SignalDelivery)
class SignalDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "signal_id", "state", "instances_total", "delivered", "starts_done", "created_at",
                    "finished_at")
    list_filter = ("state",)
    search_fields = ("name", "signal_id")
