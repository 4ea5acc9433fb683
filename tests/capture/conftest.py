from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.engine import Harness
from harness.options import RunOptions
from tests.capture.site import CaptureTestSite

UNLOAD_HITS = 25


@pytest.fixture(scope="session")
def site() -> Iterator[CaptureTestSite]:
    with CaptureTestSite(unload_hits=UNLOAD_HITS) as server:
        yield server


@pytest.fixture(scope="session")
def harness(site: CaptureTestSite) -> Iterator[Harness]:
    with Harness(RunOptions(resolve=site.mappings(), navigation_timeout_ms=8_000)) as started:
        yield started
