"""Domain errors of the Django layer: one base class, mapped to one error shape by the API."""
from __future__ import annotations

from orchestrator.errors import Problem


class ApplicationError(Exception):
    """A request Baton refuses, with a stable `code` and the problems that explain it."""

    code = "error"

    def __init__(self, message: str, *, problems: list[Problem] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        if code is not None:
            self.code = code


class DeploymentRefused(ApplicationError):
    code = "invalid_model"


class NotFound(ApplicationError):
    code = "not_found"


class Conflict(ApplicationError):
    """The request does not fit the current state (completing a completed task)."""

    code = "conflict"


class InvalidInput(ApplicationError):
    code = "invalid_input"
