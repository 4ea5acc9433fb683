"""One browser run: a fresh (incognito) context through the capture proxy, from the ad URL to the end of
capture. Async, on the engine's browser loop; the proxy runs on a thread of its own."""

from __future__ import annotations

import asyncio
import difflib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Browser, BrowserContext, Dialog, Page, Playwright, Request
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from harness.blocklists import load_blocklist
from harness.browser.client_hints import ClientHints
from harness.browser.conditions import (
    BlockRecorder,
    ConsentNotAnswered,
    answer_consent,
    apply_blocker,
    apply_network,
    context_overrides,
    seed_consent,
)
from harness.browser.csp import end_beacon_url
from harness.browser.handoff import AppHandoffWatch
from harness.browser.metrics import MetricsRecorder
from harness.browser.pace import requests_in_flight, watch_page
from harness.browser.page_calls import PageUnresponsive, answers, bounded, unresponsive_message
from harness.browser.truth import read_truth
from harness.capture.proxy import CaptureProxy
from harness.chain import build_chain
from harness.errors import BadInput
from harness.link_protection import STRIPS_ACROSS_SITES, browser_rules, strip_tracking_params
from harness.models import (
    AppHandoff,
    BackendTruth,
    CapturedRequest,
    CookieRecord,
    DialogRecord,
    Navigation,
    PageMetrics,
    RedirectHop,
    RunCapture,
    StepRecord,
)
from harness.options import RunOptions
from harness.scenario import ConsentSelectors, RunConditions, TruthSource

# A journey drives the page after landing (click, fill, checkout) and records each step it performs;
# scenarios build one from their steps (browser/journey.py). It may return the page it ended on (a popup a
# step moved to); None means the landing page.
Journey = Callable[[Page, list[StepRecord]], Awaitable[Page | None]]


@dataclass
class VisitPlan:
    """What a run does beyond landing, and what it keeps."""

    journey: Journey | None = None
    truth: TruthSource | None = None
    truth_base: Path | None = None  # relative truth files are read from here (the scenario's folder)
    # Where the replay kit goes (Playwright trace, HAR, final screenshot); None records none of it.
    artifacts_dir: Path | None = None
    conditions: RunConditions = field(default_factory=RunConditions)
    consent_selectors: ConsentSelectors = field(default_factory=ConsentSelectors)


def device_descriptor(playwright: Playwright, name: str) -> dict[str, Any]:
    """Playwright's device (viewport, touch, user agent) as context arguments."""
    devices = playwright.devices
    if name not in devices:
        close = difflib.get_close_matches(name, list(devices), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise BadInput(f"unknown device {name!r}: use a Playwright device name such as 'Pixel 7'{hint}")
    descriptor = dict(devices[name])
    descriptor.pop("default_browser_type", None)
    return descriptor


@dataclass
class _NavigationLog:
    """Main-frame commits and in-flight navigation requests, as the page reports them."""

    page: Page
    navigations: list[Navigation] = field(default_factory=list)
    pending: set[Request] = field(default_factory=set)
    last_change: float = field(default_factory=time.monotonic)
    steps: list[StepRecord] = field(default_factory=list)  # the journey's records, as they grow
    crashed: bool = False
    unresponsive: bool = False  # the page's main thread stopped answering (harness.browser.page_calls)
    leaving: bool = False  # set when the run leaves the page: that navigation is ours, not the site's
    looping: bool = False  # the landing loops: what it commits while it is left is not told either
    answered_at: float | None = None  # when a main-frame navigation was last answered (its commit follows)
    # The current document's HTTP Refresh header (the meta tag's equivalent), from the proxy's record.
    refresh_header: Callable[[str], str | None] | None = None

    def attach(self) -> None:
        self.page.on("framenavigated", self._committed)
        self.page.on("request", self._request)
        self.page.on("requestfinished", self._request_answered)
        self.page.on("requestfailed", self._request_done)
        self.page.on("crash", self._crash)

    def _committed(self, frame: Any) -> None:
        if frame != self.page.main_frame:
            return
        # Once the run leaves, about:blank is its own; another document is the page moving on by itself.
        if not self.leaving or (frame.url != "about:blank" and not self.looping):
            self.navigations.append(
                Navigation(
                    index=len(self.navigations),
                    url=frame.url,
                    at=time.time(),
                    step=self.steps[-1].index if self.steps else None,
                )
            )
            self.last_change = time.monotonic()

    def _request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.pending.add(request)
            self.last_change = time.monotonic()

    def _request_done(self, request: Request) -> None:
        if request in self.pending:
            self.pending.discard(request)
            self.last_change = time.monotonic()

    def _request_answered(self, request: Request) -> None:
        if request in self.pending:
            self.answered_at = time.monotonic()
        self._request_done(request)

    def _crash(self, _page: Any) -> None:
        self.crashed = True

    async def moved_on(self, left_at: float, timeout_ms: int) -> bool:
        """Whether the page, left (for about:blank) at ``left_at`` (monotonic), moved on by itself: a
        navigation of its own, on its way as it was left, commits after ours (Playwright's goto returns as if
        the page were left). Waits while such a navigation is in flight, and a moment for the commit of one
        answered since ``left_at``; at once when there is none."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.crashed and not self.page.is_closed():
            if self.page.url != "about:blank":
                return True
            since = max(left_at, time.monotonic() - COMMIT_GRACE_S)
            just_answered = self.answered_at is not None and self.answered_at >= since
            if not self.pending and not just_answered:
                return False
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return False

    async def settle(self, settle_ms: int, timeout_ms: int, max_hops: int) -> bool:
        """Wait until no main-frame navigation is pending or committed for ``settle_ms`` after the page
        loaded (script redirects run at load), and past a ``<meta http-equiv=refresh>`` the page has
        scheduled. False when it never settles: a client-side loop, a crash, a page that stopped answering."""
        try:
            return await self._settle(settle_ms, timeout_ms, max_hops)
        except PageUnresponsive:
            self.unresponsive = True
            return False

    async def _settle(self, settle_ms: int, timeout_ms: int, max_hops: int) -> bool:
        deadline = time.monotonic() + timeout_ms / 1000
        window = settle_ms / 1000
        checked = -1  # the navigation whose document was looked at
        hold_until = 0.0  # when its meta refresh should have fired
        while time.monotonic() < deadline and not self.crashed:
            if len(self.navigations) > max_hops + 1:
                return False
            if not self.pending and checked != len(self.navigations):
                document = await _document_state(self.page, timeout_ms)
                if document.loaded_at is None and time.monotonic() - self.last_change < window:
                    await asyncio.sleep(min(0.05, window))  # still loading (or replaced): look again
                    continue
                checked = len(self.navigations)
                # The window runs from the document's own load, not from when the driver told us of it.
                loaded_at = document.loaded_at if document.loaded_at is not None else time.monotonic()
                self.last_change = max(self.last_change, loaded_at)
                # Browsers start a refresh's timer at load; one later than a visitor would wait is not
                # part of the landing.
                delay = document.refresh_delay_s
                if delay is None and self.refresh_header is not None:
                    delay = refresh_delay(self.refresh_header(self.page.url))
                waited = delay is not None and delay <= MAX_REFRESH_WAIT_S
                hold_until = loaded_at + (delay or 0.0) + window if waited else 0.0
                continue
            now = time.monotonic()
            idle = now - self.last_change
            if not self.pending and idle >= window and now >= hold_until:
                return True
            wait = max(window - idle, hold_until - now)
            await asyncio.sleep(max(0.005, min(wait, 0.05)))
        return self.crashed is False and not self.pending


def refresh_delay(value: str | None) -> float | None:
    """The delay of a ``Refresh`` header value (``"2; url=/lp"``, ``"0"``) in seconds, or None."""
    try:
        delay = float((value or "").split(";", 1)[0].split(",", 1)[0].strip())
    except ValueError:
        return None
    return delay if delay >= 0 and math.isfinite(delay) else None


# The longest <meta http-equiv=refresh> delay waited for as part of the landing's redirect chain.
MAX_REFRESH_WAIT_S = 10.0

# The document's meta refresh delay (s), how long ago (ms, on the page's own monotonic clock, so a remote
# browser's skewed clock does not matter) its load event ended (null for either when there is none yet),
# and the Content-Security-Policies its <meta> elements set.
_DOCUMENT_STATE = """() => {
  const meta = document.querySelector('meta[http-equiv="refresh" i]');
  const delay = meta ? parseFloat((meta.getAttribute('content') || '').split(/[;,]/)[0]) : NaN;
  const nav = performance.getEntriesByType('navigation')[0];
  const policies = Array.from(document.querySelectorAll('meta[http-equiv="content-security-policy" i]'),
                              (m) => m.getAttribute('content') || '');
  return [Number.isFinite(delay) && delay >= 0 ? delay : null,
          nav && nav.loadEventEnd > 0 ? performance.now() - nav.loadEventEnd : null, policies];
}"""


@dataclass(frozen=True)
class _DocumentState:
    refresh_delay_s: float | None = None  # until its meta refresh fires (counted from load)
    loaded_at: float | None = None  # monotonic time its load event ended (never later than now)
    meta_policies: tuple[str, ...] = ()  # Content-Security-Policy set by <meta> elements


async def _document_state(page: Page, timeout_ms: float) -> _DocumentState:
    """The page's current document as it reports itself; empty when it cannot (navigating, crashed).
    Raises ``PageUnresponsive`` when it does not answer within ``timeout_ms``."""
    try:
        delay, since_load_ms, policies = await bounded(page.evaluate(_DOCUMENT_STATE), timeout_ms)
    except PageUnresponsive:
        raise
    except (PlaywrightError, TypeError, ValueError):
        return _DocumentState()  # a navigation replaced the document: the log sees it
    now = time.monotonic()
    return _DocumentState(
        refresh_delay_s=float(delay) if isinstance(delay, int | float) else None,
        loaded_at=now - max(0.0, float(since_load_ms)) / 1000 if isinstance(since_load_ms, int | float) else None,
        meta_policies=tuple(p for p in policies if isinstance(p, str)) if isinstance(policies, list) else (),
    )


def _last_page_moment(document: _DocumentState, acted_at: float | None) -> float:
    """The later of the run's last action and the current document's load: tags fire on either, so the
    quiet window before leaving counts from there, not from when the run got round to asking."""
    if document.loaded_at is None:
        return time.monotonic()  # not loaded (or not answering): count from now
    return max(document.loaded_at, acted_at or document.loaded_at)


async def _leave_popups(context: BrowserContext, landing: Page, timeout_ms: int) -> None:
    """Navigate every other open page away, so its pagehide handlers send their beacons too."""
    for other in [p for p in context.pages if p is not landing and not p.is_closed()]:
        try:
            await _leave(other, timeout_ms, looping=False)
        except PlaywrightError:
            pass  # closed or crashed meanwhile: nothing more to send


# How long a main-frame navigation answered after the run left the page is given to commit.
COMMIT_GRACE_S = 0.5

# A page that navigates itself on (a loop in script or meta refresh, a timer) can start its next navigation
# just as the run leaves it: that one interrupts ours, or, already on its way, commits after ours (Playwright's
# goto returns as if the page were left), and the page goes on (seen under load: a loop kept the run until
# its cap). Either way the run leaves again: at most this many times for each of the two.
LEAVE_ATTEMPTS = 3


async def _leave(page: Page, timeout_ms: int, *, looping: bool) -> None:
    """Navigate ``page`` to about:blank, so its ``pagehide`` handlers fire and send their beacons, and keep
    it there: a navigation of the page's own that interrupts ours is answered by leaving again, and a
    looping page is closed once left (its next navigation, already on its way, could commit over ours)."""
    for attempt in range(1, LEAVE_ATTEMPTS + 1):
        try:
            await page.goto("about:blank", timeout=timeout_ms)
            break
        except PlaywrightTimeout:
            raise
        except PlaywrightError:
            if page.is_closed() or attempt == LEAVE_ATTEMPTS:
                raise
    if looping:
        await page.close()


async def _arm_for_leaving(
    page: Page, proxy: CaptureProxy, run_id: str, meta_policies: tuple[str, ...], timeout_ms: int
) -> bool:
    """Arm the end-of-run beacon on the page's document where its policy lets the beacon go (its header's
    and ``meta_policies``): a blocked one would hold the run until the cap."""
    policies = [*proxy.document_header(run_id, page.url, "content-security-policy"), *meta_policies]
    beacon_url = end_beacon_url(page.url, policies)
    return beacon_url is not None and await _arm_end_beacon(page, beacon_url, timeout_ms)


async def _rearm_for_leaving(page: Page, proxy: CaptureProxy, run_id: str, timeout_ms: int) -> bool:
    """Arm the end beacon on the document a page moved on to by itself as it was left: the one armed on the
    page before went out with that page's pagehide, and this one's unload hits come when it is left."""
    try:
        meta = (await _document_state(page, timeout_ms)).meta_policies
    except PageUnresponsive:
        return False  # it does not answer: left as it is, its hits waited for by the quiet window
    return await _arm_for_leaving(page, proxy, run_id, meta, timeout_ms)


async def _cookies(context: BrowserContext) -> list[CookieRecord]:
    cookies = await context.cookies()
    return [
        CookieRecord(
            name=c.get("name", ""),
            value=c.get("value", ""),
            domain=c.get("domain", ""),
            path=c.get("path", "/"),
            expires=c.get("expires") if (c.get("expires") or -1) > 0 else None,
            http_only=bool(c.get("httpOnly")),
            secure=bool(c.get("secure")),
            same_site=c.get("sameSite"),
        )
        for c in cookies
    ]


# Registered when the run leaves the page, so it is the last pagehide listener: its beacon is queued after
# every beacon the page's own tags send.
_ARM_END_BEACON = """(url) => {
  addEventListener('pagehide', () => { navigator.sendBeacon(url + '?sent_at=' + Date.now()); });
  return true;
}"""


async def _arm_end_beacon(page: Page, url: str, timeout_ms: float) -> bool:
    try:
        return bool(await bounded(page.evaluate(_ARM_END_BEACON, url), timeout_ms))
    except PlaywrightError:
        return False


async def _loaded(page: Page, timeout_ms: int) -> None:
    """Wait for the current document's load event; a page still loading at the cap is left as it is."""
    try:
        await page.wait_for_load_state("load", timeout=timeout_ms)
    except PlaywrightError:
        pass  # timed out, crashed or closed: the run's error (if any) says so


async def _land(page: Page, url: str, timeout_ms: int, handoffs: AppHandoffWatch) -> bool:
    """Open ``url`` until its load, as ``page.goto`` does. True when the page's script handed the click to an
    app first: a deep-link page that does so before its load cancels the load, which then never comes."""
    landing = asyncio.ensure_future(page.goto(url, wait_until="load", timeout=timeout_ms))
    handed = asyncio.ensure_future(handoffs.handed.wait())
    try:
        done, _ = await asyncio.wait({landing, handed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        handed.cancel()
    if landing in done:
        await landing  # its errors, as page.goto raises them
        return False
    # Leaving the page ends the navigation that waits for a load: its error is expected, not a failure.
    landing.add_done_callback(lambda task: task.cancelled() or task.exception())
    return True


async def _land_and_abandon(page: Page, url: str, abandon_after_ms: int, options: RunOptions) -> float:
    """Open ``url`` and leave it ``abandon_after_ms`` after the click, loaded or not; returns when."""
    clicked = time.monotonic()
    landing = asyncio.ensure_future(page.goto(url, wait_until="load", timeout=options.navigation_timeout_ms))
    # Leaving aborts the navigation: its error is the point of the exercise, not a failure.
    landing.add_done_callback(lambda task: task.cancelled() or task.exception())
    remaining = abandon_after_ms / 1000 - (time.monotonic() - clicked)
    if remaining > 0:
        await asyncio.wait({landing}, timeout=remaining)
        remaining = abandon_after_ms / 1000 - (time.monotonic() - clicked)
        if remaining > 0:
            await asyncio.sleep(remaining)
    return time.time()


# The longest dialog message kept: a page's text, not a document.
MAX_DIALOG_MESSAGE = 500


async def _answer_dialog(dialog: Dialog, dialogs: list[DialogRecord]) -> None:
    """Accept a dialog as the visitor going on with the journey would, and record it (see DialogRecord)."""
    opened_at, url = time.time(), dialog.page.url if dialog.page is not None else None
    answer: Literal["accepted", "failed"] = "accepted"
    try:
        await dialog.accept()
    except PlaywrightError:
        answer = "failed"
    message = dialog.message[:MAX_DIALOG_MESSAGE]
    dialogs.append(DialogRecord(kind=dialog.type, message=message, url=url, at=opened_at, answer=answer))


def _browser_died(detail: str | None) -> str:
    said = f" ({detail})" if detail else ""
    return (
        f"the browser closed during the run (its process died or was killed){said}; the hits it sent before "
        "are kept, and the next run starts a new browser"
    )


def _capture_note(complete: bool, open_before_leaving: list[str], cap_ms: int) -> str | None:
    """Why the capture was cut off, naming the requests that held the page when it was left; None if whole."""
    if open_before_leaving:
        more = len(open_before_leaving) - 3
        shown = "; ".join(open_before_leaving[:3]) + (f"; {more} more" if more > 0 else "")
        return (
            f"the page was left after {cap_ms} ms with requests still unanswered: {shown} "
            "(a long poll or a stalled request); what the page would have sent once they answered is not in this run"
        )
    if not complete:
        return f"requests were still open after {cap_ms} ms; later hits are not in this run"
    return None


async def _screenshot(page: Page, path: Path) -> str | None:
    """The page as the run leaves it, in CSS pixels (a third of the bytes and a quarter of the time of
    the device-pixel image, 1080x2400 PNG for a Pixel 7, which the report shrinks); None when the page has
    none to give (crashed, blank)."""
    try:
        await page.screenshot(path=str(path), timeout=5_000, scale="css")
    except PlaywrightError:
        return None
    return str(path)


def _short(error: Exception) -> str:
    """Playwright's first message line, without its call log."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _unanswered(hop: RedirectHop, request: CapturedRequest | None) -> str:
    """One line for a hop with no answer: an unmapped host is to be mapped; a mapped one is broken."""
    if request is not None and request.mapped_to:
        return (
            f"{hop.host} (mapped to {request.mapped_to}) gave no HTTP answer ({hop.error}): check that the "
            f"server at {request.mapped_to} is up and speaks plain HTTP"
        )
    if "tls" in (hop.error or "").lower():
        return (
            f"TLS with {hop.host} failed ({hop.error}): its port does not speak TLS or its TLS setup is broken; "
            f"test a staging copy with --resolve {hop.host}=ADDR:PORT"
        )
    return (
        f"{hop.host} could not be reached ({hop.error}): map it to a local server with "
        f"--resolve {hop.host}=ADDR:PORT, or check the network"
    )


async def run_visit(
    playwright: Playwright,
    browser: Browser,
    proxy: CaptureProxy,
    url: str,
    options: RunOptions,
    plan: VisitPlan | None = None,
) -> RunCapture:
    """Land on ``url`` in a fresh context, run the journey, leave the page so unload hits fire, and wait
    until the proxy has seen the last of them."""
    plan = plan or VisitPlan()
    descriptor = device_descriptor(playwright, options.device)
    run_id = proxy.open_run()
    artifacts: dict[str, str] = {}
    truth: BackendTruth | None = None
    if plan.artifacts_dir is not None:
        # No Playwright HAR: recording one costs ~15% of a run's CPU, kept or not. The report writes the HAR
        # of a kept replay kit from the proxy's own record of the run (harness.report.replay).
        plan.artifacts_dir.mkdir(parents=True, exist_ok=True)
    started_at = time.time()
    error: str | None = None
    landing_ended_at: float | None = None
    cookies: list[CookieRecord] = []
    steps: list[StepRecord] = []
    conditions = plan.conditions
    metrics: PageMetrics | None = None
    blocker: BlockRecorder | None = None
    abandoned_at: float | None = None
    acted_at: float | None = None  # monotonic: when the run last did something to the page (consent, journey)
    step_failed = False  # a consent answer or a journey step failed (the page may have stopped answering)
    looping = False  # the landing navigates on for ever (script or meta refresh): leave it as found
    handoffs = AppHandoffWatch()  # the landing's script sending the browser on to an app (started with the page)
    landing_failed = False
    handed_off = False  # the landing page's script sent the click on to an app before the page loaded
    blocklist = load_blocklist(conditions.blocker) if conditions.blocker else None  # bad file: before the browser
    # The ad URL as the browser asks for it: a browser's link tracking protection removes click IDs first.
    requested_url = url
    if conditions.link_protection is not None:
        browser_name = conditions.link_protection
        requested_url = strip_tracking_params(url, browser_name)[0]
        if browser_name in STRIPS_ACROSS_SITES:  # and again wherever a navigation crosses sites
            proxy.emulate_browser(run_id, browser_rules(browser_name))
    # What the run knows if the browser dies under it (the steps so far, every hit the proxy has).
    navigations: list[Navigation] = []
    dialogs: list[DialogRecord] = []
    complete = False
    still_open: list[str] = []
    context: BrowserContext | None = None
    shot: asyncio.Future[str | None] | None = None  # the final screenshot, taken while the last hits go out
    tracing: asyncio.Future[None] | None = None
    try:
        device = {**descriptor, **context_overrides(conditions, descriptor)}
        context = await browser.new_context(**device, proxy=proxy.playwright_proxy(run_id), ignore_https_errors=True)
        hints = await ClientHints.install(context, device.get("user_agent") or "")
        context.set_default_timeout(options.navigation_timeout_ms)
        context.on("dialog", lambda dialog: _answer_dialog(dialog, dialogs))
        if plan.artifacts_dir is not None:
            # DOM snapshots of every action, no screencast: the filmstrip's frames doubled the cost of tracing
            # (~0.45 of ~0.65 CPU-s per run) and the kit keeps the final screenshot.
            await context.tracing.start(screenshots=False, snapshots=True, sources=False)
        recorder = await MetricsRecorder.install(context)
        seed_step = await seed_consent(context, conditions.consent)  # a consent state set, not clicked
        if seed_step is not None:
            steps.append(seed_step)
        if blocklist is not None:
            blocker = await apply_blocker(context, blocklist)
        context.on("page", watch_page)  # popups too: a journey may move on to one
        page = await context.new_page()
        await hints.apply(page)  # the device's browser in its client hints, before the page loads
        context.on("page", hints.on_popup)
        watch_page(page)  # before the landing: what the page sets off, before a step may unload it
        log = _NavigationLog(
            page, steps=steps, refresh_header=lambda at: next(iter(proxy.document_header(run_id, at, "refresh")), None)
        )
        navigations = log.navigations
        log.attach()
        handoffs = await AppHandoffWatch.start(context, page)
        network = await apply_network(context, page, conditions)  # noqa: F841 - lives as long as the page
        if conditions.abandon_after_ms is not None:
            # An impatient user: the page is left at this moment, whatever it has done by then.
            abandoned_at = await _land_and_abandon(page, requested_url, conditions.abandon_after_ms, options)
            landing_ended_at = time.time()
        else:
            try:
                handed_off = await _land(page, requested_url, options.navigation_timeout_ms, handoffs)
            except PlaywrightTimeout:
                error = (
                    f"the landing page did not finish loading within {options.navigation_timeout_ms} ms "
                    "(navigation timeout); hits sent before are kept: raise --timeout if the site is just slow"
                )
                # Its document may trickle on for ever: waiting for it before leaving would only add the
                # capture cap, and name the page the error names already.
                proxy.release_documents(run_id)
            except PlaywrightError as exc:
                error = f"loading {url}: {_short(exc)}"
                landing_failed = True  # perhaps at a hand-off to an app: told once the chain is known
            if handed_off:
                # The click went on to an app (a deep-link page's script): the user is in the app now.
                app = handoffs.requested[0][0]
                if plan.journey is not None:
                    error = f"the ad click handed over to an app ({app}): a browser cannot follow it, so the journey did not run"
            elif error is None and not await log.settle(
                options.redirect_settle_ms, options.navigation_timeout_ms, options.max_hops
            ):
                if log.crashed:
                    error = "the page crashed"
                elif log.unresponsive:
                    error = unresponsive_message(options.navigation_timeout_ms)
                else:
                    error = f"the landing page never settled: more than {options.max_hops} navigations (a redirect loop?)"
                    looping = log.looping = True
            landing_ended_at = time.time()
            if error is None and not handed_off:
                try:
                    consent_step = await answer_consent(page, conditions.consent, plan.consent_selectors, index=-1)
                    if consent_step is not None:
                        steps.append(consent_step)
                        acted_at = time.monotonic()
                except ConsentNotAnswered as exc:
                    steps.append(exc.record)
                    error = str(exc)
                    step_failed = True
            if error is None and not handed_off:
                # Its numbers arrive as the page reports them (LCP until the first input); read at the end.
                try:
                    await recorder.mark_landing(page, options.navigation_timeout_ms)
                except PageUnresponsive as exc:
                    log.unresponsive = True
                    error = str(exc)
        ended_on: Page | None = None
        if error is None and abandoned_at is None and plan.journey is not None:
            try:
                ended_on = await plan.journey(page, steps)
            except PlaywrightError as exc:
                error = f"journey: {_short(exc)}"
                step_failed = True
            acted_at = time.monotonic()
        if step_failed and not log.crashed and not log.unresponsive and not await answers(page):
            # A step that timed out on a page that no longer runs scripts: say so, and stop asking it things.
            # (Not after a landing that never loaded: a page still navigating does not answer either.)
            log.unresponsive = True
            error = f"{error}; the page stopped answering (an endless loop or a very long task in a script)"
        # Let the page finish loading (tags fire on load) and the requests it has in flight finish before
        # leaving: navigating away would abort them (an image pixel requested as the last step ended).
        since = time.monotonic()
        document = _DocumentState()
        final = ended_on if ended_on is not None and not ended_on.is_closed() else page
        # A page the visitor abandoned is left as it is at that moment (what it would send later never
        # exists); a loop never falls quiet: waiting would only let it go on, sending hits, until the cap.
        leave_now = looping or abandoned_at is not None or handed_off
        if error is None and not log.crashed and not leave_now:
            await _loaded(final, options.capture_timeout_ms)
            await requests_in_flight(final).calm()  # the last step's hits leave before the page is left
            try:
                document = await _document_state(final, options.navigation_timeout_ms)
                since = _last_page_moment(document, acted_at)
            except PageUnresponsive as exc:
                log.unresponsive = True
                error = str(exc)
        if plan.artifacts_dir is not None and not log.crashed and not log.unresponsive:
            # Taken while the last hits go out (the page is as it ends: loaded, the last step done), not
            # after: the run waited for the two one after the other (~30 ms of its ~100 ms fixed cost).
            shot = asyncio.ensure_future(_screenshot(final, plan.artifacts_dir / "final-page.png"))
        quiet_before_leaving = leave_now or await proxy.wait_until_quiet(
            run_id,
            options.quiet_window_ms,
            options.capture_timeout_ms,
            since=since,
            expect_end_beacon=False,
        )
        # Leaving aborts what is still open (a long poll, a stalled API call): whatever the page would have
        # sent once they answered is not in the run, so the capture is cut off; name them.
        still_open = [] if quiet_before_leaving else proxy.open_requests(run_id)
        metrics = recorder.landing()
        if log.crashed and error is None:
            error = "the page crashed (its renderer process died); hits sent before are kept"
        usable = not log.crashed and not log.unresponsive  # a page that can still be read and left
        if plan.truth is not None:
            truth = await read_truth(plan.truth, final if usable else None, context, plan.truth_base)
        if shot is not None and usable:
            if taken := await shot:
                artifacts["screenshot"] = taken
        elif shot is not None:
            shot.cancel()  # the page stopped answering while it was taken: it would only time out
        end_beacon = False
        leaving_at = time.monotonic()
        try:
            cookies = await _cookies(context)
            if usable:  # a hung page runs no pagehide handler: closing the context ends it
                # Popups first (their pagehide beacons leave before the landing page's end beacon is queued).
                await _leave_popups(context, page, options.navigation_timeout_ms)
                # Not on a looping page: its document is about to be replaced by its own navigation, and asking
                # it only lets the loop run on (it is left as found, its hits waited for by the quiet window).
                if not looping:
                    meta = document.meta_policies if final is page else ()
                    end_beacon = await _arm_for_leaving(page, proxy, run_id, meta, options.navigation_timeout_ms)
                log.leaving = True
                # Leaving the page fires pagehide and with it the beacons that tags send last.
                left_at = time.monotonic()
                await _leave(page, options.navigation_timeout_ms, looping=looping)
                for _ in range(LEAVE_ATTEMPTS - 1):
                    if looping or not await log.moved_on(left_at, options.navigation_timeout_ms):
                        break
                    # The page moved on by itself as it was left: leave the page it moved to as well, or its
                    # unload hits are never sent (the beacon armed before went out with the first one).
                    end_beacon = await _rearm_for_leaving(page, proxy, run_id, options.navigation_timeout_ms) or end_beacon
                    left_at = time.monotonic()
                    await _leave(page, options.navigation_timeout_ms, looping=False)
        except PlaywrightError as exc:
            error = error or f"leaving the page: {_short(exc)}"
        trace = plan.artifacts_dir / "trace.zip" if plan.artifacts_dir is not None else None
        # The trace is written while the last beacons come in (its own network log needs none of them).
        tracing = asyncio.ensure_future(context.tracing.stop(path=str(trace))) if trace else None
        complete = await proxy.wait_until_quiet(
            run_id,
            options.quiet_window_ms,
            options.capture_timeout_ms,
            since=leaving_at,
            expect_end_beacon=end_beacon,
        )
        if tracing is not None:
            await tracing
            artifacts["trace"] = str(trace)
    except PlaywrightError as exc:
        if browser.is_connected():
            raise
        error = error or _short(exc)  # the browser died under the run: said below
    finally:
        for task in (shot, tracing):
            if task is not None and not task.done():
                task.cancel()  # the run ended early (the browser died): nothing waits for it now
        if context is not None and browser.is_connected():
            await context.close()
    died = not browser.is_connected()
    if died:
        # Whatever the dead browser had open was cut with it: let the proxy record that, then call the
        # capture what it is, cut off.
        await proxy.wait_until_quiet(
            run_id, options.quiet_window_ms, options.capture_timeout_ms, since=time.monotonic(), expect_end_beacon=False
        )
        complete, still_open = False, []
        error = _browser_died(error)
        note: str | None = "the browser closed during the run: what it would have sent after that is not in this run"
    else:
        note = _capture_note(complete, still_open, options.capture_timeout_ms)
    requests = proxy.close_run(run_id)
    # A script's hand-off to an app belongs to the chain when it came before the journey's first step.
    acted = [step.started_at for step in steps if step.action != "seed"]  # a consent seed comes before the page
    journey_began = acted[0] if acted else time.time()
    chain = build_chain(
        url,
        requests,
        landing_ended_at,
        options.max_hops,
        handoffs.first_before(journey_began),
        requested_url=requested_url if requested_url != url else None,
        link_protection=conditions.link_protection,
    )
    if died:
        pass  # the browser's death explains the run; its aborted requests are its doing
    elif chain.loop_detected:
        error = f"redirect loop: {len(chain.hops)} hops, stopped (limit {options.max_hops})"
    elif landing_failed and chain.hops[-1].kind == "app":
        # The click ends in an app or its store (an app-install or deep-link campaign): as far as a browser
        # follows it. The chain shows the hand-off and which click IDs it carried.
        app = chain.hops[-1].url
        error = None if plan.journey is None else f"the ad click handed over to an app ({app}): a browser cannot follow it, so the journey did not run"
    elif failed := next((h for h in chain.hops if h.error and h.status is None), None):
        # A hop that never got an answer explains the run better than the browser's net:: code. (One that
        # did answer and then errored was cut by us leaving the page: the error above says why.)
        error = _unanswered(failed, {r.id: r for r in requests}.get(failed.request_id or ""))
    return RunCapture(
        run_id=run_id,
        start_url=url,
        device=options.device,
        chain=chain,
        navigations=navigations,
        steps=steps,
        dialogs=dialogs,
        app_handoffs=[AppHandoff(url=at_url, at=at) for at_url, at in handoffs.requested],
        requests=requests,
        cookies=cookies,
        started_at=started_at,
        finished_at=time.time(),
        capture_complete=complete and not still_open,
        capture_note=note,
        truth=truth,
        metrics=metrics,
        blocked=blocker.as_captured(run_id) if blocker else [],
        abandoned_at=abandoned_at,
        artifacts={k: v for k, v in artifacts.items() if Path(v).exists()},
        error=error,
    )
