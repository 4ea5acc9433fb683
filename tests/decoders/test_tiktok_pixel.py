"""TikTok Pixel decoder: claimed endpoints, JSON beacon bodies, batches, act pings and replies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.vendors.tiktok_pixel import TikTokPixelDecoder, page_url_of
from harness.models import CapturedRequest

DECODER = TikTokPixelDecoder()
CODE = "CABCDE12345FGHIJ6789"
SHA = "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"


def request(url: str, body: object = None, method: str = "POST") -> CapturedRequest:
    text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
    return CapturedRequest(
        id="t1",
        method=method,
        url=url,
        body=text.encode(),
        request_headers=[("content-type", "text/plain;charset=UTF-8"), ("referer", "https://shop.example/ref")],
    )


def pixel_event(**overrides: object) -> dict:
    body: dict = {
        "event": "AddToCart",
        "event_id": "atc-1",
        "message_id": "messageId-1-2",
        "timestamp": "2024-05-29T16:26:40.123Z",
        "context": {
            "ad": {"callback": "E.C.P.click", "sdk_env": "external"},
            "user": {"anonymous_id": "ttp-cookie-id", "email": SHA, "phone_number": ""},
            "pixel": {"code": CODE},
            "page": {"url": "https://shop.example/p/1", "referrer": "https://shop.example/"},
            "library": {"name": "pixel.js", "version": "2.2.1"},
        },
        "properties": {"value": 12.5, "currency": "USD", "content_type": "product"},
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "url",
    [
        "https://analytics.tiktok.com/api/v2/pixel",
        "https://analytics.tiktok.com/api/v2/pixel/",
        "https://analytics.tiktok.com/api/v2/pixel/act",
        "https://analytics.tiktok.com/api/v2/pixel/track",
        "https://analytics.tiktok.com/api/v2/pixel/batch",
        "https://analytics.tiktok.com/api/v1/track",
        "https://analytics.us.tiktok.com/api/v2/pixel",
        "https://analytics-sg.tiktok.com/api/v2/pixel",
        "https://analytics.tiktok.com/api/v2/shopify_pixel",
        "https://analytics.tiktok.com/api/v2/shopify_pixel/act",
    ],
)
def test_claims_pixel_endpoints(url: str) -> None:
    assert DECODER.claims(request(url, pixel_event()))


@pytest.mark.parametrize(
    "url",
    [
        "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=D61089RC77UD675I25C0&lib=ttq",
        "https://analytics.tiktok.com/i18n/pixel/static/main.MWJkOTJmOWRkMQ.js",
        "https://analytics.tiktok.com/i18n/pixel/static/identify_5cff1caf.js",
        "https://analytics.tiktok.com/api/v2/monitor",
        "https://analytics.tiktok.com/api/v2/performance_interaction",
        "https://analytics.us.tiktok.com/api/v1/app_sdk/batch",
        "https://business-api.tiktok.com/open_api/v1.3/event/track/",
        "https://www.shop.example/api/v2/pixel",
        "https://analytics.tiktok.com.shop.example/api/v2/pixel",
        "https://analytics.tiktok.com/i18n/pixel/shopify.js?sdkid=D85JQUJC77UBBEKNOSU0",
        "https://analytics.tiktok.com/api/v2/shopify_pixel_config",
    ],
)
def test_does_not_claim_scripts_monitoring_or_sites(url: str) -> None:
    assert not DECODER.claims(request(url, pixel_event()))


def test_track_event_fields() -> None:
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", pixel_event()))
    assert (event.vendor, event.event, event.account_id, event.event_id) == ("tiktok_pixel", "AddToCart", CODE, "atc-1")
    assert (event.value, event.currency) == (12.5, "USD")
    assert event.click_ids == {"ttclid": "E.C.P.click"}
    assert event.user_data == {"email": "sha256"}
    assert event.page_url == "https://shop.example/p/1"
    assert event.params["anonymous_id"] == "ttp-cookie-id"
    assert event.params["properties"] == {"content_type": "product"}
    assert event.params["context"]["ad"] == {"sdk_env": "external"}
    # identifiers are reported by form only, never copied
    assert SHA not in json.dumps(event.params)


def test_numeric_string_value_and_order_id() -> None:
    body = pixel_event(properties={"value": "1299.00", "currency": "JPY", "order_id": "A-1"})
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", body))
    assert (event.value, event.currency, event.transaction_id) == (1299.0, "JPY", "A-1")


def test_non_numeric_value_is_none() -> None:
    body = pixel_event(properties={"value": "12,50", "currency": "EUR"})
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", body))
    assert event.value is None and event.currency == "EUR"


def test_empty_callback_and_event_id_are_absent() -> None:
    body = pixel_event(event_id="")
    body["context"]["ad"]["callback"] = ""
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", body))
    assert event.click_ids == {} and event.event_id is None


def test_act_ping_is_named_by_its_action() -> None:
    body = pixel_event(event="", action="Click", auto_collected_properties={"trigger_element": {"tag": "BUTTON"}})
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel/act", body))
    assert event.event == "Click" and event.params["action"] == "Click"


def test_batch_inherits_pixel_code_and_keeps_order() -> None:
    first = pixel_event(event="ViewContent")
    first["context"] = {"page": {"url": "https://shop.example/p/1"}}
    body = {"pixel_code": CODE, "batch": [first, pixel_event(event="AddToCart"), "junk"]}
    events = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel/batch", body))
    assert [e.event for e in events[:2]] == ["ViewContent", "AddToCart"]
    assert events[0].account_id == CODE
    assert events[2].malformed


def test_json_list_body() -> None:
    events = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", [pixel_event(), pixel_event(event="Search")]))
    assert [e.event for e in events] == ["AddToCart", "Search"]


def test_encoded_page_url_of_the_2020_pixel() -> None:
    assert page_url_of("https%3A%2F%2Fshop.example%2F%3Fa%3D1") == "https://shop.example/?a=1"
    assert page_url_of("https://shop.example/?q=%3A") == "https://shop.example/?q=%3A"
    assert page_url_of("") is None


def test_body_less_hit_reads_the_query() -> None:
    req = request("https://analytics.tiktok.com/api/v2/pixel?sdkid=CQUERY&event=Pageview&noscript=1", method="GET")
    (event,) = DECODER.decode(req)
    assert (event.event, event.account_id, event.params) == ("Pageview", "CQUERY", {"noscript": "1"})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"event_id": "x", "context": {"pixel": {"code": CODE}}}, "TikTok pixel event without an event name"),
        ({"batch": []}, "TikTok pixel batch without events"),
        (None, "TikTok pixel hit without a JSON body or event/pixel code"),
        ('{"event":"AddToCart","event_id":"sh-59a', "TikTok pixel hit without a JSON body or event/pixel code"),
    ],
)
def test_malformed(body: object, reason: str) -> None:
    events = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", body))
    assert len(events) == 1 and events[0].malformed and events[0].malformed_reason == reason
    assert events[0].page_url == "https://shop.example/ref"


def test_sinkhole_reply_is_the_ok_json() -> None:
    reply = DECODER.sinkhole_reply(request("https://analytics.tiktok.com/api/v2/pixel", pixel_event()))
    assert reply.status == 200 and reply.content_type == "application/json"
    assert json.loads(reply.body) == {"code": 0, "message": "OK"}


def test_volatile_params_name_the_per_run_ids() -> None:
    assert {"message_id", "timestamp", "anonymous_id"} <= DECODER.volatile_params


@settings(max_examples=200, deadline=None)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(
            ["event", "context", "properties", "batch", "pixel", "user", "ad", "page", "code", "callback", "value", "url", "action"]
        ), children, max_size=5),
        max_leaves=20,
    )
)
def test_decode_never_raises(body: object) -> None:
    events = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", json.dumps(body)))
    assert events and all(e.malformed or e.event for e in events)


def test_non_string_user_fields_are_flags_not_identifiers() -> None:
    body = pixel_event()
    body["context"]["user"].update({"email_is_hashed": True, "external_id": ["x-1"]})
    (event,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", body))
    assert event.user_data == {"email": "sha256", "external_id": "raw"}
    assert event.params["context"]["user"] == {"email_is_hashed": True}


def test_shopify_app_pixel_decodes_like_the_pixel() -> None:
    req = request("https://analytics.tiktok.com/api/v2/shopify_pixel", pixel_event())
    assert DECODER.claims(req)
    (shopify,) = DECODER.decode(req)
    (pixel,) = DECODER.decode(request("https://analytics.tiktok.com/api/v2/pixel", pixel_event()))
    assert shopify.model_dump() == pixel.model_dump()
