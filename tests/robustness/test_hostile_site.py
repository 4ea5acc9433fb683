"""Robustness with the real browser and proxy: every hostile case ends its run with one clear error, keeps
the hits sent before the failure, and leaves the harness able to run the next scenario."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.async_api import Page

from harness.browser.journey import scenario_journey
from harness.browser.launcher import find_browser
from harness.browser.visit import VisitPlan
from harness.capture.addons import MAX_DOCUMENT_BODY
from harness.checks.base import CheckContext
from harness.checks.pages import pages_answer
from harness.engine import Harness
from harness.models import RunResult, StepRecord
from harness.options import RunOptions
from harness.results import ScenarioRun
from harness.runner import PlannedRun, SuiteRunner, SuiteSession, plan_runs
from harness.scenario import ClickStep, RunConditions, Scenario, TruthSource
from tests.robustness.conftest import CAPTURE_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS, normal_timeouts
from tests.robustness.site import BIG_BYTES, KEEPALIVE_IN_FLIGHT, GarbageServer, HostileSite, mappings

pytestmark = pytest.mark.browser


def hit_ids(result: RunResult) -> list[str]:
    """The ``ep.hit`` marker of every decoded GA4 event, one entry per event."""
    return [
        e.params.get("event_params", {}).get("hit", "")
        for e in result.events
        if e.vendor == "ga4" and not e.malformed
    ]


def assert_next_run_works(harness: Harness, site: HostileSite) -> None:
    """The rest of the suite goes on: a plain run on the same harness right after is clean."""
    after = harness.visit(site.url("/plain"))
    assert after.capture.error is None, after.capture.error
    assert hit_ids(after) == ["plain-0"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- stress -------------------------------------------------------------------------------------------

# 120 keepalive fetches and beacons against the page's default cap of 100 in flight: the last beacons wait for
# earlier ones to end (fetch promises, beacon resource timing entries), the flow control that lets the
# benchmark's 5,000-hit page stay under Chromium's keepalive quota.
PER_KIND, UNLOAD, BATCH = 60, 20, 6
PAGE_STATE = "({rejected: __rejected, unconfirmed: __unconfirmed, peak: __peak.keepalive})"


def test_a_stress_page_loses_and_doubles_no_hit(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    sent: list[str] = []
    page_state: dict[str, object] = {}

    async def read_what_was_sent(page: Page, _records: list[StepRecord]) -> None:
        await page.wait_for_function("window.__done === true")
        sent.extend(await page.evaluate("window.__sent"))
        page_state.update(await page.evaluate(PAGE_STATE))

    url = hostile_site.url(f"/stress?per_kind={PER_KIND}&unload={UNLOAD}&batch={BATCH}")
    with normal_timeouts(hostile_harness):
        result = hostile_harness.visit(url, journey=read_what_was_sent)

    assert result.capture.error is None and result.capture.capture_complete
    expected = Counter(sent + [f"unload-{i}" for i in range(UNLOAD)])
    # Every transport made it into the page's own list (the quotas of sendBeacon/keepalive were not hit).
    assert len(sent) == 5 * PER_KIND
    # The browser failed no fetch and reported the end of every beacon (the page waited on it, not a timeout).
    assert page_state["rejected"] == [] and page_state["unconfirmed"] == [], page_state
    assert page_state["peak"] == KEEPALIVE_IN_FLIGHT, "the keepalive cap was reached, and held"
    assert Counter(hit_ids(result)) == expected, "each hit decoded exactly once, none lost"
    batches = [r for r in result.capture.tag_hits if r.method == "POST" and b"en=batch" in r.body]
    assert len(batches) == -(-PER_KIND // BATCH), "one captured request per batched body"


# --- the site fails ----------------------------------------------------------------------------------


def test_a_hop_to_an_unmapped_host_keeps_the_hits_sent_before(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    result = hostile_harness.visit(hostile_site.url("/to-unmapped"))
    error = result.capture.error or ""
    assert "gone.invalid could not be reached" in error and "--resolve gone.invalid=ADDR:PORT" in error
    assert hit_ids(result) == ["before-unmapped"]
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_connection_reset_by_the_site_names_the_mapped_server(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    capture = hostile_harness.visit(hostile_site.url("/reset")).capture
    error = capture.error or ""
    assert f"www.hostile.test (mapped to 127.0.0.1:{hostile_site.port}) gave no HTTP answer" in error, error
    assert "--resolve" not in error, "the host is mapped already: mapping it is not the fix"
    assert capture.chain.hops[0].error
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_mapped_port_speaking_tls_is_named(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    # Mapped hosts are reached over plain HTTP; a port that answers with TLS (or anything else) is a setup
    # error on the mapped server, not an unreachable host.
    error = hostile_harness.visit("https://tls.hostile.test/landing").capture.error or ""
    assert "tls.hostile.test (mapped to 127.0.0.1:" in error and "speaks plain HTTP" in error, error
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_tls_failure_to_the_site_is_named(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    # An unmapped https URL makes the proxy speak TLS to the site itself; here that port speaks plain HTTP,
    # so the proxy's handshake fails. The browser only sees a 502, the run names the TLS failure.
    capture = hostile_harness.visit(f"https://127.0.0.1:{hostile_site.port}/plain").capture
    error = capture.error or ""
    assert error.startswith("TLS with 127.0.0.1 failed") and "does not speak TLS" in error, error
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_page_that_never_finishes_loading_times_out_and_keeps_its_hits(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    capture_result = hostile_harness.visit(hostile_site.url("/trickle"))
    error = capture_result.capture.error or ""
    assert f"did not finish loading within {NAVIGATION_TIMEOUT_MS} ms" in error, error
    # The proxy streams the page as it comes, so the tags in its head ran although it never ended.
    assert sorted(hit_ids(capture_result)) == ["trickle-0", "trickle-1"]
    [document] = [r for r in capture_result.capture.requests if r.is_navigation]
    assert document.status == 200 and b"<title>Trickle</title>" in document.response_body
    # The trickling document does not hold the run until the capture cap, nor is it named a second time.
    assert capture_result.capture.capture_complete and capture_result.capture.capture_note is None
    assert_next_run_works(hostile_harness, hostile_site)


# --- the browser fails --------------------------------------------------------------------------------


def test_a_crashed_tab_ends_the_run_with_an_error(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    async def crash(page: Page, _records: list[StepRecord]) -> None:
        cdp = await page.context.new_cdp_session(page)
        # Page.crash never answers: the renderer is gone. The page's own crash event ends the wait.
        crashed = asyncio.ensure_future(page.wait_for_event("crash", timeout=5_000))
        asyncio.ensure_future(cdp.send("Page.crash")).add_done_callback(lambda t: t.cancelled() or t.exception())
        await crashed

    result = hostile_harness.visit(hostile_site.url("/plain"), journey=crash)
    error = result.capture.error or ""
    assert "crash" in error.lower(), error
    assert hit_ids(result) == ["plain-0"], "the hit sent before the crash is kept"
    assert_next_run_works(hostile_harness, hostile_site)


def kill_browser(harness: Harness) -> int:
    """SIGKILL this harness's browser (the process started with its proxy's CA hash), as the kernel's
    out-of-memory killer would; returns how many processes were killed."""
    assert harness.proxy is not None
    mark = f"--ignore-certificate-errors-spki-list={harness.proxy.ca.spki_hash()}".encode()
    killed = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if mark in args and not any(a.startswith(b"--type=") for a in args):  # the browser, not its children
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
                killed += 1
    return killed


def test_a_browser_killed_mid_run_ends_that_run_and_the_next_starts_a_new_one(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    """The browser process itself dies (the out-of-memory killer, a crash): every run after used to fail
    on the dead browser. The run says what happened and keeps what the proxy saw; the next run gets a new
    browser."""

    async def kill(page: Page, _records: list[StepRecord]) -> None:
        await page.wait_for_function("window.__sent === true || document.readyState === 'complete'")
        closed = asyncio.ensure_future(page.context.wait_for_event("close", timeout=5_000))
        assert kill_browser(hostile_harness) == 1
        await closed
        await page.click("#never-there", timeout=2_000)  # what a journey does next: it fails on the dead browser

    restarts = hostile_harness.browser_restarts
    result = hostile_harness.visit(hostile_site.url("/plain"), journey=kill)
    capture = result.capture
    assert capture.error and "the browser closed during the run" in capture.error, capture.error
    assert not capture.capture_complete and capture.capture_note and "browser closed" in capture.capture_note
    assert hit_ids(result) == ["plain-0"], "the hit sent before the browser died is kept"
    assert capture.navigations, "and what the run saw of the page"
    assert_next_run_works(hostile_harness, hostile_site)
    assert hostile_harness.browser_restarts == restarts + 1


def test_a_browser_that_cannot_be_started_again_stops_the_suite_with_the_runs_it_had(
    hostile_site: HostileSite, garbage_server: GarbageServer, tmp_path: Path
) -> None:
    """The browser dies and the binary (a remote grid, an uninstalled browser) is gone: every run after would
    fail on it, each after a timeout. The suite stops there, saying why, with the runs it had."""
    browser = tmp_path / "chromium"
    browser.symlink_to(find_browser())
    options = RunOptions(
        resolve=mappings(hostile_site, garbage_server),
        navigation_timeout_ms=NAVIGATION_TIMEOUT_MS,
        capture_timeout_ms=CAPTURE_TIMEOUT_MS,
        browser_path=str(browser),
    )
    sessions: list[SuiteSession] = []

    def after_a_run(_planned: PlannedRun, _run: ScenarioRun) -> None:
        if browser.exists():  # after the first run: the binary goes, then the browser
            browser.unlink()
            assert sessions[0].harness is not None and kill_browser(sessions[0].harness) == 1

    planned = plan_runs(
        [(None, Scenario.model_validate({"name": f"plain-{n}", "ad_click": {"url": hostile_site.url("/plain")}})) for n in range(4)]
    )
    suite = SuiteRunner(options, progress=after_a_run, on_start=sessions.append).run(planned)
    assert suite.aborted and f"browser {str(browser)!r}" in suite.aborted and "not found" in suite.aborted
    assert 1 <= len(suite.runs) <= 2 and suite.planned_runs == 4 and not suite.passed
    assert suite.runs[0].passed, "the run had before is kept as it was"


def test_a_page_stuck_in_an_endless_loop_after_load_ends_its_run(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    """Playwright's evaluate has no timeout of its own: a tag that never yields the main thread held the run
    (and the suite behind it) forever. Now the run ends with that said, and the hit sent before is kept."""
    result = hostile_harness.visit(hostile_site.url("/busy-after-load"))
    error = result.capture.error or ""
    assert "the page stopped answering" in error and f"{NAVIGATION_TIMEOUT_MS} ms" in error, error
    assert hit_ids(result) == ["busy-0"]
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_click_into_an_endless_loop_fails_its_step_and_the_run_still_ends(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    journey = scenario_journey([ClickStep(click="#spin", timeout_ms=1_000)], "tok", NAVIGATION_TIMEOUT_MS)
    plan = VisitPlan(journey=journey, truth=TruthSource(page={"order_id": "#order-id"}))
    result = hostile_harness.visit(hostile_site.url("/busy-on-click"), plan=plan)
    error = result.capture.error or ""
    assert "#spin" in error and "the page stopped answering" in error, error
    assert result.capture.truth is not None and "stopped answering" in (result.capture.truth.error or "")
    assert hit_ids(result) == ["busy-click-0"]
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_landing_page_that_answers_404_is_named_a_broken_page(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    url = hostile_site.url("/product-sold-out")  # the hostile site answers unknown paths with a 404
    result = hostile_harness.visit(url)
    assert result.capture.error is None, "an error page is a page: the run itself completes"
    scenario = Scenario.model_validate({"name": "gone", "ad_click": {"url": url}})
    [failure] = pages_answer(CheckContext(scenario, result, url))
    assert failure.root_cause == "Broken page" and "HTTP 404" in failure.title and "/product-sold-out" in failure.title


def test_a_missing_consent_banner_names_the_selector(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    journey = scenario_journey([ClickStep(click="#cmp-accept", timeout_ms=1_000)], "tok", NAVIGATION_TIMEOUT_MS)
    result = hostile_harness.visit(hostile_site.url("/plain"), journey=journey)
    error = result.capture.error or ""
    assert "'#cmp-accept'" in error and "1000 ms" in error, error
    [step] = result.capture.steps
    assert step.error and "#cmp-accept" in step.error
    assert hit_ids(result) == ["plain-0"]
    assert_next_run_works(hostile_harness, hostile_site)


def test_a_missing_cmp_for_the_consent_condition_names_the_selector(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    plan = VisitPlan(conditions=RunConditions(consent="accept"))
    result = hostile_harness.visit(hostile_site.url("/plain"), plan=plan)
    error = result.capture.error or ""
    assert "consent" in error.lower() and plan.consent_selectors.accept in error, error
    assert hit_ids(result) == ["plain-0"]
    assert_next_run_works(hostile_harness, hostile_site)


# --- big and broken payloads ---------------------------------------------------------------------------


def test_a_5_mb_page_and_script_complete_with_a_capped_body(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    before = rss_mb()
    page = hostile_harness.visit(hostile_site.url("/big"))
    script = hostile_harness.visit(hostile_site.url("/big-js"))
    grown = rss_mb() - before
    for result, marker in ((page, "big-0"), (script, "bigjs-0")):
        assert result.capture.error is None and hit_ids(result) == [marker]
    [document] = [r for r in page.capture.requests if r.is_navigation]
    assert len(document.response_body) == MAX_DOCUMENT_BODY < BIG_BYTES, "the kept document body is capped"
    [js] = [r for r in script.capture.requests if r.path == "/big.js"]
    assert js.status == 200 and js.response_body == b"", "script bodies are streamed through, never kept"
    assert grown < 64, f"the harness process grew {grown:.0f} MB for two 5 MB responses"


def test_a_malformed_hit_is_reported_and_the_run_goes_on(
    hostile_harness: Harness, hostile_site: HostileSite
) -> None:
    result = hostile_harness.visit(hostile_site.url("/malformed"))
    assert result.capture.error is None
    [malformed] = [e for e in result.events if e.malformed]
    assert malformed.vendor == "ga4" and malformed.request_id
    [request] = [r for r in result.capture.requests if r.id == malformed.request_id]
    assert "ep.hit=no-en" in request.url
    assert hit_ids(result) == ["after-malformed"], "the good hit after it is decoded"


# --- parallel runs -------------------------------------------------------------------------------------


def test_four_parallel_runs_never_share_a_hit(hostile_harness: Harness, hostile_site: HostileSite) -> None:
    markers = [f"par{i}" for i in range(4)]
    urls = [hostile_site.url(f"/marked?marker={m}") for m in markers]
    with normal_timeouts(hostile_harness), ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(hostile_harness.visit, urls))
    assert len({r.run_id for r in results}) == 4
    for marker, result in zip(markers, results, strict=True):
        assert result.capture.error is None
        assert sorted(hit_ids(result)) == sorted(f"{marker}-{kind}" for kind in ("load", "keepalive", "unload"))
    assert hostile_harness.proxy is not None and hostile_harness.proxy.unattributed() == []
