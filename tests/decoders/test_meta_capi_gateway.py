"""Meta Conversions API Gateway (the Pixel's openbridge3 plugin) behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.meta_capi_gateway import MetaCapiGatewayDecoder, is_gateway_path
from harness.models import CapturedRequest

DECODER = MetaCapiGatewayDecoder()
GATEWAY = "https://capig.shop.example/events?cee=no"
PIXEL = "639718045141621"


def post(url: str, body: object, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body)
    return CapturedRequest(
        id="t",
        method="POST",
        url=url,
        body=text.encode(),
        request_headers=headers or [("content-type", "text/plain")],
    )


def gateway_body(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "event_name": "Purchase",
        "custom_data": {},
        "event_id": "ob3_plugin-set_abc",
        "fb.pixel_id": PIXEL,
        "fb.advanced_matching": {},
        "website_context": {"location": "https://shop.example/thanks", "referrer": "", "isInIFrame": False},
        "fb.fbp": "fb.1.1764877160455.85058804220516338",
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/events", True),
        ("/events/", True),
        ("/events/3f2a9c0d41b7e8f6", True),
        ("/events/a/b", False),
        ("/api/events", False),
        ("/eventsx", False),
        ("/capi/639718045141621/events", False),
    ],
)
def test_gateway_paths(path: str, expected: bool) -> None:
    assert is_gateway_path(path) is expected


def test_claims_a_gateway_body_on_any_host_and_nothing_else() -> None:
    assert DECODER.claims(post(GATEWAY, gateway_body()))
    assert DECODER.claims(post("https://mpc2-prod-25-is5qnl632q-wl.a.run.app/events", gateway_body()))
    # A site's own /events API: JSON with an event name, but no pixel ID.
    assert not DECODER.claims(post(GATEWAY, {"event_name": "Purchase", "event_id": "1"}))
    # The key must name the post itself, not something nested inside it.
    assert not DECODER.claims(post(GATEWAY, {"event_name": "x", "meta": {"fb.pixel_id": PIXEL}}))
    assert not DECODER.claims(post(GATEWAY, 'not json "fb.pixel_id"'))
    assert not DECODER.claims(post("https://capig.shop.example/other", gateway_body()))
    get = CapturedRequest(id="t", method="GET", url=GATEWAY)
    assert not DECODER.claims(get)


def test_the_registry_sends_gateway_posts_here_and_sinkholes_them() -> None:
    registry = DecoderRegistry.default()
    request = post(GATEWAY, gateway_body())
    claimant = registry.claimant(request)
    assert claimant is not None and claimant.vendor == "meta_capi_gateway"
    reply = registry.sinkhole_reply(request)
    assert reply is not None and reply.status == 200


def test_purchase_value_currency_and_order_from_custom_data() -> None:
    body = gateway_body(
        custom_data={"value": "49.90", "currency": "EUR", "order_id": "ORD-7", "num_items": 2}
    )
    (event,) = DECODER.decode(post(GATEWAY, body))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "Purchase",
        PIXEL,
        49.9,
        "EUR",
        "ORD-7",
    )
    assert event.event_id == "ob3_plugin-set_abc"
    assert event.page_url == "https://shop.example/thanks"
    assert event.params["custom_data"] == {"num_items": 2}


def test_value_from_conversion_value_when_custom_data_has_none() -> None:
    body = gateway_body(conversion_value={"value": 10, "currency": "USD"})
    (event,) = DECODER.decode(post(GATEWAY, body))
    assert (event.value, event.currency) == (10.0, "USD")


def test_a_value_that_is_no_number_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(post(GATEWAY, gateway_body(custom_data={"value": "12,50", "currency": "EUR"})))
    assert event.value is None and event.params["value_raw"] == "12,50"


def test_advanced_matching_identifiers_and_client_hints() -> None:
    matching = {
        "em": "jane@example.com",
        "ph": "e5857b335afdf35ca81a110bc81f38682f8a89892cc597f5398dfef82d42b513",
        "external_id": ["u-1", "e5857b335afdf35ca81a110bc81f38682f8a89892cc597f5398dfef82d42b513"],
        "fn": "",
        "chpv": "15.5.0",
        "chfv": "Chromium;v=144",
    }
    (event,) = DECODER.decode(post(GATEWAY, gateway_body(**{"fb.advanced_matching": matching})))
    assert event.user_data == {"em": "raw", "ph": "sha256", "external_id": "raw"}
    # Client hints are no identifiers; they stay visible as sent.
    assert event.params["fb.advanced_matching"] == {"chpv": "15.5.0", "chfv": "Chromium;v=144"}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"event_name": ""}, "gateway post without event_name"),
        ({"fb.pixel_id": None}, "gateway post without fb.pixel_id"),
        ({"event_name": None, "fb.pixel_id": ""}, "gateway post without event_name and fb.pixel_id"),
    ],
)
def test_a_gateway_post_without_event_or_pixel_is_malformed(fields: dict[str, object], reason: str) -> None:
    request = post(GATEWAY, gateway_body(**fields))
    assert DECODER.claims(request)
    (event,) = DECODER.decode(request)
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_page_falls_back_to_the_referer() -> None:
    body = gateway_body(website_context={"isInIFrame": True})
    (event,) = DECODER.decode(post(GATEWAY, body, [("referer", "https://shop.example/")]))
    assert event.page_url == "https://shop.example/"
    assert event.params["website_context"] == {"isInIFrame": True}


def test_the_body_parsed_by_claims_decodes_as_a_fresh_parse() -> None:
    request = post(GATEWAY, gateway_body(custom_data={"value": 5}))
    fresh = DECODER.decode(request)[0].model_dump()
    assert DECODER.claims(request)
    assert DECODER.decode(request)[0].model_dump() == fresh
    assert not DECODER._parsed._held


# --- the gateway's server endpoint: Conversions API events, decoded by meta_capi -------------------------

CAPI = DecoderRegistry.default().by_vendor("meta_capi")
SERVER_EVENT = {
    "accessKey": "key-from-the-gateway-ui",
    "data": [{"event_name": "Lead", "event_time": 1717000000, "user_data": {"em": ["a" * 64]}}],
}


def server_post(path: str, body: object, method: str = "POST") -> CapturedRequest:
    request = post(f"https://capig.shop.example{path}", body, [("content-type", "application/json")])
    return request.model_copy(update={"method": method, "source": "server"})


@pytest.mark.parametrize(
    ("path", "body", "method", "claimed"),
    [
        ("/capi/1402533720264604/events", SERVER_EVENT, "POST", True),
        ("/capi/1402533720264604/events/", SERVER_EVENT, "POST", True),
        ("/capi/1402533720264604/events", SERVER_EVENT, "GET", False),
        ("/capi/1402533720264604/events", {"accessKey": "k"}, "POST", False),  # no data list
        ("/capi/1402533720264604/events", "data=[]", "POST", False),  # not JSON
        ("/capi/pixel/events", SERVER_EVENT, "POST", False),
        ("/api/capi/1402533720264604/events", SERVER_EVENT, "POST", False),
    ],
)
def test_meta_capi_claims_the_gateway_server_endpoint_on_any_host(
    path: str, body: object, method: str, claimed: bool
) -> None:
    assert CAPI is not None and CAPI.claims(server_post(path, body, method)) is claimed


def test_gateway_server_event_decodes_as_a_conversions_api_event_without_its_key() -> None:
    assert CAPI is not None
    (event,) = CAPI.decode(server_post("/capi/1402533720264604/events", SERVER_EVENT))
    assert (event.vendor, event.event, event.account_id, event.source) == (
        "meta_capi",
        "Lead",
        "1402533720264604",
        "server",
    )
    assert event.params["accessKey_present"] is True and event.params["via_gateway"] is True
    assert "key-from-the-gateway-ui" not in json.dumps(event.model_dump())
