"""A backend uploading offline conversions with Microsoft Advertising's own Python SDK (``bingads``), through
the capture proxy: each SOAP call to the Campaign Management service is answered locally as the service
would (the SDK parses the answer and reads its tracking ID), recorded as a server hit and decoded once per
conversion, with the account, value, currency, click ID and identifier forms, and no credential copied.

The backend is routed by the environment alone: the SDK's SOAP client (suds) turns ``HTTPS_PROXY`` off (it
installs ``ProxyHandler({})``), and the environment's Python shim (``harness.app_env``) turns it back on;
without the shim these uploads would go to Microsoft. ``SSL_CERT_FILE`` it reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from harness.app_env import merge_env
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest
from tests.server_side.conftest import BACKENDS, hits_carrying

pytest.importorskip("bingads")

PATH = "/Api/Advertiser/CampaignManagement/v13/CampaignManagementService.svc"
HOSTS = {
    "production": "campaign.api.bingads.microsoft.com",
    "sandbox": "campaign.api.sandbox.bingads.microsoft.com",
}
METHODS = ["ApplyOfflineConversions", "ApplyOfflineConversionAdjustments", "ApplyOnlineConversionAdjustments"]


def bingads_hits(
    proxy: CaptureProxy, env: dict[str, str], *args: str
) -> tuple[str, subprocess.CompletedProcess[str], list[CapturedRequest]]:
    """Run the SDK's three calls (tagged with a fresh token); return them and the backend requests that carry it."""
    token = f"ORD-{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [sys.executable, str(BACKENDS / "bingads_client.py"), token, *args],
        env=merge_env(os.environ, env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return token, done, hits_carrying(proxy, token, len(METHODS))


@pytest.mark.parametrize("environment", ["production", "sandbox"])
def test_bingads_offline_conversion_uploads_are_answered_and_decoded_once_per_conversion(
    capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry, environment: str
) -> None:
    args = ["--sandbox"] if environment == "sandbox" else []
    token, done, hits = bingads_hits(capture_proxy, harness_env, *args)
    # The SDK raised on no answer it could not read, and printed the tracking ID of the last one.
    assert done.returncode == 0, f"{done.stdout}{done.stderr}"
    assert "tracking id: " in done.stdout and "tracking id: None" not in done.stdout, done.stdout
    assert [(h.method, h.host, h.path) for h in hits] == [("POST", HOSTS[environment], PATH)] * 3
    assert [(h.header("soapaction") or "").strip('"') for h in hits] == METHODS
    assert all(h.tag_hit and h.sinkholed and h.source == "server" and h.status == 200 for h in hits)
    assert all((h.response_header("content-type") or "").startswith("text/xml") for h in hits)

    events = [event for hit in hits for event in registry.decode(hit)]
    assert not [e for e in events if e.malformed], [e.malformed_reason for e in events]
    assert [(e.vendor, e.event, e.params["method"]) for e in events] == [
        ("bing_uet", "conversion", "ApplyOfflineConversions"),
        ("bing_uet", "conversion", "ApplyOfflineConversions"),
        ("bing_uet", "conversion_adjustment", "ApplyOfflineConversionAdjustments"),
        ("bing_uet", "conversion_adjustment", "ApplyOnlineConversionAdjustments"),
    ]
    assert {(e.account_id, e.params["customer_id"], e.source) for e in events} == {
        ("180535609", "251186883", "server")
    }
    first, second, restatement, retraction = events
    assert (first.value, first.currency, first.transaction_id) == (49.95, "EUR", None)
    assert first.click_ids == {"msclkid": "6e1f4b2c9d3a4e5f8a7b6c5d4e3f2a1b"}
    assert first.user_data == {"em": "sha256", "ph": "sha256"}
    assert first.params["hashed_emails"] == [
        "2481f36dfc515ca76451aaadf1399026942a01ee50c6d0a61988b43cef039bc2"
    ]
    assert first.params["ConversionName"] == f"Offline purchase {token}"
    assert first.params["ConversionTime"] == "2026-12-03T12:32:45Z"
    assert (first.params["ExternalAttributionCredit"], first.params["ExternalAttributionModel"]) == (
        "0.6",
        "data-driven",
    )
    assert (second.value, second.currency, second.user_data) == (None, None, {})
    assert (
        second.click_ids == {"msclkid": "a1b2c3d4e5f60718293a4b5c6d7e8f90"}
        and "hashed_emails" not in second.params
    )
    assert (restatement.value, restatement.currency, restatement.params["AdjustmentType"]) == (
        39.95,
        "EUR",
        "Restate",
    )
    assert (retraction.transaction_id, retraction.params["AdjustmentType"]) == (token, "Retract")
    assert retraction.click_ids == {}
    for event in events:
        assert (
            event.params["authentication_token_present"] is True
            and event.params["developer_token_present"] is True
        )
        assert "bingads-sdk-test" not in event.model_dump_json()  # the credentials are never copied
        assert (event.params.get("environment") == "sandbox") is (environment == "sandbox")
