"""The condition blocks in a real Chromium against a loopback site: throttling, metrics, in-app user
agents, consent answering and the content blocker."""

from __future__ import annotations

import statistics

import pytest
from playwright.async_api import Page

from harness.blocklists import parse_blocklist
from harness.browser.conditions import (
    ConsentNotAnswered,
    answer_consent,
    apply_blocker,
    apply_network,
    context_overrides,
)
from harness.browser.metrics import MetricsRecorder
from harness.decoders.registry import DecoderRegistry
from harness.scenario import ConsentSelectors, RunConditions
from tests.conditions.conftest import BrowserRunner, Site

pytestmark = pytest.mark.browser

# Time to fetch 20 KB from inside the page, in ms.
_TIMED_FETCH = """async () => {
  const t0 = performance.now();
  const body = await (await fetch('/blob?n=20000')).arrayBuffer();
  return [performance.now() - t0, body.byteLength];
}"""
_BUSY_LOOP = """() => { const t0 = performance.now(); let x = 0; for (let i = 0; i < 1e7; i++) x += Math.sqrt(i); return performance.now() - t0; }"""


async def _fetch_time(chromium: BrowserRunner, site: Site, conditions: RunConditions) -> tuple[float, float]:
    assert chromium.browser is not None
    context = await chromium.browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{site.url}/plain")
        # Throttled after landing only to keep the test short; the engine applies it before navigating.
        await apply_network(context, page, conditions)
        elapsed, size = await page.evaluate(_TIMED_FETCH)
        assert size == 20_000
        # The median of 5: Chromium throttles by pausing the renderer in slices, so one short loop can slip
        # between pauses (the least of 5 did, now and then), and one can be slowed by a busy machine.
        busy = statistics.median([await page.evaluate(_BUSY_LOOP) for _ in range(5)])
        return elapsed, busy
    finally:
        await context.close()


def test_slow_3g_and_cpu_slowdown_take_effect_by_a_wide_margin(chromium: BrowserRunner, site: Site) -> None:
    fast, fast_cpu = chromium.run(_fetch_time(chromium, site, RunConditions()))
    slow, slow_cpu = chromium.run(_fetch_time(chromium, site, RunConditions(network="slow-3g", cpu_slowdown=6)))
    # slow-3g: 2 s latency and 50 KB/s, so 20 KB takes ~2.4 s against a few ms on loopback.
    assert slow > 2_000 and slow > 5 * max(fast, 50), (fast, slow)
    # Chromium throttles from a thread of the renderer's own; on a loaded machine that thread can be starved
    # for a whole measurement (seen once in CI: 43 vs 58 ms), and the unthrottled baseline can itself be slowed
    # 4x by the other worker (seen once in CI: 175 ms). So both are measured again, up to 3 rounds, against the
    # fastest baseline: without the slowdown applied no round is 2x slower than it, with it one is.
    baselines, rounds = [fast_cpu], [slow_cpu]
    while max(rounds) <= 2 * min(baselines) and len(rounds) < 3:
        baselines.append(chromium.run(_fetch_time(chromium, site, RunConditions()))[1])
        rounds.append(chromium.run(_fetch_time(chromium, site, RunConditions(cpu_slowdown=6)))[1])
    assert max(rounds) > 2 * min(baselines), (baselines, rounds)


def test_metrics_report_ttfb_lcp_and_load(chromium: BrowserRunner, site: Site) -> None:
    async def measure() -> object:
        assert chromium.browser is not None
        context = await chromium.browser.new_context()
        try:
            recorder = await MetricsRecorder.install(context)
            page = await context.new_page()
            await page.goto(f"{site.url}/page", wait_until="load")
            await recorder.mark_landing(page)
            return await recorder.wait_for_landing(lambda m: m is not None and m.lcp_ms is not None, 5.0)
        finally:
            await context.close()

    metrics = chromium.run(measure())
    assert metrics.ttfb_ms is not None and metrics.ttfb_ms >= 140, metrics  # the server waits 150 ms
    assert metrics.lcp_ms is not None and metrics.lcp_ms >= metrics.ttfb_ms, metrics
    assert metrics.dom_content_loaded_ms is not None and metrics.load_ms is not None
    assert metrics.ttfb_ms <= metrics.dom_content_loaded_ms <= metrics.load_ms


def test_the_in_app_user_agent_reaches_the_server(chromium: BrowserRunner, site: Site) -> None:
    async def visit() -> str:
        assert chromium.browser is not None and chromium.playwright is not None
        descriptor = dict(chromium.playwright.devices["iPhone 13"])
        descriptor.pop("default_browser_type", None)
        overrides = context_overrides(RunConditions(in_app="facebook_ios"), descriptor)
        context = await chromium.browser.new_context(**{**descriptor, **overrides})
        try:
            page = await context.new_page()
            await page.goto(f"{site.url}/plain?ua")
            return await page.evaluate("navigator.userAgent")
        finally:
            await context.close()

    seen_by_page = chromium.run(visit())
    assert "[FBAN/FBIOS;" in site.user_agents[-1] and site.user_agents[-1] == seen_by_page
    assert context_overrides(RunConditions(), {}) == {}



@pytest.mark.parametrize("choice", ["accept", "reject"])
def test_consent_is_answered_with_the_cmp_button(chromium: BrowserRunner, site: Site, choice: str) -> None:
    async def answer(page: Page) -> tuple[object, object]:
        record = await answer_consent(page, choice, ConsentSelectors(), index=0)  # type: ignore[arg-type]
        return record, await page.evaluate("window.__choice")

    # The banner appears 300 ms after load, as CMPs do once their script has run.
    record, clicked = chromium.on_page(f"{site.url}/consent?delay=300", answer)
    assert clicked == f"consent-{choice}"
    assert record is not None and record.label == f"consent: {choice}" and record.consent == choice
    assert record.target == f"#consent-{choice}" and record.ended_at and record.error is None


def test_ignore_leaves_the_banner_alone(chromium: BrowserRunner, site: Site) -> None:
    async def ignore(page: Page) -> tuple[object, object]:
        return await answer_consent(page, "ignore", ConsentSelectors()), await page.evaluate("window.__choice")

    assert chromium.on_page(f"{site.url}/consent", ignore) == (None, None)


def test_a_missing_cmp_is_a_clear_run_error(chromium: BrowserRunner, site: Site) -> None:
    async def answer(page: Page) -> None:
        await answer_consent(page, "accept", ConsentSelectors(), timeout_ms=300)

    with pytest.raises(ConsentNotAnswered) as caught:
        chromium.on_page(f"{site.url}/plain", answer)
    # Selectors left unset: every known CMP was looked for, the demo shop's own among them.
    error = str(caught.value)
    assert error.startswith("no consent banner found: no known CMP's banner appeared within 300 ms (looked for ")
    assert "OneTrust '#onetrust-accept-btn-handler'" in error and "demo shop '#consent-accept'" in error
    assert caught.value.record.error and caught.value.record.consent == "accept"


def test_a_written_selector_that_never_appears_is_named_as_before(chromium: BrowserRunner, site: Site) -> None:
    async def answer(page: Page) -> None:
        await answer_consent(page, "accept", ConsentSelectors(accept="#consent-accept"), timeout_ms=300)

    with pytest.raises(ConsentNotAnswered) as caught:
        chromium.on_page(f"{site.url}/plain", answer)
    assert str(caught.value) == "no consent banner found: selector '#consent-accept' did not appear within 300 ms"


def test_the_blocker_aborts_a_tag_hit_and_records_it_for_decoding(chromium: BrowserRunner, site: Site) -> None:
    async def visit() -> tuple[object, object, object]:
        assert chromium.browser is not None
        context = await chromium.browser.new_context()
        try:
            recorder = await apply_blocker(context, parse_blocklist("||facebook.com/tr^\n", "test list"))
            page = await context.new_page()
            failures: list[str] = []
            page.on("requestfailed", lambda r: failures.append(r.failure or ""))
            await page.goto(f"{site.url}/tags", wait_until="load")
            ok_status = await page.evaluate("window.__ok")
            return recorder, failures, ok_status
        finally:
            await context.close()

    recorder, failures, ok_status = chromium.run(visit())
    assert ok_status == 200, "requests the list does not match go through"
    assert [b.url.split("?")[0] for b in recorder.blocked] == ["https://www.facebook.com/tr/"]
    # Chromium names the blocker: ".Inspector" when DevTools (Playwright) blocked it, as an extension would.
    assert len(failures) == 1 and failures[0].startswith("net::ERR_BLOCKED_BY_CLIENT")
    [blocked] = recorder.as_captured(run_id="run-1")
    assert blocked.error == "blocked by client (test list block list)"
    registry = DecoderRegistry.default()
    [event] = registry.decode(blocked)
    assert (event.vendor, event.event, event.page_url) == ("meta_pixel", "PageView", "https://shop.example/")
