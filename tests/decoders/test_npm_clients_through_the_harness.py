"""The vendors' own browser clients, run by eventpath end to end: page, proxy, sinkhole, decoders.

The npm fixtures (``npm_clients/record.py``) test the decoders on what Segment's, RudderStack's,
Snowplow's, Amplitude's, Mixpanel's and PostHog's libraries send, answered as the vendors answer. Here the same bundled clients run in a real run:
their hits go through the capture proxy and are answered by eventpath's sinkhole, so what the clients do
with those answers (a retry would double every event, an unanswered CORS preflight would stop the hit
itself) shows in the decoded events. Each sends to a first-party collector on the shop's own domain (no
vendor host for the proxy to recognise), the hardest case for the sinkhole.

The bundles are built by ``npm ci && npm run build`` in ``npm_clients/`` (``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness.browser.journey import scenario_journey
from harness.browser.visit import VisitPlan
from harness.engine import Harness
from harness.options import HostMapping, RunOptions
from harness.scenario import ScriptStep
from tests.decoders.fixture_loader import FIXTURES, load_fixture
from tests.decoders.npm_clients.record import LANDING, SCENARIOS, Scenario
from tests.local_site import LocalSite

BUNDLES = Path(__file__).parent / "npm_clients"
BUILD = "cd tests/decoders/npm_clients && npm ci && npm run build"
# Hosts the page and the clients' own set-up requests come from; the collectors are left to the sinkhole.
# (The CORS preflight to Snowplow's collector at a custom path cannot be judged by a payload, so it goes to
# the collector, whose host does not resolve here: the proxy answers it, and the hit follows.)
SERVED_HOSTS = ("shop.example-shop.com", "cdn.segment.com", "api.rudderstack.com")
FIRST_PARTY = {
    ("segment", "proxied"),
    ("rudderstack", "proxied"),
    ("snowplow", "custom-path"),
    ("amplitude", "proxied"),
    ("mixpanel", "proxied"),
    ("posthog", "proxied"),
}
CHOSEN = [s for s in SCENARIOS if (s.vendor, s.name) in FIRST_PARTY]

PAGE = """<!doctype html><html><head><title>Checkout</title></head><body><h1>Checkout</h1>
<script src="/npm/BUNDLE"></script></body></html>"""


class _ClientSite(LocalSite):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.bundle = ""  # the scenario's client: dist/<bundle>.js, loaded by the page
        self.settings: dict[str, object] | None = None  # the scenario's CDN settings / source config


class _Handler(BaseHTTPRequestHandler):
    server: _ClientSite

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        if origin := self.headers.get("origin"):
            self.send_header("access-control-allow-origin", origin)
            self.send_header("access-control-allow-credentials", "true")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        host = (self.headers.get("host") or "").split(":")[0]
        path = urlsplit(self.path).path
        if host == "shop.example-shop.com" and path == "/checkout":
            bundle = re.sub(r"[^a-z]", "", self.server.bundle)
            self._send(200, PAGE.replace("BUNDLE", f"{bundle}.js").encode(), "text/html; charset=utf-8")
        elif host == "shop.example-shop.com" and path.startswith("/npm/"):
            self._send(200, (BUNDLES / "dist" / Path(path).name).read_bytes(), "text/javascript")
        elif host in ("cdn.segment.com", "api.rudderstack.com"):
            # analytics-next's CDN settings, RudderStack's source config: what each client starts from.
            self._send(200, json.dumps(self.server.settings).encode(), "application/json")
        else:
            self._send(404, b"", "text/plain")

    def do_OPTIONS(self) -> None:  # noqa: N802 - a preflight for the set-up requests above
        self.send_response(204)
        self.send_header("access-control-allow-origin", self.headers.get("origin") or "*")
        self.send_header("access-control-allow-credentials", "true")
        self.send_header("access-control-allow-headers", self.headers.get("access-control-request-headers") or "*")
        self.send_header("access-control-allow-methods", "GET, POST")
        self.end_headers()


@pytest.fixture(scope="module")
def client_site() -> Iterator[_ClientSite]:
    missing = [s.bundle for s in CHOSEN if not (BUNDLES / s.bundle).exists()]
    if missing:
        message = f"the npm clients are not built ({', '.join(missing)} missing): {BUILD}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI builds them (.ci/run): missing there is a broken build, not a skip
        pytest.skip(message)
    with _ClientSite() as site:
        yield site


@pytest.fixture(scope="module")
def harness(client_site: _ClientSite) -> Iterator[Harness]:
    mappings = [HostMapping(host=h, addr="127.0.0.1", port=client_site.port) for h in SERVED_HOSTS]
    with Harness(RunOptions(resolve=mappings, navigation_timeout_ms=10_000)) as started:
        yield started


# What every scenario's client was told to send (npm_clients/*.entry.js), by decoded event name.
SEGMENT_SPEC_EVENTS = Counter(["page", "identify", "Order Completed", "Add to Cart", "group", "alias"])
SNOWPLOW_EVENTS = Counter(["page_view", "add-to-basket", "newsletter_signup", "snowplow_ecommerce_action"])


# Amplitude's revenue fields carry the order's value; Mixpanel and PostHog define none (see their decoders).
PRODUCT_ANALYTICS_ORDERS = {"amplitude": (59.9, "EUR"), "mixpanel": (None, None), "posthog": (None, None)}


def expected_calls(scenario: Scenario) -> Counter[str]:
    """Segment's and Snowplow's calls by name; for the product-analytics clients, which add events of their
    own (page views, sessions, attribution), the events their recorded fixtures expect."""
    if scenario.vendor == "snowplow":
        return SNOWPLOW_EVENTS
    if scenario.vendor in PRODUCT_ANALYTICS_ORDERS:
        fixtures = sorted((FIXTURES / scenario.vendor).glob(f"npm-{scenario.name}-*.json"))
        return Counter(e["event"] for path in fixtures for e in load_fixture(path)["events"])
    return SEGMENT_SPEC_EVENTS


@pytest.mark.parametrize("scenario", CHOSEN, ids=[f"{s.vendor}-{s.name}" for s in CHOSEN])
def test_a_vendors_own_client_is_captured_answered_and_decoded_once_per_call(
    harness: Harness, client_site: _ClientSite, scenario: Scenario
) -> None:
    client_site.bundle = Path(scenario.bundle).stem
    client_site.settings = scenario.settings
    journey = scenario_journey([ScriptStep(script=f"async () => {scenario.call}")], "npm", 15_000)
    result = harness.visit(LANDING, plan=VisitPlan(journey=journey))
    capture = result.capture
    assert capture.error is None and capture.capture_complete, capture.error or capture.capture_note
    hits = [r for r in capture.requests if r.tag_hit]
    assert hits and all(r.sinkholed for r in hits), "every hit answered locally, none sent on"
    events = [e for e in result.events if e.vendor == scenario.vendor]
    assert not [e for e in events if e.malformed], [e.malformed_reason for e in events if e.malformed]
    assert Counter(e.event for e in events) == expected_calls(scenario), "each call decoded exactly once: no retry, none lost"
    if scenario.vendor in PRODUCT_ANALYTICS_ORDERS:
        purchase = next(e for e in events if e.event == "Order Completed")
        assert (purchase.value, purchase.currency) == PRODUCT_ANALYTICS_ORDERS[scenario.vendor]
    else:
        purchase = next(e for e in events if e.transaction_id)
        assert (purchase.value, purchase.currency) == (59.9, "EUR")
    assert purchase.click_ids.get("gclid") == "Cj0KCQiA-eventpath-gclid", "the click ID read from the page URL"


def test_a_client_that_drops_bots_sees_a_visitor_in_an_eventpath_run(harness: Harness, client_site: _ClientSite) -> None:
    # posthog-js sends nothing from a browser it takes for a bot (navigator.webdriver, a HeadlessChrome user
    # agent or brand): with its filter on, as sites ship it, an eventpath run must still be a visitor.
    scenario = next(s for s in CHOSEN if s.vendor == "posthog")
    settings = json.loads(scenario.call.removeprefix("window.eventpathPosthog(").removesuffix(")"))
    settings["config"] = {**settings.get("config", {}), "opt_out_useragent_filter": False}
    client_site.bundle = Path(scenario.bundle).stem
    client_site.settings = scenario.settings
    call = f"async () => window.eventpathPosthog({json.dumps(settings)})"
    result = harness.visit(LANDING, plan=VisitPlan(journey=scenario_journey([ScriptStep(script=call)], "npm", 15_000)))
    events = [e for e in result.events if e.vendor == "posthog"]
    assert Counter(e.event for e in events) == expected_calls(scenario), "the bot filter dropped eventpath's visit"
