"""Quora decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.quora import QuoraDecoder
from harness.models import CapturedRequest

DECODER = QuoraDecoder()
PIXEL = "https://q.quora.com/_/ad/8f5a6fee5c1345e681c7f4066c1f870a/pixel"


def request(url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{PIXEL}?tag=ViewContent&noscript=1", True),
        (f"{PIXEL}?j=1&tag=Generic", True),
        ("https://q.quora.com/_/ad/8f5a6fee5c1345e681c7f4066c1f870a/other?tag=x", False),
        ("https://q.quora.com/_/ad//pixel?tag=x", False),
        ("https://a.quora.com/qevents.js", False),
        ("https://www.quora.com/_/ad/8f5a6fee/pixel?tag=ViewContent", False),
    ],
)
def test_claims_the_pixel_endpoint_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_qevents_hit_with_value_and_click_id() -> None:
    # qevents.js: j=1, u (the page), tag, ts, then v when qp('track', name, {value}) passes one.
    url = f"{PIXEL}?j=1&u=https%3A%2F%2Fshop.example%2Fthanks%3Fqclid%3Dq-123&tag=Purchase&ts=1717171717171&v=49.5"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency) == (
        "Purchase",
        "8f5a6fee5c1345e681c7f4066c1f870a",
        49.5,
        None,
    )
    assert (event.page_url, event.click_ids) == (
        "https://shop.example/thanks?qclid=q-123",
        {"qclid": "q-123"},
    )
    assert event.params == {"j": "1", "ts": "1717171717171"}


def test_click_id_from_the_referer_when_the_hit_has_no_page() -> None:
    hit = request(
        f"{PIXEL}?tag=ViewContent&noscript=1", headers=[("referer", "https://shop.example/?qclid=abc")]
    )
    (event,) = DECODER.decode(hit)
    assert event.click_ids == {"qclid": "abc"}


@pytest.mark.parametrize("query", ["noscript=1", "tag=&i=gtm"])
def test_hit_without_an_event_is_malformed(query: str) -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?{query}"))
    assert (event.malformed, event.malformed_reason) == (True, "no event name (tag)")


def test_pixel_answers_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request(f"{PIXEL}?tag=ViewContent")).body == PIXEL_GIF


def test_timestamp_is_volatile() -> None:
    assert "ts" in DECODER.volatile_params
