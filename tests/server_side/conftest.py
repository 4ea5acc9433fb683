"""Fixtures for server-side tests: a started capture proxy (backend port), the app environment for it,
and small helpers to talk to backends without any proxy of the test's own."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.app_env import app_environment
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest

BACKENDS = Path(__file__).parent / "backends"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_json(url: str, body: dict[str, Any], timeout: float = 20.0) -> tuple[int, dict[str, Any]]:
    """POST straight to a local backend (never through a proxy the test's environment may name)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_for(
    proxy: CaptureProxy, matches: Callable[[CapturedRequest], bool], timeout: float = 10.0
) -> CapturedRequest:
    """The first unattributed (backend) request that ``matches``, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in proxy.unattributed() if matches(r)]
        if found:
            return found[0]
        time.sleep(0.05)
    seen = [f"{r.method} {r.url}" for r in proxy.unattributed()]
    raise AssertionError(f"no matching backend request reached the proxy; it saw {seen}")


def hits_carrying(
    proxy: CaptureProxy, token: str, expected: int = 1, timeout: float = 10.0
) -> list[CapturedRequest]:
    """The unattributed (backend) requests whose URL or body carries ``token``, in arrival order, once
    ``expected`` of them are in or ``timeout`` passed: the proxy records a request once its answer went
    out, and the backend that sent it may have exited before."""
    deadline = time.monotonic() + timeout
    while True:
        hits = [r for r in proxy.unattributed() if token in r.url or token in r.text]
        if len(hits) >= expected or time.monotonic() > deadline:
            return sorted(hits, key=lambda r: r.seq)
        time.sleep(0.05)


def backend_command(name: str, port: int) -> list[str]:
    return [sys.executable, str(BACKENDS / name), "--port", str(port)]


@pytest.fixture(scope="session")
def registry() -> DecoderRegistry:
    return DecoderRegistry.default()


@pytest.fixture(scope="module")
def capture_proxy(registry: DecoderRegistry) -> Iterator[CaptureProxy]:
    with CaptureProxy(registry.sinkhole_reply) as proxy:
        yield proxy


@pytest.fixture
def harness_env(capture_proxy: CaptureProxy, tmp_path: Path) -> dict[str, str]:
    return app_environment(capture_proxy.server_url, capture_proxy.ca.cert_path, tmp_path / "bundle")
