"""Page speed as the landing page saw it (TTFB, LCP, DOMContentLoaded, load) and how long after the click
the tags spoke: the numbers behind "users leave before tags fire".

``MetricsRecorder.install(context)`` before the first navigation: every top-level document then reports its
navigation timing at load and each LCP update through a binding, off the run's critical path (no wait for
the paint that reports LCP). ``mark_landing(page)`` once the landing page has settled names the document
that is the landing; ``landing()`` reads its numbers at the end of the run. LCP stops updating at the first
click or key press, so it is the page's own LCP as the browser defines it. The timing functions below are
pure: they read a ``RunResult``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from harness.browser.page_calls import PROBE_TIMEOUT_MS, PageUnresponsive, bounded
from harness.models import DecodedEvent, PageMetrics, RunResult

BINDING = "__eventpath_report_metrics"

# Runs in every document before its scripts; top frame only (an ad iframe's LCP is not the page's). The
# document is named by its timeOrigin. The binding is looked up at call time: Playwright installs it
# beside, not necessarily before, this script.
_INSTALL = """((binding) => {
  if (window !== window.top || window.__eventpath_metrics) return;
  window.__eventpath_metrics = true;
  const nav = () => performance.getEntriesByType('navigation')[0];
  const since = (t) => { const n = nav(); return t > 0 ? Math.max(0, t - ((n && n.activationStart) || 0)) : null; };
  const report = (values) => {
    try { window[binding](Object.assign({ document: performance.timeOrigin }, values)); } catch (e) {}
  };
  try {
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      if (entries.length) report({ lcp_ms: since(entries[entries.length - 1].startTime) });
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } catch (e) {}
  addEventListener('load', () => {
    const n = nav();
    if (n) report({ ttfb_ms: since(n.responseStart), dom_content_loaded_ms: since(n.domContentLoadedEventStart),
                    load_ms: since(n.loadEventStart) });
  });
})(%s);"""

_DOCUMENT = "() => performance.timeOrigin"


class MetricsRecorder:
    """What each top-level document of one context reported, by document; which one is the landing."""

    def __init__(self) -> None:
        self._documents: dict[float, dict[str, float]] = {}
        self._landing: float | None = None
        self._reported = asyncio.Event()

    @classmethod
    async def install(cls, context: BrowserContext) -> MetricsRecorder:
        """Observe every page of ``context`` from its first byte (call before navigating)."""
        recorder = cls()
        await context.expose_binding(BINDING, recorder._report)
        await context.add_init_script(script=_INSTALL % f'"{BINDING}"')
        return recorder

    def _report(self, _source: Any, values: Any) -> None:
        if not isinstance(values, dict) or not isinstance(values.get("document"), int | float):
            return  # a page calling our binding with something else
        numbers = {k: _rounded(v) for k, v in values.items() if k in PageMetrics.model_fields}
        self._documents.setdefault(float(values["document"]), {}).update(
            {k: v for k, v in numbers.items() if v is not None}
        )
        self._reported.set()

    async def mark_landing(self, page: Page, timeout_ms: float = PROBE_TIMEOUT_MS) -> None:
        """The page's current document is the landing (call once it has settled). Raises
        ``PageUnresponsive`` when the page does not answer within ``timeout_ms``."""
        try:
            document = await bounded(page.evaluate(_DOCUMENT), timeout_ms)
        except PageUnresponsive:
            raise
        except PlaywrightError:
            return  # crashed or navigating: no landing document to name
        if isinstance(document, int | float):
            self._landing = float(document)

    def landing(self) -> PageMetrics | None:
        """The landing document's numbers as reported so far; None when no landing was named."""
        if self._landing is None:
            return None
        return PageMetrics(**self._documents.get(self._landing, {}))

    async def wait_for_landing(
        self, ready: Callable[[PageMetrics | None], bool], timeout_s: float
    ) -> PageMetrics | None:
        """The landing's numbers once ``ready(metrics)`` holds, or as they are at ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not ready(self.landing()) and loop.time() < deadline:
            self._reported.clear()
            try:
                await asyncio.wait_for(self._reported.wait(), deadline - loop.time())
            except TimeoutError:
                break
        return self.landing()


def _rounded(value: object) -> float | None:
    return round(float(value), 1) if isinstance(value, int | float) else None


# --- click to hit -------------------------------------------------------------------------------

# Page view events by vendor, compared case-insensitively without "_" or spaces: GA4/Snowplow page_view,
# UA/LinkedIn/X pageview, Meta PageView, TikTok Pageview, Snapchat PAGE_VIEW, UET pageLoad, Pinterest
# pagevisit, Reddit PageVisit, Segment page.
PAGE_VIEW_NAMES = frozenset({"pageview", "pageload", "pagevisit", "page"})


def is_page_view(event: DecodedEvent) -> bool:
    """True when the event is its vendor's page view (never a malformed one: the platform drops it)."""
    if event.malformed or event.source != "browser":
        return False
    return event.event.lower().replace("_", "").replace(" ", "") in PAGE_VIEW_NAMES


def _sent_at(result: RunResult, event: DecodedEvent) -> float | None:
    request = next((r for r in result.capture.requests if r.id == event.request_id), None)
    return request.started_at if request is not None else None


def _ms_after_click(result: RunResult, at: float | None) -> float | None:
    return None if at is None else round((at - result.capture.started_at) * 1000, 1)


def time_to_first_hit_ms(result: RunResult) -> float | None:
    """Milliseconds from the click (the run's start) to the first tag hit the browser sent; None if none."""
    hits = [r.started_at for r in result.capture.tag_hits if r.source == "browser"]
    return _ms_after_click(result, min(hits)) if hits else None


def page_view_times(result: RunResult) -> list[tuple[DecodedEvent, float]]:
    """Each page view event with the epoch time its request left the browser, earliest first."""
    timed = [(e, _sent_at(result, e)) for e in result.events if is_page_view(e)]
    return sorted(((e, at) for e, at in timed if at is not None), key=lambda pair: pair[1])


def time_to_page_view_ms(result: RunResult, vendor: str | None = None) -> float | None:
    """Milliseconds from the click to the first page view (of ``vendor``, or of any vendor); None if none."""
    times = [at for event, at in page_view_times(result) if vendor is None or event.vendor == vendor]
    return _ms_after_click(result, times[0]) if times else None
