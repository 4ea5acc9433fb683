"""A run's pages describe the emulated device's browser in their client hints, not headless Chromium."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from harness.browser.client_hints import ua_metadata
from harness.browser.journey import scenario_journey
from harness.browser.visit import VisitPlan
from harness.engine import Harness
from harness.scenario import RunConditions, ScriptStep

PIXEL_7 = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/159.0.8154.6 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/27.2 Mobile/15E148 Safari/604.1"


def _brands(metadata: dict[str, object] | None) -> list[tuple[str, str]]:
    assert metadata is not None
    return [(b["brand"], b["version"]) for b in metadata["brands"]]  # type: ignore[attr-defined, index]


def test_a_chrome_user_agent_gives_chromes_brands_platform_and_model_at_its_version() -> None:
    metadata = ua_metadata(PIXEL_7)
    assert _brands(metadata) == [("Not:A-Brand", "8"), ("Chromium", "159"), ("Google Chrome", "159")]
    assert metadata is not None
    assert (metadata["platform"], metadata["platformVersion"], metadata["model"], metadata["mobile"]) == (
        "Android", "14.0.0", "Pixel 7", True,
    )  # fmt: skip
    assert metadata["fullVersion"] == "159.0.8154.6"


@pytest.mark.parametrize(
    ("user_agent", "product", "platform", "model"),
    [
        # Android's WebView (an app's in-app browser), Samsung Internet, Edge on Windows, Chrome on a Mac.
        ("Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240605.024; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Version/4.0 Chrome/125.0.6422.165 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/467.0.0.41.82;]",
         "Android WebView", "Android", "Pixel 7"),
        ("Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 "
         "Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet", "Android", "SM-S911B"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
         "Safari/537.36 Edg/130.0.0.0", "Microsoft Edge", "Windows", ""),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
         "Safari/537.36", "Google Chrome", "macOS", ""),
    ],
)  # fmt: skip
def test_each_chromium_browser_names_itself(user_agent: str, product: str, platform: str, model: str) -> None:
    metadata = ua_metadata(user_agent)
    assert metadata is not None
    assert _brands(metadata)[2][0] == product and (metadata["platform"], metadata["model"]) == (platform, model)


def test_safari_firefox_and_chrome_on_ios_send_no_client_hints() -> None:
    firefox = "Mozilla/5.0 (Android 14; Mobile; rv:131.0) Gecko/131.0 Firefox/131.0"
    crios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
    assert ua_metadata(IPHONE) is None and ua_metadata(firefox) is None and ua_metadata(crios) is None


# What the page's scripts read, sent as a request the proxy captures.
REPORT = (
    "async () => { const d = navigator.userAgentData; await fetch('/hints?v=' + encodeURIComponent(JSON.stringify("
    "[d ? d.brands.map(b => b.brand) : null, d ? d.platform : null]))) }"
)


def _visit(harness: Harness, device: str, conditions: RunConditions | None = None) -> tuple[list, dict[str, str]]:
    journey = scenario_journey([ScriptStep(script=REPORT)], "hints", 8_000)
    plan = VisitPlan(journey=journey, conditions=conditions or RunConditions())
    capture = harness.visit("https://www.site.test/landing", device=device, plan=plan).capture
    report = next(r for r in capture.requests if urlsplit(r.url).path == "/hints")
    seen = json.loads(dict(parse_qsl(urlsplit(report.url).query))["v"])
    landing = next(r for r in capture.requests if r.is_navigation)
    return seen, {k.lower(): v for k, v in landing.request_headers if k.lower().startswith("sec-ch-ua")}


def test_an_android_run_says_chrome_at_its_user_agents_version_in_headers_and_script(harness: Harness) -> None:
    seen, headers = _visit(harness, "Pixel 7")
    assert "HeadlessChrome" not in headers["sec-ch-ua"] and '"Google Chrome";v="' in headers["sec-ch-ua"]
    assert (headers["sec-ch-ua-mobile"], headers["sec-ch-ua-platform"]) == ("?1", '"Android"')
    assert seen == [["Not:A-Brand", "Chromium", "Google Chrome"], "Android"]


def test_an_iphone_run_has_no_client_hints_as_safari_has_none(harness: Harness) -> None:
    seen, headers = _visit(harness, "iPhone 13")
    assert headers == {}
    assert seen == [None, None]


def test_an_in_app_browser_on_android_says_webview(harness: Harness) -> None:
    seen, headers = _visit(harness, "Pixel 7", RunConditions(in_app="facebook_android"))
    assert '"Android WebView"' in headers["sec-ch-ua"] and seen[0][-1] == "Android WebView"
