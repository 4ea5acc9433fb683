"""X decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.x import XDecoder
from harness.models import CapturedRequest

DECODER = XDecoder()


def request(url: str, method: str = "GET") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://analytics.twitter.com/i/adsct?txn_id=a", True),
        ("https://analytics.twitter.com/1/i/adsct?txn_id=a", True),
        ("https://t.co/i/adsct?txn_id=a", True),
        ("https://t.co/1/i/adsct?txn_id=a", True),
        ("https://static.ads-twitter.com/uwt.js", False),
        ("https://t.co/AbCdEf", False),
        ("https://analytics.twitter.com/i/other?txn_id=a", False),
        ("https://twitter.com/i/adsct?txn_id=a", False),
    ],
)
def test_claims_both_adsct_hosts_and_paths_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_events_list_becomes_one_event_each_in_order() -> None:
    events_param = quote(json.dumps([["pageview", None], ["purchase", {"value": "5", "currency": "EUR"}]]))
    url = f"https://analytics.twitter.com/i/adsct?txn_id=abc&events={events_param}"
    events = DecoderRegistry.default().decode(request(url))
    assert [(e.event, e.value, e.currency, e.position) for e in events] == [
        ("pageview", None, None, 0),
        ("purchase", 5.0, "EUR", 1),
    ]


@pytest.mark.parametrize(("amount", "value"), [("0", None), ("10.5", 10.5), ("abc", None)])
def test_sale_amount_fills_value_unless_it_is_the_default_zero(amount: str, value: float | None) -> None:
    url = f"https://analytics.twitter.com/i/adsct?txn_id=abc&tw_sale_amount={amount}&events=%5B%5B%22pageview%22%2Cnull%5D%5D"
    (event,) = DECODER.decode(request(url))
    assert event.value == value


def test_event_tag_id_names_the_event_and_is_not_mistaken_for_a_dedup_id() -> None:
    (event,) = DECODER.decode(
        request("https://t.co/1/i/adsct?txn_id=o7z1d&event_id=tw-o7z1d-oabc1&event=%7B%7D")
    )
    assert (event.event, event.event_id, event.params["endpoint_host"]) == ("tw-o7z1d-oabc1", None, "t.co")


def test_pixel_answers_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request("https://t.co/1/i/adsct?txn_id=a")).body == PIXEL_GIF


def test_page_load_id_and_callback_are_volatile() -> None:
    assert {"pl_id", "tpx_cb"} <= DECODER.volatile_params


def test_single_event_tag_noscript_is_a_conversion_of_its_tag_and_the_universal_noscript_a_page_view() -> None:
    # oct.js trackPid('nu7jl', {tw_sale_amount, tw_order_quantity}) <noscript>: txn_id is the conversion tag.
    (sale,) = DECODER.decode(
        request("https://analytics.twitter.com/i/adsct?txn_id=nu7jl&p_id=Twitter&tw_sale_amount=49.90&tw_order_quantity=2")
    )
    assert (sale.event, sale.account_id, sale.value) == ("nu7jl", "nu7jl", 49.9)
    # The universal website tag's <noscript> (txn_id&p_id only) is its page view.
    (page,) = DECODER.decode(request("https://analytics.twitter.com/i/adsct?txn_id=o1abc&p_id=Twitter"))
    assert (page.event, page.account_id) == ("pageview", "o1abc")
