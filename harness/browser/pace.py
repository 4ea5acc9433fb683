"""A person's pace: what a page has set off leaves it before a step may unload it.

A journey acts within milliseconds of the step before; a person takes a second. The hits a step sets off
(the page view a consent banner's "accept" releases, a product page's ``view_item`` on load) then race the
next click's navigation, and Chromium cancels whatever has not left with the document: an image ping still
waiting for its tunnel, a vendor script still loading and the pixel it would have sent. Those losses are
the harness's speed, not the site's; a test that reports them is flaky and wrong. So before a step that may
unload its page, the journey waits for the page's requests to be answered and for it to fall quiet.

Loss within one step (a click whose handler fires a pixel and navigates at once) stays the site's: it is
not waited for, and a person would lose that hit too.
"""

from __future__ import annotations

import asyncio
import time
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Response

# This long after the last answer that hands the page code or data to act on (a vendor script loaded, an
# API call answered), its scripts have had their turn to send what they send (the script's pixel).
QUIET_S = 0.1
# Answers that hand the page something to run or act on. An image or a beacon answered releases nothing:
# waiting a quiet window after each pixel would only slow every step.
_RELEASES_SCRIPT = frozenset({"document", "script", "xhr", "fetch", "eventsource", "other"})
# A request still open after this long is no hit on its way out but a slow or endless one (a long poll, an
# event stream): a person would not wait for it either. Also the most one wait lasts (a page that never
# falls quiet: a heartbeat, a carousel).
PATIENCE_S = 2.0


class RequestsInFlight:
    """The requests of one page (its frames included) that the browser has started and not yet seen
    answered, and when the page was last handed something to run."""

    def __init__(self, page: Page) -> None:
        # No reference to the page itself: the page keys this watch in a WeakKeyDictionary, which a value
        # holding its key would keep alive (one page and watch per run, for the whole suite).
        self._closed = page.is_closed()
        self._open: dict[Request, float] = {}
        self._last_activity = 0.0
        self._changed = asyncio.Event()
        page.on("close", self._close)
        page.on("request", self._started)
        page.on("response", self._answered)
        page.on("requestfailed", self._ended)
        page.on("requestfinished", self._ended)  # a script runs once its body is in, after its answer began

    def _close(self, _page: Page) -> None:
        self._closed = True
        self._open.clear()
        self._changed.set()

    def _started(self, request: Request) -> None:
        if not _is_page_document(request):  # the page's own document is the load's to wait for
            self._open[request] = time.monotonic()
            self._changed.set()

    def _answered(self, response: Response) -> None:
        self._ended(response.request)

    def _ended(self, request: Request) -> None:
        self._open.pop(request, None)
        if request.resource_type in _RELEASES_SCRIPT:
            self._last_activity = time.monotonic()
        self._changed.set()

    async def calm(self, quiet_s: float = QUIET_S, patience_s: float = PATIENCE_S) -> float:
        """Wait until no request started in the last ``patience_s`` is open and none that releases scripts
        was answered in the last ``quiet_s``, at most ``patience_s``; return the seconds waited."""
        began = time.monotonic()
        deadline = began + patience_s
        while not self._closed:
            now = time.monotonic()
            for request, started in list(self._open.items()):
                if now - started >= patience_s:
                    del self._open[request]  # slow or endless: no longer waited for (see PATIENCE_S)
            if self._open:
                wake = min(self._open.values()) + patience_s
            elif now - self._last_activity < quiet_s:
                wake = self._last_activity + quiet_s
            else:
                break
            if now >= deadline:
                break
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(wake, deadline) - now)
            except TimeoutError:
                pass
        return time.monotonic() - began


def _is_page_document(request: Request) -> bool:
    if not request.is_navigation_request():
        return False
    try:
        return request.frame.parent_frame is None
    except PlaywrightError:
        return True  # a popup's first document, requested before its frame exists


_WATCHES: WeakKeyDictionary[Page, RequestsInFlight] = WeakKeyDictionary()


def requests_in_flight(page: Page) -> RequestsInFlight:
    """The page's watch, started on first use: start it with the page to see everything it sends."""
    watch = _WATCHES.get(page)
    if watch is None:
        watch = _WATCHES[page] = RequestsInFlight(page)
    return watch


def watch_page(page: Page) -> None:
    """Start watching ``page`` now (a context's ``page`` handler: popups are watched from their start)."""
    requests_in_flight(page)
