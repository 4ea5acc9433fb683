"""Yahoo Dot decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.yahoo_dot import YahooDotDecoder
from harness.models import CapturedRequest

DECODER = YahooDotDecoder()
SHA256 = "f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a"


def request(url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://sp.analytics.yahoo.com/sp.pl?a=10000&.yp=10014088", True),
        ("https://sp.analytics.yahoo.com/spp.pl?a=10000&.yp=10014088&ec=wordpresspurchase", True),
        ("https://sp.analytics.yahoo.com/sp.pl", True),  # Yahoo's endpoint, malformed without .yp
        ("https://s.yimg.com/wi/ytc.js", False),
        ("https://sp.analytics.yahoo.com/other.pl?a=10000&.yp=1", False),
        ("https://ups.analytics.yahoo.com/ups/", False),
        ("https://shop.example/sp.pl?a=10000&.yp=10014088", False),
    ],
)
def test_claims_the_dot_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_custom_conversion_with_goal_value() -> None:
    # The qstrings WordPress.com's Calypso passes to YAHOO.ywa.I13N.fireBeacon on a purchase
    # (et/ec/ea/el/gv), which travel under their own names as the captured custom event shows.
    url = (
        "https://sp.analytics.yahoo.com/sp.pl?a=10000&.yp=10014088&f=https%3A%2F%2Fwordpress.com%2Fcheckout"
        "&enc=UTF-8&et=custom&ec=wordpress.com&ea=purchase&el=business-bundle&gv=300"
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "purchase",
        "10014088",
        300.0,
        None,
        None,
    )
    assert event.page_url == "https://wordpress.com/checkout"
    assert {"et": "custom", "ec": "wordpress.com", "el": "business-bundle"}.items() <= event.params.items()
    assert "gv" not in event.params and "ea" not in event.params


def test_goal_value_that_is_not_a_number_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request("https://sp.analytics.yahoo.com/sp.pl?a=10000&.yp=1&ea=Lead&gv=%24300"))
    assert event.value is None and event.params["gv"] == "$300"


def test_enhanced_matching_hashed_email() -> None:
    (event,) = DECODER.decode(request(f"https://sp.analytics.yahoo.com/spp.pl?a=10000&.yp=1&he={SHA256}"))
    assert event.user_data == {"em": "sha256"} and "he" not in event.params


def test_page_url_falls_back_to_the_referer() -> None:
    hit = request(
        "https://sp.analytics.yahoo.com/spp.pl?a=10000&.yp=1", headers=[("referer", "https://shop.example/")]
    )
    (event,) = DECODER.decode(hit)
    assert event.page_url == "https://shop.example/"


def test_hit_without_a_pixel_id_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://sp.analytics.yahoo.com/sp.pl?a=10000&et=custom&ea=AddToCart"))
    assert (event.event, event.malformed, event.malformed_reason) == ("AddToCart", True, "no pixel ID (.yp)")


def test_script_loads_get_javascript_and_images_the_gif() -> None:
    # The jsonp tag loads sp.pl with a <script> (HP's LoadRunner recording: Sec-Fetch-Dest: script,
    # application/x-javascript); yv 1.13+ and the spp.pl pixel load it as an image.
    jsonp = "https://sp.analytics.yahoo.com/sp.pl?a=10000&jsonp=YAHOO.ywa.I13N.handleJSONResponse&.yp=1"
    script = DECODER.sinkhole_reply(request(jsonp, headers=[("sec-fetch-dest", "script")]))
    assert script.content_type == "application/javascript"
    assert DECODER.sinkhole_reply(request(jsonp)).content_type == "application/javascript"
    image = request(
        "https://sp.analytics.yahoo.com/sp.pl?a=10000&.yp=1", headers=[("sec-fetch-dest", "image")]
    )
    assert DECODER.sinkhole_reply(image).body == PIXEL_GIF
    assert (
        DECODER.sinkhole_reply(request("https://sp.analytics.yahoo.com/spp.pl?a=10000&.yp=1")).body
        == PIXEL_GIF
    )


def test_send_date_and_gtm_cache_buster_are_volatile() -> None:
    assert {"d", "gtmcb"} <= DECODER.volatile_params
