"""/service-tasks/: the plugins a BPMN service task can call (Celery's and Baton's own are not)."""
from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.api.serializers import PluginSerializer
from apps.api.views.base import FallBackToJSON
from apps.plugins.registry import discover_plugins


class ServiceTaskViewSet(viewsets.ViewSet):
    """Not a model: a plain ViewSet (no queryset, no pagination); any authenticated user may list."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FallBackToJSON

    @extend_schema(summary="Service-task plugins: name, queue, declared arguments, docstring",
                   responses={200: PluginSerializer(many=True)})
    def list(self, request) -> Response:
        plugins = [asdict(info) for info in discover_plugins().values()]
        return Response(PluginSerializer(plugins, many=True).data)
