"""/definitions/: deploy BPMN files, list and read versions, their XML and diagram, retire."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from apps.access.models import Action
from apps.api.exceptions import PayloadTooLarge
from apps.api.idempotency import idempotent
from apps.api.serializers import (
    DefinitionFilterSerializer, DefinitionSerializer, DeployResultSerializer, DeployUploadSerializer, NoInputSerializer,
)
from apps.api.views.base import BatonViewSet
from apps.definitions.selectors import definition_diagram_svg
from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy, definition_retire

XML_TYPES = ("application/xml", "text/xml")
NOT_A_FILE = "send the BPMN file as the multipart field 'file', or its XML as the body with Content-Type: application/xml"


class XMLBodyParser(BaseParser):
    """The body as bytes, unparsed (the engine's parser reads it): at most BATON_MAX_BPMN_BYTES."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = settings.BATON_MAX_BPMN_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge(f"the BPMN file is over the limit of {limit:,} bytes")
        return data


class TextXMLBodyParser(XMLBodyParser):
    media_type = "text/xml"


def diagram_response(definition: ProcessDefinition, **states) -> HttpResponse:
    """The definition's first diagram as SVG, elements marked by `states` (active, taken, incidents).

    Drawn from the stored file (its tree too, for the names of pools and lanes). The SVG is
    self-contained; the policy header forbids scripts and external loads anyway."""
    svg = definition_diagram_svg(definition, **states)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the BPMN file is {size:,} bytes, over the limit of {settings.BATON_MAX_BPMN_BYTES:,}")




@extend_schema_view(
    list=extend_schema(summary="Process definitions you may read, newest first",
                       parameters=[DefinitionFilterSerializer], responses={200: DefinitionSerializer(many=True)}),
    retrieve=extend_schema(summary="One process definition", responses={200: DefinitionSerializer}),
)
class DefinitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BatonViewSet):
    serializer_class = DefinitionSerializer
    filter_serializer_class = DefinitionFilterSerializer
    parser_classes = [MultiPartParser, XMLBodyParser, TextXMLBodyParser]
    grants = {"create": Action.DEPLOY, "retire": Action.DEPLOY}
    throttle_scopes = {"create": "deploy", "retire": "deploy"}
    input_serializers = {"create": DeployUploadSerializer, "retire": NoInputSerializer}

    def get_queryset(self) -> QuerySet[ProcessDefinition]:
        queryset = self.scope(Action.READ).filter(ProcessDefinition.objects.all(), "key")
        filters = self.filters()
        if "key" in filters:
            queryset = queryset.filter(key=filters["key"])
        if filters.get("latest"):
            # A newer version of the same process (tenants compared null-safely) that is not retired.
            newer = (ProcessDefinition.objects.annotate(tenant=Coalesce("tenant_id", Value("")))
                     .filter(key=OuterRef("key"), tenant=Coalesce(OuterRef("tenant_id"), Value("")),
                             retired=False, version__gt=OuterRef("version")))
            queryset = queryset.filter(retired=False).exclude(Exists(newer))
        return queryset

    @extend_schema(
        summary="Deploy a BPMN file",
        description="Every executable process of the file gets a new version unless it is unchanged. 201 when any "
                    "version was created, 200 when all were unchanged; 400 `invalid_model` or `not_executable` "
                    "with the problems (element, line); 413 over BATON_MAX_BPMN_BYTES. Needs the deploy grant.",
        request={"multipart/form-data": DeployUploadSerializer, "application/xml": OpenApiTypes.BINARY},
        responses={201: DeployResultSerializer, 200: DeployResultSerializer},
    )
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        data, source_name = self._uploaded(request)
        result = definition_deploy(data=data, source_name=source_name, user=request.user)
        return Response(result.to_dict(), status=status.HTTP_201_CREATED if result.created_any else status.HTTP_200_OK)

    def _uploaded(self, request) -> tuple[bytes, str]:
        data = request.data
        if isinstance(data, (bytes, bytearray)):
            if not data:
                raise ValidationError({"file": [NOT_A_FILE]})
            return bytes(data), ""
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [NOT_A_FILE]})
        if upload.size > settings.BATON_MAX_BPMN_BYTES:
            raise _too_large(upload.size)
        return upload.read(), upload.name or ""

    @extend_schema(summary="The deployed file", responses={(200, "application/xml"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None) -> HttpResponse:
        definition = self.get_object()
        return HttpResponse(definition.xml, content_type="application/xml; charset=utf-8")

    @extend_schema(summary="The process diagram as SVG (drawn from the file's BPMNDI; a list of its elements "
                           "when it has none)", responses={(200, "image/svg+xml"): OpenApiTypes.STR})
    def diagram(self, request, pk=None) -> HttpResponse:
        """Routed as /definitions/{id}/diagram.svg (urls.py), without the router's trailing slash."""
        return diagram_response(self.get_object())

    @extend_schema(summary="Retire a version: no new instance starts on it (running ones go on)",
                   request=None, responses={200: DefinitionSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def retire(self, request, pk=None) -> Response:
        definition = definition_retire(definition=self.get_object())
        return Response(DefinitionSerializer(definition).data)
