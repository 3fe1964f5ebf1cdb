"""Start event: a token placed on it has already been triggered; it only leaves."""
from __future__ import annotations

from orchestrator.runtime.behaviors.base import Behavior


class StartEvent(Behavior):
    pass
