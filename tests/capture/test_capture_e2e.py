"""The capture core end to end: real Chromium, real proxy, a real local site under mapped host names."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import Page

from harness.browser.journey import scenario_journey
from harness.browser.visit import VisitPlan
from harness.capture.proxy import CaptureProxy, ProxyStartError
from harness.checks.base import CheckContext
from harness.checks.click_ids import click_ids_reach_landing
from harness.checks.events import event_count
from harness.checks.run_health import run_completed
from harness.decoders.registry import DecoderRegistry
from harness.engine import Harness
from harness.errors import BadInput, BrowserNotFound
from harness.models import RunResult, StepRecord
from harness.options import RunOptions
from harness.report import write_report
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import RunConditions, Scenario, WaitForStep
from tests.capture.conftest import UNLOAD_HITS
from tests.capture.site import CaptureTestSite

pytestmark = pytest.mark.browser

CLICK = "https://ads.test/click?to={to}&gclid=EAIaIQobChMI8t2&fbclid=IwAR2xYz&utm_source=google&utm_campaign=spring"


def _hits(result: RunResult, marker: str) -> list[str]:
    return [r.url for r in result.capture.tag_hits if marker in r.url]


@pytest.fixture(scope="module")
def via_301(harness: Harness) -> RunResult:
    return harness.visit(CLICK.format(to="/r301"))


def test_a_302_then_301_chain_keeps_every_parameter(via_301: RunResult) -> None:
    chain = via_301.capture.chain
    assert [(h.kind, h.status, h.host) for h in chain.hops] == [
        ("start", 302, "ads.test"), ("http", 301, "www.site.test"), ("http", 200, "www.site.test"),
    ]
    assert chain.final_url.startswith("https://www.site.test/landing?")
    assert {p.param for p in chain.params} == {"gclid", "fbclid", "utm_source", "utm_campaign"}
    assert chain.dropped == [] and via_301.capture.error is None


def test_no_unload_hit_is_lost(via_301: RunResult) -> None:
    capture = via_301.capture
    assert capture.capture_complete
    engagement = [u for u in _hits(via_301, "en=user_engagement")]
    assert len(engagement) == UNLOAD_HITS, "every sendBeacon fired on pagehide reaches the run"
    assert len(set(engagement)) == UNLOAD_HITS, "and none twice"
    assert len(_hits(via_301, "ev=Leave")) == 1, "a keepalive fetch on pagehide too"


def test_tag_hits_are_answered_locally_and_never_reach_any_server(via_301: RunResult, site: CaptureTestSite) -> None:
    hits = via_301.capture.tag_hits
    assert hits and all(h.sinkholed and h.mapped_to is None for h in hits)
    assert {h.host for h in hits} >= {"www.google-analytics.com", "www.facebook.com", "www.site.test"}
    first_party = [h for h in hits if h.host == "www.site.test"]
    assert first_party and first_party[0].path == "/g/collect", "a first-party GA4 collector is a tag hit"
    assert not [s for s in site.seen if "/collect" in s[2] or "/tr" in s[2]], "no hit reached the site"


def test_mapped_hosts_see_their_own_host_name_and_scheme(via_301: RunResult, site: CaptureTestSite) -> None:
    landing = [s for s in site.seen if s[2].startswith("/landing")]
    assert landing and landing[-1][1] == "www.site.test" and landing[-1][3] == "https"
    docs = [r for r in via_301.capture.requests if r.is_navigation]
    assert all(r.mapped_to == f"127.0.0.1:{site.port}" for r in docs)


def test_decoded_events_keep_their_order_inside_a_batch(via_301: RunResult) -> None:
    names = [e.event for e in via_301.events if e.vendor == "ga4"]
    assert names.index("scroll") + 1 == names.index("view_item"), names


def test_a_redirect_that_drops_gclid_is_named_with_its_hop(harness: Harness) -> None:
    chain = harness.visit(CLICK.format(to="/drop-gclid")).capture.chain
    assert [(p.param, p.hop, p.fate) for p in chain.dropped] == [("gclid", 2, "dropped")]
    assert chain.hops[2].url.startswith("https://www.site.test/landing?")


def test_click_ids_inside_a_trackers_link_are_followed_through_its_redirect(harness: Harness) -> None:
    landing = quote("https://www.site.test/r301?gclid=EAIaIQobChMI8t2&utm_source=google", safe="")
    kept = harness.visit(f"https://ads.test/track?cid=7&url={landing}").capture.chain
    assert [h.kind for h in kept.hops] == ["start", "http", "http"]
    assert {(p.param, p.fate) for p in kept.params} == {("gclid", "kept"), ("utm_source", "kept")}
    lost = harness.visit(f"https://ads.test/track-without-query?cid=7&url={landing}").capture.chain
    assert {(p.param, p.hop) for p in lost.dropped} == {("gclid", 1), ("utm_source", 1)}


def test_under_brave_a_trackers_redirect_to_another_site_loses_its_click_ids_before_the_site_sees_them(
    harness: Harness, site: CaptureTestSite
) -> None:
    landing = quote("https://www.site.test/r301?gclid=EAIaIQobChMI8t2&utm_source=brave-test", safe="")
    plan = VisitPlan(conditions=RunConditions(link_protection="brave"))
    capture = harness.visit(f"https://ads.test/track?cid=7&url={landing}", plan=plan).capture
    # The browser asked the site for the page without gclid (the proxy made Chromium follow the redirect as
    # Brave does); the tracker's answer stays on record as its server sent it.
    asked = [path for _, host, path, _ in site.seen if host == "www.site.test" and "utm_source=brave-test" in path]
    assert asked and not any("gclid" in path for path in asked), asked
    tracker = next(r for r in capture.requests if r.host == "ads.test")
    assert tracker.location is not None and "gclid=EAIaIQobChMI8t2" in tracker.location
    assert [h.kind for h in capture.chain.hops] == ["start", "stripped", "http"]
    assert {(p.param, p.fate, p.hop) for p in capture.chain.params} == {("gclid", "dropped", 1), ("utm_source", "kept", None)}


def test_under_firefox_a_script_on_another_site_sends_the_browser_on_without_the_click_ids(
    harness: Harness, site: CaptureTestSite
) -> None:
    landing = quote("https://www.site.test/r301?gclid=EAIaIQobChMI8t2&utm_source=firefox-test", safe="")
    plan = VisitPlan(conditions=RunConditions(link_protection="firefox"))
    capture = harness.visit(f"https://ads.test/track-js?cid=7&url={landing}", plan=plan).capture
    asked = [path for _, host, path, _ in site.seen if host == "www.site.test" and "utm_source=firefox-test" in path]
    assert asked and not any("gclid" in path for path in asked), asked
    # The tracker's script asked for the URL with gclid; the browser's stripping is the hop after it.
    assert [h.kind for h in capture.chain.hops] == ["start", "js", "stripped", "http"]
    assert {(p.param, p.fate, p.hop) for p in capture.chain.params} == {("gclid", "dropped", 2), ("utm_source", "kept", None)}


def test_meta_refresh_and_js_redirects_join_the_chain(harness: Harness) -> None:
    meta = harness.visit(CLICK.format(to="/meta")).capture.chain
    js = harness.visit(CLICK.format(to="/js-drop-fbclid")).capture.chain
    assert [h.kind for h in meta.hops] == ["start", "http", "meta"] and meta.dropped == []
    assert [h.kind for h in js.hops] == ["start", "http", "js"]
    assert [(p.param, p.hop) for p in js.dropped] == [("fbclid", 2)]


def test_a_zstd_encoded_interstitial_is_still_read_as_a_meta_refresh(harness: Harness) -> None:
    """Chromium asks for zstd and CDNs answer with it: the proxy decodes the start it keeps of a document."""
    chain = harness.visit(CLICK.format(to="/meta-zstd")).capture.chain
    assert [h.kind for h in chain.hops] == ["start", "http", "meta"], chain.hops
    assert chain.hops[1].status == 200 and chain.dropped == []


def test_103_early_hints_before_the_page_do_not_end_its_answer(harness: Harness) -> None:
    """An HTTP/1 site that sends 103 Early Hints first: mitmproxy's HTTP/1 client took the hint for the
    answer and dropped the connection, so the landing never loaded."""
    result = harness.visit(CLICK.format(to="/early-hints"))
    assert result.capture.error is None, result.capture.error
    landing = result.capture.chain.hops[-1]
    assert landing.url.startswith("https://www.site.test/early-hints") and landing.status == 200
    assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS


def test_a_delayed_meta_refresh_and_a_redirect_after_load_join_the_chain(harness: Harness) -> None:
    """The settle window after load is short (100 ms); a meta refresh the page scheduled is waited for on
    top of it, and a script redirect a moment after load still falls inside it: the journey starts on the
    landing page, not on the interstitial."""
    journey_began_on: list[str] = []

    async def note_where_the_journey_begins(page: Page, _records: list[StepRecord]) -> None:
        journey_began_on.append(page.url)

    meta = harness.visit(CLICK.format(to="/meta-later"), journey=note_where_the_journey_begins).capture
    js = harness.visit(CLICK.format(to="/js-after-load"), journey=note_where_the_journey_begins).capture
    assert [h.kind for h in meta.chain.hops] == ["start", "http", "meta"], meta.chain.hops
    assert [h.kind for h in js.chain.hops] == ["start", "http", "js"], js.chain.hops
    assert [urlsplit(u).path for u in journey_began_on] == ["/landing", "/landing"]


def test_a_tag_that_fires_a_moment_after_the_last_action_is_kept(harness: Harness) -> None:
    """The quiet window before leaving counts from the run's last action or the document's load, whichever
    came later: a tag on a short timer after the last click (a debounced listener, a tag sequence) is in,
    though the page had long loaded and the proxy had seen nothing for a while."""

    async def click_then_a_late_tag(page: Page, _records: list[StepRecord]) -> None:
        await page.wait_for_timeout(300)  # the landing's own hits are long answered
        await page.evaluate(
            "setTimeout(() => { new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=AfterLastAction'; }, 40)"
        )

    result = harness.visit(CLICK.format(to="/r301"), journey=click_then_a_late_tag)
    assert result.capture.error is None and result.capture.capture_complete
    assert len(_hits(result, "ev=AfterLastAction")) == 1


@pytest.fixture(scope="module")
def short_cap(site: CaptureTestSite) -> Iterator[Harness]:
    """A harness that gives up on open requests after 1.5 s (the default is 5 s)."""
    with Harness(RunOptions(resolve=site.mappings(), navigation_timeout_ms=8_000, capture_timeout_ms=1_500)) as h:
        yield h


async def _socket_open(page: Page, _records: list[StepRecord]) -> None:
    await page.wait_for_selector("body[data-socket=open][data-stream]", state="attached", timeout=5_000)


def test_an_event_stream_and_a_websocket_do_not_hold_the_run_open(short_cap: Harness) -> None:
    """Chat widgets and live badges keep an event stream or a socket open as long as the page lives: the
    run leaves on its quiet window all the same, with a whole capture (not at the cap, cut off)."""
    result = short_cap.visit(CLICK.format(to="/live"), journey=_socket_open)
    capture = result.capture
    assert capture.error is None and capture.capture_complete and capture.capture_note is None, capture.capture_note
    by_path = {r.path: r for r in capture.requests}
    assert by_path["/events"].status == 200 and by_path["/socket"].status == 101
    assert [e.event for e in result.events if e.vendor == "ga4"] == ["user_engagement"], "the unload hit is in"


@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_policy_that_blocks_beacons_to_the_pages_own_origin_does_not_cut_the_capture(
    short_cap: Harness, where: str
) -> None:
    """The end-of-run beacon goes to the page's own origin. A Content-Security-Policy that leaves it out of
    connect-src blocked it, so every run on such a site waited the whole cap and called its capture cut
    off. Now the beacon is left out there and the run ends on its quiet window, unload hits and all."""
    path = "/strict-csp" if where == "header" else "/strict-csp-meta"
    result = short_cap.visit(CLICK.format(to=path))
    capture = result.capture
    assert capture.error is None and capture.capture_complete and capture.capture_note is None, capture.capture_note
    assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS
    assert not _hits(result, "en=first_party_view"), "the policy really is enforced: the page's own beacon is blocked"


@pytest.mark.parametrize("policy", ["regional", "wildcard"])
def test_under_a_policy_that_keeps_the_page_from_its_own_origin_the_end_beacon_goes_to_one_it_allows(
    site: CaptureTestSite, policy: str
) -> None:
    """The unload hits go to a host the page had not talked to (a new connection, a new certificate), and
    the run's quiet window is 10 ms: without an end-of-run beacon the run was over before most of them came
    (0-6 of 25 measured). The policy leaves the page's own origin out, so the beacon goes to an origin the
    policy names (on a subdomain of our own for a wildcard source), and the run waits for it."""
    options = RunOptions(resolve=site.mappings(), navigation_timeout_ms=8_000, capture_timeout_ms=3_000, quiet_window_ms=10)
    with Harness(options) as harness:
        result = harness.visit(CLICK.format(to=f"/strict-csp-{policy}"))
    capture = result.capture
    assert capture.error is None and capture.capture_complete and capture.capture_note is None, capture.capture_note
    assert len(_hits(result, "https://region1.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=user_engagement")) == UNLOAD_HITS
    assert not _hits(result, "en=first_party_view"), "the policy really is enforced: the page's own beacon is blocked"
    assert not [r for r in capture.requests if "__eventpath__" in r.url], "the beacon is the proxy's, not the run's"


def test_the_policy_is_read_after_a_single_page_app_changed_its_url(short_cap: Harness) -> None:
    """history.pushState changes the page's URL without a request: the policy is the last document's."""

    async def route_in_page(page: Page, _records: list[StepRecord]) -> None:
        await page.evaluate("history.pushState({}, '', '/checkout/step-2')")

    result = short_cap.visit(CLICK.format(to="/strict-csp"), journey=route_in_page)
    assert result.capture.capture_complete and result.capture.capture_note is None, result.capture.capture_note
    assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS


def test_a_long_poll_still_open_at_the_cap_is_named_and_the_capture_marked_cut(short_cap: Harness) -> None:
    result = short_cap.visit(CLICK.format(to="/live") + "&poll=4", journey=_socket_open)
    capture = result.capture
    assert not capture.capture_complete
    assert capture.capture_note and "GET https://www.site.test/poll?seconds=4" in capture.capture_note
    assert "/events" not in capture.capture_note, "the event stream is not what held the page"
    assert not _hits(result, "ev=AfterPoll"), "the hit the poll's answer would have sent never came"
    assert _hits(result, "en=user_engagement"), "what was sent until the page was left is kept"
    url = CLICK.format(to="/live")
    context = CheckContext(Scenario.model_validate({"name": "live", "ad_click": {"url": url}}), result, url)
    [failure] = [f for f in run_completed(context) if f.key == "run_completed:incomplete"]
    assert "long poll" in failure.seen and "poll?seconds=4" in failure.seen


def test_the_sites_own_checkout_post_reaches_the_site(harness: Harness, site: CaptureTestSite) -> None:
    async def buy(page: Page, _records: list[StepRecord]) -> None:
        await page.click("#buy")
        await page.wait_for_selector("#result:has-text('ORD-1001')")

    before = len(site.checkouts)
    result = harness.visit(CLICK.format(to="/r301"), journey=buy)
    assert len(site.checkouts) == before + 1
    [checkout] = [r for r in result.capture.requests if r.path == "/api/checkout"]
    assert checkout.status == 200 and not checkout.tag_hit and not checkout.sinkholed


def test_parallel_runs_on_one_proxy_never_share_a_hit(harness: Harness) -> None:
    urls = [CLICK.format(to="/r301") + f"&utm_content=run{i}" for i in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(harness.visit, urls))
    assert len({r.run_id for r in results}) == 3
    for i, result in enumerate(results):
        pages = [r.url for r in result.capture.requests if "en=page_view" in r.url]
        assert len(pages) == 1 and f"utm_content%3Drun{i}" in pages[0]
        assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS
    assert harness.proxy is not None and harness.proxy.unattributed() == []


def test_an_unmapped_host_fails_fast_with_a_clear_error(harness: Harness) -> None:
    capture = harness.visit("https://unmapped.invalid/landing?gclid=abc").capture
    assert capture.error is not None and "unmapped.invalid could not be reached" in capture.error
    assert "--resolve unmapped.invalid=ADDR:PORT" in capture.error
    assert capture.chain.hops[0].error


@pytest.mark.parametrize("path", ["/script-loop-a", "/refresh-loop"])
def test_a_loop_in_script_or_meta_refresh_is_left_where_it_is_found(harness: Harness, path: str) -> None:
    """The browser stops a 3xx loop itself; one in script or meta refresh goes on as long as the page is
    open. The run leaves it once the hop limit is passed, rather than let it run (and send hits) until the
    capture cap, and shows the loop."""
    capture = harness.visit(f"https://www.site.test{path}?gclid=abc").capture
    assert capture.chain.loop_detected and capture.error and "redirect loop" in capture.error
    limit = harness.options.max_hops
    assert limit + 1 < len(capture.navigations) <= limit + 4, "left as the limit was passed, not some time later"
    assert capture.capture_complete, f"what the page sent until it was left is all in: {capture.capture_note}"


def test_a_page_that_moves_on_by_itself_as_it_is_left_is_left_too(harness: Harness) -> None:
    """The page's own navigation, on its way as the run leaves, commits after the run's: Playwright's goto
    returns as if the page were left, and the page it moved to would stay open, its unload hits never sent.
    The run leaves that page too, and its unload hits are in."""
    result = harness.visit("https://www.site.test/moves-on-as-left?gclid=abc")
    capture = result.capture
    landing = [r for r in capture.requests if r.url.startswith("https://www.site.test/landing")]
    assert landing, "the page moved on by itself while the run left it (the race this test sets up)"
    assert [n.url for n in capture.navigations][-1].startswith("https://www.site.test/landing"), "and it is told"
    unload = [e for e in result.events if e.event == "user_engagement"]
    assert len(unload) == UNLOAD_HITS, "the page it moved to was left too: its pagehide beacons are all in"
    assert any(e.vendor == "meta_pixel" and e.event == "Leave" for e in result.events)
    assert capture.error is None and capture.capture_complete, capture.capture_note


def test_tags_in_a_web_worker_and_a_service_worker_are_captured_in_their_run(harness: Harness) -> None:
    """Partytown runs GTM in a web worker, Shopify its web pixels: their hits leave from there, not from the
    page, and a service worker may send some of its own. They go through the run's proxy lane, are answered
    locally and belong to the run."""
    # The journey waits for both workers to say their hits are sent: a service worker starts in its own time.
    journey = scenario_journey([WaitForStep(wait_for="#tags-sent")], "workers", 8_000)
    result = harness.visit("https://www.site.test/worker-tags?gclid=abc", journey=journey)
    assert result.capture.error is None and result.capture.capture_complete, result.capture.capture_note
    sent = {(e.vendor, e.event) for e in result.events}
    assert {("ga4", "worker_view"), ("meta_pixel", "WorkerPageView"), ("ga4", "sw_view")} <= sent
    worker_hits = [r for r in result.capture.requests if "worker_view" in r.url or "WorkerPageView" in r.url or "sw_view" in r.url]
    assert worker_hits and all(r.tag_hit and r.sinkholed for r in worker_hits), "answered locally"
    assert all(r.run_id == result.capture.run_id for r in worker_hits)


def test_deferred_hits_sent_with_fetch_later_are_captured(harness: Harness) -> None:
    """``fetchLater`` hands a hit to the browser to send when the page is left (or after ``activateAfter``):
    what a tag defers to the end of the visit reaches the run like any unload beacon."""
    result = harness.visit("https://www.site.test/fetch-later?gclid=abc")
    sent = {(e.vendor, e.event) for e in result.events}
    assert {("ga4", "deferred_engagement"), ("meta_pixel", "DeferredView")} <= sent, (
        "both deferred hits reach the run (Chromium has had fetchLater since version 135)"
    )
    assert result.capture.capture_complete, result.capture.capture_note


def test_the_preflight_to_a_collector_whose_host_does_not_resolve_lets_its_hit_through(harness: Harness) -> None:
    """Only the payload tells a first-party collector at a custom path from an API, and a preflight has
    none, so it goes to the collector. Where that host does not resolve (offline, a staging name) the
    preflight is answered locally: the hit follows and is the sinkhole's, not lost at the preflight."""
    result = harness.visit("https://www.site.test/unresolved-collector?gclid=abc")
    to_collector = [r for r in result.capture.requests if r.host == "t.collector-nowhere.test"]
    preflight = next(r for r in to_collector if r.method == "OPTIONS")
    assert preflight.status == 204 and preflight.sinkholed and not preflight.tag_hit
    assert [(e.vendor, e.event) for e in result.events] == [("snowplow", "page_view")]
    assert all(r.sinkholed for r in to_collector), "nothing tried to reach the collector"


def test_a_redirect_loop_is_stopped_and_shown(harness: Harness) -> None:
    capture = harness.visit("https://www.site.test/loop?gclid=abc").capture
    assert capture.chain.loop_detected and capture.error and "redirect loop" in capture.error
    assert len(capture.chain.hops) >= 3 and {h.url for h in capture.chain.hops} == {"https://www.site.test/loop?gclid=abc"}


def test_bad_url_and_unknown_device_are_bad_input(harness: Harness) -> None:
    with pytest.raises(BadInput, match="absolute http"):
        harness.visit("ads.test/click")
    with pytest.raises(BadInput, match="did you mean"):
        harness.visit("https://ads.test/click", device="Pixel 77")


def test_a_missing_browser_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPATH_BROWSER", "/nonexistent/chromium")
    with pytest.raises(BrowserNotFound, match="EVENTPATH_BROWSER"):
        Harness(RunOptions()).start()


def test_a_proxy_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proxy = CaptureProxy(DecoderRegistry.default().sinkhole_reply, listen_port=port)
        with pytest.raises(ProxyStartError, match="port in use"):
            proxy.start()
        proxy.stop()
    assert proxy._thread is not None and not proxy._thread.is_alive(), "no proxy thread is left behind"


def test_two_harnesses_in_one_process_keep_their_own_proxy_and_ca(harness: Harness, site: CaptureTestSite) -> None:
    with Harness(RunOptions(resolve=site.mappings(), navigation_timeout_ms=8_000)) as second:
        inner = second.visit(CLICK.format(to="/r301"))
    after = harness.visit(CLICK.format(to="/r301"))
    for result in (inner, after):
        assert result.capture.error is None
        assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS, "TLS to the right CA, no hit lost"


@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="needs Debian's full Chromium")
def test_the_full_browser_keeps_every_unload_hit_too(site: CaptureTestSite) -> None:
    # Headless runs take Chromium's headless shell; --headed and --browser-path take the full browser,
    # whose headless mode must trust the proxy's CA for unload hits just the same.
    options = RunOptions(resolve=site.mappings(), navigation_timeout_ms=8_000, browser_path="/usr/bin/chromium")
    with Harness(options) as full:
        result = full.visit(CLICK.format(to="/r301"))
    assert result.capture.error is None and result.capture.capture_complete
    assert len(_hits(result, "en=user_engagement")) == UNLOAD_HITS
    assert len(_hits(result, "ev=Leave")) == 1


# Two animation frames: the late headline is painted and its LCP entry handed to the observer.
_TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


async def _wait_for_late_headline(page: Page) -> None:
    await page.wait_for_selector("#late", state="attached")
    await page.evaluate(_TWO_FRAMES)


def test_lcp_counts_a_paint_long_after_load_until_the_first_input(harness: Harness) -> None:
    """Page speed is reported by the page as it goes, not read at a fixed moment after load: the largest paint
    800 ms after load is the LCP when nothing was clicked, and not when the journey clicked first (about
    100 ms after load, when the landing has settled: far from 800 even on a loaded machine)."""

    async def only_watch(page: Page, _records: list[StepRecord]) -> None:
        await _wait_for_late_headline(page)

    async def click_first(page: Page, _records: list[StepRecord]) -> None:
        await page.click("#buy")
        await _wait_for_late_headline(page)

    watched = harness.visit(CLICK.format(to="/late-lcp"), journey=only_watch).capture.metrics
    clicked = harness.visit(CLICK.format(to="/late-lcp"), journey=click_first).capture.metrics
    assert watched is not None and clicked is not None
    assert watched.lcp_ms is not None and watched.load_ms is not None
    assert watched.lcp_ms >= watched.load_ms + 750, watched
    assert clicked.lcp_ms is not None and clicked.load_ms is not None
    assert clicked.lcp_ms < clicked.load_ms + 750, clicked


def test_page_speed_is_the_landing_pages_not_the_interstitials(harness: Harness) -> None:
    capture = harness.visit(CLICK.format(to="/js-to-slow-landing")).capture
    assert [h.kind for h in capture.chain.hops] == ["start", "http", "js"], capture.chain.hops
    metrics = capture.metrics
    assert metrics is not None and metrics.ttfb_ms is not None, metrics
    assert metrics.ttfb_ms >= 190, metrics  # /slow-landing answers after 200 ms; the interstitial at once
    assert metrics.lcp_ms is not None and metrics.load_ms is not None and metrics.lcp_ms >= metrics.ttfb_ms


def test_the_browser_driver_runs_in_a_session_of_its_own(harness: Harness) -> None:
    """So that a terminal's Ctrl-C (sent to our process group) reaches only us, never the browser under
    the runs in flight; with V8 heap sizes of ours; and the stand-in used to start it is gone again."""
    drivers = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"run-driver" in cmdline:  # fields[1]: the parent's PID
            drivers.append(int(status.parent.name))
    assert drivers, "the Playwright driver is a child of this process"
    # This harness's driver among them (a test may start Playwright itself, in our session).
    ours = [pid for pid in drivers if os.getsid(pid) == pid and os.getpgid(pid) != os.getpgid(0)]
    assert ours
    assert asyncio.create_subprocess_exec.__module__ == "asyncio.subprocess"
    # ... and with V8 heap sizes that keep its memory flat over a long suite; our own environment untouched.
    environ = (Path(f"/proc/{ours[0]}/environ").read_bytes()).split(b"\0")
    node_options = next((e for e in environ if e.startswith(b"NODE_OPTIONS=")), b"").partition(b"=")[2].split()
    assert b"--max-semi-space-size=2" in node_options and b"--max-old-space-size=1024" in node_options, environ
    assert "--max-semi-space-size" not in os.environ.get("NODE_OPTIONS", "")


def test_an_ad_click_that_ends_in_an_app_store_is_followed_to_the_hand_off(harness: Harness) -> None:
    """App-install campaigns send the click to the store: the browser cannot follow, which read as a
    'net::ERR_ABORTED' run error with the hand-off missing from the chain. The chain now ends at the store
    link, the click ID is judged on it, and the run is whole; a journey after it is said not to have run."""
    result = harness.visit(CLICK.format(to="/get-the-app"))
    capture = result.capture
    assert capture.error is None and capture.capture_complete, capture.error
    app = capture.chain.hops[-1]
    assert app.kind == "app" and app.url.startswith("market://details?id=com.shop.app&referrer=gclid%3DEAIaIQobChMI8t2")
    fates = {f.param: f for f in capture.chain.params}
    assert fates["gclid"].reached_final, "gclid rides in the install referrer"
    assert (fates["fbclid"].fate, fates["fbclid"].hop) == ("dropped", len(capture.chain.hops) - 1)

    ios = harness.visit(CLICK.format(to="/get-the-ios-app"))
    assert ios.capture.chain.hops[-1].url == "itms-apps://apps.apple.com/app/id123456789"
    assert {f.param for f in ios.capture.chain.dropped} >= {"gclid", "fbclid"}
    url = CLICK.format(to="/get-the-ios-app")
    scenario = Scenario.model_validate({"name": "ios-app", "ad_click": {"url": url}})
    [lost] = [f for f in click_ids_reach_landing(CheckContext(scenario, ios, url)) if "gclid" in f.title]
    assert "hand-off to an app" in lost.seen and "into the app URL itms-apps://apps.apple.com/app/id123456789" in lost.fix_direction

    async def journey(page: Page, _records: list[StepRecord]) -> None:
        await page.click("#buy")

    with_steps = harness.visit(CLICK.format(to="/get-the-app"), journey=journey)
    assert with_steps.capture.error and "handed over to an app (market://details?id=com.shop.app" in with_steps.capture.error


@pytest.mark.parametrize(("page", "seeded"), [("/open-in-app", False), ("/open-in-app", True), ("/open-in-app-now", False)])
def test_a_deep_link_page_whose_script_opens_the_app_ends_the_chain_there(harness: Harness, page: str, seeded: bool) -> None:
    """Branch- or OneLink-style pages send the browser to the app by script: no request, no navigation
    Playwright reports, so the chain ended on the deep-link page. Chromium's CDP tells the request. One that
    hands off before its load cancels the load, and the run waited the whole navigation timeout for it and
    called it a timeout. (A consent state seeded before the page is no step on it: the hand-off counts.)"""
    seed = {"seed": {"cookies": [{"name": "consent", "value": "granted", "domain": ".site.test"}]}}
    conditions = RunConditions.model_validate({"consent": seed} if seeded else {})
    result = harness.visit(CLICK.format(to=page), plan=VisitPlan(conditions=conditions))
    assert [s.action for s in result.capture.steps] == (["seed"] if seeded else [])
    capture = result.capture
    assert capture.error is None and capture.capture_complete, capture.error
    app = capture.chain.hops[-1]
    assert app.kind == "app" and app.url.startswith("intent://product/42?gclid=EAIaIQobChMI8t2&fbclid=IwAR2xYz")
    assert capture.chain.dropped == [], "every click ID and UTM rides into the app"
    assert [e.event for e in result.events if e.vendor == "meta_pixel"] == ["PageView"], "the page's own hit is in"


def test_an_event_lost_to_the_hand_off_to_an_app_is_named_as_such(harness: Harness) -> None:
    """A deep-link page that hands off at once cancels its own load: a pixel waiting for it never fires.
    The failure said only 'never fired' (reinstall the tag); it names the hand-off and how to send first.
    A redirect straight to the store has no page at all: the event is the app's to count."""
    scenario = Scenario.model_validate(
        {"name": "deep-link", "ad_click": {"url": CLICK}, "expect": {"events": [{"vendor": "meta_pixel", "event": "Lead"}]}}
    )
    url = CLICK.format(to="/open-in-app-now")
    result = harness.visit(url)
    assert result.capture.chain.hops[-1].kind == "app"
    [lost] = event_count(CheckContext(scenario, result, url))
    assert lost.root_cause == "Wrong trigger"
    assert "the landing page handed the click to an app (intent://product/42" in lost.seen
    assert "before handing off (a beacon survives the hand-off" in lost.fix_direction

    url = CLICK.format(to="/get-the-app")
    [no_page] = event_count(CheckContext(scenario, harness.visit(url), url))
    assert no_page.root_cause == "Missing tag"
    assert "went straight to an app (market://details?id=com.shop.app" in no_page.seen
    assert "Count Lead in the app" in no_page.fix_direction


@pytest.mark.parametrize("delay", ["0", "1.5"])
def test_a_refresh_header_hop_is_told_as_a_refresh_and_waited_for(harness: Harness, delay: str) -> None:
    """Click trackers send 'Refresh: N; url=...' instead of the meta tag: the same hop, not a script's, and
    one scheduled past the settle window is waited for as the meta tag's is."""
    capture = harness.visit(CLICK.format(to="/refresh-header") + f"&delay={delay}").capture
    assert capture.error is None, capture.error
    assert [h.kind for h in capture.chain.hops] == ["start", "http", "meta"]
    assert capture.chain.final_url.startswith("https://www.site.test/landing?gclid=EAIaIQobChMI8t2")



def test_an_ad_url_written_unencoded_is_followed_and_its_drops_are_found(harness: Harness) -> None:
    """Ad URLs carry spaces, '|', '{...}' placeholders and umlauts unencoded; the browser sends them
    percent-encoded. The chain did not recognise its own first hop, kept only the ad URL, and called every
    parameter kept, drops included."""
    url = "https://ads.test/click?to=/drop-gclid&gclid=EAIaIQobChMI8t2&utm_campaign=spring sale|{adgroup}&utm_term=straße"
    capture = harness.visit(url).capture
    assert capture.error is None, capture.error
    assert len(capture.chain.hops) >= 3, [h.url for h in capture.chain.hops]
    fates = {f.param: f for f in capture.chain.params}
    assert fates["gclid"].fate == "dropped"
    assert fates["utm_campaign"].fate == "kept" and fates["utm_campaign"].value == "spring sale|{adgroup}"
    assert fates["utm_term"].fate == "kept" and fates["utm_term"].value == "straße"


def test_an_open_in_app_button_during_the_journey_is_recorded_but_not_in_the_chain(
    harness: Harness, tmp_path: Path
) -> None:
    async def open_in_app(page: Page, records: list[StepRecord]) -> None:
        records.append(StepRecord(index=0, label="open in app", action="script", started_at=time.time()))
        await page.evaluate("location.href = 'shopapp://cart?from=web'")

    result = harness.visit(CLICK.format(to="/landing"), journey=open_in_app)
    assert [h.url for h in result.capture.app_handoffs] == ["shopapp://cart?from=web"]
    assert result.capture.chain.hops[-1].kind != "app", "after the landing: the journey's, not the chain's"
    suite = SuiteResult(started_at=result.capture.started_at, finished_at=time.time(), runs=[
        ScenarioRun(scenario="s", device="Pixel 7", ad_url=CLICK, result=result, duration_s=1.0)
    ])
    html = write_report(suite, tmp_path).html.read_text(encoding="utf-8")
    assert "hand-off to an app: shopapp://cart?from=web" in html

