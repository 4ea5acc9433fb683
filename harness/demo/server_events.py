"""The backend's server-side purchase events (Meta CAPI, TikTok Events API, GA4 Measurement Protocol),
built in each vendor's real wire format and sent without ever blocking or crashing the shop.

Sending goes through a ``Sender``: the default sends with urllib on a background thread through the
environment's HTTPS proxy (or the one given), so a capture proxy records them as server traffic; tests
swap in a ``RecordingSender``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import ssl
import threading
import time
import urllib.request
import uuid
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from harness.demo.catalog import TAG_IDS
from harness.demo.orders import Order

log = logging.getLogger(__name__)


class VendorEndpoints(BaseModel):
    """Where the server events go; configurable so a test can aim them at a local proxy over http."""

    model_config = ConfigDict(frozen=True)

    meta_capi: str = "https://graph.facebook.com/v19.0/{pixel_id}/events"
    tiktok_events_api: str = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    ga4_mp: str = "https://www.google-analytics.com/mp/collect"


class OutgoingRequest(BaseModel):
    vendor: str  # the decoder vendor name: meta_capi, tiktok_events_api, ga4_mp
    event_name: str
    event_id: str | None
    method: str = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""


class PurchaseContext(BaseModel):
    """What the checkout request told the backend about the buyer's browser."""

    cookies: dict[str, str] = Field(default_factory=dict)
    client_ip: str = "127.0.0.1"
    user_agent: str = ""
    page_url: str = ""  # the thank-you page the purchase lands on


class Sender(Protocol):
    def send(self, request: OutgoingRequest) -> None: ...


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _normalized_phone(phone: str) -> str:
    # Meta and TikTok hash phone numbers as digits only, country code included.
    return "".join(ch for ch in phone if ch.isdigit())


def _ga_client_id(cookies: Mapping[str, str]) -> str:
    # _ga = GA1.3.<random>.<timestamp>; the client ID is the last two parts.
    parts = cookies.get("_ga", "").split(".")
    if len(parts) >= 4:
        return ".".join(parts[-2:])
    return f"{uuid.uuid4().int % 2_000_000_000}.{int(time.time())}"


def purchase_requests(
    order: Order,
    context: PurchaseContext,
    switches: frozenset[str],
    endpoints: VendorEndpoints | None = None,
) -> list[OutgoingRequest]:
    """The server events one purchase sends, in sending order."""
    endpoints = endpoints or VendorEndpoints()
    requests = [
        _meta_capi(order, context, switches, endpoints),
        _tiktok_events_api(order, context, endpoints),
        _ga4_mp(order, context, endpoints),
    ]
    if "server_event_twice" in switches:
        requests = [r for r in requests for _ in range(2)]
    return requests


def _meta_capi(
    order: Order, context: PurchaseContext, switches: frozenset[str], endpoints: VendorEndpoints
) -> OutgoingRequest:
    event_id = str(uuid.uuid4()) if "broken_dedupe" in switches else order.event_id
    user_data: dict[str, object] = {
        "em": [sha256_hex(order.email)],
        "client_ip_address": context.client_ip,
        "client_user_agent": context.user_agent,
    }
    if order.phone:
        user_data["ph"] = [sha256_hex(_normalized_phone(order.phone))]
    if context.cookies.get("_fbp"):
        user_data["fbp"] = context.cookies["_fbp"]
    if context.cookies.get("_fbc") and "server_event_without_fbc" not in switches:
        user_data["fbc"] = context.cookies["_fbc"]
    event = {
        "event_name": "Purchase",
        "event_time": int(time.time()),
        "event_id": event_id,
        "event_source_url": context.page_url,
        "action_source": "website",
        "user_data": user_data,
        "custom_data": {
            "value": order.value,
            "currency": order.currency,
            "order_id": order.order_id,
            "content_ids": [i.sku for i in order.items],
            "content_type": "product",
            "num_items": sum(i.quantity for i in order.items),
        },
    }
    # Meta's business SDK posts form fields: data=<JSON list of events>&access_token=...
    body = urlencode(
        {"data": json.dumps([event], separators=(",", ":")), "access_token": TAG_IDS.meta_access_token}
    )
    return OutgoingRequest(
        vendor="meta_capi",
        event_name="Purchase",
        event_id=event_id,
        url=endpoints.meta_capi.format(pixel_id=TAG_IDS.meta_pixel),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "fbbizsdk-python-v19.0.2",
        },
        body=body.encode(),
    )


def _tiktok_events_api(order: Order, context: PurchaseContext, endpoints: VendorEndpoints) -> OutgoingRequest:
    user: dict[str, object] = {
        "email": sha256_hex(order.email),
        "ip": context.client_ip,
        "user_agent": context.user_agent,
    }
    if order.phone:
        user["phone"] = sha256_hex("+" + _normalized_phone(order.phone))
    if context.cookies.get("ttclid"):
        user["ttclid"] = context.cookies["ttclid"]
    if context.cookies.get("_ttp"):
        user["ttp"] = context.cookies["_ttp"]
    payload = {
        "event_source": "web",
        "event_source_id": TAG_IDS.tiktok_pixel,
        "data": [
            {
                "event": "CompletePayment",
                "event_time": int(time.time()),
                "event_id": order.event_id,
                "user": user,
                "properties": {
                    "value": order.value,
                    "currency": order.currency,
                    "order_id": order.order_id,
                    "content_type": "product",
                    "contents": [
                        {
                            "content_id": i.sku,
                            "content_name": i.name,
                            "price": i.price,
                            "quantity": i.quantity,
                        }
                        for i in order.items
                    ],
                },
                "page": {"url": context.page_url},
            }
        ],
    }
    return OutgoingRequest(
        vendor="tiktok_events_api",
        event_name="CompletePayment",
        event_id=order.event_id,
        url=endpoints.tiktok_events_api,
        headers={"Content-Type": "application/json", "Access-Token": TAG_IDS.tiktok_access_token},
        body=json.dumps(payload, separators=(",", ":")).encode(),
    )


def _ga4_mp(order: Order, context: PurchaseContext, endpoints: VendorEndpoints) -> OutgoingRequest:
    payload = {
        "client_id": _ga_client_id(context.cookies),
        "timestamp_micros": int(time.time() * 1_000_000),
        "events": [
            {
                "name": "purchase",
                "params": {
                    "transaction_id": order.order_id,
                    "value": order.value,
                    "currency": order.currency,
                    "items": [
                        {"item_id": i.sku, "item_name": i.name, "price": i.price, "quantity": i.quantity}
                        for i in order.items
                    ],
                },
            }
        ],
    }
    query = urlencode({"measurement_id": TAG_IDS.ga4, "api_secret": TAG_IDS.ga4_api_secret})
    return OutgoingRequest(
        vendor="ga4_mp",
        event_name="purchase",
        event_id=None,
        url=f"{endpoints.ga4_mp}?{query}",
        headers={"Content-Type": "application/json"},
        body=json.dumps(payload, separators=(",", ":")).encode(),
    )


class UrllibSender:
    """Sends each request on its own daemon thread; failures are logged, never raised.

    ``proxy`` defaults to ``HTTPS_PROXY``/``HTTP_PROXY``; ``ca_file`` to ``SSL_CERT_FILE`` or
    ``REQUESTS_CA_BUNDLE`` (a capture proxy's CA)."""

    def __init__(self, proxy: str | None = None, ca_file: str | None = None, timeout: float = 5.0) -> None:
        self.proxy = proxy
        self.ca_file = ca_file or os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None

    def _opener(self) -> urllib.request.OpenerDirector:
        # One TLS context for every send: building one reads the whole CA bundle, which cost more CPU
        # than the rest of the send. (SSLContext is safe to share between threads.)
        if self._context is None:
            self._context = (
                ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
            )
        context = self._context
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
        if self.proxy:
            handlers.append(urllib.request.ProxyHandler({"http": self.proxy, "https": self.proxy}))
        # Without an explicit proxy, build_opener's default ProxyHandler reads the environment.
        return urllib.request.build_opener(*handlers)

    def send(self, request: OutgoingRequest) -> None:
        threading.Thread(
            target=self._send_now, args=(request,), daemon=True, name="demo-server-event"
        ).start()

    def _send_now(self, request: OutgoingRequest) -> None:
        try:
            prepared = urllib.request.Request(
                request.url, data=request.body, headers=request.headers, method=request.method
            )
            with self._opener().open(prepared, timeout=self.timeout) as response:
                response.read()
                log.info("demo server event %s -> %s", request.vendor, response.status)
        except Exception as exc:  # a failed vendor call must never take the shop down
            log.warning("demo server event %s to %s failed: %s", request.vendor, request.url, exc)


class RecordingSender:
    """Keeps what it was asked to send (for tests and dry runs); ``wait_for`` blocks until n arrived."""

    def __init__(self) -> None:
        self.sent: list[OutgoingRequest] = []
        self._changed = threading.Condition()

    def send(self, request: OutgoingRequest) -> None:
        with self._changed:
            self.sent.append(request)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[OutgoingRequest]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.sent) >= count, timeout=timeout)
            return list(self.sent)

    def clear(self) -> None:
        with self._changed:
            self.sent.clear()
