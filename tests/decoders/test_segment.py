"""Segment decoder: what the shared fixture test cannot say (claims on probes, replies, robustness, pins)."""

from __future__ import annotations

import base64
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.segment import SegmentDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

decoder = SegmentDecoder()


def post(url: str, body: object, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body)
    return CapturedRequest(
        id="r1", method="POST", url=url, body=text.encode(), request_headers=headers or [("content-type", "text/plain")]
    )


def basic(write_key: str) -> tuple[str, str]:
    return ("authorization", "Basic " + base64.b64encode(f"{write_key}:".encode()).decode())


# --- npm recordings ------------------------------------------------------------------------------


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("segment")
    assert len(recorded) >= 10, "expected the analytics-next recordings under fixtures/segment/npm-*.json"
    pins = pinned_versions()
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None, f"{path.name}: source does not name package@version"
        package, version = named
        assert pins.get(package) == version, f"{path.name}: recorded with {package}@{version}, pinned {pins.get(package)}"


def test_package_json_pins_exact_versions() -> None:
    for package, version in pinned_versions().items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} is not pinned exactly: {version}"


def test_recordings_cover_standard_batched_and_proxied_delivery() -> None:
    urls = {data["request"]["url"] for _, data in npm_recorded("segment")}
    assert {"https://api.segment.io/v1/t", "https://api.segment.io/v1/p", "https://api.segment.io/v1/i"} <= urls
    assert "https://events.eu1.segmentapis.com/v1/b" in urls
    assert any(u.startswith("https://seg.example-shop.com/v1/") for u in urls)


def test_recorded_batch_carries_one_event_per_message_with_positions() -> None:
    batches = [d for p, d in npm_recorded("segment") if p.name.startswith("npm-eu-batching")]
    registry = DecoderRegistry([decoder])  # only this vendor: others may be mid-edit
    names = []
    for data in batches:
        events = registry.decode(fixture_request(data))
        assert [e.position for e in events] == list(range(len(events)))
        names += [e.event for e in events]
    assert names == ["page", "identify", "Order Completed", "Add to Cart", "group", "alias"]


# --- claims --------------------------------------------------------------------------------------


def test_known_hosts_are_claimed_by_path_and_other_paths_are_not() -> None:
    assert decoder.claims(post("https://api.segment.io/v1/t", "{}"))
    assert decoder.claims(post("https://events.eu1.segmentapis.com/v1/batch", "{}"))
    assert not decoder.claims(post("https://api.segment.io/v1/m", '{"series": []}'))
    assert not decoder.claims(CapturedRequest(id="g", method="GET", url="https://api.segment.io/v1/t"))


def test_custom_host_needs_write_key_or_basic_auth() -> None:
    message = {"type": "track", "event": "Signup", "anonymousId": "a1"}
    assert not decoder.claims(post("https://cdp.example.com/v1/t", message))
    assert decoder.claims(post("https://cdp.example.com/v1/t", {**message, "writeKey": "wk"}))
    assert decoder.claims(post("https://cdp.example.com/v1/t", message, [basic("wk")]))


def test_custom_host_with_write_key_but_no_message_shape_is_not_claimed() -> None:
    assert not decoder.claims(post("https://cdp.example.com/v1/batch", {"writeKey": "wk", "items": []}))
    assert not decoder.claims(post("https://cdp.example.com/v1/t", {"writeKey": "wk", "type": "checkout"}))


def test_cors_preflight_probe_for_a_proxied_host_is_claimed() -> None:
    # The proxy asks about a preflight as the announced method with no body; analytics-next's
    # Authorization header is why there is a preflight at all.
    probe = CapturedRequest(
        id="p",
        method="POST",
        url="https://seg.example-shop.com/v1/t",
        request_headers=[("access-control-request-method", "POST"), ("access-control-request-headers", "authorization,content-type")],
    )
    assert decoder.claims(probe)
    site_api = probe.model_copy(update={"url": "https://seg.example-shop.com/api/orders"})
    assert not decoder.claims(site_api)


# --- decoding ------------------------------------------------------------------------------------


def test_write_key_comes_from_basic_auth_when_the_body_lacks_it() -> None:
    request = post("https://api.segment.io/v1/track", {"event": "Signed Up", "userId": "u1"}, [basic("wkAuth")])
    [event] = decoder.decode(request)
    assert (event.event, event.account_id, event.params["type"]) == ("Signed Up", "wkAuth", "track")


def test_value_prefers_revenue_then_value_then_total() -> None:
    def value_of(properties: dict[str, object]) -> float | None:
        message = {"type": "track", "event": "Order Completed", "writeKey": "k", "properties": properties}
        return decoder.decode(post("https://api.segment.io/v1/t", message))[0].value

    assert value_of({"revenue": "10.5", "value": 2, "total": 3}) == 10.5
    assert value_of({"value": 2, "total": 3}) == 2.0
    assert value_of({"total": "3"}) == 3.0
    assert value_of({"revenue": "n/a"}) is None


def test_hashed_and_raw_traits_are_told_apart() -> None:
    digest = "a" * 64
    message = {"type": "identify", "writeKey": "k", "userId": "u", "traits": {"email": digest, "phone": "+4912345"}}
    [event] = decoder.decode(post("https://api.segment.io/v1/i", message))
    assert event.user_data == {"em": "sha256", "ph": "raw"}


def test_batch_context_is_shared_by_its_messages() -> None:
    body = {
        "writeKey": "k",
        "context": {"page": {"url": "https://shop.test/?gclid=G1"}},
        "batch": [{"type": "page", "anonymousId": "a"}, {"type": "track", "event": "X", "anonymousId": "a"}],
    }
    events = decoder.decode(post("https://api.segment.io/v1/batch", body))
    assert [e.click_ids for e in events] == [{"gclid": "G1"}, {"gclid": "G1"}]
    assert [e.page_url for e in events] == ["https://shop.test/?gclid=G1"] * 2


def test_bad_batch_entries_become_malformed_events_in_place() -> None:
    body = {"writeKey": "k", "batch": [{"type": "page", "anonymousId": "a"}, "junk", {"anonymousId": "a"}]}
    events = decoder.decode(post("https://api.segment.io/v1/b", body))
    assert [(e.event, e.malformed) for e in events] == [("page", False), ("(malformed)", True), ("(malformed)", True)]


def test_sinkhole_reply_is_the_tracking_api_json() -> None:
    reply = decoder.sinkhole_reply(post("https://api.segment.io/v1/t", "{}"))
    assert (reply.status, reply.content_type, json.loads(reply.body)) == (200, "application/json", {"success": True})


def test_volatile_params_are_the_per_run_ids_and_clocks() -> None:
    assert {"messageId", "anonymousId", "timestamp", "sentAt"} <= decoder.volatile_params


@settings(max_examples=150, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "event", "batch", "writeKey", "properties", "context", "traits", "messageId", "page", "url"]
    ), inner, max_size=6),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())))
def test_decode_never_raises_and_always_says_something(body: bytes) -> None:
    request = CapturedRequest(id="f", method="POST", url="https://api.segment.io/v1/batch", body=body)
    events = decoder.decode(request)
    assert events, "a claimed request decodes to at least one (possibly malformed) event"
    for event in events:
        assert event.vendor == "segment"
        assert event.malformed == (event.malformed_reason is not None)


def test_a_preflight_probe_to_a_rudderstack_data_plane_is_not_segments() -> None:
    probe = CapturedRequest(
        id="p",
        method="POST",
        url="https://acmeshopbyx.dataplane.rudderstack.com/v1/track",
        request_headers=[("access-control-request-headers", "authorization,content-type")],
    )
    assert not SegmentDecoder().claims(probe)
    assert SegmentDecoder().claims(probe.model_copy(update={"url": "https://cdp.shop.example/v1/track"}))
