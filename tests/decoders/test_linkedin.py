"""LinkedIn decoder behaviour beyond the fixtures: what it claims, what it answers, hostile bodies."""

from __future__ import annotations

import base64
import gzip
import json
import time

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.linkedin import LinkedInDecoder
from harness.models import CapturedRequest

DECODER = LinkedInDecoder()


def request(url: str, method: str = "GET", body: bytes = b"") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://px.ads.linkedin.com/collect/?pid=1&fmt=gif", True),
        ("https://px4.ads.linkedin.com/collect?pid=1&fmt=js", True),
        ("https://dc.ads.linkedin.com/collect/?pid=1", True),
        ("https://px.ads.linkedin.com/wa/?medium=fetch&fmt=g", True),
        ("https://px.ads.linkedin.com/attribution_trigger?pid=1", True),
        ("https://snap.licdn.com/li.lms-analytics/insight.min.js", False),
        ("https://www.linkedin.com/collect?pid=1", False),
        ("https://px.ads.linkedin.com/collectx?pid=1", False),
        ("https://ads.linkedin.com.evil.example/collect?pid=1", False),
    ],
)
def test_claims_exactly_the_insight_tag_endpoints(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_pixel_gets_a_gif_and_a_signal_post_gets_204() -> None:
    pixel = DECODER.sinkhole_reply(request("https://px.ads.linkedin.com/collect/?pid=1&fmt=gif"))
    assert (pixel.status, pixel.content_type, pixel.body) == (200, "image/gif", PIXEL_GIF)
    assert DECODER.sinkhole_reply(request("https://px.ads.linkedin.com/wa/", "POST", b"{}")).status == 204


def test_signal_for_two_partner_ids_is_two_events() -> None:
    body = json.dumps(
        {"pids": [111, "222"], "signalType": "PAGE_VISIT", "url": "https://a.example/"}
    ).encode()
    events = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", body))
    assert [(e.account_id, e.event, e.page_url) for e in events] == [
        ("111", "PAGE_VISIT", "https://a.example/"),
        ("222", "PAGE_VISIT", "https://a.example/"),
    ]


def test_raw_email_in_hem_is_reported_as_raw() -> None:
    body = json.dumps({"pids": [1], "signalType": "CLICK", "hem": "jane@example.com"}).encode()
    (event,) = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", body))
    assert event.user_data == {"em": "raw"}


def test_gzip_bomb_signal_is_refused_quickly() -> None:
    # 64 MB of JSON whitespace compresses to ~64 KB; the decoder must not inflate it all.
    bomb = base64.b64encode(gzip.compress(b"{" + b" " * (64 << 20) + b"}", compresslevel=9))
    started = time.monotonic()
    (event,) = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", bomb))
    assert event.malformed and "base64(gzip(JSON))" in (event.malformed_reason or "")
    assert time.monotonic() - started < 2


def test_timestamps_and_request_ids_are_volatile() -> None:
    assert {"time", "websiteSignalRequestId"} <= DECODER.volatile_params


# --- Conversions API (server) ---------------------------------------------------------------------------

CAPI_URL = "https://api.linkedin.com/rest/conversionEvents"


def capi_request(body: object, *headers: tuple[str, str], url: str = CAPI_URL) -> CapturedRequest:
    return CapturedRequest(
        id="s", method="POST", url=url, body=json.dumps(body).encode(), request_headers=list(headers)
    )


def capi_event(conversion: str = "urn:lla:llaPartnerConversion:104012", **fields: object) -> dict[str, object]:
    return {"conversion": conversion, "conversionHappenedAt": 1695739275000, **fields}


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("POST", CAPI_URL, True),
        ("POST", CAPI_URL + "/", True),
        ("GET", CAPI_URL, False),
        ("POST", "https://api.linkedin.com/rest/conversions", False),  # creates a conversion rule
        ("GET", "https://api.linkedin.com/rest/adAccounts?q=search", False),
        ("POST", "https://api.linkedin.com/rest/adAccounts", False),
        ("POST", "https://api.linkedin.com/rest/campaignConversions", False),
        ("POST", "https://api.linkedin.com/v2/ugcPosts", False),
        ("POST", "https://www.linkedin.com/rest/conversionEvents", False),
        ("POST", "https://api.linkedin.com.evil.example/rest/conversionEvents", False),
    ],
)
def test_claims_the_conversions_api_and_no_other_linkedin_api(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(CapturedRequest(id="t", method=method, url=url)) is claimed


def test_capi_single_create_gets_201_and_a_batch_one_status_per_element() -> None:
    single = DECODER.sinkhole_reply(capi_request(capi_event()))
    assert (single.status, single.body) == (201, b"")
    batch = DECODER.sinkhole_reply(
        capi_request({"elements": [capi_event(), capi_event()]}, ("X-RestLi-Method", "BATCH_CREATE"))
    )
    assert (batch.status, batch.content_type) == (200, "application/json")
    assert json.loads(batch.body) == {"elements": [{"status": 201}, {"status": 201}]}


def test_capi_raw_email_is_raw_and_no_identifier_or_token_is_copied() -> None:
    body = capi_event(
        eventId="ord-1",
        user={
            "userIds": [{"idType": "SHA256_EMAIL", "idValue": "Jane@Example.com"}],
            "userInfo": {"firstName": "Jane", "lastName": "Doe"},
        },
    )
    (event,) = DECODER.decode(capi_request(body, ("Authorization", "Bearer AQX-secret-token")))
    assert event.user_data == {"em": "raw", "fn": "raw", "ln": "raw"}
    assert "hashed_emails" not in event.params and event.params["access_token_present"] is True
    dumped = event.model_dump_json()
    assert not any(secret in dumped for secret in ("Jane@Example.com", "Doe", "AQX-secret-token"))


def test_capi_conversion_matches_the_insight_tag_conversion_of_the_same_rule() -> None:
    (browser,) = DECODER.decode(
        request("https://px.ads.linkedin.com/collect/?pid=3127001&conversionId=104012&eventId=ord-9&fmt=gif")
    )
    (server,) = DECODER.decode(capi_request(capi_event(eventId="ord-9")))
    assert (browser.event, browser.params["conversionId"], browser.event_id) == (
        server.event,
        server.params["conversionId"],
        server.event_id,
    )
    assert (browser.source, server.source) == ("browser", "server")


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"not json", (), "Conversions API body is not a JSON object"),
        (b'{"elements": "x"}', (("X-RestLi-Method", "BATCH_CREATE"),), "BATCH_CREATE body has no elements list"),
        (b'{"elements": []}', (), "BATCH_CREATE with an empty elements list"),
        (json.dumps(capi_event("urn:li:sponsoredAccount:1")).encode(), (), "without a conversion rule"),
    ],
)
def test_capi_body_without_its_essentials_is_malformed(
    body: bytes, headers: tuple[tuple[str, str], ...], reason: str
) -> None:
    request_ = CapturedRequest(id="s", method="POST", url=CAPI_URL, body=body, request_headers=list(headers))
    (event,) = DECODER.decode(request_)
    assert event.malformed and reason in (event.malformed_reason or "") and event.source == "server"


def test_capi_batch_element_that_is_not_an_object_is_malformed_and_the_rest_decode() -> None:
    events = DECODER.decode(capi_request({"elements": ["oops", capi_event(eventId="e2")]}))
    assert [(e.malformed, e.event_id) for e in events] == [(True, None), (False, "e2")]
