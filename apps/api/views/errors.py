"""The error shape outside the viewsets: an unknown path under /api/v1/, and a 500 under /api/."""
from __future__ import annotations

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from apps.api.exceptions import error_body


@csrf_exempt  # like the API's views: a POST to an unknown path is a JSON 404, not a CSRF page
def api_not_found(request, unmatched: str = "") -> JsonResponse:
    """Every path under /api/v1/ that no route matches (also keeps Django's APPEND_SLASH
    redirect, which would answer a POST with an error page, out of the API)."""
    message = f"no such endpoint: {request.path}"
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
            message += f" (did you mean {request.path}/ ?)"
        except Resolver404:
            pass
    return JsonResponse(error_body(message, "not_found"), status=404)


def server_error(request, *args, **kwargs):
    """handler500: the error shape under /api/, Django's page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("internal error", "server_error"), status=500)
    return defaults.server_error(request, *args, **kwargs)
