"""Nextdoor Pixel decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import is_click_id
from harness.decoders.vendors.nextdoor import NextdoorDecoder
from harness.models import CapturedRequest

DECODER = NextdoorDecoder()
PIXEL = "https://flask.nextdoor.com/pixel"
PID = "c729dacc-8cf3-4306-8042-7aa458ce5648"


def request(
    url: str, body: Any = None, method: str = "GET", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    raw = json.dumps(body).encode() if body is not None else b""
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=raw)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{PIXEL}?pid={PID}&ev=PAGE_VIEW&noscript=1", True),
        (f"{PIXEL}/?pid={PID}&ev=PAGE_VIEW", True),
        ("https://flask.nextdoor.com/events/", False),
        ("https://ads.nextdoor.com/public/pixel/ndp.js?id=" + PID, False),
        ("https://ads.nextdoor.com/v2/api/conversions/track", False),
        ("https://nextdoor.com/pixel?pid=x&ev=PAGE_VIEW", False),
        ("https://shop.example/pixel?pid=x&ev=PAGE_VIEW", False),
    ],
)
def test_claims_the_pixel_endpoint_only(url: str, claimed: bool) -> None:
    hit = request(url)
    assert DECODER.claims(hit) is claimed
    assert DECODER.surely_claims(hit.host, hit.method, hit.path) is claimed


def test_click_id_comes_from_the_page_in_the_referer() -> None:
    hit = request(
        f"{PIXEL}?pid={PID}&ev=PURCHASE", headers=[("referer", "https://shop.example/done?ndclid=abc")]
    )
    (event,) = DECODER.decode(hit)
    assert (event.event, event.account_id, event.click_ids) == ("PURCHASE", PID, {"ndclid": "abc"})
    assert event.params == {}


def test_an_empty_click_id_is_no_click_id() -> None:
    hit = request(f"{PIXEL}?pid={PID}&ev=PAGE_VIEW", headers=[("referer", "https://shop.example/?ndclid=")])
    (event,) = DECODER.decode(hit)
    assert event.click_ids == {}


def test_unknown_query_and_body_stay_as_sent() -> None:
    hit = request(f"{PIXEL}?pid={PID}&ev=LEAD&v=2", body={"order_value": "10"}, method="POST")
    (event,) = DECODER.decode(hit)
    assert event.value is None  # what the script's body means is not public
    assert event.params == {"v": "2", "body": {"order_value": "10"}}


@pytest.mark.parametrize("query", ["pid=" + PID, "pid=" + PID + "&ev=", "ev=%20"])
def test_hit_without_an_event_is_malformed(query: str) -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?{query}"))
    assert (event.malformed, event.malformed_reason) == (True, "no event name (ev)")


def test_hit_without_a_pixel_id_still_counts() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?ev=PAGE_VIEW"))
    assert (event.event, event.account_id, event.malformed) == ("PAGE_VIEW", None, False)


@pytest.mark.parametrize(
    ("custom_events", "reasons"),
    [
        ({}, ["Nextdoor pixel post without custom_events"]),
        ([], ["Nextdoor pixel post without custom_events"]),
        ({"": {}, "LEAD": {}}, ["Nextdoor custom event without a name", None]),
    ],
)
def test_early_ndp_posts_that_name_no_event(custom_events: Any, reasons: list[str | None]) -> None:
    events = DECODER.decode(request(PIXEL, {"referer": "", "custom_events": custom_events}, method="POST"))
    assert [e.malformed_reason for e in events] == reasons


def test_image_gets_the_gif_and_the_early_post_its_204() -> None:
    assert DECODER.sinkhole_reply(request(f"{PIXEL}?pid={PID}&ev=PAGE_VIEW")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(PIXEL, {"custom_events": {}}, method="POST")).status == 204


def test_ndclid_is_a_known_click_id() -> None:
    assert DECODER.profile.click_ids == ("ndclid",)
    assert is_click_id("ndclid")
