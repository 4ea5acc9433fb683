"""The backend's truth: orders and leads per shop session, what reports reconcile tag hits against."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

from pydantic import BaseModel, Field

from harness.demo.catalog import CURRENCY, PRODUCTS_BY_SKU


class OrderItem(BaseModel):
    sku: str
    name: str
    price: float
    quantity: int


class Order(BaseModel):
    order_id: str
    session: str | None
    value: float
    currency: str
    items: list[OrderItem]
    event_id: str  # the purchase's event ID, shared by the Pixel and the server events (unless broken)
    email: str
    phone: str | None = None
    created_at: float
    # What the backend actually sent server-side, per vendor: its event IDs (for dedupe checks).
    server_event_ids: dict[str, list[str]] = Field(default_factory=dict)


class Lead(BaseModel):
    lead_id: str
    session: str | None
    name: str
    email: str
    phone: str | None = None
    click_ids: dict[str, str] = Field(default_factory=dict)  # the hidden fields, empty ones left out
    page_url: str | None = None
    created_at: float


class CheckoutError(ValueError):
    """The checkout request cannot become an order (empty cart, unknown SKU, no email)."""


class OrderBook:
    """Thread-safe in-memory store; one per DemoShop, so shops in parallel tests stay apart."""

    def __init__(self, first_order_number: int = 10023, first_lead_number: int = 5001) -> None:
        self._lock = threading.Lock()
        self._order_numbers = itertools.count(first_order_number)
        self._lead_numbers = itertools.count(first_lead_number)
        self._orders: dict[str, Order] = {}
        self._leads: dict[str, Lead] = {}

    def create_order(self, session: str | None, payload: dict[str, Any]) -> Order:
        """Price the cart from the catalogue (never trust the browser's prices) and store the order."""
        items = _order_items(payload.get("items"))
        email = str(payload.get("email") or "").strip()
        if "@" not in email:
            raise CheckoutError("an email address is required")
        value = round(sum(i.price * i.quantity for i in items), 2)
        with self._lock:
            order = Order(
                order_id=f"ORD-{next(self._order_numbers)}",
                session=session,
                value=value,
                currency=CURRENCY,
                items=items,
                event_id=str(uuid.uuid4()),
                email=email,
                phone=str(payload.get("phone") or "").strip() or None,
                created_at=time.time(),
            )
            self._orders[order.order_id] = order
        return order

    def record_server_event(self, order_id: str, vendor: str, event_id: str) -> None:
        with self._lock:
            order = self._orders.get(order_id)
            if order is not None:
                order.server_event_ids.setdefault(vendor, []).append(event_id)

    def create_lead(self, session: str | None, payload: dict[str, Any]) -> Lead:
        email = str(payload.get("email") or "").strip()
        if "@" not in email:
            raise CheckoutError("an email address is required")
        click_ids = {
            key: str(payload[key]).strip()
            for key in ("gclid", "fbc", "ttclid", "msclkid")
            if str(payload.get(key) or "").strip()
        }
        with self._lock:
            lead = Lead(
                lead_id=f"LEAD-{next(self._lead_numbers)}",
                session=session,
                name=str(payload.get("name") or "").strip(),
                email=email,
                phone=str(payload.get("phone") or "").strip() or None,
                click_ids=click_ids,
                page_url=str(payload.get("page_url") or "") or None,
                created_at=time.time(),
            )
            self._leads[lead.lead_id] = lead
        return lead

    def order(self, order_id: str) -> Order | None:
        with self._lock:
            found = self._orders.get(order_id)
            return found.model_copy(deep=True) if found else None

    def orders(self, session: str | None = None) -> list[Order]:
        """The orders of one session, or all of them when ``session`` is None."""
        with self._lock:
            return [
                o.model_copy(deep=True)
                for o in self._orders.values()
                if session is None or o.session == session
            ]

    def leads(self, session: str | None = None) -> list[Lead]:
        with self._lock:
            return [
                lead.model_copy(deep=True)
                for lead in self._leads.values()
                if session is None or lead.session == session
            ]


def _order_items(raw: Any) -> list[OrderItem]:
    if not isinstance(raw, list) or not raw:
        raise CheckoutError("the cart is empty")
    items = []
    for entry in raw:
        sku = str(entry.get("sku")) if isinstance(entry, dict) else ""
        product = PRODUCTS_BY_SKU.get(sku)
        if product is None:
            raise CheckoutError(f"unknown product {sku!r}")
        try:
            quantity = max(1, min(99, int(entry.get("quantity", 1))))
        except (TypeError, ValueError):
            quantity = 1
        items.append(OrderItem(sku=sku, name=product.name, price=product.price, quantity=quantity))
    return items
