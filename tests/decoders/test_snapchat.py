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
        ("POST", "https://tr.snapchat.com/v3/abc/events/validate", True),  # the Test Event Tool endpoint
        ("POST", "https://tr.snapchat.com/v3/abc/events/validated", False),
        ("POST", "https://tr.snapchat.com/v3/abc/events/logs", False),
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


def test_pixel_name_age_and_geo_are_identifiers_and_a_raw_one_is_seen() -> None:
    # scevent.min.js passes u_fn, u_age, l_city... as the site gave them: a raw value must show as raw.
    sha = "9baf3a40312f39849f46dad1040f2f039f1cffa1238c41e9db675315cfad39b6"
    url = f"https://tr.snapchat.com/p?pid=p1&ev=SIGN_UP&u_fn=Jane&u_ln={sha}&u_age=42&l_city=Berlin&l_gc=de&u_hed={sha}"
    (event,) = DECODER.decode(request(url))
    assert event.user_data == {"fn": "raw", "ln": "sha256", "age": "raw", "ct": "raw", "country": "raw"}
    assert not {"u_fn", "u_ln", "u_age", "l_city", "l_gc"} & set(event.params)  # identifiers are never copied
    assert event.params["u_hed"] == sha  # the email domain's digest names no person


def test_pixel_cdid_is_the_dedup_id() -> None:
    (event,) = DECODER.decode(request("https://tr.snapchat.com/p?pid=p1&ev=PURCHASE&cdid=d-1"))
    assert event.event_id == "d-1" and "cdid" not in event.params


def test_capi_v3_keeps_every_user_data_key() -> None:
    body = json.dumps(
        {
            "data": [
                {
                    "event_name": "PURCHASE",
                    "user_data": {
                        "ge": "f",
                        "zp": "10115",
                        "new_key": "x",
                        "sc_click_id": "c1",
                        "odd": {"a": 1},
                    },
                }
            ]
        }
    ).encode()
    (event,) = DECODER.decode(
        request("https://tr.snapchat.com/v3/abc/events", "POST", body, "application/json")
    )
    assert event.user_data == {"ge": "raw", "zp": "raw", "new_key": "raw"}
    assert event.click_ids == {"ScCid": "c1"}
    assert event.params["user_data.odd"] == {"a": 1}  # not an identifier, but not dropped either


def test_capi_v2_unmapped_hashed_fields_are_reported_not_dropped() -> None:
    sha = "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"
    body = json.dumps(
        {
            "pixel_id": "p1",
            "event_type": "PURCHASE",
            "hashed_first_name_sha": "john",
            "hashed_first_name_sdx": sha,
            "hashed_zip": sha,
            "hashed_dob_month": sha,
            "uuid_c1": "cookie-1",
        }
    ).encode()
    (event,) = DECODER.decode(
        request("https://tr.snapchat.com/v2/conversion", "POST", body, "application/json")
    )
    assert event.user_data == {
        "fn": "raw",
        "hashed_first_name_sdx": "sha256",
        "zp": "sha256",
        "dobm": "sha256",
    }
    assert event.params == {"uuid_c1": "cookie-1"}


def test_capi_validate_calls_are_marked_as_test_events_and_live_calls_are_not() -> None:
    entry = {"event_name": "PURCHASE", "event_id": "e1", "custom_data": {"value": "9.5"}}
    body = json.dumps({"data": [entry]})
    (test,) = DECODER.decode(request("https://tr.snapchat.com/v3/px1/events/validate", "POST", body.encode()))
    assert (test.event, test.account_id, test.event_id, test.value) == ("PURCHASE", "px1", "e1", 9.5)
    assert test.params["validate"] is True and test.source == "server"
    (live,) = DECODER.decode(request("https://tr.snapchat.com/v3/px1/events", "POST", body.encode()))
    assert "validate" not in live.params
