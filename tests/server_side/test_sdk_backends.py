"""Real backends using Meta's and TikTok's official SDKs, routed through the capture proxy by the
environment alone: the proxy records their calls, the decoders read them as server events, and the
IDs they carry attribute them to the run whose browser twin shares them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid

import pytest

from harness.app_env import merge_env
from harness.app_process import AppProcess
from harness.attribution import belongs_to_run, run_keys
from harness.capture.proxy import CaptureProxy
from harness.checks.base import CheckContext
from harness.checks.server_side import (
    match_quality,
    server_freshness,
    server_match_quality,
    server_value_agrees,
)
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, DecodedEvent, RunResult
from harness.scenario import AppUnderTest
from tests.checks.hits import SHOP, THANK_YOU, Journey, meta_pixel_hit, scenario_for, tiktok_pixel_hit
from tests.server_side.conftest import backend_command, free_port, post_json, wait_for

pytest.importorskip("facebook_business")
pytest.importorskip("business_api_client")

FBCLID = "IwAR2backendTestFbclid0123456789"
TTCLID = "E.C.P.v2abcdEFGH1234"  # what tests.checks.hits' TikTok pixel hit carries


def start_backend(name: str, env: dict[str, str]) -> tuple[AppProcess, int]:
    port = free_port()
    """The backend, started by ``with``: it is stopped (its whole process group) when the block ends."""
    app = AppUnderTest(command=backend_command(name, port), port=port, startup_timeout_ms=20_000)
    return AppProcess(app, env), port


def decoded(registry: DecoderRegistry, request: CapturedRequest) -> list[DecodedEvent]:
    events = registry.decode(request)
    for event in events:
        event.request_id = request.id
    return events


def claim(
    proxy: CaptureProxy, result: RunResult, request: CapturedRequest, events: list[DecodedEvent]
) -> None:
    """What Harness._claim_server_hits does once the IDs matched: move the hit and its events into the run."""
    claimed = proxy.log.claim_unattributed(result.run_id, {request.id})
    assert [r.id for r in claimed] == [request.id]
    result.capture.requests.extend(claimed)
    for event in events:
        event.run_id, event.source = result.run_id, "server"
        result.events.append(event)


def test_meta_sdk_purchase_is_captured_decoded_and_attributed(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    event_id, order_id = f"evt-{uuid.uuid4().hex[:12]}", f"ORD-{uuid.uuid4().hex[:8]}"
    fbc = f"fb.1.{int(time.time() * 1000)}.{FBCLID}"
    fbp = f"fb.1.{int(time.time() * 1000)}.{uuid.uuid4().int % 10**10}"  # this browser's, not the other run's
    app, port = start_backend("meta_sdk_app.py", harness_env)
    with app:
        status, reply = post_json(
            f"http://127.0.0.1:{port}/purchase",
            {"event_id": event_id, "order_id": order_id, "value": 59.9, "currency": "EUR",
             "email": "Joe@Example.com", "fbc": fbc, "fbp": fbp,
             "page_url": THANK_YOU},
        )  # fmt: skip
    assert status == 200, (reply, app.output())
    assert reply["events_received"] == 1  # the sinkholed Graph API answered the SDK like Meta does

    request = wait_for(capture_proxy, lambda r: event_id in r.text)
    assert request.host == "graph.facebook.com" and request.source == "server" and request.tag_hit
    assert request.run_id is None  # no run's credentials: unattributed until claimed by its IDs
    (event,) = decoded(registry, request)
    assert (event.vendor, event.event, event.event_id, event.transaction_id) == (
        "meta_capi", "Purchase", event_id, order_id,
    )  # fmt: skip
    # facebook-business lower-cases the currency; server_value_agrees compares case-insensitively.
    assert (event.value, event.currency, event.source) == (59.9, "eur", "server")
    assert event.user_data["em"] == "sha256" and event.click_ids["fbclid"] == FBCLID

    # The browser twin (Pixel Purchase with the same eid) makes the run claim it; another run does not.
    journey = Journey(start=time.time() - 20)
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id=event_id))
    result = journey.result()
    assert belongs_to_run(run_keys(result), [event])
    other = Journey(start=time.time() - 20)
    other.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="evt-other-run"))
    assert not belongs_to_run(run_keys(other.result()), [event])

    claim(capture_proxy, result, request, [event])
    assert request.id not in {r.id for r in capture_proxy.unattributed()}
    ctx = CheckContext(scenario=scenario_for([], {}), result=result, ad_url=f"{SHOP}/?fbclid={FBCLID}")
    assert list(server_match_quality(ctx)) == []
    assert list(server_value_agrees(ctx)) == []
    assert list(server_freshness(ctx)) == []
    assert set(match_quality(event).present) >= {"fbc", "fbp", "em", "client_ip_address", "client_user_agent"}


def test_tiktok_sdk_purchase_is_routed_by_the_environment_alone(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    event_id = f"pay-{uuid.uuid4().hex[:12]}"
    email_sha = hashlib.sha256(b"joe@example.com").hexdigest()
    app, port = start_backend("tiktok_sdk_app.py", harness_env)
    with app:
        status, reply = post_json(
            f"http://127.0.0.1:{port}/purchase",
            {"event_id": event_id, "order_id": "ORD-77", "value": 30.0, "currency": "USD",
             "email_sha256": email_sha, "ttclid": TTCLID, "ttp": "2hQ9Zr1tE0Wf3yG1oP2mK8sL4vA",
             "page_url": THANK_YOU},
        )  # fmt: skip
    assert status == 200, (reply, app.output())
    assert reply["request_id"], reply  # the SDK read the sinkholed Business API answer

    request = wait_for(capture_proxy, lambda r: event_id in r.text)
    assert request.url == "https://business-api.tiktok.com/open_api/v1.3/pixel/track/"
    (event,) = decoded(registry, request)
    assert (event.vendor, event.event, event.event_id, event.value, event.currency) == (
        "tiktok_events_api", "CompletePayment", event_id, 30.0, "USD",
    )  # fmt: skip
    assert event.click_ids == {"ttclid": TTCLID} and event.user_data["email"] == "sha256"

    journey = Journey(start=time.time() - 20)
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, value=30.0, currency="USD", event_id=event_id))
    result = journey.result()
    assert belongs_to_run(run_keys(result), [event])
    claim(capture_proxy, result, request, [event])
    ctx = CheckContext(scenario=scenario_for([], {}), result=result, ad_url=f"{SHOP}/?ttclid={TTCLID}")
    assert list(server_match_quality(ctx)) == []
    assert list(server_value_agrees(ctx)) == []
    assert list(server_freshness(ctx)) == []


def test_tiktok_sdk_reads_the_proxy_only_through_the_shim(harness_env: dict[str, str]) -> None:
    """Why the shim exists: TikTok's SDK ignores HTTPS_PROXY and SSL_CERT_FILE, so without the shim its
    calls would go straight to TikTok and the harness would never see them. (Checked on the SDK's
    configuration, so that no test ever sends a request to the real API.)"""
    probe = "from business_api_client.configuration import Configuration as C; c = C(); print(c.proxy, c.ssl_ca_cert)"
    without = {k: v for k, v in harness_env.items() if k != "PYTHONPATH"}
    bare = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **without}, capture_output=True, text=True
    )
    assert bare.stdout.split() == ["None", "None"], bare.stderr
    env = merge_env(os.environ, harness_env)
    shimmed = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert shimmed.stdout.split() == [harness_env["HTTPS_PROXY"], harness_env["SSL_CERT_FILE"]], (
        shimmed.stderr
    )
