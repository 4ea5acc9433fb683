"""TikTok Events API decoder, driven by TikTok's own Python SDK where it is installed."""

from __future__ import annotations

import importlib.util
import json

import pytest

from harness.decoders.vendors.tiktok_events_api import TikTokEventsApiDecoder
from harness.models import CapturedRequest
from tests.decoders.sdk_capture import capture_tiktok_call

DECODER = TikTokEventsApiDecoder()
CODE = "CABCDE12345FGHIJ6789"
SHA = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
TRACK_V13 = "https://business-api.tiktok.com/open_api/v1.3/event/track/"


def request(url: str, body: object, token: str | None = "tt-secret", method: str = "POST") -> CapturedRequest:
    headers = [("content-type", "application/json")]
    if token:
        headers.append(("Access-Token", token))
    text = body if isinstance(body, str) else json.dumps(body)
    return CapturedRequest(id="e1", method=method, url=url, body=text.encode(), request_headers=headers, source="server")


def v13_body(**entry: object) -> dict:
    item = {
        "event": "Purchase",
        "event_time": 1717000000,
        "event_id": "ord-1",
        "user": {"ttclid": "E.C.P.x", "ttp": "ttp-1", "email": SHA, "phone": [SHA, "+15551234567"], "ip": "203.0.113.1"},
        "properties": {"value": "42.10", "currency": "EUR", "order_id": "ORD-1", "contents": [{"content_id": "a"}]},
        "page": {"url": "https://shop.example/thanks"},
    }
    item.update(entry)
    return {"event_source": "web", "event_source_id": CODE, "data": [item]}


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (TRACK_V13, "POST", True),
        ("https://business-api.tiktok.com/open_api/v1.3/event/track", "POST", True),
        ("https://business-api.tiktok.com/open_api/v1.2/pixel/track/", "POST", True),
        ("https://business-api.tiktok.com/open_api/v1.3/pixel/batch/", "POST", True),
        (TRACK_V13, "GET", False),
        ("https://business-api.tiktok.com/open_api/v1.3/campaign/get/", "GET", False),
        ("https://business-api.tiktok.com/open_api/v1.3/pixel/list/", "POST", False),
        ("https://analytics.tiktok.com/api/v2/pixel", "POST", False),
        ("https://api.shop.example/open_api/v1.3/event/track/", "POST", False),
    ],
)
def test_claims(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, {}, method=method)) is claimed


def test_v13_event_track() -> None:
    (event,) = DECODER.decode(request(TRACK_V13, v13_body()))
    assert (event.vendor, event.event, event.account_id, event.source) == ("tiktok_events_api", "Purchase", CODE, "server")
    assert (event.value, event.currency, event.transaction_id, event.event_id) == (42.1, "EUR", "ORD-1", "ord-1")
    assert event.click_ids == {"ttclid": "E.C.P.x"}
    # a list with one plain phone number is raw; cookie IDs, ip and UA are raw by nature
    assert event.user_data == {"ttclid": "raw", "ttp": "raw", "email": "sha256", "phone": "raw", "ip": "raw"}
    assert event.page_url == "https://shop.example/thanks"
    assert event.params["event_source"] == "web" and event.params["ttp"] == "ttp-1"
    assert event.params["properties"] == {"contents": [{"content_id": "a"}]}


def test_access_token_is_never_copied() -> None:
    (event,) = DECODER.decode(request(TRACK_V13, v13_body(), token="very-secret-token"))
    assert event.params["access_token_present"] is True
    assert "very-secret-token" not in event.model_dump_json()
    (no_token,) = DECODER.decode(request(TRACK_V13, v13_body(), token=None))
    assert "access_token_present" not in no_token.params


def test_v13_several_events_and_a_bad_entry() -> None:
    body = v13_body()
    body["data"] += [{"event": "AddToCart", "event_time": 1717000001}, {"event_time": 3}]
    events = DECODER.decode(request(TRACK_V13, body))
    assert [e.event for e in events[:2]] == ["Purchase", "AddToCart"]
    assert events[2].malformed and events[2].malformed_reason == "TikTok Events API data entry without an event name"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "TikTok Events API request without a JSON object body"),
        ([1, 2], "TikTok Events API request without a JSON object body"),
        ({"event_source_id": CODE, "data": []}, "TikTok Events API request with no events"),
        ({"pixel_code": CODE, "batch": []}, "TikTok Events API request with no events"),
        ({"pixel_code": CODE, "timestamp": "x"}, "TikTok Events API event without an event name"),
    ],
)
def test_malformed(body: object, reason: str) -> None:
    events = DECODER.decode(request(TRACK_V13, body))
    assert len(events) == 1 and events[0].malformed and events[0].malformed_reason == reason
    assert events[0].source == "server"


def test_sinkhole_reply() -> None:
    reply = DECODER.sinkhole_reply(request(TRACK_V13, v13_body()))
    body = json.loads(reply.body)
    assert reply.status == 200 and reply.content_type == "application/json"
    assert (body["code"], body["message"], body["data"]) == (0, "OK", {}) and body["request_id"]


# --- TikTok's own SDK --------------------------------------------------------------------------

# Not a declared dev dependency (yet): without it only these two tests skip.
needs_tiktok_sdk = pytest.mark.skipif(
    importlib.util.find_spec("business_api_client") is None,
    reason="tiktok-business-api-sdk-official is not installed",
)


@needs_tiktok_sdk
def test_sdk_pixel_track_is_claimed_and_decoded() -> None:
    from business_api_client.models.pixel_context import PixelContext
    from business_api_client.models.pixel_context_ad import PixelContextAd
    from business_api_client.models.pixel_context_page import PixelContextPage
    from business_api_client.models.pixel_context_user import PixelContextUser
    from business_api_client.models.pixel_properties import PixelProperties
    from business_api_client.models.pixel_track_body import PixelTrackBody

    body = PixelTrackBody(
        pixel_code=CODE,
        event="CompletePayment",
        event_id="pay-1",
        timestamp="2024-05-01T12:00:00Z",
        context=PixelContext(
            ad=PixelContextAd(callback="E.C.P.sdk"),
            page=PixelContextPage(url="https://shop.example/thanks", referrer="https://shop.example/cart"),
            user=PixelContextUser(email=SHA, external_id="customer-9", ttp="ttp-2"),
            ip="198.51.100.4",
            user_agent="Mozilla/5.0",
        ),
        properties=PixelProperties(currency="USD", value=30.0),
    )
    captured = capture_tiktok_call("pixel_track", body, access_token="sdk-token")
    assert captured.url == "https://business-api.tiktok.com/open_api/v1.3/pixel/track/"
    assert DECODER.claims(captured)
    (event,) = DECODER.decode(captured)
    assert (event.event, event.account_id, event.event_id, event.value, event.currency) == (
        "CompletePayment",
        CODE,
        "pay-1",
        30.0,
        "USD",
    )
    assert event.click_ids == {"ttclid": "E.C.P.sdk"}
    assert event.user_data == {"email": "sha256", "external_id": "raw", "ttp": "raw", "ip": "raw", "user_agent": "raw"}
    assert event.page_url == "https://shop.example/thanks"
    assert event.params["access_token_present"] is True and "sdk-token" not in event.model_dump_json()


@needs_tiktok_sdk
def test_sdk_pixel_batch_is_claimed_and_decoded() -> None:
    from business_api_client.models.pixel_batch_body import PixelBatchBody
    from business_api_client.models.pixel_properties import PixelProperties
    from business_api_client.models.pixelbatch_batch import PixelbatchBatch

    batch = [
        PixelbatchBatch(type="track", event="ViewContent", event_id="v1", properties=PixelProperties(value=5, currency="USD")),
        PixelbatchBatch(type="track", event="AddToCart", event_id="a1"),
    ]
    captured = capture_tiktok_call("pixel_batch", PixelBatchBody(pixel_code=CODE, batch=batch))
    assert captured.url == "https://business-api.tiktok.com/open_api/v1.3/pixel/batch/"
    events = DECODER.decode(captured)
    assert [(e.event, e.account_id, e.event_id) for e in events] == [("ViewContent", CODE, "v1"), ("AddToCart", CODE, "a1")]
    assert events[0].value == 5.0 and events[0].params["type"] == "track"


def test_a_browser_calling_the_api_is_flagged() -> None:
    req = request(TRACK_V13, v13_body())
    req.source = "browser"
    (event,) = DECODER.decode(req)
    assert event.params["sent_from_browser"] is True
