"""Google Ads API conversion uploads (uploadClickConversions / uploadConversionAdjustments / uploadCallConversions)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.google_ads_api import GoogleAdsApiDecoder
from harness.models import CapturedRequest

DECODER = GoogleAdsApiDecoder()
UPLOAD = "https://googleads.googleapis.com/v17/customers/1234567890:uploadClickConversions"
ADJUST = "https://googleads.googleapis.com/v17/customers/1234567890:uploadConversionAdjustments"
EMAIL_HASH = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
SECRET_HEADERS = [("developer-token", "DEVTOKEN123"), ("authorization", "Bearer ya29.secret")]


def upload(
    url: str, body: Any, method: str = "POST", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(
        id="r1",
        method=method,
        url=url,
        request_headers=[("content-type", "application/json"), *(headers or [])],
        body=(body if isinstance(body, str) else json.dumps(body)).encode(),
        source="server",
    )


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (UPLOAD, "POST", True),
        (ADJUST, "POST", True),
        (
            "https://googleads.googleapis.com/v16/customers/123-456-7890%3AuploadClickConversions",
            "POST",
            True,
        ),
        (UPLOAD, "GET", False),  # nothing uploads on a GET
        ("https://googleads.googleapis.com/v17/customers/1234567890:uploadCallConversions", "POST", True),
        # The gRPC call-conversion method is not read (its message is not mapped), so not claimed either.
        (
            "https://googleads.googleapis.com/google.ads.googleads.v17.services.ConversionUploadService/UploadCallConversions",
            "POST",
            False,
        ),
        ("https://googleads.googleapis.com/v17/customers/1234567890/googleAds:searchStream", "POST", False),
        ("https://shop.example/v17/customers/1234567890:uploadClickConversions", "POST", False),
        ("https://shop.example/api/checkout", "POST", False),
    ],
)
def test_claims_only_conversion_uploads(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(upload(url, {"conversions": []}, method)) is claimed


def test_one_event_per_conversion_with_the_order_id_as_transaction_id() -> None:
    body = {
        "conversions": [
            {"gclid": "G-1", "orderId": "ORD-1", "conversionValue": 10, "currencyCode": "USD"},
            {"wbraid": "W-2", "orderId": "ORD-2"},
        ]
    }
    events = DECODER.decode(upload(UPLOAD, body))
    assert [(e.event, e.transaction_id, e.click_ids) for e in events] == [
        ("conversion", "ORD-1", {"gclid": "G-1"}),
        ("conversion", "ORD-2", {"wbraid": "W-2"}),
    ]
    assert events[0].value == 10.0 and events[0].currency == "USD"
    assert {e.source for e in events} == {"server"} and {e.account_id for e in events} == {"1234567890"}


def test_credentials_are_recorded_as_present_and_never_copied() -> None:
    body = {"conversions": [{"gclid": "G-1", "orderId": "ORD-1"}]}
    event = DECODER.decode(upload(UPLOAD, body, headers=SECRET_HEADERS))[0]
    assert event.params["developer_token_present"] is True
    assert event.params["authorization_present"] is True
    dumped = event.model_dump_json()
    assert "DEVTOKEN123" not in dumped and "ya29" not in dumped


def test_hashed_email_values_are_kept_for_attribution_and_raw_ones_are_not() -> None:
    body = {
        "conversions": [
            {"gclid": "G-1", "userIdentifiers": [{"hashedEmail": EMAIL_HASH.upper()}]},
            {"gclid": "G-2", "userIdentifiers": [{"hashedEmail": "jane.doe@example.com"}]},
        ]
    }
    hashed, raw = DECODER.decode(upload(UPLOAD, body))
    assert hashed.user_data == {"em": "sha256"} and hashed.params["hashed_emails"] == [EMAIL_HASH]
    assert raw.user_data == {"em": "raw"} and "hashed_emails" not in raw.params


def test_snake_case_proto_names_decode_like_camel_case() -> None:
    body = {
        "conversions": [
            {"gclid": "G-1", "order_id": "ORD-9", "conversion_value": 3.5, "currency_code": "EUR"}
        ]
    }
    event = DECODER.decode(upload(UPLOAD, body))[0]
    assert (event.transaction_id, event.value, event.currency) == ("ORD-9", 3.5, "EUR")


def test_retraction_adjustment_by_order_id() -> None:
    body = {"conversionAdjustments": [{"orderId": "ORD-1", "adjustmentType": "RETRACTION"}]}
    event = DECODER.decode(upload(ADJUST, body))[0]
    assert (event.event, event.transaction_id, event.value) == ("conversion_adjustment", "ORD-1", None)
    assert event.params["adjustment_type"] == "RETRACTION"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "without a readable conversions list"),
        ({"conversions": {"gclid": "x"}}, "without a readable conversions list"),
        ({"conversions": []}, "empty conversions list"),
    ],
)
def test_unreadable_uploads_are_one_malformed_event(body: Any, reason: str) -> None:
    events = DECODER.decode(upload(UPLOAD, body))
    assert len(events) == 1 and events[0].malformed
    assert reason in (events[0].malformed_reason or "")


def test_a_non_object_entry_is_malformed_alone() -> None:
    events = DECODER.decode(upload(UPLOAD, {"conversions": ["x", {"gclid": "G-1", "orderId": "ORD-1"}]}))
    assert [e.malformed for e in events] == [True, False]


def test_sinkhole_answers_one_result_per_entry() -> None:
    request = upload(UPLOAD, {"conversions": [{"gclid": "a"}, {"gclid": "b"}]})
    reply = DecoderRegistry.default().sinkhole_reply(request)
    assert reply is not None and reply.status == 200 and reply.content_type == "application/json"
    assert json.loads(reply.body) == {"results": [{}, {}], "partialFailureError": None}


def test_call_conversion_reports_the_caller_number_as_a_raw_phone() -> None:
    # Body shape as Segment's Google Enhanced Conversions destination posts it (uploadCallConversion.test.ts).
    body = {
        "conversions": [
            {
                "conversionAction": "customers/1234567890/conversionActions/12345",
                "callerId": "+14155550123",
                "callStartDateTime": "2025-06-10 18:08:04+00:00",
                "conversionDateTime": "2025-06-10 18:20:00+00:00",
                "conversionValue": "49.5",
                "currencyCode": "EUR",
            }
        ],
        "partialFailure": True,
    }
    url = "https://googleads.googleapis.com/v22/customers/1234567890:uploadCallConversions"
    (event,) = DECODER.decode(upload(url, body, headers=SECRET_HEADERS))
    assert (event.event, event.value, event.currency, event.click_ids) == ("call_conversion", 49.5, "EUR", {})
    assert event.user_data == {"ph": "raw"}
    assert "+14155550123" not in json.dumps(event.params)  # the number is PII: reported as a form only
    assert event.params["call_start_date_time"] == "2025-06-10 18:08:04+00:00"
    assert event.params["method"] == "uploadCallConversions" and not event.malformed
