"""GA4 Measurement Protocol: one event per events[] entry, server source, the api_secret never copied."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.vendors.ga4_mp import GA4MeasurementProtocolDecoder
from harness.models import CapturedRequest

DECODER = GA4MeasurementProtocolDecoder()
URL = "https://www.google-analytics.com/mp/collect?measurement_id=G-MP12345&api_secret=TOPSECRET42"


def req(
    url: str = URL, body: Any = None, raw: str | None = None, content_type: str = "application/json"
) -> CapturedRequest:
    text = raw if raw is not None else json.dumps(body)
    return CapturedRequest(
        id="r1", method="POST", url=url, body=text.encode(), request_headers=[("content-type", content_type)]
    )


def test_claims_mp_endpoints_only() -> None:
    assert DECODER.claims(req())
    assert DECODER.claims(req("https://region1.google-analytics.com/mp/collect?measurement_id=G-1"))
    assert DECODER.claims(req("https://www.google-analytics.com/debug/mp/collect?measurement_id=G-1"))
    assert not DECODER.claims(req("https://www.google-analytics.com/g/collect?v=2&tid=G-1"))
    assert not DECODER.claims(req("https://www.google-analytics.com/collect?v=1&tid=UA-1-1"))
    assert not DECODER.claims(req("https://sgtm.shop.example/mp/collect?measurement_id=G-1"))
    assert not DECODER.claims(req("https://www.shop.example/api/checkout"))


def test_events_fields_and_secret_never_copied() -> None:
    body = {
        "client_id": "c.1",
        "events": [
            {
                "name": "purchase",
                "params": {
                    "value": "42.5",
                    "currency": "EUR",
                    "transaction_id": 77,
                    "event_id": "e-1",
                    "page_location": "https://shop.example/thanks",
                    "coupon": "X",
                },
            },
            {"name": "refund", "params": {"transaction_id": "T-2"}},
        ],
    }
    events = DECODER.decode(req(body=body))
    assert [e.event for e in events] == ["purchase", "refund"]
    first = events[0]
    assert first.source == "server" and first.account_id == "G-MP12345"
    assert first.value == 42.5 and first.currency == "EUR"
    assert first.transaction_id == "77" and first.event_id == "e-1"
    assert first.page_url == "https://shop.example/thanks"
    assert first.params["event_params"] == {"coupon": "X"}
    assert first.params["api_secret_present"] is True
    assert "TOPSECRET42" not in json.dumps([e.model_dump(mode="json") for e in events])


def test_secret_absent_is_reported() -> None:
    [event] = DECODER.decode(
        req(
            "https://www.google-analytics.com/mp/collect?measurement_id=G-1",
            {"client_id": "1", "events": [{"name": "x"}]},
        )
    )
    assert event.params["api_secret_present"] is False


def test_beacon_text_plain_json_body() -> None:
    [event] = DECODER.decode(
        req(body={"client_id": "1", "events": [{"name": "x"}]}, content_type="text/plain")
    )
    assert event.event == "x" and not event.malformed


def test_consent_and_user_data() -> None:
    body = {
        "client_id": "1",
        "non_personalized_ads": True,
        "consent": {"ad_user_data": "DENIED", "ad_personalization": "GRANTED"},
        "user_data": {
            "sha256_email_address": ["b" * 64, "jane@example.com"],
            "sha256_phone_number": "c" * 64,
            "address": {"sha256_last_name": "d" * 64, "postal_code": "10115"},
        },
        "events": [{"name": "sign_up"}],
    }
    [event] = DECODER.decode(req(body=body))
    assert event.consent.ad_user_data == "denied" and event.consent.ad_personalization == "granted"
    assert event.consent.ad_storage is None
    assert event.consent.other["non_personalized_ads"] == "true"
    # one unhashed email among hashed ones makes the identifier "raw"
    assert event.user_data == {"em": "raw", "ph": "sha256", "ln": "sha256", "zp": "raw"}


def test_user_properties_flattened() -> None:
    body = {
        "client_id": "1",
        "user_properties": {"tier": {"value": "gold"}, "n": 3},
        "events": [{"name": "x"}],
    }
    [event] = DECODER.decode(req(body=body))
    assert event.params["user_properties"] == {"tier": "gold", "n": 3}


def test_firebase_stream_account() -> None:
    url = "https://www.google-analytics.com/mp/collect?firebase_app_id=1:99:ios:abc&api_secret=s"
    [event] = DECODER.decode(req(url, {"app_instance_id": "a" * 32, "events": [{"name": "x"}]}))
    assert event.account_id == "1:99:ios:abc"


def test_malformed_cases() -> None:
    no_stream = DECODER.decode(
        req("https://www.google-analytics.com/mp/collect?api_secret=s", {"events": []})
    )
    assert no_stream[0].malformed and "measurement_id" in (no_stream[0].malformed_reason or "")
    assert DECODER.decode(req(raw="not json"))[0].malformed_reason == "body is not a JSON object"
    assert DECODER.decode(req(body=[1, 2]))[0].malformed_reason == "body is not a JSON object"
    assert DECODER.decode(req(body={"events": []}))[0].malformed_reason == "no events array"
    mixed = DECODER.decode(req(body={"events": [{"name": "ok"}, {"params": {}}, "junk"]}))
    assert [e.malformed for e in mixed] == [False, True, True]


def test_non_numeric_value_kept_raw() -> None:
    [event] = DECODER.decode(req(body={"events": [{"name": "purchase", "params": {"value": "12,00"}}]}))
    assert event.value is None and event.params["value_raw"] == "12,00"


def test_sinkhole_replies() -> None:
    assert DECODER.sinkhole_reply(req()).status == 204
    debug = DECODER.sinkhole_reply(
        req("https://www.google-analytics.com/debug/mp/collect?measurement_id=G-1")
    )
    assert debug.status == 200 and json.loads(debug.body) == {"validationMessages": []}


def test_volatile_params() -> None:
    assert {"client_id", "timestamp_micros", "session_id"} <= DECODER.volatile_params


@settings(max_examples=150, deadline=None)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "events",
                        "name",
                        "params",
                        "user_data",
                        "consent",
                        "address",
                        "value",
                        "user_properties",
                    ]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_never_raises(body: Any) -> None:
    events = DECODER.decode(req(body=body))
    assert events and all(e.vendor == "ga4_mp" for e in events)
