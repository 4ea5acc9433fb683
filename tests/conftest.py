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
