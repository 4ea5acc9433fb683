"""Mixpanel decoder behaviour beyond the fixtures."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.mixpanel import MixpanelDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

DECODER = MixpanelDecoder()
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
EVENT = {"event": "Purchase", "properties": {"token": TOKEN, "$insert_id": "ins-1", "$current_url": "https://s.example/?gclid=g-1"}}


def request(url: str, body: str = "", method: str = "POST") -> CapturedRequest:
    headers = [("content-type", "application/x-www-form-urlencoded")]
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers, body=body.encode())


def form(payload: object, base64_encoded: bool = False) -> str:
    text = json.dumps(payload)
    return "data=" + quote(base64.b64encode(text.encode()).decode() if base64_encoded else text)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://api-js.mixpanel.com/track/?verbose=1&ip=1", True),
        ("https://api-eu.mixpanel.com/engage/", True),
        ("https://api.mixpanel.com/groups", True),
        ("https://api-js.mixpanel.com/record/?format=gzip", False),
        ("https://api-js.mixpanel.com/decide?verbose=1", False),
        ("https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", False),
    ],
)
def test_claims_mixpanels_endpoints(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


@pytest.mark.parametrize("base64_encoded", [True, False])
def test_a_first_party_api_host_is_claimed_by_its_payload(base64_encoded: bool) -> None:
    hit = request("https://mp.example-shop.com/track/?ip=1", form([EVENT], base64_encoded))
    assert DECODER.claims(hit)
    (event,) = DECODER.decode(hit)
    assert (event.event, event.account_id, event.event_id, event.click_ids) == ("Purchase", TOKEN, "ins-1", {"gclid": "g-1"})
    assert not DECODER.claims(request("https://mp.example-shop.com/track/", form([{"event": "x"}])))


def test_the_legacy_image_get_carries_the_payload_in_the_query() -> None:
    url = "https://api-js.mixpanel.com/track/?" + form(EVENT, True) + "&ip=1&img=1"
    (event,) = DECODER.decode(request(url, method="GET"))
    assert event.event == "Purchase"


def test_track_charge_revenue_and_profile_personal_data() -> None:
    update = {"$token": TOKEN, "$distinct_id": "u", "$append": {"$transactions": {"$amount": 30.5, "$time": "2012-01-02"}}}
    (charge,) = DECODER.decode(request("https://api-js.mixpanel.com/engage/", form(update)))
    assert (charge.event, charge.value, charge.account_id) == ("engage", 30.5, TOKEN)
    profile = {"$token": TOKEN, "$set": {"$email": "a@example.com", "$phone": "+15555550123"}}
    (people,) = DECODER.decode(request("https://api-js.mixpanel.com/engage/", form(profile)))
    assert people.user_data == {"em": "raw", "ph": "raw"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("data=%25%25", "no readable data payload (JSON or base64 JSON)"),
        ("", "no readable data payload (JSON or base64 JSON)"),
        (form([{"properties": {"token": TOKEN}}]), "track item without an event name"),
        (form(["x"]), "item 0 is not an object"),
    ],
)
def test_unreadable_hits_are_malformed(body: str, reason: str) -> None:
    (event,) = DECODER.decode(request("https://api-js.mixpanel.com/track/", body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


@pytest.mark.parametrize(("query", "body"), [("?verbose=1", b'{"status": 1, "error": null}'), ("", b"1")])
def test_sinkhole_answers_as_the_ingestion_api(query: str, body: bytes) -> None:
    assert DECODER.sinkhole_reply(request("https://api-js.mixpanel.com/track/" + query)).body == body


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("mixpanel")
    assert len(recorded) >= 5
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None and named[0] == "mixpanel-browser", path.name
        assert pinned_versions().get(named[0]) == named[1], f"{path.name}: recorded with {named}"


def test_recordings_cover_json_batches_single_calls_and_base64_proxy() -> None:
    recorded = npm_recorded("mixpanel")
    bodies = {data["request"]["url"].split("?")[0]: data["request"]["body"] for _, data in recorded}
    assert bodies["https://api-js.mixpanel.com/track/"].startswith("data=%5B")  # a JSON array
    assert bodies["https://mp.example-shop.com/track/"].startswith("data=W3")  # base64 of "[{"
    assert "https://api-eu.mixpanel.com/engage/" in bodies
    registry = DecoderRegistry([DECODER])
    events = [e for _, data in recorded for e in registry.decode(fixture_request(data))]
    orders = [e for e in events if e.event == "Order Completed"]
    assert len(orders) == 3 and all(e.click_ids.get("gclid") == "Cj0KCQiA-eventpath-gclid" for e in orders)
    assert all(e.params["order_id"] == "ORD-1001" and e.value is None for e in orders)
