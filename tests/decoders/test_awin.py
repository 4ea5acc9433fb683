"""Awin decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.awin import AwinDecoder, long_names
from harness.models import CapturedRequest

DECODER = AwinDecoder()
AWC = "1001_1403695822_a430d81e22c9e8687f423efcf024fbaa"  # the Awin wiki's example click checksum
API = "https://api.awin.com/s2s/advertiser/1001/orders"


def request(
    url: str,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: str = "",
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=body.encode())


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        ("https://www.awin1.com/sread.js?a=1001&tt=js", "GET", True),
        ("https://www.awin1.com/sread.img?tt=ns&merchant=1001", "GET", True),
        ("https://awin1.com/sread.php?tt=ss&merchant=1001", "GET", True),
        ("https://www.zenaps.com/sread.php?a=1001&tt=ia", "GET", True),
        ("https://www.awin1.com/sread.img", "GET", True),  # Awin's endpoint: malformed without merchant
        (API, "POST", True),
        ("https://www.dwin1.com/1001.js", "GET", False),  # the MasterTag script
        ("https://www.awin1.com/cread.php?awinmid=1001&awinaffid=2002", "GET", False),  # a click link
        ("https://www.awin1.com/awclick.php?mid=488&id=139863", "GET", False),
        ("https://shop.example/sread.img?tt=ns&merchant=1001", "GET", False),  # a site's own path
        ("https://api.awin.com/advertisers/1001/transactions/", "GET", False),
    ],
)
def test_claims_the_sale_endpoints_only(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_short_names_map_to_the_long_ones() -> None:
    short = {
        "a": "1001",
        "b": "9.00",
        "c": "AA1",
        "d": "DEFAULT:9.00",
        "t": "0",
        "l": "https://x/",
        "vc": "V",
    }
    assert long_names(short) == {
        "merchant": "1001",
        "amount": "9.00",
        "ref": "AA1",
        "parts": "DEFAULT:9.00",
        "testmode": "0",
        "page_url": "https://x/",
        "vc": "V",
    }
    # A long-named hit keeps its names, even one that also carries an "a".
    assert long_names({"merchant": "1001", "a": "x"}) == {"merchant": "1001", "a": "x"}


def test_mastertag_twin_and_fallback_repeat_the_script_hit() -> None:
    query = "a=1001&b=9.00&cr=GBP&c=AA1&tv=2"
    events = [
        DECODER.decode(request(f"https://www.awin1.com/sread.{p}?{query}&tt={tt}"))[0]
        for p, tt in (("js", "js"), ("php", "ia"), ("img", "ns"))
    ]
    assert [(e.event, e.repeats) for e in events] == [
        ("conversion", False),
        ("conversion", True),
        ("conversion", True),
    ]
    assert {(e.account_id, e.value, e.currency, e.transaction_id) for e in events} == {
        ("1001", 9.0, "GBP", "AA1")
    }


def test_s2s_hit_carries_the_click_id_and_counts_as_its_own_event() -> None:
    url = f"https://www.awin1.com/sread.php?tt=ss&tv=2&merchant=1001&amount=8.33&cr=GBP&ref=AA1&cks={AWC}"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.source, event.repeats) == ("s2s_conversion", "server", False)
    assert event.click_ids == {"awc": AWC}


def test_empty_cks_is_no_click_id() -> None:
    (event,) = DECODER.decode(request("https://www.awin1.com/sread.js?a=1001&b=1&c=R&cks=&tt=js"))
    assert event.click_ids == {}
    assert "cks" not in event.params


@pytest.mark.parametrize("amount", ["12,50", "undefined", ""])
def test_unreadable_amount_is_kept_as_sent(amount: str) -> None:
    (event,) = DECODER.decode(
        request(f"https://www.awin1.com/sread.img?tt=ns&merchant=1001&amount={amount}&ref=R")
    )
    assert event.value is None
    assert event.params["value_raw"] == amount


@pytest.mark.parametrize(
    "url",
    ["https://www.awin1.com/sread.img?tt=ns&amount=9&ref=R", "https://www.awin1.com/sread.js?a=&b=9&tt=js"],
)
def test_hit_without_advertiser_is_one_malformed_event(url: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert (event.malformed, event.malformed_reason, event.event) == (
        True,
        "no advertiser ID (merchant / a)",
        "conversion",
    )


def test_conversion_api_gives_one_event_per_order() -> None:
    body = json.dumps(
        {
            "orders": [
                {"orderReference": "A1", "amount": 10, "currency": "EUR", "channel": "aw", "awc": AWC},
                {"orderReference": "A2", "amount": "5.5", "currency": "EUR", "channel": "aw"},
                "not an order",
            ],
            "webhook": {"url": "https://shop.example/awin"},
        }
    )
    events = DECODER.decode(request(API, "POST", [("content-type", "application/json")], body))
    assert [(e.transaction_id, e.value, e.malformed) for e in events] == [
        ("A1", 10.0, False),
        ("A2", 5.5, False),
        (None, None, True),
    ]
    assert events[0].click_ids == {"awc": AWC} and events[1].click_ids == {}
    assert events[0].params["request.webhook"] == {"url": "https://shop.example/awin"}
    assert {e.account_id for e in events[:2]} == {"1001"}


@pytest.mark.parametrize("body", ["", "{}", '{"orders": []}', '{"orders": {"orderReference": "A1"}}', "[1]"])
def test_conversion_api_without_orders_is_malformed(body: str) -> None:
    (event,) = DECODER.decode(request(API, "POST", [("content-type", "application/json")], body))
    assert (event.malformed, event.event) == (True, "s2s_conversion")


def test_replies_as_each_transport_expects() -> None:
    assert DECODER.sinkhole_reply(request("https://www.awin1.com/sread.js?a=1")).content_type == (
        "application/javascript"
    )
    assert DECODER.sinkhole_reply(request("https://www.awin1.com/sread.img?merchant=1")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(API, "POST")).content_type == "application/json"


def test_profile_follows_the_awc_click_id() -> None:
    assert DECODER.profile.click_ids == ("awc",)
    assert DECODER.profile.purchase_events == frozenset({"conversion"})
