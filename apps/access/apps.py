from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Who may do what to which process: grants per definition key and action."""

    name = "apps.access"
    label = "access"
    verbose_name = "Access"
