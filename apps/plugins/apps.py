from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "apps.plugins"
    label = "baton_plugins"
    verbose_name = "Service-task plugins"

    def ready(self) -> None:
        # Import every plugin module at start-up, so that the worker has their tasks registered
        # before it consumes, and a bad BATON_PLUGIN_MODULES stops the process with a clear error.
        from apps.plugins.registry import discover_plugins

        discover_plugins()
