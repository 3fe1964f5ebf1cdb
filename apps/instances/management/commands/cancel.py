"""`manage.py cancel ID`: end a running instance now (every token removed, open jobs and user
tasks cancelled, children cancelled too). Exit 2 with one line when it cannot."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.management.commands._common import call_service, whole_number
from apps.instances.services import instance_cancel


class Command(BaseCommand):
    help = "Cancel a running process instance."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", help="the instance id")

    def handle(self, *args: Any, **options: Any) -> None:
        instance_id = whole_number("cancel", "an instance id", options["id"])
        instance = call_service("cancel", instance_cancel, instance_id=instance_id)
        self.stdout.write(f"instance {instance.pk} cancelled")
