from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API (Django REST framework only): one router, viewsets, one exception handler."""

    name = "apps.api"
    label = "api"
    verbose_name = "REST API"
