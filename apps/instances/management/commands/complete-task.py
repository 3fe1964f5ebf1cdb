"""`manage.py complete-task TASK_ID [--vars JSON]`: complete an open user task (recorded here,
applied by a worker). Exit 2 with one line when it cannot be completed (unknown, already
completed: the same 409 the API answers, undeclared form fields, bad JSON)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.instances.management.commands._common import call_service, json_object, whole_number
from apps.instances.services import user_task_complete


class Command(BaseCommand):
    help = "Complete an open user task with variables."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("task_id", help="the user task id")
        parser.add_argument("--vars", default="{}", help="variables as a JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        task_id = whole_number("complete-task", "a task id", options["task_id"])
        variables = json_object("complete-task", "--vars", options["vars"])
        task = call_service("complete-task", user_task_complete, task_id=task_id, variables=variables)
        self.stdout.write(f"user task {task.pk} ({task.element_id}) completed; instance {task.instance_id} goes on")
