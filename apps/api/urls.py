"""/api/v1/: one router for the resources, the schema and its docs, the login for the browsable API."""
from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from apps.api.views.base import ID_PATTERN
from apps.api.views.definitions import DefinitionViewSet
from apps.api.views.docs import DocsView, SchemaView
from apps.api.views.errors import api_not_found
from apps.api.views.events import MessageViewSet, SignalViewSet
from apps.api.views.incidents import IncidentViewSet
from apps.api.views.instances import InstanceViewSet
from apps.api.views.plugins import ServiceTaskViewSet
from apps.api.views.tasks import TaskViewSet

router = DefaultRouter()
router.register("definitions", DefinitionViewSet, basename="definition")
router.register("instances", InstanceViewSet, basename="instance")
router.register("tasks", TaskViewSet, basename="task")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("service-tasks", ServiceTaskViewSet, basename="service-task")
router.register("messages", MessageViewSet, basename="message")
router.register("signals", SignalViewSet, basename="signal")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("auth/", include("rest_framework.urls")),
    # Diagrams end in .svg, not in the router's trailing slash.
    re_path(rf"^definitions/(?P<pk>{ID_PATTERN})/diagram\.svg$", DefinitionViewSet.as_view({"get": "diagram"}),
            name="definition-diagram"),
    re_path(rf"^instances/(?P<pk>{ID_PATTERN})/diagram\.svg$", InstanceViewSet.as_view({"get": "diagram"}),
            name="instance-diagram"),
    path("", include(router.urls)),
    re_path(r"^(?P<unmatched>.*)$", api_not_found),
]
