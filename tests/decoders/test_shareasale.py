"""ShareASale decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.shareasale import ShareASaleDecoder, event_name, lower_keys
from harness.models import CapturedRequest

DECODER = ShareASaleDecoder()
PIXEL = "https://www.shareasale.com/sale.cfm"
API = "https://www.shareasale.com/w.cfm"


def request(url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{PIXEL}?tracking=1&amount=1.00&merchantID=1&transtype=sale", True),
        ("https://shareasale.com/sale.cfm?merchantID=1", True),
        (PIXEL, True),  # ShareASale's endpoint: malformed without a merchant
        (f"{API}?merchantId=1&token=T&action=new&transtype=sale", True),
        (f"{API}?merchantId=1&token=T&ACTION=New&transtype=sale", True),
        (f"{API}?merchantId=1&token=T&action=void&ordernumber=1", False),  # an API call, no conversion
        (f"{API}?merchantId=1&token=T&action=activity", False),
        ("https://www.shareasale.com/r.cfm?b=1&u=2&m=3", False),  # a click link
        ("https://shareasale-analytics.com/j.js", False),
        ("https://www.dwin1.com/19038.js", False),
        ("https://shop.example/sale.cfm?merchantID=1", False),  # a site's own path
    ],
)
def test_claims_the_pixel_and_new_api_transactions_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_the_api_path_is_never_claimed_without_its_query() -> None:
    assert DECODER.surely_claims("www.shareasale.com", "GET", "/sale.cfm") is True
    assert DECODER.surely_claims("www.shareasale.com", "GET", "/w.cfm") is False
    assert DECODER.may_claim_path("GET", "/w.cfm") and not DECODER.may_claim_path("GET", "/r.cfm")


@pytest.mark.parametrize(
    ("transtype", "server", "expected"),
    [
        ("sale", False, "conversion"),
        ("LEAD", False, "lead"),
        ("", False, "conversion"),
        ("lead", True, "s2s_lead"),
    ],
)
def test_event_name_follows_transtype(transtype: str, server: bool, expected: str) -> None:
    assert event_name({"transtype": transtype}, server) == expected


def test_names_are_read_in_any_case_and_kept_as_sent() -> None:
    url = f"{PIXEL}?Tracking=A1&AMOUNT=10.50&merchantid=77&Currency=EUR&SSCID=abc&couponCode=X"
    (event,) = DECODER.decode(request(url))
    assert (event.account_id, event.value, event.currency, event.transaction_id) == ("77", 10.5, "EUR", "A1")
    assert event.click_ids == {"sscid": "abc"}
    assert event.params == {"couponCode": "X"}
    assert lower_keys({"A": "1", "a": "2"}) == {"a": "1"}


def test_api_token_never_reaches_params() -> None:
    url = f"{API}?merchantId=9&token=SECRET&action=new&transtype=sale&amount=5&tracking=T1"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.source, event.value) == ("s2s_conversion", "server", 5.0)
    assert "token" not in event.params and "SECRET" not in str(event.params)


@pytest.mark.parametrize("amount", ["12,50", "undefined", ""])
def test_unreadable_amount_is_kept_as_sent(amount: str) -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?merchantID=1&tracking=T&amount={amount}"))
    assert event.value is None
    assert event.params["value_raw"] == amount


@pytest.mark.parametrize("url", [PIXEL, f"{PIXEL}?merchantID=&amount=1", f"{API}?action=new&amount=1"])
def test_hit_without_merchant_is_one_malformed_event(url: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert event.malformed and event.malformed_reason == "no merchant ID (merchantID)"


def test_empty_sscid_is_no_click_id() -> None:
    (event,) = DECODER.decode(request(f"{PIXEL}?merchantID=1&tracking=T&amount=1&sscid=&sscidmode=6"))
    assert event.click_ids == {}
    assert "sscid" not in event.params


def test_replies_as_each_endpoint_expects() -> None:
    image = DECODER.sinkhole_reply(request(f"{PIXEL}?merchantID=1"))
    assert (image.content_type, image.body) == ("image/gif", PIXEL_GIF)
    api = DECODER.sinkhole_reply(request(f"{API}?action=new"))
    assert (api.status, api.content_type) == (200, "text/plain")
