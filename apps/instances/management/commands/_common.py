"""What the operator commands share: one-line errors with exit 2, service errors mapped."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, NoReturn

from apps.definitions.errors import ApplicationError

EXIT_BAD_INPUT = 2


def fail(command: str, message: str) -> NoReturn:
    sys.stderr.write(f"{command}: {message}\n")
    sys.exit(EXIT_BAD_INPUT)


def whole_number(command: str, what: str, text: str) -> int:
    if not text.isdigit():
        fail(command, f"{what} is a whole number, not {text!r}")
    return int(text)


def json_object(command: str, option: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(command, f"{option} is not valid JSON ({exc.msg} at character {exc.pos})")
    if not isinstance(value, dict):
        fail(command, f"{option} must be a JSON object, got {type(value).__name__}")
    return value


def call_service(command: str, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service; a refusal (unknown id, wrong state, bad input) is one line and exit 2."""
    try:
        return service(**kwargs)
    except ApplicationError as exc:
        fail(command, exc.message)
