from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.engine import Harness
from harness.options import RunOptions
from tests.robustness.site import GarbageServer, HostileSite, mappings

# Short timeouts: every hostile case must end in seconds, not in the defaults meant for real sites.
NAVIGATION_TIMEOUT_MS = 2_500
CAPTURE_TIMEOUT_MS = 3_000


@pytest.fixture(scope="session")
def hostile_site() -> Iterator[HostileSite]:
    with HostileSite() as server:
        yield server


@pytest.fixture(scope="session")
def garbage_server() -> Iterator[GarbageServer]:
    with GarbageServer() as server:
        yield server


@pytest.fixture(scope="session")
def hostile_harness(hostile_site: HostileSite, garbage_server: GarbageServer) -> Iterator[Harness]:
    options = RunOptions(
        resolve=mappings(hostile_site, garbage_server),
        navigation_timeout_ms=NAVIGATION_TIMEOUT_MS,
        capture_timeout_ms=CAPTURE_TIMEOUT_MS,
    )
    with Harness(options) as started:
        yield started


@contextmanager
def normal_timeouts(harness: Harness) -> Iterator[None]:
    """For a test about something else than timeouts: on a busy 2-core machine (the suite runs on two
    workers) a heavy page or four contexts at once can outlast the short timeouts the timeout tests share."""
    short = harness.options
    harness.options = short.model_copy(update={"navigation_timeout_ms": 15_000, "capture_timeout_ms": 15_000})
    try:
        yield
    finally:
        harness.options = short
