"""Amazon Ads decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.amazon_ads import AmazonAdsDecoder
from harness.models import CapturedRequest

DECODER = AmazonAdsDecoder()
LEGACY = (
    "?d=generic&ex-fargs=%3Fid%3Df21e25c1-1d85-caee-70bc-b47f988bfafe%26type%3D55%26m%3D1&ex-fch=416613"
    "&ex-src=https://getbevel.com/&ex-hargs=v%3D1.0%3Bc%3D7529624360201%3Bp%3DF21E25C1-1D85-CAEE-70BC-B47F988BFAFE"
)


def request(url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://s.amazon-adsystem.com/iu3?pid=68579884-2cab-4909-ac0f-4f575a66d2ce&event=PageView", True),
        ("https://aax-eu.amazon-adsystem.com/s/iu3?pid=b69567c1&event=PageView", True),
        ("https://aax-fe.amazon-adsystem.com/s/iu3?pid=b69567c1&event=Lead", True),
        (f"https://s.amazon-adsystem.com/iu3{LEGACY}", True),
        (f"https://s.amazon-adsystem.com/iui3{LEGACY}", True),
        (f"https://aax-eu.amazon-adsystem.com/s/iu3{LEGACY}", True),
        (f"https://aax-eu.amazon-adsystem.com/s/iui3{LEGACY}", True),  # twitch.tv's UK pixel
        ("https://s.amazon-adsystem.com/iu3?pid=49226e71-48b6-4ccb-bf4c-f82acb404220", True),  # no event
        ("https://s.amazon-adsystem.com/iu3?pid=&event=PageView", True),  # the tag's, malformed
        ("https://c.amazon-adsystem.com/aat/amzn.js", False),
        ("https://s.amazon-adsystem.com/iu3?d=amazon.com&slot=navFooter&a2=0101&old_oo=0", False),
        ("https://aax-eu.amazon-adsystem.com/s/iu3?cm3ppd=1&d=dtb-pub&csif=t&fv=1&status=ok", False),
        ("https://s.amazon-adsystem.com/iu3?cm3ppd=1&dme=1", False),
        ("https://s.amazon-adsystem.com/iu3?d=forester-did&ex-fargs=%3Fi%3Dabc%26e%3Dclick", False),
        ("https://s.amazon-adsystem.com/s/iu3?pid=x&event=PageView", False),
        # twitch.tv's d=3p-hbg pixel names its ID only in ex-hargs; its meaning is not sourced, so not claimed.
        (
            "https://s.amazon-adsystem.com/iui3?d=3p-hbg&ex-src=twitch.tv&ex-hargs=v%3D1.0%3Bc%3D8%3Bp%3De754",
            False,
        ),
        ("https://shop.example/iu3?pid=x&event=PageView", False),
    ],
)
def test_claims_advertiser_tag_and_pixel_hits_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_server_side_off_amazon_purchase() -> None:
    # The query Stape's "Amazon CAPI" sGTM tag builds: pid, event, eventSource, ts, then the attributes.
    url = (
        "https://s.amazon-adsystem.com/iu3?pid=1b3cf6ff-9fc9-4499-813a-12e87e83751e&event=Off-AmazonPurchases"
        "&eventSource=gtm-server-side&ts=1717171717171&currencyCode=EUR&value=49.5&unitsSold=2"
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency, event.source) == (
        "Off-AmazonPurchases",
        "1b3cf6ff-9fc9-4499-813a-12e87e83751e",
        49.5,
        "EUR",
        "server",
    )
    assert event.params == {"eventSource": "gtm-server-side", "ts": "1717171717171", "unitsSold": "2"}


def test_browser_tag_attributes_stay_in_params() -> None:
    url = "https://s.amazon-adsystem.com/iu3?pid=1b3cf6ff&event=PageView&gtmVersion=3.4"
    (event,) = DECODER.decode(request(url, headers=[("referer", "https://shop.example/p/1")]))
    assert (event.source, event.page_url, event.params) == (
        "browser",
        "https://shop.example/p/1",
        {"gtmVersion": "3.4"},
    )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("pid=&event=PageView", "no tag ID (pid)"),
        ("pid=1b3cf6ff&event=", "no event name (event)"),
    ],
)
def test_tag_hit_without_its_essentials_is_malformed(query: str, reason: str) -> None:
    (event,) = DECODER.decode(request(f"https://s.amazon-adsystem.com/iu3?{query}"))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_bare_tag_id_without_event_is_a_pixel_load() -> None:
    # twitch.tv loads iu3?pid=<tag id> alone in an iframe: a real hit, not a broken one.
    (event,) = DECODER.decode(
        request("https://s.amazon-adsystem.com/iu3?pid=49226e71-48b6-4ccb-bf4c-f82acb404220")
    )
    assert (event.malformed, event.event, event.account_id, event.params) == (
        False,
        "pixel",
        "49226e71-48b6-4ccb-bf4c-f82acb404220",
        {},
    )


def test_sinkhole_answers_as_the_loader_expects() -> None:
    url = f"https://s.amazon-adsystem.com/iu3{LEGACY}"
    frame = DECODER.sinkhole_reply(request(url, headers=[("sec-fetch-dest", "iframe")]))
    assert (frame.status, frame.content_type, frame.body) == (200, "text/html", b"")
    fetched = DECODER.sinkhole_reply(request(url, headers=[("sec-fetch-dest", "empty")]))
    assert (fetched.status, fetched.body) == (200, b"")
    assert DECODER.sinkhole_reply(request(url, headers=[("sec-fetch-dest", "image")])).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(url)).body == PIXEL_GIF  # a noscript image without fetch metadata


def test_cache_buster_and_timestamp_are_volatile() -> None:
    assert {"cb", "ts"} <= DECODER.volatile_params
