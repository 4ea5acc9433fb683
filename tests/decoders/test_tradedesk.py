"""The Trade Desk decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.tradedesk import TradeDeskDecoder
from harness.models import CapturedRequest

DECODER = TradeDeskDecoder()
RTC = "https://insight.adsrvr.org/track/realtimeconversion"


def request(url: str, method: str = "GET", body: bytes = b"") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body)


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("GET", "https://insight.adsrvr.org/track/up?adv=a&upid=b", True),
        ("GET", "https://insight.adsrvr.org/track/conv/?adv=a&ct=0:b&fmt=3", True),
        ("GET", "https://insight.adsrvr.org/track/conv?adv=a&ct=0:b&fmt=3", True),
        ("GET", "https://insight.adsrvr.org/track/evnt/?adv=a&ct=0:b&fmt=3", True),
        ("GET", "https://insight.adsrvr.org/track/pxl/?adv=a&ct=0:b&fmt=3", True),
        ("GET", "https://insight.adsrvr.org/track/pxl?adv=a&ct=0:b&fmt=3", True),
        ("POST", RTC, True),
        ("GET", RTC, False),
        ("GET", "https://insight.adsrvr.org/track/cei?advertiser_id=a&cookie_sync=1", False),
        ("GET", "https://match.adsrvr.org/track/cmf/generic?ttd_pid=x", False),
        ("GET", "https://js.adsrvr.org/up_loader.1.1.0.js", False),
        ("GET", "https://shop.example/track/up?adv=a&upid=b", False),
    ],
)
def test_claims_pixels_tags_and_rtc_posts_only(method: str, url: str, claimed: bool) -> None:
    req = request(url, method)
    assert DECODER.claims(req) is claimed
    assert DECODER.surely_claims(req.host, method, req.path) is claimed


def test_universal_pixel_reads_as_the_loader_builds_it() -> None:
    # up_loader: base?adv=..&ref=<encodeURIComponent(top URL)>&upid=<ids joined by ",">&upv=.. then _pixelParams.
    url = (
        "https://insight.adsrvr.org/track/up?adv=ef1t2tu&ref=https%3A%2F%2Fshop.example%2Fthanks"
        "&upid=xs5v8gr,k56d7yb&upv=1.1.0&td1=gold&v=19.99&vf=EUR&orderid=O-1&gdpr=1&gdpr_consent=CPxyz"
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "universal_pixel",
        "ef1t2tu",
        19.99,
        "EUR",
        "O-1",
    )
    assert event.page_url == "https://shop.example/thanks"
    assert event.params["upid"] == "xs5v8gr,k56d7yb" and event.params["td1"] == "gold"
    assert event.consent.other == {"gdpr": "1", "gdpr_consent": "CPxyz"}


def test_tracking_tag_pixel_reads_its_order_fields() -> None:
    # The form deployed tags use (public capture: /track/pxl/?adv=..&ct=0:..&fmt=3&orderid=&v=), filled in.
    url = "https://insight.adsrvr.org/track/pxl/?adv=t3k9qrj&ct=0:djrfa1z&fmt=3&orderid=O-5&v=42.5&vf=USD&td1=gold"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "tracking_tag",
        "t3k9qrj",
        42.5,
        "USD",
        "O-5",
    )
    assert event.params == {"ct": "0:djrfa1z", "fmt": "3", "td1": "gold"}
    assert DECODER.sinkhole_reply(request(url)).body == PIXEL_GIF


def test_tag_without_advertiser_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://insight.adsrvr.org/track/conv/?ct=0:b&fmt=3"))
    assert event.malformed and event.malformed_reason == "no advertiser id (adv)"


def test_rtc_batch_flags_each_bad_event() -> None:
    body = {"data": [{"adv": "a", "event_name": "purchase"}, {"adv": "a"}, {"event_name": "lead"}, "x"]}
    events = DECODER.decode(request(RTC, "POST", json.dumps(body).encode()))
    assert [(e.event, e.malformed) for e in events] == [
        ("purchase", False),
        ("(malformed)", True),
        ("lead", True),
        ("(malformed)", True),
    ]


def test_rtc_page_view_names_its_pixel() -> None:
    body = {"data": [{"adv": "a", "upixel_id": "p1", "referrer_url": "https://shop.example/"}]}
    (event,) = DECODER.decode(request(RTC, "POST", json.dumps(body).encode()))
    assert (event.event, event.params["upixel_id"]) == ("universal_pixel", "p1")


def test_replies_match_each_endpoint() -> None:
    assert DECODER.sinkhole_reply(request("https://insight.adsrvr.org/track/conv/?adv=a")).body == PIXEL_GIF
    assert (
        DECODER.sinkhole_reply(request("https://insight.adsrvr.org/track/up?adv=a")).content_type
        == "text/html"
    )
    rtc = DECODER.sinkhole_reply(request(RTC, "POST", b"{}"))
    assert rtc.content_type == "application/json" and json.loads(rtc.body)["EventResponses"] == []
