"""One error hierarchy for the engine.

Every error that a process author or operator can see carries the element id and, where the
parser knows it, the source line, so that a message can always point at the diagram.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How bad a `Problem` is: errors make a file invalid, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth saying about) a BPMN file.

    `executable_only` marks problems that do not make the file invalid but stop Baton from
    running the process (an unsupported element, an unknown plugin, a Groovy script).
    """

    message: str
    element: str | None = None
    line: int | None = None
    severity: Severity = Severity.ERROR
    executable_only: bool = False
    process: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"element": self.element, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.element:
            where.append(f"element {self.element!r}")
        if self.line:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class BatonError(Exception):
    """Base class of every error the engine raises on purpose."""

    def __init__(self, message: str, *, element: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element
        self.line = line

    def to_problem(self) -> Problem:
        return Problem(self.message, element=self.element, line=self.line)

    def __str__(self) -> str:
        return str(self.to_problem())


class BpmnParseError(BatonError):
    """The file is not a BPMN document we can read at all (not XML, a DOCTYPE, too large)."""


class InvalidModel(BatonError):
    """The file was read but is not valid; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0] if problems else Problem("invalid model")
        super().__init__(first.message, element=first.element, line=first.line)
        self.problems = problems


class ExpressionError(BatonError):
    """An expression or condition cannot be translated or evaluated."""


class ScriptError(BatonError):
    """A script failed to compile or raised while running (inside the sandbox)."""


class ScriptTimeout(ScriptError):
    """A script or expression ran longer than its time limit."""


class ScriptMemoryError(ScriptError):
    """A script or expression tried to build a value larger than the sandbox allows."""


class VariableError(BatonError):
    """A process variable cannot be stored (not JSON, not a supported typed value, too large)."""


class EngineError(BatonError):
    """The engine cannot carry out a step (an unsupported element, no outgoing flow taken)."""


class InvalidTransition(BatonError):
    """An event does not fit the instance's current state (completing a job that is not waiting)."""
