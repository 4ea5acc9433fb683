"""Adjust decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.vendors.adjust import AdjustDecoder
from harness.models import CapturedRequest

DECODER = AdjustDecoder()
FORM = [("content-type", "application/x-www-form-urlencoded")]


def hit(url: str, body: str = "", method: str = "POST") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=FORM, body=body.encode())


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://app.adjust.com/session", True),
        ("https://app.adjust.net.in/event", True),
        ("https://app.us.adjust.com/third_party_sharing", True),
        ("https://gdpr.adjust.com/gdpr_forget_device", True),
        ("https://s2s.adjust.com/event", True),
        ("https://s2s.adjust.com/session", False),
        ("https://app.adjust.com/abc123", False),
        ("https://view.adjust.com/impression/abc123", False),
        ("https://cdn.adjust.com/adjust-latest.min.js", False),
        ("https://shop.example/event", False),
    ],
)
def test_claims_sdk_and_s2s_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(hit(url)) is claimed


def test_session_is_named_by_its_endpoint() -> None:
    (event,) = DECODER.decode(hit("https://app.adjust.com/session", "app_token=abc&environment=sandbox&platform=web"))
    assert (event.event, event.account_id, event.source, event.click_ids) == ("session", "abc", "browser", {})


def test_event_without_token_is_malformed() -> None:
    (event,) = DECODER.decode(hit("https://app.adjust.com/event", "app_token=abc&revenue=1.00000&currency=EUR"))
    assert (event.malformed, event.malformed_reason, event.event) == (True, "no event_token", "event")


def test_hit_without_app_token_is_malformed() -> None:
    (event,) = DECODER.decode(hit("https://s2s.adjust.com/event?s2s=1&event_token=f0ob4r", method="GET"))
    assert (event.malformed, event.malformed_reason) == (True, "no app_token")


def test_unreadable_revenue_is_kept_raw() -> None:
    (event,) = DECODER.decode(hit("https://s2s.adjust.com/event", "s2s=1&app_token=a&event_token=b&revenue=9%2C99&currency=EUR"))
    assert (event.value, event.params["value_raw"], event.source) == (None, "9,99", "server")


def test_referrer_is_a_click_only_on_sdk_click() -> None:
    (event,) = DECODER.decode(hit("https://app.adjust.com/session", "app_token=a&referrer=x"))
    assert (event.click_ids, event.params["referrer"]) == ({}, "x")


def test_replies_are_json_the_sdk_accepts() -> None:
    sdk = DECODER.sinkhole_reply(hit("https://app.adjust.com/session"))
    s2s = DECODER.sinkhole_reply(hit("https://s2s.adjust.com/event"))
    assert (sdk.status, json.loads(sdk.body)) == (200, {})
    assert (s2s.status, json.loads(s2s.body)) == (200, {"status": "OK"})


def test_timestamps_and_visitor_id_are_volatile() -> None:
    assert {"created_at", "sent_at", "web_uuid", "created_at_unix"} <= DECODER.volatile_params


@pytest.mark.parametrize(
    ("body", "click_ids"),
    [
        ("app_token=a1&source=web_referrer&referrer=adjust_tracker%3Dabc123", {"adjust_referrer": "adjust_tracker=abc123"}),
        # The Android SDK's Play install referrer (an organic install here) is no landing-URL click.
        ("app_token=a1&source=install_referrer&referrer=utm_source%3Dgoogle-play%26utm_medium%3Dorganic", {}),
    ],
)
def test_only_a_web_referrer_click_is_a_click_id(body: str, click_ids: dict[str, str]) -> None:
    (event,) = DECODER.decode(hit("https://app.adjust.com/sdk_click", body))
    assert event.click_ids == click_ids
    assert event.params.get("referrer") == (None if click_ids else "utm_source=google-play&utm_medium=organic")
