"""PostHog decoder behaviour beyond the fixtures."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.posthog import PosthogDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

DECODER = PosthogDecoder()
TOKEN = "phc_EventpathUsToken0123456789abcdefghijklmn"
EVENT = {
    "uuid": "01a23e0a-0afd-7490-a27c-f885ad008030",
    "event": "$pageview",
    "properties": {"token": TOKEN, "distinct_id": "d", "$current_url": "https://s.example/?gclid=g-1", "msclkid": "m-1"},
}


def request(url: str, body: bytes | str = b"", content_type: str = "text/plain") -> CapturedRequest:
    data = body.encode() if isinstance(body, str) else body
    return CapturedRequest(id="t", method="POST", url=url, request_headers=[("content-type", content_type)], body=data)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://us.i.posthog.com/e/", True),
        ("https://eu.i.posthog.com/i/v0/e/", True),
        ("https://us.i.posthog.com/batch/", True),
        ("https://us.i.posthog.com/flags/?v=2", False),
        ("https://us.i.posthog.com/decide/?v=3", False),
        ("https://us.i.posthog.com/s/?compression=gzip-js", False),
        ("https://us-assets.i.posthog.com/array/phc_x/config", False),
    ],
)
def test_claims_capture_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


@pytest.mark.parametrize(
    "body",
    [
        gzip.compress(json.dumps({"api_key": TOKEN, "batch": [EVENT]}).encode(), mtime=0),  # gzip-js, 1.449
        gzip.compress(json.dumps([EVENT]).encode(), mtime=0),  # gzip-js, older clients: an array
        "data=" + quote(base64.b64encode(json.dumps(EVENT).encode()).decode()),  # compression=base64 / beacon
        json.dumps(EVENT),  # disable_compression
    ],
)
def test_every_encoding_on_a_reverse_proxy_under_a_prefix(body: bytes | str) -> None:
    hit = request("https://shop.example-shop.com/ingest/e/?ip=0", body)
    assert DECODER.claims(hit)
    (event,) = DECODER.decode(hit)
    assert (event.event, event.account_id, event.event_id) == ("$pageview", TOKEN, EVENT["uuid"])
    assert event.click_ids == {"gclid": "g-1", "msclkid": "m-1"}
    assert event.page_url == "https://s.example/?gclid=g-1"


def test_a_sites_own_json_on_an_e_path_is_not_claimed() -> None:
    assert not DECODER.claims(request("https://shop.example-shop.com/e/", '{"event": "click"}'))
    assert not DECODER.claims(request("https://shop.example-shop.com/api/batch/", '{"batch": [{"sku": 1}]}'))


def test_identify_person_properties_are_personal_data() -> None:
    identify = {**EVENT, "event": "$identify", "properties": {**EVENT["properties"], "$set": {"email": "a@example.com"}}}
    (event,) = DECODER.decode(request("https://us.i.posthog.com/e/", json.dumps(identify)))
    assert event.user_data == {"em": "raw"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x1f\x8bnot really gzip", "no readable events (gzip, base64 or JSON)"),
        ('{"api_key": "x", "batch": []}', "no readable events (gzip, base64 or JSON)"),
        ('{"batch": [{"properties": {}}]}', "event without a name"),
        ('{"batch": [1]}', "event 0 is not an object"),
    ],
)
def test_unreadable_hits_are_malformed(body: bytes | str, reason: str) -> None:
    (event,) = DECODER.decode(request("https://us.i.posthog.com/e/", body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_sinkhole_answers_ok() -> None:
    assert json.loads(DECODER.sinkhole_reply(request("https://us.i.posthog.com/e/")).body) == {"status": "Ok"}


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("posthog")
    assert len(recorded) >= 5
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None and named[0] == "posthog-js", path.name
        assert pinned_versions().get(named[0]) == named[1], f"{path.name}: recorded with {named}"


def test_recordings_decode_every_call_once_with_gzip_and_json_bodies() -> None:
    recorded = npm_recorded("posthog")
    assert any("body_base64" in data["request"] for _, data in recorded), "gzip-js bodies recorded as sent"
    registry = DecoderRegistry([DECODER])
    by_scenario: dict[str, list[str]] = {}
    for path, data in recorded:
        scenario = path.name.split("-0")[0]
        by_scenario.setdefault(scenario, []).extend(e.event for e in registry.decode(fixture_request(data)))
    for scenario, names in by_scenario.items():
        assert sorted(names) == sorted(
            ["$pageview", "$identify", "Order Completed", "Add to Cart", "$groupidentify", "$create_alias"]
        ), scenario
