"""Plausible decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.plausible import PlausibleDecoder
from harness.models import CapturedRequest

DECODER = PlausibleDecoder()
ENDPOINT = "https://plausible.io/api/event"
PROXY = "https://shop.example/proxy/api/event"


def request(url: str, body: Any = None, method: str = "POST") -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    return CapturedRequest(
        id="t", method=method, url=url, request_headers=[("content-type", "text/plain")], body=text.encode()
    )


PAGEVIEW = {"n": "pageview", "u": "https://shop.example/?gclid=abc", "d": "shop.example", "r": None}


@pytest.mark.parametrize(
    ("url", "body", "method", "claimed"),
    [
        (ENDPOINT, PAGEVIEW, "POST", True),
        (ENDPOINT, "garbage", "POST", True),  # plausible.io's endpoint: the path decides
        (PROXY, PAGEVIEW, "POST", True),
        (
            "https://shop.example/api/event",
            {"name": "pageview", "url": "https://shop.example/", "domain": "shop.example"},
            "POST",
            True,
        ),
        ("https://shop.example/api/event", {"name": "signup", "url": "https://shop.example/"}, "POST", False),
        ("https://shop.example/api/event", {"type": "click", "target": "#buy"}, "POST", False),
        ("https://shop.example/api/event", "n=pageview&u=x", "POST", False),
        (PROXY, PAGEVIEW, "GET", False),
        ("https://shop.example/api/events", PAGEVIEW, "POST", False),
        ("https://plausible.io/js/script.js", None, "GET", False),
    ],
)
def test_claims_the_event_endpoint_and_proxies_by_signature(
    url: str, body: Any, method: str, claimed: bool
) -> None:
    assert DECODER.claims(request(url, body, method)) is claimed


def test_purchase_with_revenue_as_the_npm_tracker_sends_it() -> None:
    body = {
        "n": "Purchase",
        "u": "https://shop.example/thanks?gclid=Cj0-abc&fbclid=fb1",
        "d": "shop.example",
        "r": None,
        "p": {"order": "A-17"},
        "revenue": {"amount": "49.90", "currency": "EUR"},
    }
    (event,) = DECODER.decode(request(PROXY, body))
    assert (event.event, event.account_id, event.value, event.currency) == (
        "Purchase",
        "shop.example",
        49.9,
        "EUR",
    )
    assert event.click_ids == {"gclid": "Cj0-abc", "fbclid": "fb1"}
    assert (event.transaction_id, event.event_id) == (None, None)  # Plausible has neither
    assert event.params["props"] == {"order": "A-17"}


def test_props_and_revenue_sent_as_json_text_are_read() -> None:
    # The older trackers send ``m``/``p`` as JSON text; the server decodes revenue text the same way.
    body = {
        "n": "Signup",
        "u": "https://shop.example/",
        "d": "shop.example",
        "m": '{"plan":"pro"}',
        "$": '{"amount":5,"currency":"USD"}',
    }
    (event,) = DECODER.decode(request(ENDPOINT, body))
    assert (event.value, event.currency, event.params["props"]) == (5.0, "USD", {"plan": "pro"})


def test_an_unreadable_amount_is_kept_as_sent() -> None:
    body = {
        "n": "Purchase",
        "u": "https://shop.example/",
        "d": "shop.example",
        "$": {"amount": "12,50", "currency": "EUR"},
    }
    (event,) = DECODER.decode(request(ENDPOINT, body))
    assert (event.value, event.currency, event.params["value_raw"]) == (None, "EUR", "12,50")


def test_engagement_event_keeps_its_measures() -> None:
    body = {
        "n": "engagement",
        "u": "https://shop.example/a",
        "d": "shop.example",
        "sd": 42,
        "e": 9000,
        "v": 36,
    }
    (event,) = DECODER.decode(request(ENDPOINT, body))
    assert (event.event, event.params) == ("engagement", {"sd": 42, "e": 9000, "v": 36})
    assert {"sd", "e"} <= DECODER.volatile_params


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "body is not a JSON object"),
        ([1, 2], "body is not a JSON object"),
        ({"u": "https://shop.example/", "d": "shop.example"}, "no event name (n)"),
        ({"n": 7, "u": "https://shop.example/"}, "no event name (n)"),
    ],
)
def test_plausible_io_requests_it_cannot_read_are_malformed(body: Any, reason: str) -> None:
    (event,) = DECODER.decode(request(ENDPOINT, body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_sinkhole_answers_202_ok() -> None:
    reply = DECODER.sinkhole_reply(request(ENDPOINT, PAGEVIEW))
    assert (reply.status, reply.body) == (202, b"ok")


def test_profile() -> None:
    profile = DecoderRegistry.default().profiles()["plausible"]
    assert (profile.consent, profile.purchase_events) == ("not_judged", frozenset({"purchase"}))
