"""AdRoll decoder behaviour beyond the fixtures: what roundtrip.js builds that no capture shows."""

from __future__ import annotations

import base64
import json
import string
from urllib.parse import quote, urlencode

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.adroll import AdRollDecoder, decode_epq
from harness.models import CapturedRequest

DECODER = AdRollDecoder()
ADV, PIX = "JYFO3MUOR5HGBMZI4QOERT", "SQKFEUOJI5GQZJU4WZ6O7L"
PAGE = "https://shop.example/thanks?adct=Zm9vYmFy"


def request(
    url: str, method: str = "GET", headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=body)


def escape(text: str) -> str:
    """JavaScript's ``escape``, for the ASCII the tests send."""
    return quote(text, safe="@*_+-./")


def external_data(fields: dict[str, str]) -> str:
    """roundtrip.js ``external_data_to_qs(data, true)``: ``escape(k)=escape(v)`` pairs, escaped once more."""
    return escape("&".join(f"{escape(k)}={escape(v)}" for k, v in fields.items()))


def reg_lpq(fields: dict[str, str]) -> str:
    """roundtrip.js ``_reg_lpq``, transcribed: base64 of the query string, reversed, then substituted."""
    encoded = base64.b64encode(urlencode(fields).encode()).decode()
    table = [*string.ascii_uppercase, "-", "_", "\t"]
    table[13:13] = ["+", "/", "="]
    substitute: dict[str, str] = {}
    for index in range(len(table) - 3):
        target = (table + table)[index + len(table) // 2]
        substitute[table[index]] = target
        substitute[table[index].lower()] = target.lower()
    return "".join(substitute.get(char, char) for char in reversed(encoded)).strip()


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (f"https://d.adroll.com/segment/{ADV}/{PIX}?adroll_version=2.0", "GET", True),
        (f"https://d.adroll.com/pixel/{ADV}/{PIX}?pv=1", "GET", True),
        (f"https://ipv4.d.adroll.com/px4/{ADV}/{PIX}?pv=1", "GET", True),
        (f"https://d.adroll.com/uev/{ADV}/{PIX}/?event_name=purchase", "GET", True),
        (f"https://d.adroll.com/p/{ADV}/?adroll_product_id=1", "GET", True),
        (f"https://d.adroll.com/fb/ipixel/{ADV}/{PIX}?name=abc", "GET", True),
        (f"https://d.adroll.com/idp/{ADV}/?epq=x", "GET", True),
        (f"https://d.adroll.com/uat/{ADV}/{PIX}/?user_attributes=%7B%7D", "GET", True),
        (f"https://d.adroll.com/form/{ADV}?pv=1", "POST", True),
        (f"https://d.adroll.com/segment/{ADV}?pv=1", "GET", False),  # the pixel ID is missing
        (f"https://d.adroll.com/uev/{ADV}//?event_name=x", "GET", False),
        ("https://d.adroll.com/consent/write?_s=1&_b=2", "GET", False),
        (f"https://d.adroll.com/onp/{ADV}/{PIX}?ev=f%3D10", "GET", False),
        (f"https://d.adroll.com/lex/{ADV}/{PIX}?id=x", "GET", False),
        ("https://x.adroll.com/pxl/iframe_content.html?advertisable=A", "GET", False),
        ("https://s.adroll.com/j/roundtrip.js", "GET", False),
        ("https://s.adroll.com/j/consent_tcfv2.js", "GET", False),
        (f"https://d.adroll.com.evil.example/segment/{ADV}/{PIX}", "GET", False),
        (f"https://shop.example/segment/{ADV}/{PIX}", "GET", False),
    ],
)
def test_claims_the_hit_paths_only(url: str, method: str, claimed: bool) -> None:
    hit = request(url, method)
    assert DECODER.claims(hit) is claimed
    if claimed:  # the registry's hints must never hide a claim
        assert DECODER.may_claim_host(hit.host) and DECODER.may_claim_path(method, hit.path)


def test_v1_record_user_conversion_with_custom_data_and_click_id() -> None:
    # render_pixel_code_exec after record_user({adroll_segments, adroll_conversion_value, adroll_currency,
    # ORDER_ID}): name lower-cased, conv_value, adroll_currency, adct, then the escaped external data.
    query = "&".join(
        [
            "cookie=",
            "adroll_s_ref=",
            "keyw=",
            "name=checkout_complete",
            "conv_value=149.99",
            "adroll_currency=CAD",
            "adct=Zm9vYmFy",
            "adroll_external_data=" + external_data({"order_id": "A-1001", "user_id": "77"}),
            "pv=123.45",
            "arrfrr=" + quote(PAGE, safe=""),
            "_arc=abc123",
        ]
    )
    (event,) = DECODER.decode(request(f"https://d.adroll.com/pixel/{ADV}/{PIX}?{query}"))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "checkout_complete",
        ADV,
        149.99,
        "CAD",
        "A-1001",
    )
    assert (event.click_ids, event.page_url) == ({"adct": "Zm9vYmFy"}, PAGE)
    assert event.consent.other == {"arconsent": "abc123"}
    assert event.params["adroll_external_data"] == {"order_id": "A-1001", "user_id": "77"}
    assert "conv_value" not in event.params and "name" not in event.params


def test_conversion_value_in_dollars_is_sent_in_us_cents() -> None:
    # adroll_conversion_value_in_dollars = 19.99 -> conv_value=1999&adroll_currency=USC (get_conversion_value).
    url = f"https://d.adroll.com/pixel/{ADV}/{PIX}?conv_value=1999&adroll_currency=USC&pv=1"
    (event,) = DECODER.decode(request(url))
    assert (event.value, event.currency, event.params["adroll_currency"]) == (19.99, "USD", "USC")


def test_click_id_from_the_page_url_when_the_hit_has_no_adct() -> None:
    url = f"https://d.adroll.com/segment/{ADV}/{PIX}?adroll_version=2.0&arrfrr={quote(PAGE, safe='')}"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.click_ids) == ("pageView", {"adct": "Zm9vYmFy"})


def test_ipv6_repeat_of_the_pixel_is_not_counted() -> None:
    (event,) = DECODER.decode(request(f"https://ipv4.d.adroll.com/px4/{ADV}/{PIX}?pv=1&name=seg1"))
    assert (event.event, event.repeats) == ("seg1", True)


def test_v1_track_keeps_the_value_in_the_attributes() -> None:
    # v1 track() sends only event_name and event_attributes; the value is read as parse_conversion_attrs does.
    attributes = {"conversion_value": "42.50", "currency": "GBP", "ORDER_ID": "ORD-9"}
    query = urlencode({"event_name": "purchase", "event_attributes": json.dumps(attributes), "pv": "1"})
    (event,) = DECODER.decode(request(f"https://d.adroll.com/uev/{ADV}/{PIX}/?{query}"))
    assert (event.event, event.value, event.currency, event.transaction_id) == (
        "purchase",
        42.5,
        "GBP",
        "ORD-9",
    )
    assert event.params["event_attributes"] == attributes


def test_unreadable_value_is_kept_as_sent() -> None:
    query = urlencode({"event_name": "purchase", "conv_value": "12,50", "adroll_currency": "EUR"})
    (event,) = DECODER.decode(request(f"https://d.adroll.com/uev/{ADV}/{PIX}/?{query}"))
    assert (event.value, event.currency, event.params["value_raw"]) == (None, "EUR", "12,50")


@pytest.mark.parametrize("query", ["pv=1", "event_name=&pv=1"])
def test_user_event_without_a_name_is_malformed(query: str) -> None:
    (event,) = DECODER.decode(request(f"https://d.adroll.com/uev/{ADV}/{PIX}/?{query}"))
    assert (event.malformed, event.malformed_reason) == (True, "no event name (event_name)")


def test_v1_product_view_stands_on_its_own() -> None:
    # v1 get_pid: adroll_product_id, no action for a product view, and no /uev twin.
    url = f"https://d.adroll.com/p/{ADV}/?adroll_product_id=sku-1&adroll_product_group=shoes&pv=1"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.repeats, event.params["adroll_product_id"]) == ("productView", False, "sku-1")


def test_identify_decodes_epq_and_reports_the_raw_email() -> None:
    # _send_plain_text_identifiers: email, md5, sha256 and domain, base64'd and scrambled by _reg_lpq.
    fields = {
        "idsource": "adroll-identify",
        "email": "jane.doe@example.com",
        "hashed_email": "6e9b8a0f3bd1d6a5f7c2d8e1a4b3c2d1",
        "sha256_email": "a" * 64,
        "email_domain": "example.com",
        "user_identifier": "cust-~42",  # this "~" puts a "+" into the base64, which _reg_lpq sends as "-"
    }
    encoded = reg_lpq(fields)
    assert "-" in encoded and decode_epq(encoded) == list(fields.items())
    (event,) = DECODER.decode(request(f"https://d.adroll.com/id/{ADV}/?epq={encoded}&pv=1"))
    assert (event.event, event.account_id) == ("identify", ADV)
    assert event.user_data == {"em": "raw", "user_identifier": "raw"}
    assert "jane.doe@example.com" not in json.dumps(event.params)  # raw personal data only as a form
    assert event.params["email_domain"] == "example.com"


def test_identify_with_hashes_only() -> None:
    # record_adroll_email: md5 and sha256 of the address, never the address itself.
    encoded = reg_lpq({"hashed_email": "0" * 32, "sha256_email": "b" * 64, "idsource": "segment"})
    (event,) = DECODER.decode(request(f"https://d.adroll.com/idp/{ADV}/?epq={encoded}"))
    assert event.user_data == {"em": "sha256"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [("pv=1", "no identifiers (epq)"), ("epq=%21%21%21", "epq does not decode")],
)
def test_identify_without_readable_epq_is_malformed(query: str, reason: str) -> None:
    (event,) = DECODER.decode(request(f"https://d.adroll.com/id/{ADV}/?{query}"))
    assert (event.malformed, event.malformed_reason, event.event) == (True, reason, "identify")


def test_user_attributes_are_shown_parsed() -> None:
    query = urlencode({"user_attributes": json.dumps({"plan": "pro"}), "idsource": "adroll-identify"})
    (event,) = DECODER.decode(request(f"https://d.adroll.com/uat/{ADV}/{PIX}/?{query}"))
    assert (event.event, event.params["user_attributes"], event.params["idsource"]) == (
        "identify",
        {"plan": "pro"},
        "adroll-identify",
    )


def test_captured_form_names_the_personal_fields_it_sends() -> None:
    # _form_save: {contact, data: {<form>: {<field>: {val, auth}}}, kind: {<type>: {val, auth}}} as JSON.
    body = {
        "contact": ['input[name="email"]'],
        "data": {"form#signup": {'input[name="email"]': {"val": "jane@example.com", "auth": 1}}},
        "kind": {
            "email": {"val": "jane@example.com", "auth": 1},
            "first_name": {"val": "Jane", "auth": 1},
            "gdpr_consent": {"val": True, "auth": 1},
        },
    }
    hit = request(
        f"https://d.adroll.com/form/{ADV}?pv=1&fp=HUBSPOT&arrfrr={quote(PAGE, safe='')}",
        "POST",
        [("content-type", "application/json")],
        json.dumps(body).encode(),
    )
    (event,) = DECODER.decode(hit)
    assert (event.event, event.page_url, event.user_data) == (
        "form",
        PAGE,
        {"email": "raw", "first_name": "raw"},
    )
    assert (event.params["fields"], event.params["forms"], event.params["fp"]) == (
        ["email", "first_name", "gdpr_consent"],
        ["form#signup"],
        "HUBSPOT",
    )


def test_form_without_a_json_body_is_malformed() -> None:
    hit = request(
        f"https://d.adroll.com/form/{ADV}?pv=1", "POST", [("content-type", "text/plain")], b"email=x"
    )
    (event,) = DECODER.decode(hit)
    assert (event.malformed, event.event) == (True, "form")


def test_sinkhole_answers_the_v1_pixel_as_a_script_and_images_with_the_gif() -> None:
    script = DECODER.sinkhole_reply(request(f"https://d.adroll.com/pixel/{ADV}/{PIX}?pv=1"))
    assert (script.status, script.content_type) == (200, "application/javascript")
    assert (
        DECODER.sinkhole_reply(request(f"https://d.adroll.com/uev/{ADV}/{PIX}/?event_name=x")).body
        == PIXEL_GIF
    )
    beacon = DECODER.sinkhole_reply(request(f"https://d.adroll.com/form/{ADV}?pv=1", "POST"))
    assert (beacon.status, beacon.body) == (200, b"")


def test_per_page_random_ids_are_volatile() -> None:
    assert {"pv", "adroll_fpc", "cookie"} <= DECODER.volatile_params
