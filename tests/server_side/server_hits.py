"""Real-format server hits (and site form posts) with the fields server-side checks read under the
test's control: user_data, event_time, client_id. Decoded by the real registry through ``Journey``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from harness.checks.base import CheckContext
from harness.models import CapturedRequest, CookieRecord, ParamFate
from tests.checks.hits import GA4_ID, META_PIXEL_ID, SHOP, THANK_YOU, TIKTOK_CODE, Journey, scenario_for

FBCLID = "IwAR1serverSideFbclid0123"
TTCLID = "E.C.P.v2abcdEFGH1234"
GCLID = "EAIaIQobChMIserverSide"
FBP = "fb.1.1716999000000.1234567890"
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 7)"
SHA = "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"


def _server(url: str, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(
        id="unstamped",
        method="POST",
        url=url,
        request_headers=[("content-type", "application/json"), *(headers or [])],
        body=json.dumps(body).encode(),
        source="server",
        tag_hit=True,
        sinkholed=True,
        status=200,
    )


def capi_hit(
    *,
    event: str = "Purchase",
    event_id: str | None = "ORD-1",
    order_id: str | None = "ORD-1",
    value: float | None = 59.9,
    currency: str | None = "EUR",
    event_time: Any = 1_717_000_000,
    user_data: dict[str, Any] | None = None,
    action_source: str = "website",
) -> CapturedRequest:
    """Conversions API JSON body; ``user_data`` defaults to a well-matched event (fbp, fbc, ip, ua, em)."""
    custom = {
        k: v for k, v in (("value", value), ("currency", currency), ("order_id", order_id)) if v is not None
    }
    entry: dict[str, Any] = {
        "event_name": event,
        "user_data": user_data
        if user_data is not None
        else {
            "fbp": FBP,
            "fbc": f"fb.1.1717000000000.{FBCLID}",
            "client_ip_address": "203.0.113.7",
            "client_user_agent": UA,
            "em": [SHA],
        },  # fmt: skip
        "custom_data": custom,
        "event_source_url": THANK_YOU,
        "action_source": action_source,
    }
    if event_time is not None:
        entry["event_time"] = event_time
    if event_id is not None:
        entry["event_id"] = event_id
    url = f"https://graph.facebook.com/v19.0/{META_PIXEL_ID}/events"
    return _server(url, {"data": [entry], "access_token": "EAAtoken"})


def tiktok_hit(
    *,
    event_id: str = "ORD-1",
    value: float = 59.9,
    currency: str = "EUR",
    event_time: Any = 1_717_000_000,
    user: dict[str, Any] | None = None,
) -> CapturedRequest:
    """Events API 2.0 ``event/track`` (v1.3)."""
    entry: dict[str, Any] = {
        "event": "CompletePayment",
        "event_id": event_id,
        "user": user
        if user is not None
        else {"ttclid": TTCLID, "ttp": "2hQ9Zr1tE0Wf3yG1oP2mK8sL4vA", "email": SHA},
        "properties": {"value": value, "currency": currency, "order_id": "ORD-1"},
        "page": {"url": THANK_YOU},
    }
    if event_time is not None:
        entry["event_time"] = event_time
    body = {"event_source": "web", "event_source_id": TIKTOK_CODE, "data": [entry]}
    url = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    return _server(url, body, [("access-token", "tt-token")])


def mp_hit(
    *,
    client_id: str | None = "1183042221.1716212400",
    timestamp_micros: Any = None,
    user_data: dict[str, Any] | None = None,
    value: float = 59.9,
    transaction_id: str = "ORD-1",
) -> CapturedRequest:
    body: dict[str, Any] = {
        "events": [
            {
                "name": "purchase",
                "params": {"transaction_id": transaction_id, "value": value, "currency": "EUR"},
            }
        ]
    }
    if client_id is not None:
        body["client_id"] = client_id
    if timestamp_micros is not None:
        body["timestamp_micros"] = timestamp_micros
    if user_data is not None:
        body["user_data"] = user_data
    return _server(f"https://www.google-analytics.com/mp/collect?measurement_id={GA4_ID}&api_secret=s", body)


def form_post(
    url: str,
    body: dict[str, Any] | str,
    *,
    form: bool = False,
    cookie: str | None = None,
    method: str = "POST",
) -> CapturedRequest:
    """A request the page itself sent to a backend (no decoder claims it)."""
    text = (
        urlencode(body)
        if form and isinstance(body, dict)
        else body
        if isinstance(body, str)
        else json.dumps(body)
    )
    headers = [("content-type", "application/x-www-form-urlencoded" if form else "application/json")]
    if cookie:
        headers.append(("cookie", cookie))
    return CapturedRequest(
        id="unstamped", method=method, url=url, request_headers=headers, body=text.encode(), status=200
    )


def context(journey: Journey, ad_query: str = "", *, cookies: dict[str, str] | None = None,
            lost: tuple[str, ...] = ()) -> CheckContext:  # fmt: skip
    """The run's CheckContext: ad URL with ``ad_query``, cookies set, click IDs in ``lost`` dropped on the way."""
    ad_url = f"{SHOP}/?{ad_query}" if ad_query else f"{SHOP}/"
    journey.capture_fields["cookies"] = [
        CookieRecord(name=k, value=v, domain="shop.example") for k, v in (cookies or {}).items()
    ]
    fates = [ParamFate(param=p, value="x", reached_final=False, fate="dropped", hop=1) for p in lost]
    result = journey.result()
    result.capture.chain.params = fates
    return CheckContext(scenario=scenario_for(journey.steps, {}), result=result, ad_url=ad_url)
