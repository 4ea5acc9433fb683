"""Test-side capture of the demo's vendor hits: ``context.route`` answers them locally and this module
reads just enough of each wire format to say which vendor event a hit is and on which shop page it
fired. (Independent of harness.decoders on purpose: these tests prove the shop, not the decoders.)"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import BrowserContext, Page, Request, Route

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
VENDOR_HOSTS = {
    "region1.google-analytics.com",
    "www.googleadservices.com",
    "www.facebook.com",
    "analytics.tiktok.com",
    "bat.bing.com",
}


@dataclass
class Hit:
    """One vendor event (a batched GA4 request yields one Hit per body line)."""

    vendor: str
    event: str
    params: dict[str, Any]
    page_url: str
    method: str
    resource_type: str
    request_index: int  # which captured request carried it
    body: Any = None

    @property
    def page(self) -> str:
        path = urlsplit(self.page_url).path
        if path.startswith("/product/"):
            return "product"
        return {
            "/": "landing",
            "/cart": "cart",
            "/checkout": "checkout",
            "/thank-you": "thank_you",
            "/lead": "lead",
        }.get(path, path)


def parse_hits(method: str, url: str, body: str | None, resource_type: str, index: int) -> list[Hit]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))

    def hit(vendor: str, event: str, params: dict[str, Any], page_url: str, parsed_body: Any = None) -> Hit:
        return Hit(vendor, event, params, page_url, method, resource_type, index, parsed_body)

    if parts.hostname == "region1.google-analytics.com" and parts.path == "/g/collect":
        lines = [line for line in (body or "").split("\r\n") if line]
        if not lines:
            return [hit("ga4", query.get("en", ""), query, query.get("dl", ""))]
        hits = []
        for line in lines:
            merged = {**query, **dict(parse_qsl(line, keep_blank_values=True))}
            hits.append(hit("ga4", merged.get("en", ""), merged, merged.get("dl", "")))
        return hits
    if parts.hostname == "www.googleadservices.com" and parts.path.startswith("/pagead/conversion/"):
        return [hit("google_ads", query.get("en", "conversion"), query, query.get("url", ""))]
    if parts.hostname == "www.facebook.com" and parts.path == "/tr/":
        return [hit("meta_pixel", query.get("ev", ""), query, query.get("dl", ""))]
    if parts.hostname == "analytics.tiktok.com":
        data = json.loads(body or "{}")
        return [
            hit(
                "tiktok_pixel",
                data.get("event", ""),
                data.get("properties", {}),
                data["context"]["page"]["url"],
                data,
            )
        ]
    if parts.hostname == "bat.bing.com":
        event = query.get("ea") if query.get("evt") == "custom" else query.get("evt", "")
        return [hit("bing_uet", event or "", query, query.get("p", ""))]
    return []


@dataclass
class VendorCapture:
    """Answers vendor hits like the vendors would and keeps them, in arrival order."""

    hits: list[Hit] = field(default_factory=list)
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, context: BrowserContext) -> VendorCapture:
        context.route(lambda url: urlsplit(url).hostname in VENDOR_HOSTS, self._handle)
        return self

    def _handle(self, route: Route, request: Request) -> None:
        with self._lock:
            parsed = parse_hits(
                request.method, request.url, request.post_data, request.resource_type, self.requests
            )
            self.requests += 1
            self.hits.extend(parsed)
        if request.resource_type == "image":
            route.fulfill(status=200, content_type="image/gif", body=GIF)
        else:
            route.fulfill(status=204)

    def select(
        self, vendor: str | None = None, event: str | None = None, page: str | None = None
    ) -> list[Hit]:
        return [
            h
            for h in list(self.hits)
            if (vendor is None or h.vendor == vendor)
            and (event is None or h.event == event)
            and (page is None or h.page == page)
        ]

    def wait_for(
        self, page: Page, vendor: str, event: str, on: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[Hit]:
        """Pump Playwright's event loop until ``count`` such hits arrived."""
        deadline = time.monotonic() + timeout
        while len(found := self.select(vendor, event, on)) < count:
            if time.monotonic() > deadline:
                seen = [(h.vendor, h.event, h.page) for h in self.hits]
                raise AssertionError(f"no {count}x {vendor}/{event} on {on} within {timeout}s; saw {seen}")
            page.wait_for_timeout(25)
        return found

    def settle(self, page: Page, quiet: float = 0.3, cap: float = 3.0) -> None:
        """Wait until no hit arrived for ``quiet`` seconds: for asserting that something did NOT fire."""
        deadline = time.monotonic() + cap
        last_count, last_change = len(self.hits), time.monotonic()
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            if len(self.hits) != last_count:
                last_count, last_change = len(self.hits), time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return

    def pairs(self, page: str | None = None) -> list[tuple[str, str]]:
        return [(h.vendor, h.event) for h in self.hits if page is None or h.page == page]
