"""Record Segment, Snowplow, RudderStack, Amplitude, Mixpanel and PostHog decoder fixtures from their real npm clients, driven in Chromium.

Run by hand (needs node_modules and the built bundles; the normal test run only reads the fixtures)::

    cd tests/decoders/npm_clients && npm ci && npm run build && python record.py [vendor ...]

With vendor names (``segment``, ``snowplow``, ``rudderstack``, ``amplitude``, ``mixpanel``, ``posthog``) only those vendors' scenarios run and only
their ``npm-*`` fixtures are rewritten.

Each scenario serves a landing page (with click IDs and UTMs in its URL) through ``page.route``, loads the
bundled client into it, runs the scenario and captures every request the client makes, answering each
the way the vendor would. Every captured hit becomes one fixture under ``fixtures/<vendor>/`` named
``npm-<scenario>-<nn>-<label>.json``. Expected fields come from the scenario's known inputs (what we told
the client to send), never from running the decoder, so the fixtures test the decoder rather than echo it.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Route, sync_playwright

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
PACKAGE = json.loads((HERE / "package.json").read_text())
PINNED: dict[str, str] = PACKAGE["dependencies"]

LANDING = (
    "https://shop.example-shop.com/checkout?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale"
    "&gclid=Cj0KCQiA-eventpath-gclid&fbclid=IwAR-eventpath-fbclid"
)
CLICK_IDS = {"gclid": "Cj0KCQiA-eventpath-gclid", "fbclid": "IwAR-eventpath-fbclid"}
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Request headers worth keeping in a fixture (the rest are Chromium noise that changes per version).
KEPT_HEADERS = {
    "content-type",
    "authorization",
    "referer",
    "origin",
    "accept",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
}


@dataclass
class Scenario:
    vendor: str
    name: str
    package: str  # the npm package whose client sends the hits
    bundle: str
    call: str  # JS expression run in the page once the bundle is loaded
    settings: dict[str, Any] | None = None  # Segment CDN settings / RudderStack source config answered locally
    move_mouse: bool = False
    captured: list[dict[str, Any]] = field(default_factory=list)


# --- scenarios -----------------------------------------------------------------------------------


def _segment_settings(write_key: str, api_host: str, delivery: dict[str, Any] | None = None) -> dict[str, Any]:
    # The smallest CDN settings analytics-next starts with: only the Segment.io destination.
    segment_io: dict[str, Any] = {"apiKey": write_key, "apiHost": api_host}
    if delivery:
        segment_io["deliveryStrategy"] = delivery
    return {"integrations": {"Segment.io": segment_io}, "plan": {"track": {"__default": {"enabled": True}}}}


def _segment(name: str, write_key: str, api_host: str, delivery: dict[str, Any] | None = None) -> Scenario:
    return Scenario(
        vendor="segment",
        name=name,
        package="@segment/analytics-next",
        bundle="dist/segment.js",
        call=f"window.eventpathSegment({json.dumps({'writeKey': write_key, 'settleMs': 1500})})",
        settings=_segment_settings(write_key, api_host, delivery),
    )


def _snowplow(name: str, **config: Any) -> Scenario:
    config = {"name": name.replace("-", "_"), "appId": "shop-web", **config}
    return Scenario(
        vendor="snowplow",
        name=name,
        package="@snowplow/browser-tracker",
        bundle="dist/snowplow.js",
        call=f"window.eventpathSnowplow({json.dumps(config)})",
        move_mouse=bool(config.get("activity")),
    )


def _rudderstack_config(write_key: str) -> dict[str, Any]:
    # The smallest source config the v3 SDK accepts (isValidSourceConfig): no device-mode destinations,
    # no stats collection (so no error/metrics beacons).
    return {
        "isHosted": True,
        "source": {
            "id": "2aEventpathSourceId0000000",
            "name": "shop-web",
            "writeKey": write_key,
            "workspaceId": "2aEventpathWorkspaceId0000",
            "enabled": True,
            "config": {"statsCollection": {"errors": {"enabled": False}, "metrics": {"enabled": False}}},
            "destinations": [],
        },
    }


def _rudderstack(name: str, write_key: str, data_plane: str, **load_options: Any) -> Scenario:
    call = {"writeKey": write_key, "dataPlaneUrl": data_plane, "loadOptions": load_options, "settleMs": 2000}
    return Scenario(
        vendor="rudderstack",
        name=name,
        package="@rudderstack/analytics-js",
        bundle="dist/rudderstack.js",
        call=f"window.eventpathRudderstack({json.dumps(call)})",
        settings=_rudderstack_config(write_key),
    )


def _amplitude(name: str, api_key: str, **options: Any) -> Scenario:
    return Scenario(
        vendor="amplitude",
        name=name,
        package="@amplitude/analytics-browser",
        bundle="dist/amplitude.js",
        call=f"window.eventpathAmplitude({json.dumps({'apiKey': api_key, 'options': options, 'settleMs': 600})})",
    )


def _mixpanel(name: str, token: str, **config: Any) -> Scenario:
    return Scenario(
        vendor="mixpanel",
        name=name,
        package="mixpanel-browser",
        bundle="dist/mixpanel.js",
        call=f"window.eventpathMixpanel({json.dumps({'token': token, 'config': config, 'settleMs': 1500})})",
    )


# posthog-js loads its remote config (/array/<token>/config) before it sends: the smallest answer of the
# shape PostHog serves (analytics endpoint, compression, every optional feature off, no feature flags).
def _posthog_config(token: str) -> dict[str, Any]:
    return {
        "analytics": {"endpoint": "/i/v0/e/"},
        "autocapture_opt_out": True,
        "hasFeatureFlags": False,
        "heatmaps": False,
        "sessionRecording": False,
        "siteApps": [],
        "supportedCompression": ["gzip", "gzip-js"],
        "surveys": False,
        "token": token,
    }


def _posthog(name: str, token: str, api_host: str, **config: Any) -> Scenario:
    call = {"token": token, "apiHost": api_host, "config": config, "settleMs": 1200}
    return Scenario(
        vendor="posthog",
        name=name,
        package="posthog-js",
        bundle="dist/posthog.js",
        call=f"window.eventpathPosthog({json.dumps(call)})",
        settings=_posthog_config(token),
    )


SCENARIOS = [
    _segment("us", "wkUS1234567890abcdef", "api.segment.io/v1"),
    _segment(
        "eu-batching",
        "wkEU1234567890abcdef",
        "events.eu1.segmentapis.com/v1",
        {"strategy": "batching", "config": {"size": 3, "timeout": 500}},
    ),
    _segment("proxied", "wkPX1234567890abcdef", "seg.example-shop.com/v1"),
    _snowplow("post", collector="https://collector.example-shop.com", eventMethod="post", activity=True),
    _snowplow("post-batched", collector="https://collector.example-shop.com", eventMethod="post", bufferSize=3),
    _snowplow("get", collector="https://sp.example-shop.com", eventMethod="get"),
    _snowplow(
        "custom-path",
        collector="https://t.example-shop.com",
        eventMethod="post",
        postPath="/com.example-shop/collect",
    ),
    _rudderstack("dataplane", "2RsWk1234567890abcdefghijk", "https://acmeshopbyx.dataplane.rudderstack.com"),
    _rudderstack(
        "batching",
        "2RsWkBatch567890abcdefghij",
        "https://acmeshopbyx.dataplane.rudderstack.com",
        queueOptions={"batch": {"enabled": True, "maxItems": 3, "flushInterval": 500}},
    ),
    _rudderstack("proxied", "2RsWkProxy567890abcdefghij", "https://rs.example-shop.com"),
    # Default US endpoint, everything in one flush: a body over 2 KB goes gzip-compressed (Content-Encoding).
    _amplitude("us", "0123456789abcdef0123456789abcdef"),
    _amplitude("eu-batch", "fedcba9876543210fedcba9876543210", serverZone="EU", useBatch=True, flushQueueSize=3),
    _amplitude(
        "proxied", "abcdef0123456789abcdef0123456789", serverUrl="https://amp.example-shop.com/2/httpapi", flushQueueSize=1
    ),
    _mixpanel("us", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),  # api-js.mixpanel.com: batched, JSON payloads
    _mixpanel("eu-unbatched", "b1b2c3d4e5f60718293a4b5c6d7e8f90", api_host="https://api-eu.mixpanel.com",
              batch_requests=False),
    _mixpanel("proxied", "c1b2c3d4e5f60718293a4b5c6d7e8f90", api_host="https://mp.example-shop.com"),  # base64
    _posthog("us", "phc_EventpathUsToken0123456789abcdefghijklmn", "https://us.i.posthog.com"),
    _posthog("eu-uncompressed", "phc_EventpathEuToken0123456789abcdefghijklmn", "https://eu.i.posthog.com",
             disable_compression=True, request_batching=False),
    _posthog("proxied", "phc_EventpathPxToken0123456789abcdefghijklmn", "https://ph.example-shop.com"),
]


# --- expected fields, from the scenario inputs ------------------------------------------------------

SEGMENT_EXPECTED: dict[str, dict[str, Any]] = {
    "page": {"event": "page"},
    "identify": {"event": "identify", "user_data": {"em": "raw", "ph": "raw"}},
    "Order Completed": {
        "event": "Order Completed",
        "value": 59.9,
        "currency": "EUR",
        "transaction_id": "ORD-1001",
    },
    "Add to Cart": {"event": "Add to Cart", "value": 12.5, "currency": "USD"},
    "group": {"event": "group"},
    "alias": {"event": "alias"},
}


def segment_expected(message: dict[str, Any], write_key: str) -> dict[str, Any]:
    key = message.get("event") if message.get("type") == "track" else message.get("type")
    expected = {
        "vendor": "segment",
        "account_id": write_key,
        "event_id": message.get("messageId"),
        "page_url": LANDING,
        "click_ids": CLICK_IDS,
        "source": "browser",
        "malformed": False,
    }
    expected.update(SEGMENT_EXPECTED[str(key)])
    return expected


SNOWPLOW_EXPECTED: dict[str, dict[str, Any]] = {
    "pv": {"event": "page_view"},
    "pp": {"event": "page_ping"},
    "se": {"event": "add-to-basket", "value": 29.95},
    "ue:newsletter_signup": {"event": "newsletter_signup", "value": 0.0},
    "ue:snowplow_ecommerce_action": {
        "event": "snowplow_ecommerce_action",
        "value": 59.9,
        "currency": "EUR",
        "transaction_id": "ORD-2002",
    },
}


def _b64json(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def snowplow_expected(payload: dict[str, str]) -> dict[str, Any]:
    key = payload["e"]
    if key == "ue":
        ue = json.loads(payload["ue_pr"]) if "ue_pr" in payload else _b64json(payload["ue_px"])
        key = "ue:" + ue["data"]["schema"].split("/")[1]
    expected = {
        "vendor": "snowplow",
        "account_id": "shop-web",
        "event_id": payload["eid"],
        "page_url": LANDING,
        "click_ids": CLICK_IDS,
        "user_data": {"em": "raw"},  # setUserId was given an email address
        "source": "browser",
        "malformed": False,
        "params": {"e": payload["e"]},
    }
    expected.update(SNOWPLOW_EXPECTED[key])
    return expected


def _basic_auth_user(headers: list[list[str]]) -> str:
    value = next(v for k, v in headers if k == "authorization")
    return base64.b64decode(value.split(" ", 1)[1]).decode().partition(":")[0]


def rudderstack_expected(message: dict[str, Any], write_key: str) -> dict[str, Any]:
    expected = segment_expected(message, write_key)  # same spec, same scenario inputs
    expected["vendor"] = "rudderstack"
    # The SDK keeps identify's traits and sends them in context.traits of every later call: all but the
    # page view the scenario sends first carry the email and phone.
    expected["user_data"] = {} if message.get("type") == "page" else {"em": "raw", "ph": "raw"}
    return expected


# What each call of amplitude/mixpanel/posthog.entry.js was told to send, by the label of its event.
# The clients add their own: Amplitude's session_start, page view and attribution identify; Mixpanel's
# and PostHog's page views. Amplitude's revenue comes from its revenue fields (price * quantity); Mixpanel
# and PostHog define none, so their orders carry no value (the site's properties stay in params).
PRODUCT_EXPECTED: dict[str, dict[str, Any]] = {
    "amplitude:Order Completed": {"value": 59.9, "currency": "EUR"},
    "amplitude:revenue_amount": {"value": 59.9, "currency": "EUR"},
    "amplitude:identify": {"user_data": {"em": "raw", "ph": "raw"}},
    "mixpanel:identify": {"user_data": {"em": "raw", "ph": "raw"}},
    "posthog:identify": {"user_data": {"em": "raw", "ph": "raw"}},
}


def _product_label(vendor: str, item: dict[str, Any]) -> str:
    """The entry's call an event comes from: identify when it sets the email, else its event name."""
    text = json.dumps(item)
    if "jane.doe@example.com" in text and vendor != "posthog" or (
        vendor == "posthog" and "jane.doe@example.com" in json.dumps(item.get("properties", {}).get("$set", {}))
    ):
        return "identify"
    return str(item.get("event_type") or item.get("event") or ("engage" if "$distinct_id" in item else "groups"))


def product_expected(vendor: str, hit: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    path = urlsplit(hit["url"]).path
    if vendor == "posthog" and not re.search(r"/(e|i/v0/e)/$", path):
        return None, []  # remote config, feature flags: PostHog's, but no events
    text = _hit_text(hit)
    if vendor == "amplitude":
        payload = json.loads(text)
        items, account = payload["events"], payload["api_key"]
    elif vendor == "mixpanel":
        data = dict(parse_qsl(text))["data"]
        decoded = json.loads(data if data[:1] in "[{" else base64.b64decode(data))
        items = decoded if isinstance(decoded, list) else [decoded]
        account = None
    else:
        payload = json.loads(text)
        items, account = payload["batch"], payload["api_key"]
    expected = []
    for item in items:
        label = _product_label(vendor, item)
        endpoint = path.rstrip("/").rsplit("/", 1)[-1]
        event: dict[str, Any] = {
            "vendor": vendor,
            "event": endpoint if vendor == "mixpanel" and endpoint != "track" else item.get("event_type") or item.get("event"),
            "source": "browser",
            "malformed": False,
            "value": None,
            "currency": None,
            "transaction_id": None,
            "user_data": {},
        }
        if vendor == "amplitude":
            event.update(account_id=account, event_id=item["insert_id"])
            if label == "[Amplitude] Page Viewed":
                event["page_url"] = LANDING
        elif vendor == "mixpanel" and endpoint == "track":
            event.update(account_id=item["properties"]["token"], event_id=item["properties"]["$insert_id"],
                         page_url=LANDING)
        elif vendor == "mixpanel":
            event.update(account_id=item["$token"])
        else:
            event.update(account_id=account, event_id=item["uuid"], page_url=LANDING)
        # The clients copy the landing URL's click IDs into what they send, except on profile updates.
        event["click_ids"] = CLICK_IDS if CLICK_IDS["gclid"] in json.dumps(item) else {}
        event.update(PRODUCT_EXPECTED.get(f"{vendor}:{label}", {}))
        expected.append(event)
    return vendor, expected


def expected_events(scenario: Scenario, hit: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The vendor expected to claim the hit, and its events' expected fields."""
    url, body = hit["url"], hit.get("body", "")
    if scenario.vendor in PRODUCT_ANALYTICS:
        return product_expected(scenario.vendor, hit)
    if scenario.vendor == "segment":
        if urlsplit(url).path.endswith("/m"):
            return None, []  # analytics-next's own metrics beacon: Segment's, but not an event hit
        data = json.loads(body)
        messages = data["batch"] if "batch" in data else [data]
        write_key = data.get("writeKey") or messages[0].get("writeKey")
        return "segment", [segment_expected(m, write_key) for m in messages]
    if scenario.vendor == "rudderstack":
        data = json.loads(body)
        messages = data["batch"] if "batch" in data else [data]
        return "rudderstack", [rudderstack_expected(m, _basic_auth_user(hit["headers"])) for m in messages]
    if hit["method"] == "GET":
        payloads = [dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))]
    else:
        payloads = json.loads(body)["data"]
    return "snowplow", [snowplow_expected(p) for p in payloads]


def hit_label(scenario: Scenario, hit: dict[str, Any]) -> str:
    if scenario.vendor in PRODUCT_ANALYTICS:
        claimed, events = expected_events(scenario, hit)
        if claimed is None:
            return "not-a-hit-" + urlsplit(hit["url"]).path.strip("/").split("/")[-1]
        return events[0]["event"].strip("$[]") if len(events) == 1 else f"batch{len(events)}"
    if scenario.vendor == "segment" and urlsplit(hit["url"]).path.endswith("/m"):
        return "metrics"
    if scenario.vendor in ("segment", "rudderstack"):
        data = json.loads(hit["body"])
        if "batch" in data:
            return f"batch{len(data['batch'])}"
        return str(data.get("event") or data.get("type"))
    events = expected_events(scenario, hit)[1]
    return events[0]["event"] if len(events) == 1 else f"batch{len(events)}"


# --- Amplitude, Mixpanel, PostHog: bodies and answers -----------------------------------------------


def _body_as_decoders_see_it(raw: bytes | None, content_encoding: str | None) -> dict[str, Any]:
    """The body as eventpath's capture hands it to decoders: a Content-Encoding: gzip body (Amplitude's
    default endpoints) decompressed, as mitmproxy decodes it; text as text; other bytes (posthog-js's
    gzip-js, which sends no Content-Encoding) as base64."""
    data = raw or b""
    if (content_encoding or "").lower() == "gzip":
        data = gzip.decompress(data)
    try:
        return {"body": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode("ascii")}


def _hit_text(hit: dict[str, Any]) -> str:
    if "body_base64" in hit:
        data = base64.b64decode(hit["body_base64"])
        return gzip.decompress(data).decode("utf-8") if data[:2] == b"\x1f\x8b" else data.decode("utf-8")
    return str(hit.get("body", ""))


def _amplitude_answer(scenario: Scenario, url: str, hit: dict[str, Any]) -> tuple[int, str, str]:
    # HTTP V2 API's success answer (amplitude.com/docs/apis/analytics/http-v2, "Response format").
    events = json.loads(_hit_text(hit)).get("events", [])
    answer = {"code": 200, "events_ingested": len(events), "payload_size_bytes": len(_hit_text(hit)),
              "server_upload_time": 1767225600000}
    return 200, "application/json", json.dumps(answer)


def _mixpanel_answer(scenario: Scenario, url: str, hit: dict[str, Any]) -> tuple[int, str, str]:
    # Mixpanel's ingestion API answers 1 (accepted), or {"status": 1, "error": null} when asked verbose=1.
    query = dict(parse_qsl(urlsplit(url).query))
    if query.get("verbose") == "1":
        return 200, "application/json", json.dumps({"status": 1, "error": None})
    return 200, "text/plain", "1"


def _posthog_answer(scenario: Scenario, url: str, hit: dict[str, Any]) -> tuple[int, str, str]:
    path = urlsplit(url).path
    if re.fullmatch(r"/array/[^/]+/config", path):
        return 200, "application/json", json.dumps(scenario.settings)
    if re.fullmatch(r"/array/[^/]+/config\.js", path):
        config = json.dumps(scenario.settings)
        return 200, "application/javascript", f"(function(){{window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{{}};window._POSTHOG_REMOTE_CONFIG[{json.dumps(scenario.settings['token'])}]={{config:{config},siteApps:[]}}}})();"
    if path.startswith("/flags"):
        return 200, "application/json", json.dumps({"flags": {}, "errorsWhileComputingFlags": False, "requestId": "0195e5d7-0000-7000-8000-000000000000"})
    return 200, "application/json", json.dumps({"status": "Ok"})


PRODUCT_ANALYTICS: dict[str, Callable[[Scenario, str, dict[str, Any]], tuple[int, str, str]]] = {
    "amplitude": _amplitude_answer,
    "mixpanel": _mixpanel_answer,
    "posthog": _posthog_answer,
}


# --- capture -------------------------------------------------------------------------------------


def _cors(origin: str | None) -> dict[str, str]:
    return {
        "access-control-allow-origin": origin or "*",
        "access-control-allow-credentials": "true",
        "access-control-allow-headers": "content-type, authorization, x-retry-count, anonymousid",
    }


def _handler(scenario: Scenario, page_html: str) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        request = route.request
        url = request.url
        headers = request.headers
        if url == LANDING:
            route.fulfill(status=200, content_type="text/html", body=page_html)
            return
        if re.match(r"https://cdn\.segment\.com/v1/projects/[^/]+/settings", url):
            # analytics-next needs its CDN settings before it sends anything: answer them locally.
            route.fulfill(status=200, content_type="application/json", body=json.dumps(scenario.settings))
            return
        if re.match(r"https://api\.rudderstack\.com/sourceConfig/", url):
            # The RudderStack SDK fetches its source config before it sends anything: answer it locally.
            route.fulfill(status=200, content_type="application/json", body=json.dumps(scenario.settings),
                          headers=_cors(headers.get("origin")))
            return
        if urlsplit(url).hostname == urlsplit(LANDING).hostname:
            route.fulfill(status=404, body="")  # favicon and the like: not the client's traffic
            return
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=_cors(headers.get("origin")))
            return
        hit = {
            "method": request.method,
            "url": url,
            "headers": [
                [h["name"].lower(), h["value"]] for h in request.headers_array() if h["name"].lower() in KEPT_HEADERS
            ],
        }
        if scenario.vendor in PRODUCT_ANALYTICS:
            hit.update(_body_as_decoders_see_it(request.post_data_buffer, headers.get("content-encoding")))
            if headers.get("content-encoding"):
                hit["content_encoding"] = headers["content-encoding"]
        else:
            hit["body"] = request.post_data or ""
        scenario.captured.append(hit)
        if scenario.vendor in PRODUCT_ANALYTICS:
            status, content_type, body = PRODUCT_ANALYTICS[scenario.vendor](scenario, url, hit)
            route.fulfill(status=status, content_type=content_type, body=body, headers=_cors(headers.get("origin")))
        elif scenario.vendor == "segment":
            route.fulfill(status=200, content_type="application/json", body='{"success": true}',
                          headers=_cors(headers.get("origin")))
        elif scenario.vendor == "rudderstack":  # the data plane answers "OK"
            route.fulfill(status=200, content_type="text/plain", body="OK", headers=_cors(headers.get("origin")))
        elif request.method == "GET":
            route.fulfill(status=200, content_type="image/gif", body=PIXEL_GIF, headers=_cors(headers.get("origin")))
        else:
            route.fulfill(status=200, body="", headers=_cors(headers.get("origin")))

    return handle


def run_scenario(browser: Any, scenario: Scenario) -> None:
    bundle = (HERE / scenario.bundle).read_text(encoding="utf-8")
    html = f"<!doctype html><html><head><title>Checkout</title><script>{bundle}</script></head><body>shop</body></html>"
    context = browser.new_context()
    page = context.new_page()
    page.route("**/*", _handler(scenario, html))
    page.goto(LANDING)
    if scenario.move_mouse:
        # Start the scenario without awaiting it: page pings need mouse activity while it runs.
        page.evaluate(f"() => {{ window.__scenarioDone = {scenario.call}; }}")
        for step in range(12):
            page.mouse.move(10 + step * 5, 10 + step * 3)
            page.wait_for_timeout(250)
        page.evaluate("() => window.__scenarioDone")
    else:
        page.evaluate(scenario.call)
    page.wait_for_timeout(800)
    context.close()


def fixture_for(scenario: Scenario, index: int, hit: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    claimed_by, events = expected_events(scenario, hit)
    label = re.sub(r"[^a-z0-9]+", "-", hit_label(scenario, hit).lower()).strip("-")
    version = PINNED[scenario.package]
    path = FIXTURES / scenario.vendor / f"npm-{scenario.name}-{index:02d}-{label}.json"
    data = {
        "source": f"{scenario.package}@{version} driven in Chromium by tests/decoders/npm_clients/record.py"
        + (
            f" (sent with Content-Encoding: {hit['content_encoding']}; the body as the capture proxy decodes it)"
            if "content_encoding" in hit
            else ""
        ),
        "request": {k: hit[k] for k in ("method", "url", "headers", "body", "body_base64") if k in hit},
        "claimed_by": claimed_by,
        "events": events,
    }
    return path, data


def main(argv: list[str]) -> int:
    scenarios = [s for s in SCENARIOS if not argv or s.vendor in argv]
    for vendor in {s.vendor for s in scenarios}:
        (FIXTURES / vendor).mkdir(parents=True, exist_ok=True)
        for old in (FIXTURES / vendor).glob("npm-*.json"):
            old.unlink()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for scenario in scenarios:
            run_scenario(browser, scenario)
            print(f"{scenario.vendor}/{scenario.name}: {len(scenario.captured)} hits")
            for index, hit in enumerate(scenario.captured, start=1):
                path, data = fixture_for(scenario, index, hit)
                path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
