from django.apps import AppConfig


class DefinitionsConfig(AppConfig):
    name = "apps.definitions"
    label = "baton_definitions"
    verbose_name = "Process definitions"
