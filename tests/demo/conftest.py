from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.demo.server import DemoShop
from harness.demo.server_events import RecordingSender


@pytest.fixture(scope="module")
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture(scope="module")
def shop(sender: RecordingSender) -> Iterator[DemoShop]:
    with DemoShop(sender=sender) as running:
        yield running


@pytest.fixture(scope="session")
def demo_browser(sync_chromium: Any) -> Any:
    return sync_chromium
