"""Boundary event: its token was placed by the event that fired (or the error or escalation that
was caught); it leaves along the boundary's outgoing flows."""
from __future__ import annotations

from orchestrator.runtime.behaviors.base import PassThrough


class BoundaryEvent(PassThrough):
    pass
