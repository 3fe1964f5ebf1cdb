"""Plugins of the example processes in this folder: ordinary Celery tasks, as any plugin is.

Load them by naming this module in BATON_PLUGIN_MODULES (`scripts/server` and
docker-compose.yml add `examples.plugins`; for `manage.py validate` or `deploy` by hand, set
`BATON_PLUGIN_MODULES=examples.plugins`). A service task calls one by its name
(`baton:task="examples.orders.check_stock"`); the arguments are the process variables of the
same names, `baton_job_id` is the id of the job that called it (the same on every retry, so it
is an idempotency key), and the dict returned becomes process variables.

They stand in for the systems a real process would call (a warehouse, a payment provider, a
carrier, an expenses ledger) with answers derived from their arguments, so that every run of an
example is repeatable and needs nothing beyond Baton. Replace the bodies with real calls and the
processes stay as they are.
"""
from __future__ import annotations

import hashlib
import logging

from celery import shared_task

logger = logging.getLogger(__name__)

# The warehouse: units on hand per SKU. An unknown SKU has none.
STOCK = {"BOOK-1": 25, "MUG-2": 40, "LAMP-3": 2, "POSTER-4": 0}


def _reference(prefix: str, *parts: object) -> str:
    """A stable reference for the same inputs: what an idempotent remote call would hand back."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"


def _lines(items: list[dict]) -> list[tuple[str, int]]:
    """(sku, qty) of each order line; a malformed line is the caller's error (ValueError: no retry)."""
    if not isinstance(items, list) or not items:
        raise ValueError("items must be a non-empty list of {sku, qty} objects")
    lines = []
    for line in items:
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str) or not isinstance(line.get("qty"), int):
            raise ValueError(f"an order line needs a string sku and an integer qty, got {line!r}")
        if line["qty"] <= 0:
            raise ValueError(f"qty must be positive, got {line['qty']} for {line['sku']}")
        lines.append((line["sku"], line["qty"]))
    return lines


# -- order fulfilment (order_fulfilment.bpmn) ---------------------------------------------------

@shared_task(name="examples.orders.check_stock")
def check_stock(items: list[dict]) -> dict:
    """Check every order line against the warehouse.

    Returns {"in_stock": true} when every line can be served, else
    {"in_stock": false, "missing": [SKU, ...]}.
    """
    missing = [sku for sku, qty in _lines(items) if STOCK.get(sku, 0) < qty]
    return {"in_stock": not missing, "missing": missing}


@shared_task(name="examples.orders.charge_payment")
def charge_payment(order_id: str, total: float, baton_job_id: str) -> dict:
    """Charge the customer `total` for the order. The job id is the idempotency key, so a
    retried job never charges twice. Returns {"payment_id": "PAY-..."}."""
    if not isinstance(total, (int, float)) or total <= 0:
        raise ValueError(f"total must be a positive amount, got {total!r}")
    payment_id = _reference("PAY", baton_job_id, order_id, total)
    logger.info("charged %.2f for order %s: %s", total, order_id, payment_id)
    return {"payment_id": payment_id}


@shared_task(name="examples.orders.reserve_stock")
def reserve_stock(order_id: str, items: list[dict], baton_job_id: str) -> dict:
    """Put the order's units aside in the warehouse. Returns {"reservation_id": "RES-..."}."""
    lines = _lines(items)
    reservation_id = _reference("RES", baton_job_id, order_id, lines)
    logger.info("reserved %d line(s) for order %s: %s", len(lines), order_id, reservation_id)
    return {"reservation_id": reservation_id}


@shared_task(name="examples.orders.book_shipment")
def book_shipment(order_id: str, express: bool = False, baton_job_id: str = "") -> dict:
    """Book a carrier for the order: next-day with `express`, else standard.
    Returns {"carrier": ..., "tracking_number": ...}."""
    carrier = "SwiftPost Next Day" if express else "SwiftPost Standard"
    return {"carrier": carrier, "tracking_number": _reference("TRK", baton_job_id, order_id)}


# -- expense approval (expense_approval.bpmn) ---------------------------------------------------

@shared_task(name="examples.expenses.pay")
def pay_expense(request_id: str, requester: str, amount: float, baton_job_id: str) -> dict:
    """Pay an approved expense to the requester. Returns {"paid": true, "payment_reference": ...}."""
    if not isinstance(amount, (int, float)) or amount <= 0:
        raise ValueError(f"amount must be a positive number, got {amount!r}")
    reference = _reference("EXP", baton_job_id, request_id)
    logger.info("paid %.2f to %s for expense %s: %s", amount, requester, request_id, reference)
    return {"paid": True, "payment_reference": reference}
