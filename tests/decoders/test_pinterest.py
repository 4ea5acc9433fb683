"""Pinterest decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.pinterest import PinterestDecoder
from harness.models import CapturedRequest

DECODER = PinterestDecoder()


def request(url: str, method: str = "GET", body: bytes = b"") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body)


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("GET", "https://ct.pinterest.com/v3/?event=init&tid=1", True),
        ("GET", "https://ct.pinterest.com/v3?event=init&tid=1", True),
        ("GET", "https://ct.pinterest.com/user/?tid=1&cb=2", False),
        ("GET", "https://s.pinimg.com/ct/core.js", False),
        ("GET", "https://s.pinimg.com/ct/lib/main.123abc.js", False),
        ("POST", "https://api.pinterest.com/v5/ad_accounts/549755885175/events", True),
        ("GET", "https://api.pinterest.com/v5/ad_accounts/549755885175/events", False),
        ("POST", "https://api.pinterest.com/v5/pins", False),
        ("POST", "https://shop.example/v3/?event=checkout&tid=1", False),
    ],
)
def test_claims_tag_hits_and_capi_posts_only(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_tag_hit_is_answered_with_the_pixel_gif() -> None:
    reply = DECODER.sinkhole_reply(request("https://ct.pinterest.com/v3/?event=init&tid=1"))
    assert (reply.status, reply.body) == (200, PIXEL_GIF)


def test_capi_is_answered_with_a_status_per_event_as_the_api_does() -> None:
    # Pinterest's own SDK reads the reply into ConversionApiResponse, whose fields are all required.
    body = json.dumps({"data": [{"event_name": "checkout"}, {"event_name": "lead"}]}).encode()
    url = "https://api.pinterest.com/v5/ad_accounts/549755885175/events"
    reply = DECODER.sinkhole_reply(request(url, "POST", body))
    answer = json.loads(reply.body)
    assert (reply.status, answer["num_events_received"], answer["num_events_processed"]) == (200, 2, 2)
    assert [e["status"] for e in answer["events"]] == ["processed", "processed"]
    empty = json.loads(DECODER.sinkhole_reply(request(url, "POST", b"not json")).body)
    assert (empty["num_events_received"], empty["events"]) == (0, [])


def test_json_event_data_wins_over_bracketed_duplicates() -> None:
    ed = quote(json.dumps({"value": 10, "currency": "USD"}))
    (event,) = DECODER.decode(
        request(f"https://ct.pinterest.com/v3/?event=checkout&tid=1&ed={ed}&ed[value]=99")
    )
    assert (event.value, event.currency) == (10.0, "USD")


def test_unparseable_value_is_none_and_the_event_still_decodes() -> None:
    ed = quote(json.dumps({"value": "1,299.00", "currency": "USD"}))
    (event,) = DECODER.decode(request(f"https://ct.pinterest.com/v3/?event=checkout&tid=1&ed={ed}"))
    assert (event.event, event.value, event.malformed) == ("checkout", None, False)


def test_capi_batch_decodes_each_event_and_flags_the_bad_one() -> None:
    body = json.dumps({"data": [{"event_name": "lead", "event_id": "e1"}, {"no_name": True}]}).encode()
    events = DECODER.decode(request("https://api.pinterest.com/v5/ad_accounts/9/events", "POST", body))
    assert [(e.event, e.event_id, e.source, e.malformed) for e in events] == [
        ("lead", "e1", "server", False),
        ("(malformed)", None, "browser", True),
    ]


def test_cache_buster_is_volatile() -> None:
    assert "cb" in DECODER.volatile_params


def test_only_the_noscript_image_may_omit_the_event() -> None:
    (base,) = DECODER.decode(request("https://ct.pinterest.com/v3/?tid=2612416394623&noscript=1"))
    assert (base.event, base.account_id, base.malformed) == ("init", "2612416394623", False)
    # A script hit that lost its event, or an image without a tag ID, is still malformed.
    for url in ("https://ct.pinterest.com/v3/?tid=1&cb=2", "https://ct.pinterest.com/v3/?noscript=1"):
        (event,) = DECODER.decode(request(url))
        assert event.malformed and event.malformed_reason == "no event parameter"


def test_capi_test_flag_is_kept_on_every_event_and_absent_otherwise() -> None:
    body = json.dumps({"data": [{"event_name": "lead"}, {"event_name": "checkout"}]}).encode()
    url = "https://api.pinterest.com/v5/ad_accounts/9/events"
    events = DECODER.decode(request(f"{url}?test=true", "POST", body))
    assert [e.params.get("test") for e in events] == ["true", "true"]
    (live, _) = DECODER.decode(request(url, "POST", body))
    assert "test" not in live.params


def test_image_tag_line_items_become_the_list_the_script_sends() -> None:
    # Pinterest's image-tag event code spells the script's ed.line_items list as ed[line_items][n][field].
    query = (
        "ed[line_items][1][product_id]=B&ed[line_items][0][product_id]=A&ed[line_items][0][product_price]=5"
        "&ed[value]=10&[line_items][0][product_id]=typo"
    )
    (event,) = DECODER.decode(
        request(f"https://ct.pinterest.com/v3/?tid=1&event=checkout&noscript=1&{query}")
    )
    assert event.params["ed.line_items"] == [{"product_id": "A", "product_price": "5"}, {"product_id": "B"}]
    assert event.value == 10
    # Only the ed[...] spelling is event data; a key without the group stays as sent.
    assert event.params["[line_items][0][product_id]"] == "typo"
    assert not any(key.startswith("ed[") for key in event.params)


def test_json_line_items_win_over_the_bracketed_list() -> None:
    ed = quote(json.dumps({"line_items": [{"product_id": "json"}]}))
    (event,) = DECODER.decode(
        request(
            f"https://ct.pinterest.com/v3/?event=checkout&tid=1&ed={ed}&ed[line_items][0][product_id]=img"
        )
    )
    assert event.params["ed.line_items"] == [{"product_id": "json"}]


def test_capi_plain_ip_and_user_agent_are_raw_match_keys_and_partner_id_is_kept() -> None:
    # user_data as Segment's pinterest-conversions destination sends it (index.test.ts.snap).
    user = {
        "em": ["87924606b4131a8aceeeae8868531fbb9712aaa07a5d3a756b26ce0f5d6ca674"],
        "client_ip_address": "198.51.100.4",
        "client_user_agent": "Mozilla/5.0",
        "click_id": "dj0yJnU9abc",
        "partner_id": "partner-id1",
    }
    body = json.dumps({"data": [{"event_name": "checkout", "user_data": user}]}).encode()
    (event,) = DECODER.decode(request("https://api.pinterest.com/v5/ad_accounts/9/events", "POST", body))
    assert event.user_data == {"em": "sha256", "client_ip_address": "raw", "client_user_agent": "raw"}
    assert event.click_ids == {"epik": "dj0yJnU9abc"}
    assert event.params["user_data.partner_id"] == "partner-id1"
    # The IP and user agent are personal data: reported as forms, never copied into params.
    assert "198.51.100.4" not in json.dumps(event.params) and "user_data.click_id" not in event.params
