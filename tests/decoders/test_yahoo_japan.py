"""Yahoo! JAPAN Ads decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.yahoo_japan import YahooJapanDecoder
from harness.models import CapturedRequest

DECODER = YahooJapanDecoder()
DISPLAY = "https://b90.yahoo.co.jp/c"
SEARCH = "https://b91.yahoo.co.jp/pagead/conversion/1000038478/"


def request(url: str, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{DISPLAY}?yahoo_ydn_conv_io=x", True),
        ("https://b92.yahoo.co.jp/search/?p=TU5WY397JB", True),
        ("https://b92.yahoo.co.jp/search?p=TU5WY397JB", True),
        (f"{SEARCH}?label=x", True),
        ("https://b97.yahoo.co.jp/pagead/conversion/1000407440/?guid=ON", True),
        ("https://b90.yahoo.co.jp/conv.js", False),
        ("https://b90.yahoo.co.jp/c/other", False),
        ("https://b92.yahoo.co.jp/js/s_retargeting.js", False),
        ("https://b91.yahoo.co.jp/pagead/conversion_async.js", False),
        ("https://b91.yahoo.co.jp/pagead/conversion/AW-12/", False),
        ("https://www.googleadservices.com/pagead/conversion/1000038478/", False),
        ("https://s.yimg.jp/images/listing/tool/cv/ytag.js", False),
        ("https://b93.yahoo.co.jp/c?yahoo_ydn_conv_io=x", False),
    ],
)
def test_claims_the_four_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed
    if claimed:
        hit = request(url)
        assert DECODER.may_claim_host(hit.host) and DECODER.may_claim_path("GET", hit.path)


def test_display_conversion_without_io_is_malformed() -> None:
    (event,) = DECODER.decode(
        request(f"{DISPLAY}?yahoo_ydn_conv_io=&yahoo_ydn_conv_label=L&yahoo_ydn_conv_value=5")
    )
    assert (event.malformed, event.event, event.malformed_reason) == (
        True,
        "conversion",
        "no conversion IO (yahoo_ydn_conv_io)",
    )


def test_older_snippet_sends_its_value_as_amount() -> None:
    (event,) = DECODER.decode(request(f"{DISPLAY}?yahoo_ydn_conv_io=IO&yahoo_ydn_conv_amount=2500&guid=ON"))
    assert (event.value, event.params) == (2500.0, {"guid": "ON"})


def test_unreadable_value_is_kept_raw() -> None:
    (event,) = DECODER.decode(request(f"{DISPLAY}?yahoo_ydn_conv_io=IO&yahoo_ydn_conv_value=1%2C980"))
    assert (event.value, event.params["value_raw"]) == (None, "1,980")


def test_search_conversion_takes_the_yclid_from_the_ycl_aw_cookie() -> None:
    # ytag.js sets Google's cookie prefix to _ycl: conversion_async sends _ycl_aw (GCL.<time>.<id>) as gclaw.
    url = f"{SEARCH}?random=123&value=4500&label=EoFsCMW2twMQ48-X2wM&gclaw=GCL.1714550000.YSSid-abc&url=https%3A%2F%2Fshop.example.jp%2Fdone"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value) == ("conversion", "1000038478", 4500.0)
    assert (event.click_ids, event.page_url) == ({"yclid": "YSSid-abc"}, "https://shop.example.jp/done")
    assert "gclaw" not in event.params and event.params["label"] == "EoFsCMW2twMQ48-X2wM"


def test_site_retargeting_without_id_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://b92.yahoo.co.jp/search/?p=&label=&ref=x"))
    assert (event.malformed, event.event) == (True, "retargeting")


def test_page_falls_back_to_the_referer() -> None:
    hit = request(
        f"{SEARCH}?value=0&label=L&guid=ON&script=0", headers=[("referer", "https://shop.example.jp/t")]
    )
    (event,) = DECODER.decode(hit)
    assert event.page_url == "https://shop.example.jp/t"


def test_replies_a_script_to_site_retargeting_and_a_gif_elsewhere() -> None:
    script = DECODER.sinkhole_reply(request("https://b92.yahoo.co.jp/search/?p=X"))
    image = DECODER.sinkhole_reply(request(f"{DISPLAY}?yahoo_ydn_conv_io=IO"))
    assert (script.content_type, script.body) == ("application/javascript", b"")
    assert (image.content_type, image.body) == ("image/gif", PIXEL_GIF)


def test_profile_names_the_click_id_and_its_cookie() -> None:
    assert DECODER.profile.click_ids == ("yclid",)
    assert DECODER.profile.click_id_cookies == {"yclid": "_ycl_yjad"}
    assert {"r", "pvid"} <= DECODER.volatile_params
