"""CJ decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.cj import CjDecoder, items_value, upper_keys
from harness.models import CapturedRequest

DECODER = CjDecoder()
PIXEL = "https://www.emjcd.com/u"
CONTAINER = "https://www.emjcd.com/tags/c"


def request(url: str, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{PIXEL}?CID=1&TYPE=2&OID=3&METHOD=IMG", True),
        (f"{CONTAINER}?containerTagId=4&CID=1&TYPE=2&OID=3", True),
        ("https://emjcd.com/u?CID=1&TYPE=2", True),
        (PIXEL, True),  # CJ's endpoint: malformed without CID
        ("https://www.mczbf.com/tags/11509/tag.js", False),  # the Universal Tag script
        ("https://www.emjcd.com/tags/c/other?CID=1", False),
        ("https://www.anrdoezrs.net/click-7990613-11819508", False),  # a click link
        ("https://shop.example/u?CID=1&TYPE=2&OID=3", False),
    ],
)
def test_claims_the_conversion_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_names_are_read_in_any_case_and_kept_as_sent() -> None:
    url = f"{PIXEL}?cid=1&type=2&oid=A9&amount=10.5&currency=EUR&cjevent=abc&coupon=X"
    (event,) = DECODER.decode(request(url))
    assert (event.account_id, event.value, event.currency, event.transaction_id) == ("1", 10.5, "EUR", "A9")
    assert event.click_ids == {"cjevent": "abc"}
    assert event.params == {"type": "2", "coupon": "X"}


def test_amount_wins_over_items() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?CID=1&OID=A&AMOUNT=5&ITEM1=S&AMT1=100&QTY1=2"))
    assert event.value == 5.0


def test_item_value_less_item_and_order_discounts() -> None:
    upper = upper_keys(
        {
            "item1": "A",
            "amt1": "10",
            "qty1": "3",
            "DCNT1": "2",
            "ITEM2": "B",
            "AMT2": "4.5",
            "QTY2": "2",
            "DISCOUNT": "5",
        }
    )
    assert items_value(upper) == pytest.approx(10 * 3 - 2 + 4.5 * 2 - 5)


@pytest.mark.parametrize(
    "query",
    ["ITEM1=A&AMT1=ten&QTY1=1", "ITEM1=A&AMT1=10", "ITEM1=A&AMT1=10&QTY1=1&DISCOUNT=5%25", "ITEM1=A&QTY1=1"],
)
def test_items_that_cannot_be_summed_give_no_value(query: str) -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?CID=1&OID=A&{query}"))
    assert event.value is None
    assert not event.malformed


def test_unreadable_amount_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?CID=1&OID=A&AMOUNT=12,50"))
    assert (event.value, event.params["value_raw"]) == (None, "12,50")


def test_s2s_is_a_server_event_of_its_own() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?CID=1&TYPE=2&METHOD=s2s&OID=A&AMOUNT=1&CJEVENT=e1"))
    assert (event.event, event.source, event.click_ids) == ("s2s_conversion", "server", {"cjevent": "e1"})


@pytest.mark.parametrize("query", ["TYPE=2&OID=3", "CID=&TYPE=2", ""])
def test_hit_without_enterprise_id_is_one_malformed_event(query: str) -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?{query}"))
    assert (event.malformed, event.malformed_reason) == (True, "no enterprise ID (CID)")


def test_page_url_is_the_referer() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?CID=1&OID=A", [("referer", "https://shop.example/thanks")]))
    assert event.page_url == "https://shop.example/thanks"


def test_replies_as_each_tag_expects() -> None:
    assert DECODER.sinkhole_reply(request(f"{PIXEL}?CID=1")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(f"{CONTAINER}?CID=1")).content_type == "text/html"


def test_event_time_is_volatile_and_cje_holds_the_click_id() -> None:
    assert "eventTime" in DECODER.volatile_params
    assert DECODER.profile.click_id_cookies == {"cjevent": "cje"}
