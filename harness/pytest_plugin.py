"""The pytest plugin (entry point ``pytest11``): options in one ``eventpath`` group and fixtures that
drive runs. Scenario collection joins it when scenarios exist."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventpath", "eventpath: test the event path of paid-media tracking")
    group.addoption("--eventpath-device", default=None, help="Playwright device name for every run")
    group.addoption(
        "--eventpath-resolve", action="append", default=[], metavar="HOST=ADDR:PORT",
        help="send HOST (http and https) to a plain-HTTP server; repeatable",
    )
    group.addoption("--eventpath-live", action="store_true", help="forward tag hits instead of answering locally")
