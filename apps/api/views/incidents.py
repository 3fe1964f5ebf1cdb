"""/incidents/: what stopped a token (attempts spent, a script error); retry."""
from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.models import Action
from apps.api.idempotency import idempotent
from apps.api.serializers import IncidentFilterSerializer, IncidentSerializer, NoInputSerializer
from apps.api.views.base import BatonViewSet
from apps.instances import services
from apps.instances.models import Incident



@extend_schema_view(
    list=extend_schema(summary="Incidents of the processes you may read, newest first",
                       parameters=[IncidentFilterSerializer], responses={200: IncidentSerializer(many=True)}),
    retrieve=extend_schema(summary="One incident", responses={200: IncidentSerializer}),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BatonViewSet):
    serializer_class = IncidentSerializer
    filter_serializer_class = IncidentFilterSerializer
    grants = {"retry": Action.OPERATE}
    throttle_scopes = {"retry": "command"}
    input_serializers = {"retry": NoInputSerializer}

    def get_queryset(self) -> QuerySet[Incident]:
        queryset = self.scope(Action.READ).filter(
            Incident.objects.select_related("instance__definition", "resolved_by"), "instance__definition__key")
        filters = self.filters()
        if "instance" in filters:
            queryset = queryset.filter(instance_id=filters["instance"])
        if "resolved" in filters:
            queryset = queryset.filter(resolved_at__isnull=not filters["resolved"])
        return queryset

    @extend_schema(summary="Retry: the element runs again with fresh attempts (on a worker)", request=None,
                   responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, pk=None) -> Response:
        incident = services.incident_retry(incident_id=self.get_object().pk, user=request.user)
        incident = Incident.objects.select_related("instance__definition", "resolved_by").get(pk=incident.pk)
        return Response(IncidentSerializer(incident).data)
