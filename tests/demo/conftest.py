from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.demo.server import DemoShop
from harness.demo.server_events import RecordingSender

CHROMIUM = os.environ.get("EVENTPATH_BROWSER", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP *.demo.test 127.0.0.1",
]


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
