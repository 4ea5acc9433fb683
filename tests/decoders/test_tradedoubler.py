"""Tradedoubler decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.tradedoubler import (
    TradedoublerDecoder,
    basket_lines,
    basket_value,
    paren_pairs,
    report_params,
)
from harness.models import CapturedRequest

DECODER = TradedoublerDecoder()
SALE = "https://tbs.tradedoubler.com/report"
LEAD = "https://tbl.tradedoubler.com/report"


def request(url: str, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{SALE}?organization=1&event=2&orderNumber=3", True),
        (f"{LEAD}?organization=1&event=2&leadNumber=3", True),
        (f"{SALE}?o(1)event(2)ordnum(3)", True),
        ("https://tbs.tradedoubler.com/user?organization=1&extid=x&exttype=1", False),
        ("https://clk.tradedoubler.com/click?p=1&a=2&g=3", False),
        ("https://shop.example/report?organization=1", False),
    ],
)
def test_claims_the_report_endpoint_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_paren_pairs_keep_nesting_and_survive_an_unclosed_pair() -> None:
    assert paren_pairs("a(1)b(x(2)y(3))") == [("a", "1"), ("b", "x(2)y(3)")]
    assert paren_pairs("a(1)b(open") == [("a", "1"), ("b", "open")]
    assert paren_pairs("") == []


def test_plt_short_names_map_to_the_long_ones() -> None:
    params = report_params(f"{SALE}?o(9)p(8)ordnum(A%201)curr(EUR)chksum(v04x)event(7)")
    assert params == {
        "organization": "9",
        "program": "8",
        "ordernumber": "A 1",
        "currency": "EUR",
        "checksum": "v04x",
        "event": "7",
    }


def test_basket_value_needs_every_price_and_quantity() -> None:
    lines = basket_lines("pr(i(A)v(10)q(2))pr(i(B)v(2.5)q(4))")
    assert basket_value(lines) == 30.0
    assert basket_value(basket_lines("pr(i(A)v(10))")) is None
    assert basket_value([]) is None


@pytest.mark.parametrize(
    ("url", "event"),
    [
        (f"{SALE}?organization=1&orderNumber=3", "conversion"),
        (f"{SALE}?organization=1&leadNumber=3", "lead"),  # a lead number sent to the sales host
        (f"{LEAD}?organization=1&orderNumber=3&orderValue=9", "conversion"),  # the iOS SDK's sale on tbl
        (f"{LEAD}?organization=1", "lead"),
        (f"{SALE}?organization=1", "conversion"),
    ],
)
def test_event_follows_the_number_then_the_host(url: str, event: str) -> None:
    assert DECODER.decode(request(url))[0].event == event


def test_raw_identifier_is_seen_as_personal_data_and_dropped() -> None:
    url = f"{SALE}?organization=1&ordernumber=A&ordervalue=5&extid=jane%40example.com&exttype=1"
    (event,) = DECODER.decode(request(url))
    assert event.user_data == {"em": "raw"}
    assert "extid" not in event.params and "jane" not in str(event.params)
    (other,) = DECODER.decode(request(f"{SALE}?organization=1&extid=user-42&exttype=0"))
    assert other.user_data == {"external_id": "raw"}


@pytest.mark.parametrize("value", ["12,50", "undefined", ""])
def test_unreadable_order_value_is_kept_as_sent(value: str) -> None:
    (event,) = DECODER.decode(request(f"{SALE}?organization=1&orderNumber=A&orderValue={value}"))
    assert event.value is None
    assert event.params["value_raw"] == value


@pytest.mark.parametrize("url", [SALE, f"{SALE}?organization=&orderNumber=1", f"{SALE}?event(2)ordnum(3)"])
def test_hit_without_organization_is_one_malformed_event(url: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert event.malformed and event.malformed_reason == "no organization ID (organization / o)"


def test_replies_as_each_element_expects() -> None:
    image = DECODER.sinkhole_reply(request(SALE, [("sec-fetch-dest", "image")]))
    assert (image.content_type, image.body) == ("image/gif", PIXEL_GIF)
    frame = DECODER.sinkhole_reply(request(SALE, [("sec-fetch-dest", "iframe")]))
    assert frame.content_type == "text/html"
