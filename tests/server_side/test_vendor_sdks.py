"""Backends calling vendors with their own Python SDKs (Segment's, RudderStack's, Snowplow's tracker, the
GA4 Measurement Protocol client ``ga4mp``, Pinterest's and Snap's Conversions API SDKs, Google's
``google-ads`` client over gRPC), routed through the capture
proxy by the environment alone: each call is answered locally as the vendor would (the SDK reads the
answer), recorded as a server hit and decoded exactly once, with its value, currency and order ID. The
SDKs send what they really send: gzip-compressed batches, Snowplow's payload-data POST and its GET
pixel, Measurement Protocol JSON, an OpenAPI-generated client's JSON, gRPC-framed protobuf. (Meta's and TikTok's SDKs:
test_sdk_backends.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from harness.app_env import merge_env
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, DecodedEvent
from tests.server_side.conftest import BACKENDS, hits_carrying

pytest.importorskip("segment.analytics")
pytest.importorskip("rudderstack.analytics")
pytest.importorskip("snowplow_tracker")
pytest.importorskip("ga4mp")
pytest.importorskip("pinterest")
pytest.importorskip("snap_business_sdk")
pytest.importorskip("google.ads.googleads")


def sdk_hits(
    proxy: CaptureProxy, env: dict[str, str], sdk: str, expected_hits: int
) -> tuple[str, list[CapturedRequest]]:
    """Run the SDK's calls (tagged with a fresh token) and return the backend requests that carry it."""
    token = f"ORD-{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [sys.executable, str(BACKENDS / "sdk_client.py"), sdk, token],
        env=merge_env(os.environ, env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{sdk}: {done.stdout}{done.stderr}"
    return token, hits_carrying(proxy, token, expected_hits)


def decoded_once(registry: DecoderRegistry, hits: list[CapturedRequest]) -> list[DecodedEvent]:
    events = [event for hit in hits for event in registry.decode(hit)]
    assert all(hit.tag_hit and hit.source == "server" for hit in hits), [(h.url, h.tag_hit) for h in hits]
    assert not [e for e in events if e.malformed], [e.malformed_reason for e in events]
    return events


@pytest.mark.parametrize(
    ("sdk", "host", "vendor"),
    [
        ("segment", "api.segment.io", "segment"),
        ("segment-gzip", "api.segment.io", "segment"),
        # The SDK's default data plane (no host set), and the one RudderStack's other SDKs default to.
        ("rudderstack", "api.rudderstack.com", "rudderstack"),
        ("rudderstack-hosted", "hosted.rudderlabs.com", "rudderstack"),
    ],
)
def test_a_segment_protocol_sdk_batch_decodes_each_call_once(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry, sdk: str, host: str, vendor: str
) -> None:
    token, hits = sdk_hits(capture_proxy, harness_env, sdk, expected_hits=1)
    assert [(h.host, h.path) for h in hits] == [(host, "/v1/batch")]
    if sdk in ("segment-gzip", "rudderstack"):  # RudderStack's SDK compresses by default
        assert hits[0].header("content-encoding") == "gzip"
    events = decoded_once(registry, hits)
    orders = [e for e in events if e.event == "Order Completed"]
    assert len(orders) == 1 and {e.vendor for e in events} == {vendor}, [(e.vendor, e.event) for e in events]
    (order,) = orders
    assert order.transaction_id == token and order.source == "server"
    assert (order.value, order.currency) == ((99.5, "EUR") if vendor == "segment" else (42.0, "USD"))
    assert order.event_id  # the SDK's messageId: what dedupes a retried batch
    if vendor == "segment":
        assert [e.event for e in events] == ["Order Completed", "identify"]
        assert order.click_ids.get("gclid") == "Cj0KCQsdkTestGclid"  # from context.page.url


@pytest.mark.parametrize("method", ["post", "get"])
def test_snowplow_python_tracker_events_decode_once(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry, method: str
) -> None:
    token, hits = sdk_hits(capture_proxy, harness_env, f"snowplow-{method}", expected_hits=2)
    assert {h.host for h in hits} == {"collector.shop.example"} and len(hits) == 2
    assert {h.method for h in hits} == {method.upper()}
    events = decoded_once(registry, hits)
    assert {e.vendor for e in events} == {"snowplow"} and len(events) == 2, [(e.vendor, e.event) for e in events]
    page_view, purchase = sorted(events, key=lambda e: e.event)
    assert page_view.event == "page_view" and page_view.click_ids.get("gclid") == "Cj0KCQsdkTestGclid"
    assert purchase.event == "purchase" and purchase.value == 12.5
    assert len({e.event_id for e in events}) == 2  # each event's own eid


def test_ga4_measurement_protocol_client_purchase_decodes_once(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    token, hits = sdk_hits(capture_proxy, harness_env, "ga4mp", expected_hits=1)
    assert [(h.host, h.path) for h in hits] == [("www.google-analytics.com", "/mp/collect")]
    (event,) = decoded_once(registry, hits)
    assert (event.vendor, event.event, event.transaction_id) == ("ga4_mp", "purchase", token)
    assert (event.value, event.currency, event.account_id) == (45.5, "EUR", "G-SDKTEST01")


def test_pinterest_conversions_sdk_is_routed_answered_and_decoded(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    # Pinterest's SDK is an OpenAPI-generated urllib3 client that reads neither HTTPS_PROXY nor
    # SSL_CERT_FILE: without the environment's Python shim its calls would go to Pinterest itself.
    token, hits = sdk_hits(capture_proxy, harness_env, "pinterest", expected_hits=1)
    assert [(h.host, h.path) for h in hits] == [("api.pinterest.com", "/v5/ad_accounts/549755885175/events")]
    (event,) = decoded_once(registry, hits)
    assert (event.vendor, event.event, event.event_id, event.transaction_id) == (
        "pinterest", "checkout", f"evt-{token}", token,
    )  # fmt: skip
    assert (event.value, event.currency, event.account_id) == (72.5, "USD", "549755885175")
    assert event.user_data.get("em") == "sha256"


def test_snap_conversions_sdk_is_routed_answered_and_decoded(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    token, hits = sdk_hits(capture_proxy, harness_env, "snap", expected_hits=1)
    assert [(h.host, h.path) for h in hits] == [("tr.snapchat.com", "/v2/conversion")]
    (event,) = decoded_once(registry, hits)
    assert (event.vendor, event.event, event.transaction_id, event.event_id) == (
        "snapchat", "PURCHASE", token, f"dedup-{token}",
    )  # fmt: skip
    assert (event.value, event.currency, event.click_ids) == (45.5, "EUR", {"ScCid": "snap-click-1"})
    assert event.user_data.get("em") == "sha256" and event.source == "server"


@pytest.mark.parametrize(
    "configuration",
    ["openapi_generated.pinterest_client.configuration", "snap_business_sdk.configuration"],
)
def test_openapi_generated_sdks_read_the_proxy_only_through_the_shim(
    harness_env: dict[str, str], configuration: str
) -> None:
    probe = f"from {configuration} import Configuration as C; c = C(); print(c.proxy, c.ssl_ca_cert)"
    without = {k: v for k, v in harness_env.items() if k != "PYTHONPATH"}
    bare = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **without}, capture_output=True, text=True)
    assert bare.stdout.split() == ["None", "None"], bare.stderr
    shimmed = subprocess.run(
        [sys.executable, "-c", probe], env=merge_env(os.environ, harness_env), capture_output=True, text=True
    )
    assert shimmed.stdout.split() == [harness_env["HTTPS_PROXY"], harness_env["SSL_CERT_FILE"]], shimmed.stderr


def test_google_ads_client_uploads_over_grpc_are_answered_and_decoded(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    # Google's own client speaks gRPC (HTTP/2, protobuf): its uploads are sinkholed with a gRPC answer the
    # client accepts (it checks one result per conversion), and read by field number.
    token, hits = sdk_hits(capture_proxy, harness_env, "google-ads", expected_hits=2)
    assert sorted(h.path.rpartition("/")[2] for h in hits) == ["UploadClickConversions", "UploadConversionAdjustments"]
    assert {h.host for h in hits} == {"googleads.googleapis.com"}
    assert all((h.header("content-type") or "").startswith("application/grpc") for h in hits)
    events = decoded_once(registry, hits)
    by_name = {e.event: e for e in events}
    assert sorted(by_name) == ["conversion", "conversion_adjustment"] and len(events) == 2
    conversion = by_name["conversion"]
    assert (conversion.vendor, conversion.account_id, conversion.transaction_id) == ("google_ads_api", "1234567890", token)
    assert (conversion.value, conversion.currency) == (23.4, "EUR")
    assert conversion.click_ids == {"gclid": "Cj0KCQsdkTestGclid"}
    assert conversion.user_data == {"em": "sha256"}
    assert (conversion.consent.ad_user_data, conversion.consent.ad_personalization) == ("granted", "denied")
    assert conversion.params["conversion_action"] == "customers/1234567890/conversionActions/987654321"
    assert conversion.params["transport"] == "grpc" and conversion.params["login_customer_id"] == "1112223333"
    assert conversion.params["developer_token_present"] is True and "sdk-test" not in str(conversion.params)
    adjustment = by_name["conversion_adjustment"]
    assert (adjustment.transaction_id, adjustment.value, adjustment.currency) == (token, 19.9, "EUR")
    assert adjustment.params["adjustment_type"] == "RESTATEMENT"
