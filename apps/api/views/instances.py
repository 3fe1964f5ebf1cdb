"""/instances/: start, list, read, history, cancel, suspend, resume, change variables."""
from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet, Value
from django.db.models import CharField
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.models import Action
from apps.access.selectors import JSONArrayHas
from apps.api.idempotency import idempotent
from apps.api.serializers import (
    HistoryEntrySerializer, InstanceFilterSerializer, NoInputSerializer, InstanceSerializer, InstanceStartSerializer,
    VariablesChangeSerializer,
)
from apps.api.views.base import BatonViewSet, OldestFirst
from apps.api.views.definitions import diagram_response
from apps.definitions.errors import Conflict, NotFound
from apps.definitions.models import ProcessDefinition
from apps.definitions.selectors import definition_latest, definition_versions
from apps.instances import services
from apps.instances.masking import mask_variables
from apps.instances.models import FlowNodeInstance, ProcessInstance
from apps.instances.selectors import instance_open_incidents, instance_to_dict, instances_to_dicts



def instance_body(instance: ProcessInstance) -> dict[str, Any]:
    """The documented instance object, secrets masked."""
    return _masked(instance_to_dict(instance))


def _masked(body: dict[str, Any]) -> dict[str, Any]:
    body["variables"] = mask_variables(body["variables"])
    return InstanceSerializer(body).data


@extend_schema_view(
    list=extend_schema(summary="Process instances you may read, newest first",
                       parameters=[InstanceFilterSerializer], responses={200: InstanceSerializer(many=True)}),
    retrieve=extend_schema(summary="One process instance", responses={200: InstanceSerializer}),
)
class InstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BatonViewSet):
    serializer_class = InstanceSerializer
    filter_serializer_class = InstanceFilterSerializer
    grants = {"create": Action.START, "cancel": Action.OPERATE, "suspend": Action.OPERATE,
              "resume": Action.OPERATE, "variables": Action.OPERATE}
    throttle_scopes = {"create": "start", "cancel": "command", "suspend": "command", "resume": "command",
                       "variables": "command"}
    input_serializers = {"create": InstanceStartSerializer, "variables": VariablesChangeSerializer,
                         "cancel": NoInputSerializer, "suspend": NoInputSerializer, "resume": NoInputSerializer}

    def get_queryset(self) -> QuerySet[ProcessInstance]:
        queryset = self.scope(Action.READ).filter(ProcessInstance.objects.select_related("definition"),
                                                  "definition__key")
        filters = self.filters()
        for name, lookup in (("state", "state"), ("suspended", "suspended"), ("definition_key", "definition__key"),
                             ("business_key", "business_key"), ("started_after", "started_at__gte"),
                             ("started_before", "started_at__lt")):
            if name in filters:
                queryset = queryset.filter(**{lookup: filters[name]})
        if "has_incident" in filters:
            queryset = (queryset.filter(open_incidents__gt=0) if filters["has_incident"]
                        else queryset.filter(open_incidents=0))
        if "active_element" in filters:
            queryset = queryset.filter(JSONArrayHas(F("active_elements"), Value(filters["active_element"],
                                                                                 CharField())))
        return queryset

    def list(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_masked(body) for body in instances_to_dicts(page)])

    def retrieve(self, request, *args, **kwargs) -> Response:
        return Response(instance_body(self.get_object()))

    @extend_schema(summary="Start an instance",
                   description="Of the latest version of `definition_key`, or of the version `definition_id`. "
                               "A worker runs the first step: the answer shows the instance as recorded.",
                   request=InstanceStartSerializer, responses={201: InstanceSerializer})
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        definition = self._definition_to_start(data)
        self.check_object_permissions(request, definition)
        instance = services.instance_start(definition=definition, variables=data["variables"],
                                           business_key=data["business_key"], user=request.user)
        return Response(instance_body(instance), status=status.HTTP_201_CREATED)

    def _definition_to_start(self, data: dict[str, Any]) -> ProcessDefinition:
        """The definition named, among those the caller may read (else: not found)."""
        readable = self.scope(Action.READ)
        if "definition_id" in data:
            definition = readable.filter(ProcessDefinition.objects.all(), "key").filter(pk=data["definition_id"]).first()
            if definition is None:
                raise NotFound(f"no process definition {data['definition_id']}")
            return definition
        key = data["definition_key"]
        if not readable.allows(key):
            raise NotFound(f"no process definition with key {key!r}")
        definition = definition_latest(key)
        if definition is None:
            if definition_versions(key).exists():
                raise Conflict(f"every version of {key!r} is retired")
            raise NotFound(f"no process definition with key {key!r}")
        return definition

    @extend_schema(summary="The instance's history, oldest first: one row per flow node instance and per "
                           "sequence flow taken", responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=OldestFirst)
    def history(self, request, pk=None) -> Response:
        instance = self.get_object()
        page = self.paginate_queryset(FlowNodeInstance.objects.filter(instance=instance))
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    @extend_schema(summary="The process diagram as SVG, marked: elements holding a token (active), nodes "
                           "completed and flows taken (taken), open incidents (incident)",
                   responses={(200, "image/svg+xml"): OpenApiTypes.STR})
    def diagram(self, request, pk=None) -> HttpResponse:
        """Routed as /instances/{id}/diagram.svg (urls.py), without the router's trailing slash."""
        instance = self.get_object()
        taken = (FlowNodeInstance.objects.filter(instance=instance, state__in=[FlowNodeInstance.State.COMPLETED,
                                                                             FlowNodeInstance.State.TAKEN])
                 .values_list("element_id", flat=True).distinct())
        incidents = instance_open_incidents(instance).values_list("element_id", flat=True)
        return diagram_response(instance.definition, active=instance.active_elements, taken=set(taken),
                                incidents=set(incidents))

    @extend_schema(summary="Cancel: ends the instance at once", request=None,
                   responses={200: InstanceSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None) -> Response:
        instance = services.instance_cancel(instance_id=self.get_object().pk, user=request.user)
        return Response(instance_body(instance))

    @extend_schema(summary="Suspend: no work runs until resumed", request=None,
                   responses={200: InstanceSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def suspend(self, request, pk=None) -> Response:
        instance = services.instance_suspend(instance_id=self.get_object().pk, user=request.user)
        return Response(instance_body(instance))

    @extend_schema(summary="Resume a suspended instance", request=None,
                   responses={200: InstanceSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def resume(self, request, pk=None) -> Response:
        instance = services.instance_resume(instance_id=self.get_object().pk, user=request.user)
        return Response(instance_body(instance))

    @extend_schema(summary="Set and delete variables (recorded in the operation log)",
                   request=VariablesChangeSerializer, responses={200: InstanceSerializer})
    @action(detail=True, methods=["patch"])
    @idempotent
    def variables(self, request, pk=None) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = services.instance_set_variables(instance_id=instance.pk, set=serializer.validated_data["set"],
                                                   delete=serializer.validated_data["delete"], user=request.user)
        return Response(instance_body(instance))
