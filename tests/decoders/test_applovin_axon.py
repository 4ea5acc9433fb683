"""AppLovin Axon Pixel decoder behaviour beyond the fixtures."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import is_click_id
from harness.decoders.vendors.applovin_axon import AppLovinAxonDecoder
from harness.models import CapturedRequest

DECODER = AppLovinAxonDecoder()
PIXEL = "https://b.applovin.com/v1/pixel"
SHOPIFY = "https://b.applovin.com/shopify/v1/pixel"
EVENT_KEY = "e1d6f251-97fa-4001-8060-b187a38f46e2"


def request(
    url: str, body: Any = None, method: str = "POST", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=raw)


def shopify(name: str | None, data: dict[str, Any], **applovin: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": "sh-1", "data": data}
    if name is not None:
        event["name"] = name
    return {"applovin": {"wrt": "w", "sid": "s", **applovin}, "event": event, "initData": None}


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (PIXEL, True),
        ("https://b.applovin.com/v2/pixel", True),
        (SHOPIFY, True),
        ("https://b.applovin.com/shopify/v2/pixel", True),
        ("https://b.applovin.com/v1/event?pixel_id=abc", False),  # the server Conversion API
        ("https://b.applovin.com/shopify/error", False),
        ("https://s.axon.ai/pixel.js", False),
        ("https://res4.applovin.com/p/l/loader.iife.js", False),
        ("https://re.applovin.com/v1/s", False),
        ("https://shop.example/v1/pixel", False),
    ],
)
def test_claims_the_pixel_paths_only(url: str, claimed: bool) -> None:
    hit = request(url, {"name": "page_view"})
    assert DECODER.claims(hit) is claimed
    assert DECODER.surely_claims(hit.host, hit.method, hit.path) is claimed


def test_shopify_checkout_with_a_phone_and_the_checkout_currency() -> None:
    data = {
        "checkout": {
            "currencyCode": "EUR",
            "totalPrice": {"amount": 12.5},  # no currencyCode of its own: the checkout's applies
            "order": {"id": "991"},
            "phone": "+33612345678",
        }
    }
    hit = request(
        SHOPIFY,
        shopify("checkout_completed", data, eventId="ale-1"),
        headers=[("x-connect-event-key", EVENT_KEY)],
    )
    (event,) = DECODER.decode(hit)
    assert (event.account_id, event.value, event.currency, event.transaction_id) == (
        EVENT_KEY,
        12.5,
        "EUR",
        "991",
    )
    assert event.user_data == {"phone": "raw"}
    assert event.click_ids == {"aleid": "ale-1"}
    assert "applovin.eventId" not in event.params and event.params["applovin.wrt"] == "w"


def test_shopify_product_view_prices_the_variant() -> None:
    data = {"productVariant": {"id": "1", "price": {"amount": 30, "currencyCode": "GBP"}}}
    (event,) = DECODER.decode(request(SHOPIFY, shopify("product_viewed", data)))
    assert (event.event, event.value, event.currency, event.transaction_id) == (
        "product_viewed",
        30.0,
        "GBP",
        None,
    )


def test_shopify_amount_that_is_no_number_is_kept_as_sent() -> None:
    data = {"checkout": {"totalPrice": {"amount": "12,50", "currencyCode": "EUR"}}}
    (event,) = DECODER.decode(request(SHOPIFY, shopify("checkout_started", data)))
    assert event.value is None and event.params["value_raw"] == "12,50"


def test_shopify_page_falls_back_to_the_referer() -> None:
    hit = request(SHOPIFY, shopify("page_viewed", {}), headers=[("referer", "https://shop.example/a")])
    (event,) = DECODER.decode(hit)
    assert event.page_url == "https://shop.example/a" and event.account_id is None


def test_pixel_hit_reads_click_ids_and_keeps_the_rest_as_sent() -> None:
    body = {
        "name": "add_to_cart",
        "axon": {"eventId": "ale-2", "art": "art-2", "pixelTimings": {"t": 1}},
        "page": {"document": {"location": "https://store.example/p/1"}},
        "data": {"value": 10},  # where the value travels is not public: left as sent
    }
    (event,) = DECODER.decode(request(f"{PIXEL}?v=3", body))
    assert event.click_ids == {"aleid": "ale-2", "alart": "art-2"}
    assert (event.value, event.currency, event.page_url) == (None, None, "https://store.example/p/1")
    assert event.params["axon"] == {"pixelTimings": {"t": 1}}
    assert event.params["data"] == {"value": 10} and event.params["v"] == "3"


def test_gzipped_pixel_body_is_read() -> None:
    packed = gzip.compress(json.dumps({"name": "purchase", "axon": {"eventId": "ale-3"}}).encode())
    (event,) = DECODER.decode(request(PIXEL, packed))
    assert (event.event, event.click_ids, event.malformed) == ("purchase", {"aleid": "ale-3"}, False)


@pytest.mark.parametrize(
    ("url", "body", "reason"),
    [
        (PIXEL, b"\x00binary", "AppLovin pixel body is not a JSON object (plain or gzipped)"),
        (PIXEL, b"\x1f\x8b\x08broken gzip", "AppLovin pixel body is not a JSON object (plain or gzipped)"),
        (PIXEL, gzip.compress(b"[1, 2]", mtime=0), "AppLovin pixel body is not a JSON object (plain or gzipped)"),
        (PIXEL, {"axon": {"eventId": "x"}}, "AppLovin pixel hit without an event name"),
        (SHOPIFY, shopify(None, {}), "AppLovin Shopify pixel hit without an event name"),
    ],
)
def test_unreadable_hits_are_one_malformed_event(url: str, body: Any, reason: str) -> None:
    (event,) = DECODER.decode(request(url, body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_a_gzip_bomb_is_not_inflated_whole() -> None:
    bomb = gzip.compress(b'{"name": "' + b"a" * (4 << 20) + b'"}')
    (event,) = DECODER.decode(request(PIXEL, bomb))
    assert event.malformed  # cut at the inflation limit, so not JSON


def test_answers_the_beacon_with_a_200() -> None:
    reply = DECODER.sinkhole_reply(request(SHOPIFY, shopify("page_viewed", {})))
    assert reply.status == 200 and reply.body == b""
    assert DECODER.sinkhole_reply(request(PIXEL, method="GET")).body == PIXEL_GIF


def test_click_ids_are_known_to_the_registry() -> None:
    assert DECODER.profile.click_ids == ("aleid", "alart", "axeid")
    assert is_click_id("aleid") and is_click_id("alart")


def test_visitor_ids_and_event_times_are_volatile() -> None:
    assert {
        "applovin.wrt",
        "applovin.sid",
        "event.clientId",
        "event.id",
        "event.timestamp",
    } <= DECODER.volatile_params


def test_a_click_landed_as_axeid_must_ride_on_the_purchase_as_its_event_id() -> None:
    # AppLovin's Shopify theme script reads the click as aleid || axeid; its hits send it as eventId.
    from harness.checks.click_ids import click_ids_in_hits
    from tests.checks.hits import Journey
    from tests.checks.pii_builders import context_for

    ad = "https://store.example/?axeid=ale-9&utm_source=applovin"
    for sent, failures in (("ale-9", 0), ("ale-other", 1)):
        journey = Journey()
        hit = request(PIXEL, {"name": "purchase", "axon": {"eventId": sent}, "data": {"order_id": "o-1"}})
        journey.hit(hit.model_copy(update={"tag_hit": True, "sinkholed": True, "status": 200}))
        context = context_for(journey, ad, events=[{"vendor": "applovin_axon", "event": "purchase"}])
        found = list(click_ids_in_hits(context))
        assert len(found) == failures, [f.title for f in found]
