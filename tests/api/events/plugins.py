"""Plugins for the events tests (BATON_PLUGIN_MODULES in conftest.py)."""
from __future__ import annotations

from celery import shared_task

from orchestrator.plugin import BpmnError

CALLS: list[str] = []


@shared_task(name="events_test.charge")
def charge(amount: int = 0) -> dict:
    """Throws the business error CARD_DECLINED for amounts over 100."""
    CALLS.append("charge")
    if amount > 100:
        raise BpmnError("CARD_DECLINED", "the card was declined", {"reason": "limit"})
    return {"charged": amount}
