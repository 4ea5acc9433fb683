"""X decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.x import XDecoder
from harness.models import CapturedRequest

DECODER = XDecoder()


def request(url: str, method: str = "GET") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://analytics.twitter.com/i/adsct?txn_id=a", True),
        ("https://analytics.twitter.com/1/i/adsct?txn_id=a", True),
        ("https://t.co/i/adsct?txn_id=a", True),
        ("https://t.co/1/i/adsct?txn_id=a", True),
        ("https://static.ads-twitter.com/uwt.js", False),
        ("https://t.co/AbCdEf", False),
        ("https://analytics.twitter.com/i/other?txn_id=a", False),
        ("https://twitter.com/i/adsct?txn_id=a", False),
    ],
)
def test_claims_both_adsct_hosts_and_paths_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_events_list_becomes_one_event_each_in_order() -> None:
    events_param = quote(json.dumps([["pageview", None], ["purchase", {"value": "5", "currency": "EUR"}]]))
    url = f"https://analytics.twitter.com/i/adsct?txn_id=abc&events={events_param}"
    events = DecoderRegistry.default().decode(request(url))
    assert [(e.event, e.value, e.currency, e.position) for e in events] == [
        ("pageview", None, None, 0),
        ("purchase", 5.0, "EUR", 1),
    ]


@pytest.mark.parametrize(("amount", "value"), [("0", None), ("10.5", 10.5), ("abc", None)])
def test_sale_amount_fills_value_unless_it_is_the_default_zero(amount: str, value: float | None) -> None:
    url = f"https://analytics.twitter.com/i/adsct?txn_id=abc&tw_sale_amount={amount}&events=%5B%5B%22pageview%22%2Cnull%5D%5D"
    (event,) = DECODER.decode(request(url))
    assert event.value == value


def test_event_tag_id_names_the_event_and_is_not_mistaken_for_a_dedup_id() -> None:
    (event,) = DECODER.decode(
        request("https://t.co/1/i/adsct?txn_id=o7z1d&event_id=tw-o7z1d-oabc1&event=%7B%7D")
    )
    assert (event.event, event.event_id, event.params["endpoint_host"]) == ("tw-o7z1d-oabc1", None, "t.co")


def test_pixel_answers_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request("https://t.co/1/i/adsct?txn_id=a")).body == PIXEL_GIF


def test_page_load_id_and_callback_are_volatile() -> None:
    assert {"pl_id", "tpx_cb"} <= DECODER.volatile_params


def test_single_event_tag_noscript_is_a_conversion_of_its_tag_and_the_universal_noscript_a_page_view() -> (
    None
):
    # oct.js trackPid('nu7jl', {tw_sale_amount, tw_order_quantity}) <noscript>: txn_id is the conversion tag.
    (sale,) = DECODER.decode(
        request(
            "https://analytics.twitter.com/i/adsct?txn_id=nu7jl&p_id=Twitter&tw_sale_amount=49.90&tw_order_quantity=2"
        )
    )
    assert (sale.event, sale.account_id, sale.value) == ("nu7jl", "nu7jl", 49.9)
    # The universal website tag's <noscript> (txn_id&p_id only) is its page view.
    (page,) = DECODER.decode(request("https://analytics.twitter.com/i/adsct?txn_id=o1abc&p_id=Twitter"))
    assert (page.event, page.account_id) == ("pageview", "o1abc")


# --- Conversions API (server) ---------------------------------------------------------------------------

CAPI_URL = "https://ads-api.x.com/12/measurement/conversions/o8z6j"


def capi_request(body: object, url: str = CAPI_URL, *headers: tuple[str, str]) -> CapturedRequest:
    return CapturedRequest(
        id="s", method="POST", url=url, body=json.dumps(body).encode(), request_headers=list(headers)
    )


def conversion(**fields: object) -> dict[str, object]:
    return {"conversion_time": "2022-02-18T01:14:00.603Z", "event_id": "o87ne", **fields}


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("POST", CAPI_URL, True),
        ("POST", "https://ads-api.twitter.com/12/measurement/conversions/dummyPixelId", True),
        ("POST", "https://ads-api.x.com/11/measurement/conversions/o5h34/", True),
        ("GET", CAPI_URL, False),
        ("POST", "https://ads-api.x.com/measurement/conversions/o8z6j", False),
        ("POST", "https://ads-api.x.com/12/measurement/conversions/o8z6j/extra", False),
        ("POST", "https://ads-api.x.com/12/accounts/18ce54d4x5t/campaigns", False),
        ("GET", "https://ads-api.x.com/12/accounts/18ce54d4x5t/web_event_tags", False),
        ("POST", "https://api.x.com/12/measurement/conversions/o8z6j", False),
        ("POST", "https://analytics.twitter.com/12/measurement/conversions/o8z6j", False),
    ],
)
def test_claims_the_conversions_api_and_no_other_ads_api(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(CapturedRequest(id="t", method=method, url=url)) is claimed


def test_capi_answers_as_the_api_does() -> None:
    reply = DECODER.sinkhole_reply(capi_request({"conversions": [conversion(), conversion()]}))
    body = json.loads(reply.body)
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert body["data"]["conversions_processed"] == 2 and isinstance(body["data"]["debug_id"], str)
    assert "request" in body


def test_capi_raw_email_is_raw_and_no_identifier_or_token_is_copied() -> None:
    body = {
        "conversions": [conversion(identifiers=[{"hashed_email": "jane@example.com"}, {"twclid": "tw1"}])]
    }
    (event,) = DECODER.decode(
        capi_request(body, CAPI_URL, ("Authorization", 'OAuth oauth_token="tok-secret"'))
    )
    assert event.user_data == {"em": "raw"} and event.click_ids == {"twclid": "tw1"}
    assert "hashed_emails" not in event.params and event.params["authorization_present"] is True
    dumped = event.model_dump_json()
    assert "jane@example.com" not in dumped and "tok-secret" not in dumped


def test_capi_event_tag_is_named_as_the_pixel_names_it_and_conversion_id_is_the_dedupe_key() -> None:
    (browser,) = DECODER.decode(
        request(
            "https://analytics.x.com/1/i/adsct?txn_id=o8z6j&event_id=tw-o8z6j-o87ne"
            "&event=%7B%22conversion_id%22%3A%22ord-7%22%7D"
        )
    )
    (server,) = DECODER.decode(capi_request({"conversions": [conversion(conversion_id="ord-7")]}))
    assert (server.event, server.account_id, server.event_id, server.source) == (
        browser.event,
        browser.account_id,
        browser.event_id,
        "server",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"conversions": []}, "Conversions API body has no conversions list"),
        ({"data": [conversion()]}, "Conversions API body has no conversions list"),
        ({"conversions": [{"conversion_time": "2022-02-18T01:14:00Z"}]}, "without event_id"),
        ({"conversions": ["o87ne"]}, "is not an object"),
    ],
)
def test_capi_body_without_its_essentials_is_malformed(body: object, reason: str) -> None:
    (event,) = DECODER.decode(capi_request(body))
    assert event.malformed and reason in (event.malformed_reason or "") and event.source == "server"


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("email_address=jane%40example.com", {"em": "raw"}),  # raw: the PII check must see it
        ("email_address=" + "a" * 64, {"em": "sha256"}),
        ("phone_number=%2B15550100", {"ph": "raw"}),
        # the event's own identifier wins over the config-level one
        (
            "email_address=jane%40example.com&event=" + quote(json.dumps({"email_address": "b" * 64})),
            {"em": "sha256"},
        ),
    ],
)
def test_config_level_identifiers_beside_txn_id_are_user_data_not_params(
    query: str, form: dict[str, str]
) -> None:
    (event,) = DECODER.decode(
        request(f"https://analytics.twitter.com/1/i/adsct?txn_id=ofl3h&p_id=Twitter&{query}")
    )
    assert event.user_data == form
    assert "email_address" not in event.params and "phone_number" not in event.params
