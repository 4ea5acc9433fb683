"""Meta Pixel decoder: which requests it claims, every transport fbevents uses, and what it answers."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.meta_pixel import MetaPixelDecoder, fbclid_from_fbc, multipart_params
from harness.models import CapturedRequest

DECODER = MetaPixelDecoder()
SHA = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"


def request(url: str, method: str = "GET", body: str = "", headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(id="r1", method=method, url=url, body=body.encode(), request_headers=headers or [])


def decode_one(req: CapturedRequest):
    events = DECODER.decode(req)
    assert len(events) == 1
    return events[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.facebook.com/tr/?id=1&ev=PageView",
        "https://www.facebook.com/tr?id=1&ev=PageView&noscript=1",
        "https://facebook.com/tr/?id=1&ev=PageView",
        "https://www.instagram.com/tr/?id=1&ev=PageView",
        "https://WWW.FACEBOOK.COM/tr/",
    ],
)
def test_claims_pixel_endpoints(url: str) -> None:
    assert DECODER.claims(request(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://connect.facebook.net/en_US/fbevents.js",
        "https://connect.facebook.net/signals/config/549591473162841?v=2.9.349",
        "https://www.shop.example/tr/?id=1&ev=PageView",
        "https://www.shop.example/tr?id=1&ev=PageView",
        "https://track.shop.example/abc/tr?id=999&ev=Purchase",
        "https://www.facebook.com/tracking/?id=1&ev=PageView",
        "https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?id=1&ev=PageView",
        "https://facebook.com.evil.example/tr/?id=1&ev=PageView",
        "https://graph.facebook.com/v18.0/1/events",
    ],
)
def test_does_not_claim_scripts_sites_or_lookalikes(url: str) -> None:
    assert not DECODER.claims(request(url))


def test_url_encoded_and_raw_bracket_keys_decode_alike() -> None:
    raw = decode_one(request("https://www.facebook.com/tr/?id=9&ev=Purchase&cd[value]=12.50&cd[currency]=EUR"))
    encoded = decode_one(
        request("https://www.facebook.com/tr/?id=9&ev=Purchase&cd%5Bvalue%5D=12.50&cd%5Bcurrency%5D=EUR")
    )
    assert (raw.value, raw.currency) == (encoded.value, encoded.currency) == (12.5, "EUR")


def test_numeric_strings_become_numbers_and_json_strings_become_json() -> None:
    event = decode_one(
        request(
            "https://www.facebook.com/tr/?id=9&ev=AddToCart&cd[value]=1299&cd[content_ids]=%5B%22a%22%2C%22b%22%5D"
            "&cd[contents]=%5B%7B%22id%22%3A%22a%22%2C%22quantity%22%3A2%7D%5D&ts=1700000000000&sw=390&if=true"
        )
    )
    assert event.value == 1299.0
    assert event.params["cd"]["content_ids"] == ["a", "b"]
    assert event.params["cd"]["contents"] == [{"id": "a", "quantity": 2}]
    assert event.params["ts"] == 1700000000000 and event.params["sw"] == 390 and event.params["if"] is True


def test_comma_formatted_value_is_not_a_number_but_stays_visible() -> None:
    event = decode_one(request("https://www.facebook.com/tr/?id=9&ev=Purchase&cd[value]=1%2C299.00"))
    assert event.value is None
    assert event.params["cd"]["value"] == "1,299.00"


def test_event_id_order_id_fbc_and_fbp() -> None:
    fbc = "fb.1.1700000000000.IwAR3abc__DOT__def"
    event = decode_one(
        request(
            "https://www.facebook.com/tr/?"
            + urlencode(
                {"id": "9", "ev": "Purchase", "eid": "ord-7", "cd[order_id]": "7", "fbc": fbc, "fbp": "fb.1.17.42"}
            )
        )
    )
    assert event.event_id == "ord-7"
    assert event.transaction_id == "7"
    assert event.click_ids == {"fbc": fbc, "fbclid": "IwAR3abc.def"}
    assert "fbp" not in event.click_ids and event.params["fbp"] == "fb.1.17.42"


@pytest.mark.parametrize(
    ("fbc", "fbclid"),
    [
        ("fb.1.1554763741205.AbCdEf", "AbCdEf"),
        ("fb.2.1554763741205.AbCdEf.AQ", "AbCdEf"),  # 5th field: fbevents' appendix
        ("fb.1.1554763741205.", None),
        ("nonsense", None),
    ],
)
def test_fbclid_from_fbc(fbc: str, fbclid: str | None) -> None:
    assert fbclid_from_fbc(fbc) == fbclid


def test_user_data_forms_from_ud_udff_and_aud_groups() -> None:
    event = decode_one(
        request(
            f"https://www.facebook.com/tr/?id=9&ev=Lead&ud[em]={SHA}&udff[ph]={SHA}&aud[fn]={SHA}"
            "&ud[ct]=berlin&ud[zp]=&cud[em]=****%40****.**"
        )
    )
    assert event.user_data == {"em": "sha256", "ph": "sha256", "fn": "sha256", "ct": "raw"}
    # hashes are never copied into params; the masks Meta sends along are not identifiers
    assert "ud" not in event.params and "udff" not in event.params and "aud" not in event.params
    assert event.params["cud"] == {"em": "****@****.**"}


def test_form_post_body_is_decoded() -> None:
    body = urlencode({"id": "9", "ev": "AddToCart", "cd[value]": "5", "dl": "https://shop.example/p", "rqm": "formPOST"})
    event = decode_one(
        request(
            "https://www.facebook.com/tr/",
            "POST",
            body,
            [("content-type", "application/x-www-form-urlencoded")],
        )
    )
    assert (event.event, event.value, event.page_url, event.params["rqm"]) == (
        "AddToCart",
        5.0,
        "https://shop.example/p",
        "formPOST",
    )


def multipart_body(fields: list[tuple[str, str]], boundary: str = "----WebKitFormBoundaryQ") -> str:
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields)
    return parts + f"--{boundary}--\r\n"


def test_send_beacon_multipart_body_is_decoded() -> None:
    fields = [("id", "9"), ("ev", "InitiateCheckout"), ("cd[value]", "20"), ("cd[currency]", "USD"), ("rqm", "SB")]
    headers = [("content-type", "multipart/form-data; boundary=----WebKitFormBoundaryQ")]
    event = decode_one(request("https://www.facebook.com/tr/", "POST", multipart_body(fields), headers))
    assert (event.event, event.account_id, event.value, event.currency) == ("InitiateCheckout", "9", 20.0, "USD")


def test_multipart_without_content_type_and_truncated() -> None:
    body = multipart_body([("id", "9"), ("ev", "Search")]) + "------WebKitFormBoundaryQ\r\nContent-Disp"
    req = request("https://www.facebook.com/tr/", "POST", body)
    assert multipart_params(req) == [("id", "9"), ("ev", "Search")]
    assert decode_one(req).event == "Search"


def test_multipart_value_with_json_and_newlines_survives() -> None:
    fields = [("id", "9"), ("ev", "ViewContent"), ("cd[contents]", '[{"id": "a",\r\n "quantity": 1}]')]
    headers = [("content-type", "multipart/form-data; boundary=xyz")]
    event = decode_one(request("https://www.facebook.com/tr/", "POST", multipart_body(fields, "xyz"), headers))
    assert event.params["cd"]["contents"] == [{"id": "a", "quantity": 1}]


def test_page_url_falls_back_to_referer() -> None:
    event = decode_one(request("https://www.facebook.com/tr/?id=9&ev=PageView", headers=[("Referer", "https://a.example/x")]))
    assert event.page_url == "https://a.example/x"


def test_data_processing_options_are_reported_as_consent() -> None:
    event = decode_one(request("https://www.facebook.com/tr/?id=9&ev=PageView&dpo=LDU&dpoco=0&dpost=0"))
    assert event.consent.other == {"dpo": "LDU", "dpoco": "0", "dpost": "0"}
    assert not event.consent.declared


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://www.facebook.com/tr/?ev=PageView", "Meta pixel hit without id"),
        ("https://www.facebook.com/tr/?id=9", "Meta pixel hit without ev"),
        ("https://www.facebook.com/tr/?id=&ev=", "Meta pixel hit without id and ev"),
    ],
)
def test_missing_id_or_ev_is_one_malformed_event(url: str, reason: str) -> None:
    event = decode_one(request(url))
    assert event.malformed and event.malformed_reason == reason and event.vendor == "meta_pixel"


def test_sinkhole_replies() -> None:
    gif = DECODER.sinkhole_reply(request("https://www.facebook.com/tr/?id=9&ev=PageView"))
    assert (gif.status, gif.content_type, gif.body) == (200, "image/gif", PIXEL_GIF)
    post = DECODER.sinkhole_reply(request("https://www.facebook.com/tr/", "POST", "id=9&ev=PageView"))
    assert (post.status, post.body) == (200, b"")


def test_registry_routes_pixel_hits_here() -> None:
    registry = DecoderRegistry.default()
    claimant = registry.claimant(request("https://www.facebook.com/tr/?id=9&ev=PageView"))
    assert claimant is not None and claimant.vendor == "meta_pixel"
    assert {"ts", "eid", "fbp"} <= DECODER.volatile_params


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=200), body=st.binary(max_size=300), ctype=st.sampled_from(["", "multipart/form-data; boundary=b", "application/x-www-form-urlencoded", "text/plain"]))
def test_decode_never_raises(query: str, body: bytes, ctype: str) -> None:
    req = CapturedRequest(
        id="f", method="POST", url="https://www.facebook.com/tr/?" + query, body=body, request_headers=[("content-type", ctype)]
    )
    events = DECODER.decode(req)
    assert len(events) == 1
    assert events[0].malformed or events[0].event
