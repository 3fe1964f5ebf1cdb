from django.contrib import admin
from django.urls import include, path

from apps.api.views.health import healthz, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    # Probes for load balancers and orchestrators: unauthenticated, they reveal only the status.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

# A 500 under /api/ keeps the API's error shape.
handler500 = "apps.api.views.errors.server_error"
