"""Partnerize decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.partnerize import PartnerizeDecoder, basket_value, name_values, split_segments
from harness.models import CapturedRequest

DECODER = PartnerizeDecoder()
BASE = "https://prf.hn/conversion/"


def request(url: str) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{BASE}campaign:1/conversionref:2", True),
        (f"{BASE}tracking_mode:api/clickref:x", True),
        ("https://prf.hn/click/camref:1100l3", False),
        ("https://prf.hn/conversion", False),
        ("https://sub.prf.hn/conversion/campaign:1", False),
        ("https://shop.example/conversion/campaign:1", False),
    ],
)
def test_claims_conversion_paths_on_prf_hn_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


@pytest.mark.parametrize(
    ("path", "segments", "items"),
    [
        ("a:1/b:2/[x:1/y:2][x:3]", ["a:1", "b:2"], ["x:1/y:2", "x:3"]),
        ("a:1/[/x:1/y:2]/b:2", ["a:1", "b:2"], ["/x:1/y:2"]),  # the GTM template's "/[/..]"
        ("a:1/[x:1", ["a:1"], ["x:1"]),  # an unclosed item runs to the end
        ("", [], []),
    ],
)
def test_segments_split_outside_brackets(path: str, segments: list[str], items: list[str]) -> None:
    assert split_segments(path) == (segments, items)


def test_values_are_url_decoded_and_the_first_name_wins() -> None:
    assert name_values(["voucher:10%25%20OFF", "voucher:later", "flag"]) == {"voucher": "10% OFF", "flag": ""}


def test_basket_value_needs_every_priced_quantity() -> None:
    assert basket_value([{"value": "10", "quantity": "3"}, {"sku": "free"}]) == 30.0
    assert basket_value([{"value": "10"}]) is None
    assert basket_value([{"value": "ten", "quantity": "1"}]) is None
    assert basket_value([]) is None


def test_unreadable_item_price_leaves_value_unknown_and_items_as_sent() -> None:
    (event,) = DECODER.decode(request(f"{BASE}campaign:1/conversionref:A/[sku:S/value:12,50/quantity:1]"))
    assert event.value is None
    assert event.params["items"] == [{"sku": "S", "value": "12,50", "quantity": "1"}]


@pytest.mark.parametrize("url", [f"{BASE}conversionref:A/currency:GBP", f"{BASE}campaign:/clickref:", BASE])
def test_hit_without_campaign_or_clickref_is_one_malformed_event(url: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert event.malformed and event.malformed_reason == "no campaign and no clickref"


def test_replies_with_a_pixel() -> None:
    reply = DECODER.sinkhole_reply(request(f"{BASE}campaign:1"))
    assert (reply.content_type, reply.body) == ("image/gif", PIXEL_GIF)


def test_percent_encoded_item_brackets_are_items() -> None:
    # Branch's Performance Horizon postback sends its item as %5B..%5D (lower-case escapes are the same).
    for opening, closing in (("%5B", "%5D"), ("%5b", "%5d")):
        url = f"{BASE}tracking_mode:api/clickref:c1/currency:GBP/{opening}sku:S1/value:10.5/quantity:2{closing}"
        (event,) = DECODER.decode(request(url))
        assert event.params["items"] == [{"sku": "S1", "value": "10.5", "quantity": "2"}]
        assert event.value == 21.0
        assert "sku" not in event.params
