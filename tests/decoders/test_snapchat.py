"""Snapchat decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.vendors.snapchat import SnapchatDecoder
from harness.models import CapturedRequest

DECODER = SnapchatDecoder()


def request(url: str, method: str = "GET", body: bytes = b"", ctype: str = "") -> CapturedRequest:
    headers = [("content-type", ctype)] if ctype else []
    return CapturedRequest(id="t", method=method, url=url, body=body, request_headers=headers)


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("POST", "https://tr.snapchat.com/p", True),
        ("POST", "https://tr6.snapchat.com/p", True),
        ("POST", "https://tr-shadow.snapchat.com/p", True),
        ("POST", "https://tr.snapchat.com/gateway/p", True),
        ("GET", "https://tr.snapchat.com/cm/i?pid=1", False),
        ("GET", "https://tr.snapchat.com/cm/p?rand=1&pnid=110", False),
        ("GET", "https://sc-static.net/scevent.min.js", False),
        ("POST", "https://tr.snapchat.com/v3/abc/events", True),
        ("GET", "https://tr.snapchat.com/v3/abc/events", False),
        ("POST", "https://tr.snapchat.com/v2/conversion", True),
        ("POST", "https://www.snapchat.com/p", False),
    ],
)
def test_claims_pixel_and_capi_endpoints_only(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_script_spelling_wins_over_plain_spelling() -> None:
    body = b"pid=1&ev=PURCHASE&e_pr=10&price=99&e_cur=EUR&currency=USD"
    (event,) = DECODER.decode(
        request("https://tr.snapchat.com/p", "POST", body, "application/x-www-form-urlencoded")
    )
    assert (event.value, event.currency) == (10.0, "EUR")


def test_json_body_pixel_hit_decodes() -> None:
    body = json.dumps(
        {"pid": "p1", "ev": "SIGN_UP", "u_hem": "jane@example.com", "client_dedup_id": "d1"}
    ).encode()
    (event,) = DECODER.decode(request("https://tr.snapchat.com/p", "POST", body, "application/json"))
    assert (event.event, event.account_id, event.event_id, event.user_data) == (
        "SIGN_UP",
        "p1",
        "d1",
        {"em": "raw"},
    )


def test_capi_gets_a_json_success_and_the_pixel_image_a_gif() -> None:
    capi = DECODER.sinkhole_reply(request("https://tr.snapchat.com/v3/abc/events", "POST", b"{}"))
    assert capi.content_type == "application/json" and b"SUCCESS" in capi.body
    assert (
        DECODER.sinkhole_reply(request("https://tr.snapchat.com/p?pid=1&ev=PAGE_VIEW")).content_type
        == "image/gif"
    )


def test_capi_v3_without_data_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://tr.snapchat.com/v3/abc/events", "POST", b'{"events": []}'))
    assert event.malformed and "data" in (event.malformed_reason or "")


def test_timestamps_and_cookie_ids_are_volatile() -> None:
    assert {"ts", "u_c1"} <= DECODER.volatile_params
