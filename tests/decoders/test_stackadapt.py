"""StackAdapt decoder behaviour beyond the fixtures: each saq() call events.js turns into a hit."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.stackadapt import StackAdaptDecoder
from harness.models import CapturedRequest

DECODER = StackAdaptDecoder()
UID = "PEpR18E5FJGoHB24wvWU6A"
PAGE = "https://shop.example/product/42"


def request(url: str, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="t", method="GET", url=url, request_headers=headers or [])


def conversion_data(data: dict[str, str]) -> str:
    """events.js: ``&encodeURIComponent("sa_conv_data_" + key)=encodeURIComponent(value)`` per data key."""
    return "".join(f"&{quote('sa_conv_data_' + k, safe='')}={quote(v, safe='')}" for k, v in data.items())


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"https://tags.srv.stackadapt.com/saq_pxl?uid={UID}&is_js=true", True),
        ("https://tags.srv.stackadapt.com/conv?cid=abc", True),
        ("https://srv.stackadapt.com/conv?cid=abc&is_js=true", True),
        ("https://srv.stackadapt.com/rt?sid=abc&url=x", True),
        ("https://srv.stackadapt.com/lal?sid=abc&url=x", True),
        ("https://srv.stackadapt.com/saq_pxl?uid=abc", False),  # the universal pixel lives on tags.srv only
        ("https://tags.srv.stackadapt.com/rt?sid=abc", False),
        ("https://tags.srv.stackadapt.com/events.js", False),
        ("https://tags.srv.stackadapt.com/sa.jpeg", False),
        (f"https://tags.srv.stackadapt.com/js_tracking?url=x&uid={UID}", False),
        ("https://east.srv.stackadapt.com/ifr_ts?aid=1&imp=2&first=true&is_js=true", False),
        ("https://sync.srv.stackadapt.com/sync?nid=1", False),
        ("https://tags.srv.stackadapt.com/saq_pxl/extra?uid=abc", False),
        ("https://tags.srv.stackadapt.com.evil.example/saq_pxl?uid=abc", False),
        ("https://shop.example/conv?cid=abc", False),
    ],
)
def test_claims_the_pixel_endpoints_only(url: str, claimed: bool) -> None:
    hit = request(url)
    assert DECODER.claims(hit) is claimed
    if claimed:  # the registry's hints must never hide a claim
        assert DECODER.may_claim_host(hit.host) and DECODER.may_claim_path("GET", hit.path)


def test_universal_pixel_with_an_action_names_the_event() -> None:
    # saq('ts', id, {action: 'purchase', revenue, order_id, currency}) on the confirmation page.
    data = {
        "action": "purchase",
        "revenue": "59.90",
        "order_id": "ORD-7",
        "currency": "cad",
        "coupon": "SPRING",
    }
    url = f"https://tags.srv.stackadapt.com/saq_pxl?uid={UID}&is_js=true&landing_url={quote(PAGE, safe='')}"
    (event,) = DECODER.decode(request(url + conversion_data(data)))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "purchase",
        UID,
        59.9,
        "cad",  # as sent
        "ORD-7",
    )
    assert event.params["sa_conv_data_coupon"] == "SPRING"
    assert "sa_conv_data_revenue" not in event.params and "landing_url" not in event.params


def test_segment_browser_destination_event_name() -> None:
    # actions-stackadapt trackEvent: saq('ts', pixelId, {eventName, ...properties}).
    url = f"https://tags.srv.stackadapt.com/saq_pxl?uid={UID}&is_js=true" + conversion_data(
        {"eventName": "Signed Up", "plan": "pro"}
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.params["sa_conv_data_plan"]) == ("Signed Up", "pro")


def test_personal_data_in_conversion_data_is_reported_by_form() -> None:
    # Chord attaches identify traits (email, names) to the conversion data.
    url = "https://srv.stackadapt.com/conv?cid=abc&is_js=true" + conversion_data(
        {"email": "jane@example.com", "phone": "a" * 64}
    )
    (event,) = DECODER.decode(request(url))
    assert event.user_data == {"email": "raw", "phone": "sha256"}
    assert "sa_conv_data_email" not in event.params


@pytest.mark.parametrize(
    ("url", "event_name", "account"),
    [
        (f"https://srv.stackadapt.com/rt?sid=rt1&url={quote(PAGE, safe='')}&t=Shoes", "rt", "rt1"),
        (f"https://srv.stackadapt.com/lal?sid=lal1&url={quote(PAGE, safe='')}", "lal", "lal1"),
    ],
)
def test_audience_pixels(url: str, event_name: str, account: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.page_url) == (event_name, account, PAGE)


def test_dynamic_retargeting_shows_its_args() -> None:
    # loadDrtHelper: rt?drt=true&sid=..&url=<page with its query>&t=..&args=<JSON of the call's object>.
    args = {"product_id": "sku-9", "price": 12}
    query = urlencode(
        {"drt": "true", "sid": "d1", "url": PAGE + "?sapid=xyz", "t": "Shoes", "args": json.dumps(args)}
    )
    (event,) = DECODER.decode(request(f"https://srv.stackadapt.com/rt?{query}"))
    assert (event.event, event.params["args"], event.click_ids) == ("drt", args, {"sapid": "xyz"})


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://tags.srv.stackadapt.com/saq_pxl?is_js=true", "no pixel ID (uid)"),
        ("https://srv.stackadapt.com/conv?cid=&is_js=true", "no pixel ID (cid)"),
        ("https://srv.stackadapt.com/rt?url=x", "no pixel ID (sid)"),
    ],
)
def test_hit_without_its_id_is_malformed(url: str, reason: str) -> None:
    (event,) = DECODER.decode(request(url))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_page_from_the_referer_when_the_hit_has_none() -> None:
    hit = request("https://tags.srv.stackadapt.com/conv?cid=abc", [("referer", PAGE + "?sapid=s-1")])
    (event,) = DECODER.decode(hit)
    assert (event.page_url, event.click_ids) == (PAGE + "?sapid=s-1", {"sapid": "s-1"})


def test_pixels_answer_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request("https://srv.stackadapt.com/conv?cid=abc")).body == PIXEL_GIF


def test_cache_busters_and_browser_ids_are_volatile() -> None:
    assert {"rnd", "tip", "sa_conv_data_image_value"} <= DECODER.volatile_params
