"""What every viewset shares: numeric ids, grant checks, per-request grant scopes, cursor
pagination newest first, body size limit, query filters validated by a serializer."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from rest_framework import viewsets
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated

from apps.access.models import Action
from apps.access.selectors import KeyScope, grant_scope
from apps.api.exceptions import PayloadTooLarge
from apps.api.permissions import HasGrant

# Database ids are 64-bit: anything longer, or not a number, is not an id (a 404, never a 500).
ID_PATTERN = r"[0-9]{1,18}"


class FallBackToJSON(DefaultContentNegotiation):
    """An Accept header (or ?format=) nothing renders gets JSON, not 406: the XML and SVG
    endpoints answer their own media type, and their errors are JSON like every other."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except (NotAcceptable, Http404):
            return renderers[0], renderers[0].media_type


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class OldestFirst(NewestFirst):
    ordering = "id"


class BatonViewSet(viewsets.GenericViewSet):
    """Viewsets name per action the grant it needs (`grants`) and its throttle scope (`throttle_scopes`)."""

    lookup_value_regex = ID_PATTERN
    content_negotiation_class = FallBackToJSON
    permission_classes = [IsAuthenticated, HasGrant]
    pagination_class = NewestFirst
    grants: dict[str, Action] = {}
    throttle_scopes: dict[str, str] = {}
    filter_serializer_class = None
    # The serializer each command validates its input with (also the browsable API's form for it).
    input_serializers: dict[str, type] = {}

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.serializer_class)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge(f"the request body is {length:,} bytes, over the limit of "
                                  f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}")

    def scope(self, action: Action) -> KeyScope:
        """The keys the caller may `action`, computed once per request."""
        cache = self.__dict__.setdefault("_scopes", {})
        if action not in cache:
            cache[action] = grant_scope(user=self.request.user, action=action)
        return cache[action]

    def filters(self) -> dict[str, Any]:
        """The list's query filters, validated (400 on a bad value)."""
        if self.filter_serializer_class is None or self.action != "list":
            return {}
        serializer = self.filter_serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
