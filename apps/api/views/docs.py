"""/schema/ (OpenAPI 3, YAML or ?format=json) and /docs/ (Swagger UI, assets self-hosted by
drf-spectacular-sidecar): drf-spectacular's views, with errors in the API's JSON shape."""
from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class _JSONErrors:
    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(_JSONErrors, SpectacularAPIView):
    pass


class DocsView(_JSONErrors, SpectacularSwaggerView):
    """A browser that is not logged in is sent to the login page (then back); API clients get 401."""

    def handle_exception(self, exc):
        if isinstance(exc, (NotAuthenticated, AuthenticationFailed)) \
                and "text/html" in self.request.headers.get("Accept", ""):
            return redirect(f"{reverse('rest_framework:login')}?{urlencode({'next': self.request.get_full_path()})}")
        return super().handle_exception(exc)
