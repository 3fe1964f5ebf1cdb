from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "apps.plugins"
    label = "baton_plugins"
    verbose_name = "Service-task plugins"
