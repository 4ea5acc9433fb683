"""Rakuten Advertising decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.rakuten import RakutenDecoder, amtlist_value
from harness.models import CapturedRequest

DECODER = RakutenDecoder()
EP = "https://track.linksynergy.com/ep"


def request(url: str) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{EP}?mid=1&ord=2", True),
        ("https://track.linksynergy.com/eventnvppixel?mid=1&ord=2", True),
        ("https://tag.rmp.rakuten.com/124609.ct.js", False),
        ("https://click.linksynergy.com/deeplink?id=a&mid=1&murl=x", False),
        ("https://tags.rd.linksynergy.com/js/1/?pt=conv&orderNumber=2", False),
        ("https://shop.example/ep?mid=1", False),
    ],
)
def test_claims_the_two_pixels_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


@pytest.mark.parametrize(
    ("amtlist", "value"),
    [("1000", 10.0), ("1000|250|-100", 11.5), ("0", 0.0), ("", None), (None, None), ("10.00|x", None)],
)
def test_amtlist_is_summed_in_hundredths(amtlist: str | None, value: float | None) -> None:
    assert amtlist_value(amtlist) == value


def test_unreadable_amtlist_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(f"{EP}?mid=1&ord=A&amtlist=12,50&cur=EUR"))
    assert event.value is None
    assert event.params["value_raw"] == "12,50"


def test_tr_is_the_ranSiteID_click_id() -> None:
    (event,) = DECODER.decode(request(f"{EP}?mid=1&ord=A&tr=abc-123&land=20240101_1200&amtlist=100"))
    assert event.click_ids == {"ranSiteID": "abc-123"}
    assert event.params["land"] == "20240101_1200" and "tr" not in event.params


@pytest.mark.parametrize("url", [EP, f"{EP}?mid=&ord=1", "https://track.linksynergy.com/eventnvppixel?ord=1"])
def test_hit_without_merchant_is_one_malformed_event(url: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert event.malformed and event.malformed_reason == "no merchant ID (mid)"


def test_replies_with_a_pixel() -> None:
    reply = DECODER.sinkhole_reply(request(f"{EP}?mid=1"))
    assert (reply.content_type, reply.body) == ("image/gif", PIXEL_GIF)
