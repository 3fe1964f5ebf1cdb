"""Intermediate none throw event: a milestone in the diagram; the token passes."""
from __future__ import annotations

from orchestrator.runtime.behaviors.base import PassThrough


class IntermediateThrowEvent(PassThrough):
    pass
