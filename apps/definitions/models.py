"""Deployments and process definitions: the versions of each BPMN process Baton can run."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Deployment(models.Model):
    """One deploy call: who deployed which file, and when. A file may hold several processes."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    source_name = models.CharField(max_length=255, blank=True, default="")
    source = models.TextField(help_text="The deployed file, as uploaded.")
    checksum = models.CharField(max_length=64)
    tenant_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"deployment {self.pk} ({self.source_name or 'unnamed'})"


class ProcessDefinition(models.Model):
    """One version of one process. Instances stay on the version they started on."""

    key = models.CharField(max_length=255, help_text="The BPMN process id.")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=255, blank=True, default="")
    xml = models.TextField(help_text="The whole file the process came from (root elements included).")
    checksum = models.CharField(max_length=64, help_text="Of this process's own XML: same checksum, same version.")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="definitions")
    retired = models.BooleanField(default=False)
    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "key", "version"], name="definition_unique_version",
                                    nulls_distinct=False),
        ]
        indexes = [models.Index(fields=["key", "-version"], name="definition_key_version")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"
