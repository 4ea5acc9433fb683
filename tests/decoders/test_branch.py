"""Branch decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from harness.decoders.vendors.branch import BranchDecoder
from harness.models import CapturedRequest

DECODER = BranchDecoder()
KEY = "key_live_goldenTraceFakeKey00000000000000"
FORM = [("content-type", "application/x-www-form-urlencoded")]


def post(path: str, fields: dict[str, str], host: str = "api2.branch.io") -> CapturedRequest:
    return CapturedRequest(id="t", method="POST", url=f"https://{host}{path}", request_headers=FORM,
                           body=urlencode(fields).encode())


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://api2.branch.io/v1/open", True),
        ("https://api2.branch.io/v2/event/standard", True),
        ("https://api2.branch.io/v2/event/custom", True),
        ("https://api2.branch.io/v1/dismiss", False),
        ("https://api2.branch.io/v2/event", False),
        ("https://app.link/_r?sdk=web2.89.2", False),
        ("https://api.branch.io/v1/open", False),
        ("https://cdn.branch.io/branch-latest.min.js", False),
    ],
)
def test_claims_the_sdk_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(CapturedRequest(id="t", method="POST", url=url)) is claimed


def test_dma_signals_of_an_event_are_its_consent() -> None:
    user = {"http_origin": "https://shop.example/?_branch_match_id=555", "dma_eea": True,
            "dma_ad_personalization": False, "dma_ad_user_data": True, "developer_identity": "jane@example.com"}
    hit = post("/v2/event/standard", {"name": "PURCHASE", "user_data": json.dumps(user),
                                      "event_data": json.dumps({"revenue": "12,50", "currency": "EUR"}),
                                      "branch_key": KEY})
    (event,) = DECODER.decode(hit)
    assert (event.consent.ad_user_data, event.consent.ad_personalization) == ("granted", "denied")
    assert event.consent.other == {"dma_eea": "true"}
    assert event.user_data == {"developer_identity": "raw"}
    # A revenue that is no number stays visible as sent; the landing's click ID is read from the page.
    assert (event.value, event.params["value_raw"], event.currency) == (None, "12,50", "EUR")
    assert event.click_ids == {"_branch_match_id": "555"}


def test_dma_signals_of_an_open_are_form_strings() -> None:
    hit = post("/v1/open", {"branch_key": KEY, "dma_eea": "true", "dma_ad_user_data": "false",
                            "identity": "user-7", "current_url": "https://shop.example/"})
    (event,) = DECODER.decode(hit)
    assert (event.consent.ad_user_data, event.consent.ad_personalization) == ("denied", None)
    assert event.user_data == {"identity": "raw"}
    assert event.click_ids == {}


@pytest.mark.parametrize(
    ("path", "fields", "reason"),
    [
        ("/v1/open", {"current_url": "https://shop.example/"}, "no branch_key"),
        ("/v2/event/custom", {"branch_key": KEY, "user_data": "{}"}, "no event name (name)"),
    ],
)
def test_unreadable_hits_are_malformed(path: str, fields: dict[str, str], reason: str) -> None:
    (event,) = DECODER.decode(post(path, fields))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_garbage_json_fields_are_kept_as_sent() -> None:
    hit = post("/v2/event/custom", {"name": "x", "branch_key": KEY, "custom_data": "{not json",
                                    "event_data": "[1]"})
    (event,) = DECODER.decode(hit)
    assert event.params["custom_data"] == "{not json"
    assert event.value is None


def test_open_reply_is_a_session_the_sdk_accepts() -> None:
    reply = DECODER.sinkhole_reply(post("/v1/open", {"branch_key": KEY}))
    session = json.loads(reply.body)
    assert (reply.status, reply.content_type) == (200, "application/json")
    # The SDK validates these as 15-20 digit IDs before it sends any later call.
    assert all(session[k].isdigit() and 15 <= len(session[k]) <= 20 for k in ("identity_id", "session_id"))
    assert json.loads(DECODER.sinkhole_reply(post("/v1/url", {})).body)["url"].startswith("https://")
    assert json.loads(DECODER.sinkhole_reply(post("/v2/event/standard", {})).body) == {}


def test_profile_follows_the_match_id_but_never_requires_it_on_events() -> None:
    assert DECODER.profile.click_ids == ("_branch_match_id",)
    assert DECODER.profile.hit_click_ids == ()


def json_post(body: dict[str, object], content_type: str) -> CapturedRequest:
    return CapturedRequest(
        id="t", method="POST", url="https://api2.branch.io/v2/event/standard",
        request_headers=[("content-type", content_type)], body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_whatever_its_label(content_type: str) -> None:
    # App SDKs and the v2 Events API POST JSON; a PHP server sent the same JSON labelled as a form.
    body = {"name": "PURCHASE", "branch_key": "key_live_x", "event_data": {"revenue": 12.5, "currency": "USD"},
            "user_data": {"developer_identity": "u-7"}, "custom_data": {"plan": "pro"}}
    (event,) = DECODER.decode(json_post(body, content_type))
    assert (event.malformed, event.event, event.account_id) == (False, "PURCHASE", "key_live_x")
    assert (event.value, event.currency) == (12.5, "USD")
    assert event.params["custom_data"] == {"plan": "pro"}
    assert set(event.user_data) == {"developer_identity"}


def test_the_android_sdk_placeholder_identity_is_no_user_data() -> None:
    body = {"name": "VIEW_ITEM", "branch_key": "key_live_x", "user_data": {"developer_identity": "bnc_no_value"}}
    (event,) = DECODER.decode(json_post(body, "application/json"))
    assert event.user_data == {}
