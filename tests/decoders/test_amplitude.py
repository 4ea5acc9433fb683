"""Amplitude decoder behaviour beyond the fixtures."""

from __future__ import annotations

import gzip
import json

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.amplitude import AmplitudeDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

DECODER = AmplitudeDecoder()
KEY = "0123456789abcdef0123456789abcdef"


def request(url: str, body: bytes | str = b"", method: str = "POST") -> CapturedRequest:
    data = body.encode() if isinstance(body, str) else body
    return CapturedRequest(id="t", method=method, url=url, request_headers=[("content-type", "application/json")], body=data)


def payload(*events: dict[str, object]) -> str:
    return json.dumps({"api_key": KEY, "events": list(events), "options": {}})


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        ("https://api2.amplitude.com/2/httpapi", "POST", True),
        ("https://api.eu.amplitude.com/batch", "POST", True),
        ("https://api2.amplitude.com/2/httpapi", "GET", False),
        ("https://sr-client-cfg.amplitude.com/config", "POST", False),
        ("https://api2.amplitude.com/3/httpapi", "POST", False),
    ],
)
def test_claims_amplitudes_endpoints(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, "", method)) is claimed


def test_a_first_party_server_url_is_claimed_only_with_amplitudes_body() -> None:
    url = "https://amp.example-shop.com/2/httpapi"
    assert DECODER.claims(request(url, payload({"event_type": "x", "insert_id": "i"})))
    assert not DECODER.claims(request(url, '{"events": []}'))  # no api_key: a site's own API
    assert not DECODER.claims(request(url, "not json"))


def test_a_body_still_gzip_compressed_is_inflated() -> None:
    body = gzip.compress(payload({"event_type": "Order Completed", "insert_id": "ins-1", "revenue": 10}).encode())
    (event,) = DECODER.decode(request("https://api2.amplitude.com/2/httpapi", body))
    assert (event.event, event.event_id, event.value, event.account_id) == ("Order Completed", "ins-1", 10.0, KEY)


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        ({"price": 19.99, "quantity": 3, "revenue": 1.0}, 59.97),  # price * quantity wins over revenue
        ({"price": 5}, 5.0),  # quantity 1 when absent
        ({"revenue": "12.50"}, 12.5),
        ({"event_properties": {"$price": 2.5, "$quantity": 4}}, 10.0),  # the Revenue API's properties
        ({"event_properties": {"$revenue": 7}}, 7.0),
        ({"event_properties": {"value": 12.5}}, None),  # a site's own property is no Amplitude revenue
    ],
)
def test_revenue_as_amplitude_counts_it(fields: dict[str, object], value: float | None) -> None:
    (event,) = DECODER.decode(request("https://api2.amplitude.com/2/httpapi", payload({"event_type": "e", **fields})))
    assert event.value == pytest.approx(value) if value is not None else event.value is None


def test_an_unreadable_revenue_is_kept_raw() -> None:
    (event,) = DECODER.decode(request("https://api2.amplitude.com/2/httpapi", payload({"event_type": "e", "revenue": "12,50"})))
    assert (event.value, event.params["value_raw"]) == (None, "12,50")


def test_identify_email_and_attribution_click_ids() -> None:
    identify = {
        "event_type": "$identify",
        "user_properties": {"$set": {"email": "a@example.com", "gclid": "g-1"}, "$setOnce": {"initial_gclid": "g-0"}},
    }
    (event,) = DECODER.decode(request("https://api2.amplitude.com/2/httpapi", payload(identify)))
    assert event.user_data == {"em": "raw"}
    assert event.click_ids == {"gclid": "g-1"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[]", "body is not a JSON object"),
        (json.dumps({"api_key": KEY, "events": []}), "events is missing, empty or not a list"),
        (payload({"insert_id": "x"}), "event 0 has no event_type"),
        (json.dumps({"api_key": KEY, "events": ["x"]}), "event 0 is not an object"),
    ],
)
def test_unreadable_hits_are_malformed(body: str, reason: str) -> None:
    (event,) = DECODER.decode(request("https://api2.amplitude.com/2/httpapi", body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_sinkhole_answers_like_the_http_api() -> None:
    reply = DECODER.sinkhole_reply(request("https://api2.amplitude.com/2/httpapi"))
    assert reply.status == 200 and json.loads(reply.body)["code"] == 200


# --- npm recordings ------------------------------------------------------------------------------


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("amplitude")
    assert len(recorded) >= 5, "expected the analytics-browser recordings under fixtures/amplitude/npm-*.json"
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None and named[0] == "@amplitude/analytics-browser", path.name
        assert pinned_versions().get(named[0]) == named[1], f"{path.name}: recorded with {named}"


def test_recordings_cover_us_eu_batch_and_proxied_delivery() -> None:
    urls = {data["request"]["url"] for _, data in npm_recorded("amplitude")}
    assert {"https://api2.amplitude.com/2/httpapi", "https://api.eu.amplitude.com/batch"} <= urls
    assert "https://amp.example-shop.com/2/httpapi" in urls


def test_recorded_order_decodes_with_its_revenue_and_dedupe_id_in_both_apis() -> None:
    registry = DecoderRegistry([DECODER])
    events = [e for _, data in npm_recorded("amplitude") for e in registry.decode(fixture_request(data))]
    orders = [e for e in events if e.event in ("Order Completed", "revenue_amount")]
    assert len(orders) == 6  # three scenarios, each with the track call and the Revenue API call
    assert {(e.value, e.currency) for e in orders} == {(59.9, "EUR")}
    assert all(e.event_id for e in events) and len({e.event_id for e in events}) == len(events)
