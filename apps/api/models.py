"""The one model of the API: remembered answers to requests sent with an `Idempotency-Key`.

An HTTP concern, not a domain one, so it lives with the API (see `idempotency.py`).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to one user's request with one `Idempotency-Key`, kept until `expires_at`.

    `status_code` is null while the first request still runs (`locked_until` bounds how long a
    crashed request can hold the key)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the method, the path and the body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    locked_until = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]
        indexes = [models.Index(fields=["user", "expires_at"], name="idempotency_user_expiry")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'running'})"
