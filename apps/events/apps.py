from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "baton_events"
    verbose_name = "Timers, messages and signals"
