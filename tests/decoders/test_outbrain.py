"""Outbrain decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.outbrain import OutbrainDecoder
from harness.models import CapturedRequest

DECODER = OutbrainDecoder()


def request(url: str, method: str = "GET") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://tr.outbrain.com/unifiedPixel?marketerId=m&name=PAGE_VIEW", True),
        ("https://tr.outbrain.com/unifiedpixel?marketerId=m&name=PAGE_VIEW", False),
        # The legacy endpoint, still fired by click trackers' postbacks and older integrations.
        ("https://tr.outbrain.com/pixel?ob_click_id=00abc&name=Lead&orderValue=1", True),
        ("https://tr.outbrain.com/pixel/x?name=Lead", False),
        ("https://tr.outbrain.com/something?marketerId=x&name=y", False),
        ("https://amplify.outbrain.com/cp/obtp.js", False),
        ("https://sync.outbrain.com/cookie-sync", False),
        ("https://shop.example/unifiedPixel?marketerId=m&name=x", False),
    ],
)
def test_claims_the_pixel_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_server_postback_is_tied_by_its_click_id() -> None:
    # The shape an sGTM postback template builds: ob_click_id, name and the order fields, no marketerId.
    url = "https://tr.outbrain.com/unifiedPixel?ob_click_id=00abc&name=Purchase&orderId=O-1&orderValue=10&currency=EUR"
    (event,) = DECODER.decode(request(url))
    assert (event.account_id, event.click_ids, event.value, event.transaction_id) == (
        None,
        {"ob_click_id": "00abc"},
        10.0,
        "O-1",
    )


def test_neither_account_nor_click_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://tr.outbrain.com/unifiedPixel?au=false&name=Lead"))
    assert (event.event, event.malformed) == ("Lead", True)


def test_get_is_answered_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request("https://tr.outbrain.com/unifiedPixel?name=x")).body == PIXEL_GIF
