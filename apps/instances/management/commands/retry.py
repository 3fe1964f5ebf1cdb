"""`manage.py retry INCIDENT_ID`: run the failed element again (on a worker). Exit 2 with one
line when the incident is unknown or already resolved."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.management.commands._common import call_service, whole_number
from apps.instances.services import incident_retry


class Command(BaseCommand):
    help = "Retry an incident: its element runs again."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("incident_id", help="the incident id")

    def handle(self, *args: Any, **options: Any) -> None:
        incident_id = whole_number("retry", "an incident id", options["incident_id"])
        incident = call_service("retry", incident_retry, incident_id=incident_id)
        self.stdout.write(f"incident {incident.pk} at {incident.element_id} retried (instance {incident.instance_id})")
