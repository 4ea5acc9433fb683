"""Fixtures shared across test folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.browser.launcher import BASE_ARGS

CHROMIUM = os.environ.get("EVENTPATH_BROWSER", "/usr/bin/chromium")
# The harness's own quiet, hermetic flags; the demo shop's browser tests reach it under its host names.
CHROMIUM_ARGS = [*BASE_ARGS, "--host-resolver-rules=MAP *.demo.test 127.0.0.1"]


@pytest.fixture(scope="session")
def sync_chromium() -> Iterator[Any]:
    """One sync-Playwright Chromium for the session: sync Playwright runs a loop in the main thread, so
    two of them cannot be open at once."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A gzip body as a test parameter must carry no timestamp: its bytes are the test's id, and two xdist
    workers collecting a second apart would see different tests (the session then stops)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        for value in callspec.params.values() if callspec else ():
            if _stamped_gzip(value):
                raise pytest.UsageError(f"{item.nodeid}: compress its gzip parameter with mtime=0 (a stable test id)")


def _stamped_gzip(value: object) -> bool:
    """A gzip member header (magic, deflate, no reserved flag bits) with a modification time set."""
    return (
        isinstance(value, bytes)
        and len(value) >= 18
        and value[:3] == b"\x1f\x8b\x08"
        and value[3] & 0xE0 == 0
        and value[4:8] != b"\0\0\0\0"
    )
