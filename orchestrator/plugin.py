"""What a plugin may import from Baton (and nothing else is needed to write one).

    from orchestrator.plugin import BpmnError

    @shared_task(name="payments.charge")
    def charge(amount):
        if declined:
            raise BpmnError("CARD_DECLINED", "the card was declined", {"reason": "limit"})

A BpmnError is a business outcome, not a failure: it is never retried, and it is caught by the
activity's error boundary event with that code (or with none), else by an enclosing scope's; an
uncaught one opens an incident naming the code. Any other exception is a technical failure,
retried by Baton's policy.
"""
from __future__ import annotations

from typing import Any


class BpmnError(Exception):
    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})
