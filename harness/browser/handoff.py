"""App hand-offs by script: a deep-link page (Branch, AppsFlyer OneLink, a shop's "open in app") sends the
browser to ``intent://``, ``market://``, ``itms-apps://`` or an app's own scheme with ``location = ...``.

A browser does not follow those, no request reaches the proxy, and Playwright reports no navigation, so the
chain would end on the deep-link page as if the click had stopped there. Chromium tells the request over
CDP (``Page.frameRequestedNavigation``); this watches the landing page's main frame for it. Other engines
have no CDP: there the watch sees nothing, as before.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from harness.urls import is_app_url


class AppHandoffWatch:
    """The app URLs the page's scripts asked the main frame to open, each with when (epoch seconds)."""

    def __init__(self) -> None:
        self.requested: list[tuple[str, float]] = []
        self.handed = asyncio.Event()  # set at the first: a page that hands off before its load never loads
        self._main_frame: str | None = None

    @classmethod
    async def start(cls, context: BrowserContext, page: Page) -> AppHandoffWatch:
        watch = cls()
        try:
            session = await context.new_cdp_session(page)
            answers = await asyncio.gather(session.send("Page.getFrameTree"), session.send("Page.enable"))
        except PlaywrightError:
            return watch  # not Chromium: no CDP
        tree: dict[str, Any] = answers[0]
        watch._main_frame = tree["frameTree"]["frame"]["id"]
        session.on("Page.frameRequestedNavigation", watch._requested)
        return watch

    def _requested(self, event: dict[str, Any]) -> None:
        url = event.get("url") or ""
        if event.get("frameId") == self._main_frame and is_app_url(url):
            self.requested.append((url, time.time()))
            self.handed.set()

    def first_before(self, moment: float) -> str | None:
        """The first app URL asked for before ``moment``: the landing's hand-off, not a later button's."""
        return next((url for url, at in self.requested if at <= moment), None)
