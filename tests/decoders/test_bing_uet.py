"""Microsoft UET decoder: claimed hosts and paths, page loads, custom events, consent and beacons."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.bing_uet import BingUetDecoder
from harness.models import CapturedRequest

DECODER = BingUetDecoder()
BASE = "https://bat.bing.com/action/0?ti=343102454&Ver=2&mid=02fc8be7&sid=4b1e&vid=4b1e7c&rn=118692"


def request(url: str, method: str = "GET", body: str = "", referer: str | None = None) -> CapturedRequest:
    headers = [("referer", referer)] if referer else []
    return CapturedRequest(id="u1", method=method, url=url, body=body.encode(), request_headers=headers)


def decode_one(url: str, **kwargs: object):
    events = DECODER.decode(request(url, **kwargs))  # type: ignore[arg-type]
    assert len(events) == 1
    return events[0]


@pytest.mark.parametrize(
    "url",
    [
        BASE + "&evt=pageLoad",
        "https://bat.bing.net/action/0?ti=1&evt=pageLoad",
        "https://bat.r.msn.com/action/0?ti=1&evt=pageLoad",
        "https://bat.bing.com/actionp/0?ti=1&evt=pageHide",
        "https://bat.bing.com/action/0?ti=1&Ver=2",
    ],
)
def test_claims_uet_hits(url: str) -> None:
    assert DECODER.claims(request(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://bat.bing.com/bat.js",
        "https://bat.bing.net/bat.js?ti=97247724",
        "https://bat.bing.com/p/action/26101359.js",
        "https://www.shop.example/action/0?ti=1&evt=pageLoad",
        "https://www.bing.com/action/0?ti=1",
        "https://bat.bing.com/action/x?ti=1",
        "https://c.bing.com/c.gif?Red3=MSPH_pd",
    ],
)
def test_does_not_claim_scripts_or_other_hosts(url: str) -> None:
    assert not DECODER.claims(request(url))


def test_page_load() -> None:
    event = decode_one(BASE + "&evt=pageLoad&p=https%3A%2F%2Fshop.example%2F&tl=Home&sw=1280&lt=388&msclkid=N")
    assert (event.vendor, event.event, event.account_id) == ("bing_uet", "pageLoad", "343102454")
    assert event.page_url == "https://shop.example/"
    assert event.click_ids == {}  # "N" is bat.js' placeholder for no click
    assert event.params["tl"] == "Home" and event.params["sw"] == 1280.0 and event.params["lt"] == 388.0


def test_custom_event_action_value_and_currency() -> None:
    event = decode_one(BASE + "&evt=custom&ec=checkout&ea=purchase&el=web&ev=3&gv=1299.50&gc=JPY&msclkid=abc123")
    assert (event.event, event.value, event.currency) == ("purchase", 1299.5, "JPY")
    assert event.click_ids == {"msclkid": "abc123"}
    assert event.params["ec"] == "checkout" and event.params["el"] == "web" and event.params["ev"] == 3.0
    assert "ea" not in event.params and "gv" not in event.params


def test_custom_event_without_action_is_named_custom() -> None:
    event = decode_one(BASE + "&evt=custom&pagetype=product&prodid=SKU1")
    assert event.event == "custom" and event.params["prodid"] == "SKU1"


def test_action_on_a_non_custom_event_stays_in_params() -> None:
    event = decode_one(BASE + "&evt=pageLoad&ea=odd")
    assert event.event == "pageLoad" and event.params["ea"] == "odd"


def test_non_numeric_goal_value() -> None:
    event = decode_one(BASE + "&evt=custom&ea=purchase&gv=12%2C50&gc=EUR")
    assert event.value is None and event.currency == "EUR"


def test_enhanced_conversion_pid_identifiers_are_user_data_and_a_raw_email_shows_as_raw() -> None:
    hashed = "8d9b70fd20e23919cfe664ea5e571db39d72ba1bf17bf57e909ada24be9aa3aa"
    raw = decode_one(BASE + "&evt=custom&ea=lead&pid=em%3Djane%40example.com%26ph%3D" + hashed)
    assert raw.user_data == {"em": "raw", "ph": "sha256"}
    assert raw.params["pid"] == f"em=jane@example.com&ph={hashed}"  # kept as sent
    assert decode_one(BASE + "&evt=custom&ea=lead&pid=em%3D%26other%3D1").user_data == {}


@pytest.mark.parametrize(("asc", "state"), [("G", "granted"), ("D", "denied"), ("X", None)])
def test_asc_consent_flag(asc: str, state: str | None) -> None:
    event = decode_one(BASE + f"&evt=pageLoad&asc={asc}")
    assert event.consent.ad_storage == state and event.consent.other == {"asc": asc}


def test_no_asc_says_nothing_about_consent() -> None:
    assert not decode_one(BASE + "&evt=pageLoad").consent.declared


def test_noscript_hit_is_an_implied_page_load_with_referer_as_page() -> None:
    event = decode_one("https://bat.bing.com/action/0?ti=5223675&Ver=2", referer="https://shop.example/a")
    assert event.event == "pageLoad" and event.params["evt_implied"] is True
    assert event.page_url == "https://shop.example/a"


def test_beacon_with_form_body() -> None:
    event = decode_one("https://bat.bing.com/actionp/0?ti=1", method="POST", body="evt=pageHide&mid=x")
    assert event.event == "pageHide" and event.params["mid"] == "x"


@pytest.mark.parametrize("url", ["https://bat.bing.com/action/0?evt=pageLoad", "https://bat.bing.com/action/0?ti=%20&evt=custom"])
def test_missing_tag_id_is_malformed(url: str) -> None:
    event = decode_one(url)
    assert event.malformed and event.malformed_reason == "UET hit without ti (tag ID)"


def test_sinkhole_replies() -> None:
    image = DECODER.sinkhole_reply(request(BASE + "&evt=pageLoad"))
    assert (image.status, image.content_type, image.body) == (200, "image/gif", PIXEL_GIF)
    beacon = DECODER.sinkhole_reply(request("https://bat.bing.com/actionp/0?ti=1&evt=pageHide", method="POST"))
    assert beacon.status == 204 and beacon.body == b""


def test_volatile_params() -> None:
    assert {"rn", "mid", "sid", "vid"} <= DECODER.volatile_params


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=200))
def test_decode_never_raises(query: str) -> None:
    (event,) = DECODER.decode(request("https://bat.bing.com/action/0?" + query))
    assert event.malformed or (event.event and event.account_id)


# --- UET Conversions API (server) -----------------------------------------------------------------------

CAPI_URL = "https://capi.uet.microsoft.com/v1/343102454/events"


def capi_request(body: object, *headers: tuple[str, str], url: str = CAPI_URL) -> CapturedRequest:
    return CapturedRequest(
        id="s", method="POST", url=url, body=json.dumps(body).encode(), request_headers=list(headers)
    )


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("POST", CAPI_URL, True),
        ("POST", CAPI_URL + "/", True),
        ("GET", CAPI_URL, False),
        ("POST", "https://capi.uet.microsoft.com/v1/343102454/other", False),
        ("POST", "https://capi.uet.microsoft.com/v2/343102454/events", False),
        ("POST", "https://capi.uet.microsoft.com/v1/events", False),
        ("POST", "https://bat.bing.com/v1/343102454/events", False),
        ("POST", "https://capi.uet.microsoft.com.evil.example/v1/343102454/events", False),
    ],
)
def test_claims_the_conversions_api_endpoint_only(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(CapturedRequest(id="t", method=method, url=url)) is claimed


def test_capi_answers_how_many_events_it_received() -> None:
    body = {"data": [{"eventType": "pageLoad"}, {"eventType": "custom", "eventName": "purchase"}]}
    reply = DECODER.sinkhole_reply(capi_request(body))
    assert (reply.status, reply.content_type, json.loads(reply.body)) == (
        200,
        "application/json",
        {"eventsReceived": 2},
    )


def test_capi_raw_email_is_raw_and_no_identifier_or_token_is_copied() -> None:
    body = {"data": [{"eventType": "custom", "eventName": "lead", "userData": {"em": "Jane@Example.com", "ph": "+1 415"}}]}
    (event,) = DECODER.decode(capi_request(body, ("Authorization", "Bearer uet-secret-token")))
    assert event.user_data == {"em": "raw", "ph": "raw"} and event.params["access_token_present"] is True
    dumped = event.model_dump_json()
    assert not any(secret in dumped for secret in ("Jane@Example.com", "+1 415", "uet-secret-token"))


def test_capi_custom_event_matches_the_tag_custom_hit_of_the_same_action() -> None:
    browser = decode_one(BASE + "&evt=custom&ea=purchase&gv=59.80&gc=EUR&msclkid=abc123")
    body = {
        "data": [
            {
                "eventType": "custom",
                "eventName": "purchase",
                "eventId": "evt-1",
                "userData": {"msclkid": "abc123"},
                "customData": {"value": 59.8, "currency": "EUR"},
            }
        ]
    }
    (server,) = DECODER.decode(capi_request(body))
    fields = ("vendor", "event", "account_id", "value", "currency", "click_ids")
    assert [getattr(server, f) for f in fields] == [getattr(browser, f) for f in fields]
    assert (server.source, server.event_id) == ("server", "evt-1")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "UET Conversions API body is not a JSON object"),
        (b'{"data": []}', "UET Conversions API body has no data list"),
        (b'{"data": [{"eventName": "purchase"}]}', "UET Conversions API event without eventType"),
        (b'{"data": [7]}', "UET Conversions API event is not an object"),
    ],
)
def test_capi_body_without_its_essentials_is_malformed(body: bytes, reason: str) -> None:
    (event,) = DECODER.decode(CapturedRequest(id="s", method="POST", url=CAPI_URL, body=body))
    assert event.malformed and event.malformed_reason == reason and event.source == "server"
