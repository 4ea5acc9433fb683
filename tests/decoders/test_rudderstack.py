"""RudderStack decoder: what the shared fixture test cannot say (claims, order against Segment, pins)."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.rudderstack import RudderstackDecoder
from harness.decoders.vendors.segment import SegmentDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

decoder = RudderstackDecoder()
LIBRARY = {"library": {"name": "RudderLabs JavaScript SDK", "version": "3.34.1"}}


def post(url: str, body: object, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body)
    return CapturedRequest(
        id="r1",
        method="POST",
        url=url,
        body=text.encode(),
        request_headers=headers or [("content-type", "application/json;charset=UTF-8")],
    )


def basic(write_key: str) -> tuple[str, str]:
    return ("authorization", "Basic " + base64.b64encode(f"{write_key}:".encode()).decode())


def message(**fields: object) -> dict[str, object]:
    return {"type": "track", "event": "Order Completed", "anonymousId": "a1", "context": LIBRARY, **fields}


# --- npm recordings ------------------------------------------------------------------------------


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("rudderstack")
    assert len(recorded) >= 10, "expected the analytics-js recordings under fixtures/rudderstack/npm-*.json"
    pins = pinned_versions()
    assert "@rudderstack/analytics-js" in pins
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None, f"{path.name}: source does not name package@version"
        package, version = named
        assert package == "@rudderstack/analytics-js"
        assert pins.get(package) == version, f"{path.name}: recorded with {package}@{version}, pinned {pins.get(package)}"


def test_recordings_cover_dataplane_batched_and_proxied_delivery() -> None:
    urls = {data["request"]["url"] for _, data in npm_recorded("rudderstack")}
    dataplane = "https://acmeshopbyx.dataplane.rudderstack.com/v1/"
    assert {dataplane + call for call in ("page", "track", "identify", "batch")} <= urls
    assert any(u.startswith("https://rs.example-shop.com/v1/") for u in urls)


def test_recorded_batch_carries_one_event_per_message_with_positions() -> None:
    batches = [d for p, d in npm_recorded("rudderstack") if p.name.startswith("npm-batching")]
    registry = DecoderRegistry([decoder])
    names = []
    for data in batches:
        events = registry.decode(fixture_request(data))
        assert [e.position for e in events] == list(range(len(events)))
        names += [e.event for e in events]
    assert names == ["page", "identify", "Order Completed", "Add to Cart", "group", "alias"]


def test_recorded_hits_are_claimed_by_rudderstack_in_either_registry_order() -> None:
    # Segment speaks the same protocol on /v1/<call>: it must leave every recorded RudderStack hit alone,
    # whichever decoder the registry asks first.
    segment = SegmentDecoder()
    for path, data in npm_recorded("rudderstack"):
        request = fixture_request(data)
        assert not segment.claims(request), path.name
        for order in ([decoder, segment], [segment, decoder]):
            claimant = DecoderRegistry(order).claimant(request)
            assert claimant is decoder, path.name


def test_segment_recordings_are_not_rudderstacks() -> None:
    for path, data in npm_recorded("segment"):
        assert not decoder.claims(fixture_request(data)), path.name


def test_a_data_plane_preflight_is_rudderstacks_whatever_the_registry_order() -> None:
    # segment.py answers body-less CORS preflight probes on custom hosts, but never on RudderStack's own.
    registry = DecoderRegistry.default()
    vendors = [d.vendor for d in registry.decoders]
    assert vendors.index("segment") < vendors.index("rudderstack"), "segment is asked first here"
    probe = CapturedRequest(
        id="p",
        method="POST",
        url="https://acme.dataplane.rudderstack.com/v1/track",
        request_headers=[("access-control-request-method", "POST"), ("access-control-request-headers", "authorization")],
    )
    claimant = DecoderRegistry.default().claimant(probe)
    assert claimant is not None and claimant.vendor == "rudderstack"


# --- claims --------------------------------------------------------------------------------------


def test_dataplane_hosts_are_claimed_by_path_and_other_paths_are_not() -> None:
    assert decoder.claims(post("https://acme.dataplane.rudderstack.com/v1/track", "{}"))
    assert decoder.claims(post("https://acme.dataplane.rudderstack.com/v1/batch", "{}"))
    assert decoder.surely_claims("acme.dataplane.rudderstack.com", "POST", "/v1/page")
    assert not decoder.claims(post("https://acme.dataplane.rudderstack.com/sourceConfig/", "{}"))
    assert not decoder.claims(post("https://acme.dataplane.rudderstack.com/v1/m", "{}"))
    assert not decoder.claims(CapturedRequest(id="g", method="GET", url="https://acme.dataplane.rudderstack.com/v1/track"))
    assert not decoder.claims(post("https://dataplane.rudderstack.com.evil.example/v1/track", "{}"))


def test_the_sdks_default_data_planes_are_claimed_by_host_whatever_the_library_says() -> None:
    # RudderStack's Python and Node SDKs (forks of Segment's) name Segment's libraries; their default data
    # planes (hosted.rudderlabs.com; api.rudderstack.com, the Python SDK's when no host is set) tell them.
    server_sdk = message(context={"library": {"name": "analytics-python", "version": "2.1.9"}})
    registry = DecoderRegistry.default()
    for host in ("hosted.rudderlabs.com", "api.rudderstack.com"):
        request = post(f"https://{host}/v1/batch", {"batch": [server_sdk]}, [basic("wk")])
        claimant = registry.claimant(request)
        assert claimant is not None and claimant.vendor == "rudderstack", host
    # Their control-plane paths are no hits.
    assert not decoder.claims(post("https://api.rudderstack.com/v2/sources", "{}"))
    assert registry.claimant(post("https://api.rudderstack.com/sourceConfig/", "{}")) is None


def test_every_rudderstack_sdk_library_name_is_rudderstacks_on_a_custom_host() -> None:
    # The mobile SDKs name themselves differently from the JavaScript SDK; Segment must leave them alone.
    registry = DecoderRegistry.default()
    for name in ("com.rudderstack.android.sdk.core", "rudder-ios-library", "RudderLabs JavaScript SDK"):
        body = {"batch": [message(context={"library": {"name": name}})]}
        claimant = registry.claimant(post("https://rs.example-shop.com/v1/batch", body, [basic("wk")]))
        assert claimant is not None and claimant.vendor == "rudderstack", name


def test_custom_host_needs_path_and_the_sdk_library_name() -> None:
    assert decoder.claims(post("https://rs.example-shop.com/v1/track", message(), [basic("wk")]))
    assert decoder.claims(post("https://rs.example-shop.com/rs/v1/batch", {"batch": [message()]}))
    # The path alone, a Segment message, a site's own API, or the library name on another path: not claimed.
    assert not decoder.claims(post("https://rs.example-shop.com/v1/track", message(context={})))
    segment_message = message(context={"library": {"name": "analytics.js"}}, writeKey="wk")
    assert not decoder.claims(post("https://rs.example-shop.com/v1/t", segment_message))
    assert not decoder.claims(post("https://rs.example-shop.com/v1/track", segment_message))
    assert not decoder.claims(post("https://shop.example-shop.com/api/v1/checkout", message()))
    assert not decoder.claims(post("https://rs.example-shop.com/v1/track", "not json"))
    assert not decoder.claims(post("https://rs.example-shop.com/v1/batch", {"batch": []}))
    assert not decoder.surely_claims("rs.example-shop.com", "POST", "/v1/track")


# --- decoding ------------------------------------------------------------------------------------


def test_write_key_comes_from_basic_auth() -> None:
    request = post("https://acme.dataplane.rudderstack.com/v1/track", message(), [basic("wkAuth")])
    [event] = decoder.decode(request)
    assert (event.vendor, event.event, event.account_id, event.params["type"]) == (
        "rudderstack",
        "Order Completed",
        "wkAuth",
        "track",
    )


def test_purchase_fields_and_identifiers() -> None:
    body = message(
        properties={"revenue": "10.5", "currency": "EUR", "order_id": "O-1"},
        context={**LIBRARY, "traits": {"email": "a" * 64, "phone": "+4912345"}},
        messageId="m-1",
    )
    [event] = decoder.decode(post("https://acme.dataplane.rudderstack.com/v1/track", body))
    assert (event.value, event.currency, event.transaction_id, event.event_id) == (10.5, "EUR", "O-1", "m-1")
    assert event.user_data == {"em": "sha256", "ph": "raw"}


def test_bad_batch_entries_become_malformed_events_in_place() -> None:
    body = {"batch": [{"type": "page", "anonymousId": "a"}, "junk", {"anonymousId": "a"}]}
    events = decoder.decode(post("https://acme.dataplane.rudderstack.com/v1/batch", body))
    assert [(e.event, e.malformed) for e in events] == [("page", False), ("(malformed)", True), ("(malformed)", True)]


def test_sinkhole_reply_is_the_data_plane_ok() -> None:
    reply = decoder.sinkhole_reply(post("https://acme.dataplane.rudderstack.com/v1/track", "{}"))
    assert (reply.status, reply.body) == (200, b"OK")


@settings(max_examples=150, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "event", "batch", "properties", "context", "traits", "messageId", "page", "url", "library"]
    ), inner, max_size=6),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())))
def test_decode_never_raises_and_always_says_something(body: bytes) -> None:
    request = CapturedRequest(id="f", method="POST", url="https://acme.dataplane.rudderstack.com/v1/batch", body=body)
    events = decoder.decode(request)
    assert events, "a claimed request decodes to at least one (possibly malformed) event"
    for event in events:
        assert event.vendor == "rudderstack"
        assert event.malformed == (event.malformed_reason is not None)
    assert decoder.claims(request)
    # On another host, claims never raises either.
    decoder.claims(request.model_copy(update={"url": "https://rs.example-shop.com/v1/batch"}))
