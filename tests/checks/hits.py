"""Builders of real-format tag hits and whole runs for check tests.

Every hit is a ``CapturedRequest`` in the vendor's own wire format (the shapes of
``tests/decoders/fixtures/<vendor>/``), so check tests go through the real decoders:
``Journey`` collects hits and steps on a clock and decodes them with ``DecoderRegistry.default()``.

    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.step("pay")
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    ctx = journey.context(events=[{"vendor": "meta_pixel", "event": "Purchase"}])
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from harness.checks.base import CheckContext
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, RedirectChain, RedirectHop, RunCapture, RunResult, StepRecord
from harness.scenario import Scenario

SHOP = "https://shop.example"
LANDING = f"{SHOP}/?gclid=EAIaIQobChMItest"
PRODUCT = f"{SHOP}/product/tent"
CHECKOUT = f"{SHOP}/checkout"
THANK_YOU = f"{SHOP}/checkout/thank-you?order=1024"

GA4_ID = "G-8F2ZQ1Q9XY"
META_PIXEL_ID = "1402533720264604"
TIKTOK_CODE = "CABCDE12345FGHIJ6789"
UET_TAG_ID = "123456"

_BROWSER_IMAGE_HEADERS = [
    ("accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
    ("sec-fetch-dest", "image"),
]


def _browser_headers(
    page_url: str, extra: list[tuple[str, str]] | None = None, referer: str | None = None
) -> list[tuple[str, str]]:
    # Chromium's default referrer policy (strict-origin-when-cross-origin) sends only the origin cross-site;
    # ``referer`` overrides it (a first-party collector, or a page with a looser policy, gets the full URL).
    origin = "/".join(page_url.split("/", 3)[:3]) + "/"
    return [*(extra or []), ("referer", referer or origin)]


def _hit(
    method: str, url: str, headers: list[tuple[str, str]], body: str = "", source: str = "browser"
) -> CapturedRequest:
    # id/seq/started_at are placeholders: Journey.hit() stamps them.
    return CapturedRequest(
        id="unstamped",
        method=method,
        url=url,
        request_headers=headers,
        body=body.encode("utf-8"),
        source=source,  # type: ignore[arg-type]
        tag_hit=True,
        sinkholed=True,
        status=204,
    )


# --- browser tags -------------------------------------------------------------------------------


def ga4_hit(
    event: str,
    page_url: str,
    *,
    value: float | None = None,
    currency: str | None = None,
    transaction_id: str | None = None,
    event_id: str | None = None,
    referer: str | None = None,
) -> CapturedRequest:
    """gtag.js ``/g/collect``: shared query, event in the body (as sendBeacon posts it)."""
    query = {
        "v": "2",
        "tid": GA4_ID,
        "gtm": "45je5150v9116948458za200",
        "gcs": "G111",
        "cid": "1183042221.1716212400",
        "sid": "1716212399",
        "dl": page_url,
        "dt": "Shop",
    }
    body: list[tuple[str, str]] = [("en", event)]
    if transaction_id is not None:
        body.append(("ep.transaction_id", transaction_id))
    if event_id is not None:
        body.append(("ep.event_id", event_id))
    if value is not None:
        body.append(("epn.value", f"{value:g}"))
    if currency is not None:
        body.append(("cu", currency))
    url = "https://www.google-analytics.com/g/collect?" + urlencode(query)
    headers = _browser_headers(
        page_url, [("content-type", "text/plain;charset=UTF-8"), ("sec-fetch-dest", "empty")], referer
    )
    return _hit("POST", url, headers, urlencode(body))


def google_ads_hit(
    page_url: str, *, value: float, currency: str, order_id: str, endpoint: str = "pagead/conversion"
) -> CapturedRequest:
    """The Google tag's conversion (``pagead/conversion``), or its consent-mode twin (``ccm/conversion``,
    same random, label, order and value), as captured on atomkraftwerke24.de (tests/decoders/fixtures)."""
    query = urlencode(
        {
            "random": "1782761485612",
            "en": "conversion",
            "gtm": "45Pe66p0v9210171140z8836065292za20gzb836065292zd836065292xea",
            "label": "1adstest1",
            "bttype": "purchase",
            "oid": order_id,
            "value": f"{value:g}",
            "currency_code": currency,
            "url": page_url,
        }
    )
    url = f"https://www.googleadservices.com/{endpoint}/1071635065/?{query}"
    return _hit("GET", url, _browser_headers(page_url, [("sec-fetch-dest", "image")]))


def meta_pixel_hit(
    event: str | None,
    page_url: str,
    *,
    value: float | str | None = None,
    currency: str | None = None,
    order_id: str | None = None,
    event_id: str | None = None,
    pixel_id: str = META_PIXEL_ID,
) -> CapturedRequest:
    """fbevents ``/tr/`` image GET with ``cd[...]`` custom data; ``event=None`` drops ``ev`` (malformed)."""
    parts = [f"id={pixel_id}"]
    if event is not None:
        parts.append(f"ev={quote(event)}")
    parts += [f"dl={quote(page_url, safe='')}", "if=false", "ts=1717000000123"]
    if value is not None:
        parts.append(f"cd[value]={quote(str(value))}")
    if currency is not None:
        parts.append(f"cd[currency]={quote(currency)}")
    if order_id is not None:
        parts.append(f"cd[order_id]={quote(order_id)}")
    parts += ["sw=1920", "sh=1080", "v=2.9.156", "r=stable", "fbp=fb.1.1716999000000.1234567890"]
    if event_id is not None:
        parts.append(f"eid={quote(event_id)}")
    parts.append("rqm=GET")
    url = "https://www.facebook.com/tr/?" + "&".join(parts)
    return _hit("GET", url, _browser_headers(page_url, list(_BROWSER_IMAGE_HEADERS)))


def tiktok_pixel_hit(
    event: str,
    page_url: str,
    *,
    value: float | None = None,
    currency: str | None = None,
    order_id: str | None = None,
    event_id: str | None = None,
) -> CapturedRequest:
    """pixel.js 2.x ``/api/v2/pixel`` JSON body (sent as text/plain)."""
    properties: dict[str, Any] = {"content_type": "product"}
    if value is not None:
        properties["value"] = str(value)
    if currency is not None:
        properties["currency"] = currency
    if order_id is not None:
        properties["order_id"] = order_id
    payload: dict[str, Any] = {
        "event": event,
        "message_id": "messageId-1717000000123-1234567890123",
        "is_onsite": False,
        "timestamp": "2024-05-29T16:26:40.123Z",
        "context": {
            "ad": {"callback": "E.C.P.v2abcdEFGH1234", "sdk_env": "external", "jsb_status": 2},
            "user": {"anonymous_id": "2hQ9Zr1tE0Wf3yG1oP2mK8sL4vA"},
            "pixel": {"code": TIKTOK_CODE, "runtime": "1", "codes": TIKTOK_CODE},
            "page": {"url": page_url, "referrer": CHECKOUT},
            "library": {"name": "pixel.js", "version": "2.2.1"},
        },
        "_inspection": {},
        "properties": properties,
    }
    if event_id is not None:
        payload["event_id"] = event_id
    headers = _browser_headers(
        page_url,
        [("content-type", "text/plain;charset=UTF-8"), ("sec-fetch-dest", "empty"), ("origin", SHOP)],
    )
    return _hit("POST", "https://analytics.tiktok.com/api/v2/pixel", headers, json.dumps(payload))


def bing_uet_hit(
    action: str, page_url: str, *, value: float | None = None, currency: str | None = None
) -> CapturedRequest:
    """UET custom event ``bat.bing.com/action/0`` (``ea`` is the event name)."""
    query = {
        "ti": UET_TAG_ID,
        "Ver": "2",
        "mid": "eeb8884c-7abb-0791-3ae6-6348dd889664",
        "ea": action,
        "evt": "custom",
    }
    if value is not None:
        query["gv"] = f"{value:g}"
    if currency is not None:
        query["gc"] = currency
    query["p"] = page_url
    url = "https://bat.bing.com/action/0?" + urlencode(query)
    return _hit("GET", url, _browser_headers(page_url, list(_BROWSER_IMAGE_HEADERS)))


# --- server-side APIs ---------------------------------------------------------------------------


def meta_capi_hit(
    event: str,
    page_url: str,
    *,
    value: float | None = None,
    currency: str | None = None,
    order_id: str | None = None,
    event_id: str | None = None,
) -> CapturedRequest:
    """Conversions API ``POST /v18.0/<pixel>/events`` with one event in ``data``."""
    custom: dict[str, Any] = {}
    if value is not None:
        custom["value"] = value
    if currency is not None:
        custom["currency"] = currency
    if order_id is not None:
        custom["order_id"] = order_id
    entry: dict[str, Any] = {
        "event_name": event,
        "event_time": 1717000000,
        "user_data": {"fbp": "fb.1.1716999000000.1234567890", "client_user_agent": "Mozilla/5.0"},
        "custom_data": custom,
        "event_source_url": page_url,
        "action_source": "website",
    }
    if event_id is not None:
        entry["event_id"] = event_id
    url = f"https://graph.facebook.com/v18.0/{META_PIXEL_ID}/events?access_token=EAAtoken"
    return _hit(
        "POST", url, [("content-type", "application/json")], json.dumps({"data": [entry]}), source="server"
    )


def tiktok_events_api_hit(
    event: str,
    page_url: str,
    *,
    value: float | None = None,
    currency: str | None = None,
    order_id: str | None = None,
    event_id: str | None = None,
) -> CapturedRequest:
    """Events API 2.0 ``POST /open_api/v1.3/event/track/``."""
    properties: dict[str, Any] = {"content_type": "product"}
    if value is not None:
        properties["value"] = value
    if currency is not None:
        properties["currency"] = currency
    if order_id is not None:
        properties["order_id"] = order_id
    entry: dict[str, Any] = {
        "event": event,
        "event_time": 1717000000,
        "user": {"ttp": "2hQ9Zr1tE0Wf3yG1oP2mK8sL4vA", "ip": "203.0.113.7"},
        "properties": properties,
        "page": {"url": page_url},
    }
    if event_id is not None:
        entry["event_id"] = event_id
    body = {"event_source": "web", "event_source_id": TIKTOK_CODE, "data": [entry]}
    headers = [("content-type", "application/json"), ("access-token", "tt-secret-token")]
    return _hit(
        "POST",
        "https://business-api.tiktok.com/open_api/v1.3/event/track/",
        headers,
        json.dumps(body),
        "server",
    )


def ga4_mp_hit(
    event: str,
    *,
    value: float | None = None,
    currency: str | None = None,
    transaction_id: str | None = None,
) -> CapturedRequest:
    """Measurement Protocol ``POST /mp/collect`` with one event."""
    params: dict[str, Any] = {"session_id": "1716212399", "engagement_time_msec": 100}
    if transaction_id is not None:
        params["transaction_id"] = transaction_id
    if value is not None:
        params["value"] = value
    if currency is not None:
        params["currency"] = currency
    body = {"client_id": "1183042221.1716212400", "events": [{"name": event, "params": params}]}
    url = f"https://www.google-analytics.com/mp/collect?measurement_id={GA4_ID}&api_secret=s3cr3t"
    return _hit("POST", url, [("content-type", "application/json")], json.dumps(body), source="server")


# --- runs ---------------------------------------------------------------------------------------


class Journey:
    """A run being assembled: hits and steps on one clock, then decoded by the real registry."""

    def __init__(self, start: float = 1_717_000_000.0) -> None:
        self.clock = start
        self.start = start
        self.requests: list[CapturedRequest] = []
        self.steps: list[StepRecord] = []
        self.capture_fields: dict[str, Any] = {}

    def tick(self, seconds: float = 1.0) -> None:
        self.clock += seconds

    def hit(self, request: CapturedRequest) -> str:
        """Record a hit one tick later; returns its request id (what evidence must point at)."""
        self.tick()
        request_id = f"r{len(self.requests) + 1}"
        self.requests.append(
            request.model_copy(
                update={
                    "id": request_id,
                    "run_id": "run-1",
                    "seq": len(self.requests) + 1,
                    "started_at": self.clock,
                }
            )
        )
        return request_id

    def step(self, label: str, action: str = "click", **fields: Any) -> StepRecord:
        """Start a journey step one tick later (hits recorded afterwards started after it)."""
        self.tick()
        record = StepRecord(
            index=len(self.steps),
            label=label,
            action=action,
            target=fields.pop("target", "#go"),
            started_at=self.clock,
            ended_at=self.clock + 0.5,
            **fields,
        )
        self.steps.append(record)
        return record

    def capture(self) -> RunCapture:
        fields: dict[str, Any] = {
            "chain": RedirectChain(hops=[RedirectHop(index=0, url=LANDING, kind="start", status=200)]),
            **self.capture_fields,  # a test may bring its own chain
        }
        return RunCapture(
            run_id="run-1",
            start_url=LANDING,
            device="Pixel 7",
            steps=list(self.steps),
            requests=list(self.requests),
            started_at=self.start,
            finished_at=self.clock + 1,
            **fields,
        )

    def result(self) -> RunResult:
        return DecoderRegistry.default().decode_run(self.capture())

    def context(self, **expect: Any) -> CheckContext:
        """A CheckContext for this run under a scenario whose ``expect`` is ``expect`` (YAML-shaped)."""
        return CheckContext(scenario=scenario_for(self.steps, expect), result=self.result(), ad_url=LANDING)


def scenario_for(steps: list[StepRecord], expect: dict[str, Any]) -> Scenario:
    """A scenario whose steps carry the journey's labels (so ``after_step`` names validate)."""
    return Scenario.model_validate(
        {
            "name": "checkout",
            "ad_click": {"url": f"{SHOP}/", "platform": "google"},
            "steps": [{"click": s.target or "#go", "name": s.label} for s in steps],
            "expect": expect,
        }
    )
