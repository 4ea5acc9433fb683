"""Meta Conversions API decoder, driven by Meta's own Python SDK (facebook-business) without a network."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from harness.decoders.vendors.meta_capi import MetaCapiDecoder
from harness.models import CapturedRequest
from tests.decoders.sdk_capture import capture_meta_event_request, meta_sdk_version

pytest.importorskip("facebook_business")

from facebook_business.adobjects.serverside.action_source import ActionSource  # noqa: E402
from facebook_business.adobjects.serverside.content import Content  # noqa: E402
from facebook_business.adobjects.serverside.custom_data import CustomData  # noqa: E402
from facebook_business.adobjects.serverside.event import Event  # noqa: E402
from facebook_business.adobjects.serverside.user_data import UserData  # noqa: E402

DECODER = MetaCapiDecoder()
PIXEL = "1234567890123456"
FBC = "fb.1.1554763741205.IwAR0xyzFbclid"


def sdk_purchase(event_id: str = "evt-1", value: float = 49.99) -> Event:
    user = UserData(
        emails=["Joe@Example.com"],
        phones=["+1 650 555 1212"],
        client_ip_address="203.0.113.7",
        client_user_agent="Mozilla/5.0",
        fbc=FBC,
        fbp="fb.1.1558571054389.1098115397",
    )
    custom = CustomData(
        currency="eur",
        value=value,
        order_id="ORD-77",
        contents=[Content(product_id="sku-1", quantity=1, item_price=value)],
    )
    return Event(
        event_name="Purchase",
        event_time=1700000000,
        event_id=event_id,
        user_data=user,
        custom_data=custom,
        event_source_url="https://shop.example/thanks",
        action_source=ActionSource.WEBSITE,
    )


def request(url: str, body: str | bytes, content_type: str = "application/json", method: str = "POST") -> CapturedRequest:
    data = body.encode() if isinstance(body, str) else body
    return CapturedRequest(
        id="c1", method=method, url=url, body=data, request_headers=[("content-type", content_type)], source="server"
    )


def test_sdk_request_is_claimed_and_decoded() -> None:
    captured = capture_meta_event_request([sdk_purchase()], pixel_id=PIXEL)
    # What facebook-business actually sends: versioned edge, token in the query, form-encoded data=.
    assert captured.method == "POST"
    assert captured.url.startswith(f"https://graph.facebook.com/v{meta_sdk_version().split('.')[0]}.0/{PIXEL}/events?")
    assert captured.content_type == "application/x-www-form-urlencoded"
    assert DECODER.claims(captured)

    (event,) = DECODER.decode(captured)
    assert (event.vendor, event.event, event.account_id, event.source) == ("meta_capi", "Purchase", PIXEL, "server")
    assert (event.value, event.currency, event.transaction_id, event.event_id) == (49.99, "eur", "ORD-77", "evt-1")
    assert event.page_url == "https://shop.example/thanks"
    assert event.click_ids == {"fbc": FBC, "fbclid": "IwAR0xyzFbclid"}
    # The SDK hashes em/ph itself; ip, user agent, fbc and fbp travel plain.
    assert event.user_data == {
        "em": "sha256",
        "ph": "sha256",
        "client_ip_address": "raw",
        "client_user_agent": "raw",
        "fbc": "raw",
        "fbp": "raw",
    }
    assert event.params["access_token_present"] is True
    assert event.params["action_source"] == "website" and event.params["event_time"] == 1700000000


def test_sdk_access_token_is_never_copied() -> None:
    captured = capture_meta_event_request([sdk_purchase()], pixel_id=PIXEL)
    (event,) = DECODER.decode(captured)
    assert "EAAB-test-token" in captured.url
    assert "EAAB-test-token" not in event.model_dump_json()
    assert "access_token" not in event.params


def test_sdk_batch_and_test_event_code() -> None:
    events = [sdk_purchase("a", 1.0), sdk_purchase("b", 2.5)]
    captured = capture_meta_event_request(events, pixel_id=PIXEL, test_event_code="TEST777")
    decoded = DECODER.decode(captured)
    assert [(e.event_id, e.value) for e in decoded] == [("a", 1.0), ("b", 2.5)]
    assert all(e.params["test_event_code"] == "TEST777" for e in decoded)


def test_sinkhole_reply_counts_events_like_the_graph_api() -> None:
    captured = capture_meta_event_request([sdk_purchase("a"), sdk_purchase("b")], pixel_id=PIXEL)
    reply = DECODER.sinkhole_reply(captured)
    body = json.loads(reply.body)
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert body["events_received"] == 2 and body["messages"] == [] and body["fbtrace_id"]


def test_sinkhole_reply_for_missing_data_is_a_graph_error() -> None:
    reply = DECODER.sinkhole_reply(request(f"https://graph.facebook.com/v19.0/{PIXEL}/events", "{}"))
    assert reply.status == 400
    assert json.loads(reply.body)["error"]["code"] == 100


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (f"https://graph.facebook.com/v18.0/{PIXEL}/events", "POST", True),
        (f"https://graph.facebook.com/v21.0/{PIXEL}/events/", "POST", True),
        (f"https://graph.facebook.com/{PIXEL}/events?access_token=x", "POST", True),
        (f"https://graph.facebook.com/v18.0/{PIXEL}/events?method=post&data=%5B%5D", "GET", True),
        (f"https://graph.facebook.com/v18.0/{PIXEL}/events", "GET", False),
        ("https://graph.facebook.com/v18.0/me/events", "POST", False),
        (f"https://graph.facebook.com/v18.0/{PIXEL}/adspixels", "POST", False),
        (f"https://api.shop.example/v18.0/{PIXEL}/events", "POST", False),
        ("https://www.facebook.com/tr/?id=1&ev=PageView", "GET", False),
    ],
)
def test_claims(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, "", method=method)) is claimed


def test_json_body_with_plain_string_lists_and_numeric_string_value() -> None:
    body = {
        "data": [
            {
                "event_name": "Lead",
                "event_time": 1700000000,
                "user_data": {"em": ["a" * 64, "b" * 64], "ph": "15551234567", "external_id": [], "ct": ""},
                "custom_data": {"value": "19.90", "currency": "USD", "content_name": "newsletter"},
            }
        ]
    }
    (event,) = DECODER.decode(request(f"https://graph.facebook.com/{PIXEL}/events", json.dumps(body)))
    assert event.value == 19.9
    assert event.user_data == {"em": "sha256", "ph": "raw"}
    assert event.params["custom_data"] == {"content_name": "newsletter"}
    assert "api_version" not in event.params


def test_form_body_with_token_in_body_and_mixed_hash_list() -> None:
    data = [{"event_name": "Purchase", "user_data": {"em": ["a" * 64, "plain@example.com"]}}]
    body = urlencode({"data": json.dumps(data), "access_token": "SECRET", "appsecret_proof": "PROOF"})
    (event,) = DECODER.decode(
        request(f"https://graph.facebook.com/v18.0/{PIXEL}/events", body, "application/x-www-form-urlencoded")
    )
    assert event.user_data == {"em": "raw"}  # one unhashed address makes the list raw
    assert event.params["access_token_present"] and event.params["appsecret_proof_present"]
    assert "SECRET" not in event.model_dump_json() and "PROOF" not in event.model_dump_json()


def test_bearer_token_header_is_recorded_not_copied() -> None:
    req = CapturedRequest(
        id="c2",
        method="POST",
        url=f"https://graph.facebook.com/v18.0/{PIXEL}/events",
        body=json.dumps({"data": [{"event_name": "PageView"}]}).encode(),
        request_headers=[("content-type", "application/json"), ("authorization", "Bearer SECRET")],
    )
    (event,) = DECODER.decode(req)
    assert event.params["access_token_present"] is True and "SECRET" not in event.model_dump_json()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "Conversions API request without a readable data list"),
        ('{"data": "not json [', "Conversions API request without a readable data list"),
        ('{"data": []}', "Conversions API request with an empty data list"),
        ("data=%5B%5D", "Conversions API request with an empty data list"),
    ],
)
def test_unreadable_requests_are_one_malformed_event(body: str, reason: str) -> None:
    ctype = "application/x-www-form-urlencoded" if body.startswith("data=") else "application/json"
    events = DECODER.decode(request(f"https://graph.facebook.com/v18.0/{PIXEL}/events", body, ctype))
    assert len(events) == 1 and events[0].malformed and events[0].malformed_reason == reason
    assert events[0].source == "server"


def test_bad_entries_are_malformed_in_place() -> None:
    body = json.dumps({"data": ["not an object", {"event_name": "AddToCart"}, {"event_time": 1}]})
    events = DECODER.decode(request(f"https://graph.facebook.com/v18.0/{PIXEL}/events", body))
    assert [e.malformed for e in events] == [True, False, True]
    assert events[1].event == "AddToCart"


def test_a_browser_calling_the_api_is_flagged() -> None:
    req = CapturedRequest(
        id="c3",
        method="POST",
        url=f"https://graph.facebook.com/v18.0/{PIXEL}/events?access_token=LEAKED",
        body=json.dumps({"data": [{"event_name": "Purchase"}]}).encode(),
        request_headers=[("content-type", "application/json")],
        source="browser",
    )
    (event,) = DECODER.decode(req)
    assert event.params["sent_from_browser"] is True and event.params["access_token_present"] is True
    assert event.source == "server"  # what the hit is; who sent it is the flag above
