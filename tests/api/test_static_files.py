"""The admin's CSS comes from the web process itself (whitenoise): gunicorn serves no files."""
from django.conf import settings


def test_the_admin_stylesheet_is_served(client):
    response = client.get(settings.STATIC_URL.rstrip("/").join(["/", "/admin/css/base.css"]).replace("//", "/"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"body" in body and len(body) > 1000


def test_whitenoise_runs_right_after_the_security_middleware():
    middleware = settings.MIDDLEWARE
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == \
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
