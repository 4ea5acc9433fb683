"""Page speed as the landing page saw it (TTFB, LCP, DOMContentLoaded, load) and how long after the click
the tags spoke: the numbers behind "users leave before tags fire".

``install_metrics(context)`` before the first navigation, ``read_metrics(page)`` once the landing page has
settled (LCP stops updating at the first click or key press, so read it before the journey). The timing
functions below are pure: they read a ``RunResult``.
"""

from __future__ import annotations

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from harness.models import DecodedEvent, PageMetrics, RunResult

# Runs in every document before its scripts; top frame only (an ad iframe's LCP is not the page's).
_INSTALL = """(() => {
  if (window !== window.top || window.__eventpath_metrics) return;
  const metrics = window.__eventpath_metrics = { lcp: null, lcpUpdatedAt: null };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) metrics.lcp = entry.startTime;
      metrics.lcpUpdatedAt = performance.now();
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } catch (e) { metrics.lcpUnsupported = String(e); }
})();"""

# LCP entries are queued to the observer after the paint that produced them, a frame or two after load:
# wait for two animation frames (a paint and its report), then for a first entry, all within a bound (a
# frame is capped at 50 ms: a hidden page never paints).
_READ = """async (boundMs) => {
  const metrics = window.__eventpath_metrics || {};
  const deadline = performance.now() + boundMs;
  const frame = () => new Promise((done) => {
    const cap = setTimeout(done, 50);
    requestAnimationFrame(() => { clearTimeout(cap); setTimeout(done, 0); });
  });
  await frame();
  await frame();
  const nav = performance.getEntriesByType('navigation')[0];
  // The entry of an element painted with the load event (a late hero image) is reported a frame or
  // more after it: wait until 150 ms after load passed with no LCP update for 100 ms, within the bound.
  const loadEnd = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : performance.now();
  const unsettled = () => metrics.lcp == null || performance.now() - loadEnd < 150
    || performance.now() - (metrics.lcpUpdatedAt || 0) < 100;
  while (unsettled() && performance.now() < deadline) await frame();
  const since = (t) => (nav && t > 0 ? Math.max(0, t - (nav.activationStart || 0)) : null);
  return {
    ttfb_ms: nav ? since(nav.responseStart) : null,
    dom_content_loaded_ms: nav ? since(nav.domContentLoadedEventStart) : null,
    load_ms: nav ? since(nav.loadEventStart) : null,
    lcp_ms: metrics.lcp == null ? null : since(metrics.lcp) ?? metrics.lcp,
  };
}"""

LCP_SETTLE_BOUND_MS = 300


async def install_metrics(context: BrowserContext) -> None:
    """Observe LCP in every page of ``context`` from its first byte (call before navigating)."""
    await context.add_init_script(script=_INSTALL)


async def read_metrics(page: Page, settle_bound_ms: int = LCP_SETTLE_BOUND_MS) -> PageMetrics:
    """The current document's metrics; all None when the page cannot be read (crashed, about:blank)."""
    try:
        values = await page.evaluate(_READ, settle_bound_ms)
    except PlaywrightError:
        return PageMetrics()
    return PageMetrics(**{k: _rounded(v) for k, v in (values or {}).items() if k in PageMetrics.model_fields})


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
