"""Node backends calling vendors with their own SDKs (Meta's facebook-nodejs-business-sdk, RudderStack's
rudder-sdk-node), routed through the capture proxy by the environment alone: answered locally as the vendor
would (the SDK reads the answer), recorded as a server hit and decoded exactly once.

The SDKs are installed from npm (``tests/server_side/node_backends``, pinned in its package-lock); .ci/run
installs them. Locally the tests skip without them (``cd tests/server_side/node_backends && npm ci``); in CI
they fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from harness.app_env import merge_env
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest
from tests.server_side.conftest import hits_carrying

NODE_BACKENDS = Path(__file__).parent / "node_backends"


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    missing = node is None or not (NODE_BACKENDS / "node_modules").is_dir()
    if missing:
        message = "Node or the SDKs are missing: cd tests/server_side/node_backends && npm ci"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them (.ci/run): missing there is a broken build, not a skip
        pytest.skip(message)
    assert node is not None
    return node


def node_hits(node: str, proxy: CaptureProxy, env: dict[str, str], sdk: str) -> tuple[str, list[CapturedRequest]]:
    token = f"ORD-{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [node, str(NODE_BACKENDS / "send.js"), sdk, token],
        env=merge_env(os.environ, env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{sdk}: {done.stdout}{done.stderr}"
    return token, hits_carrying(proxy, token)


def test_metas_node_sdk_purchase_is_answered_and_decoded_once(
    node: str, capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    token, hits = node_hits(node, capture_proxy, harness_env, "meta")
    assert [(h.host, h.path) for h in hits] == [("graph.facebook.com", hits[0].path)] and hits[0].path.endswith(
        "/1402533720264604/events"
    )
    (event,) = registry.decode(hits[0])
    assert (event.vendor, event.event, event.event_id, event.transaction_id) == (
        "meta_capi", "Purchase", f"evt-{token}", token,
    )  # fmt: skip
    # The Node SDK upper-cases the currency it was given (the Python SDK lower-cases it): sent as the SDK sends it.
    assert (event.value, event.currency, event.source) == (64.5, "EUR", "server")
    assert event.user_data.get("em") == "sha256" and event.click_ids.get("fbclid") == "IwAR2nodeSdkTestFbclid"


def test_rudderstacks_node_sdk_batch_to_its_default_data_plane_is_rudderstacks(
    node: str, capture_proxy: CaptureProxy, harness_env: dict[str, str], registry: DecoderRegistry
) -> None:
    token, hits = node_hits(node, capture_proxy, harness_env, "rudderstack")
    assert [(h.host, h.path) for h in hits] == [("hosted.rudderlabs.com", "/v1/batch")]
    (event,) = registry.decode(hits[0])
    assert (event.vendor, event.event, event.transaction_id, event.value, event.currency) == (
        "rudderstack", "Order Completed", token, 42.0, "USD",
    )  # fmt: skip
