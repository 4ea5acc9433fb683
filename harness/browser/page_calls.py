"""Calls into a page that cannot hang a run.

Playwright's ``evaluate`` and ``Locator.count`` wait as long as the page takes to answer, and a page whose
main thread never yields (an endless loop in a tag, a script task of minutes on a throttled CPU) never
does: one such page would hold its run, and the suite behind it, forever. Every call the harness itself
makes into a page goes through ``bounded``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

T = TypeVar("T")

# How long a page may take to answer the probe after a failed step before it counts as hung.
PROBE_TIMEOUT_MS = 5_000


class PageUnresponsive(PlaywrightError):
    """The page's main thread did not answer in time. A ``PlaywrightError``, as the step failures are."""


def unresponsive_message(timeout_ms: float) -> str:
    return (
        f"the page stopped answering: its main thread was busy for more than {timeout_ms:.0f} ms "
        "(an endless loop or a very long task in a script); hits sent before are kept"
    )


async def bounded(call: Awaitable[T], timeout_ms: float) -> T:
    """``await call``, or raise ``PageUnresponsive`` after ``timeout_ms`` (the call is abandoned)."""
    try:
        return await asyncio.wait_for(call, timeout_ms / 1000)
    except TimeoutError:
        raise PageUnresponsive(unresponsive_message(timeout_ms)) from None


async def answers(page: Page, timeout_ms: float = PROBE_TIMEOUT_MS) -> bool:
    """False when the page's main thread does not run a trivial script within ``timeout_ms``."""
    try:
        await bounded(page.evaluate("1"), timeout_ms)
    except PageUnresponsive:
        return False
    except PlaywrightError:
        pass  # closed, crashed or navigating: not hung (a crash is reported as such)
    return True
