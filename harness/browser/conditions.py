"""Real-world conditions of a run, as building blocks ``visit.py`` calls: a slow network and CPU, an in-app
browser's user agent, a consent answer, a content blocker.

Each block is a small async function over Playwright's async API; none changes how a run is captured.

Network presets (bytes per second, milliseconds), from Chrome DevTools' own throttling presets
(``front_end/core/sdk/NetworkManager.ts`` in ChromeDevTools/devtools-frontend), which multiply their
target figures by adjustment factors so that DevTools' request-level throttling approximates a real
packet-level link:

=========== ====================================================================================
``slow-3g`` DevTools "Slow 3G" (named "3G" since 2024): 500 kbit/s x 0.8 both ways, 400 ms RTT x 5
``fast-3g`` DevTools "Fast 3G": 1.6 Mbit/s x 0.9 down, 750 kbit/s x 0.9 up, 150 ms RTT x 3.75
``slow-4g`` DevTools "Slow 4G": the same figures; DevTools renamed "Fast 3G" to "Slow 4G" in May 2024
            to align with Lighthouse's mobile throttling (crbug.com/342406608), so both names stay
``4g``      DevTools "Fast 4G": 9 Mbit/s x 0.9 down, 1.5 Mbit/s x 0.9 up, 60 ms RTT x 2.75
``wifi``    no DevTools preset: Lighthouse's desktop throttling (``desktopDense4G`` in
            lighthouse/core/config/constants.js: 10 Mbit/s, 40 ms RTT), a decent home connection
=========== ====================================================================================
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Literal

from playwright.async_api import BrowserContext, CDPSession, FrameLocator, Locator, Page, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from harness.blocklists import BlockList, load_blocklist
from harness.browser.cmps import KnownCmp, cmps_named
from harness.models import CapturedRequest, StepRecord
from harness.scenario import (
    ConsentChoice,
    ConsentSeed,
    ConsentSelectors,
    CustomConsent,
    CustomNetwork,
    InAppProfile,
    RunConditions,
    SeededConsent,
)

__all__ = [
    "IN_APP_USER_AGENTS",
    "NETWORK_PRESETS",
    "BlockList",
    "BlockRecorder",
    "BlockedRequest",
    "ConsentNotAnswered",
    "NetworkProfile",
    "answer_consent",
    "apply_blocker",
    "apply_network",
    "context_overrides",
    "load_blocklist",
    "network_profile",
    "seed_consent",
]

# --- network and CPU ------------------------------------------------------------------------------

ConnectionType = Literal["cellular2g", "cellular3g", "cellular4g", "wifi", "ethernet", "other"]


@dataclass(frozen=True)
class NetworkProfile:
    """What ``Network.emulateNetworkConditions`` takes: latency in ms, throughput in bytes per second."""

    name: str
    latency_ms: float
    download_bps: float
    upload_bps: float
    connection_type: ConnectionType = "other"  # what navigator.connection.type reports

    def cdp_params(self) -> dict[str, Any]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            "downloadThroughput": self.download_bps,
            "uploadThroughput": self.upload_bps,
            "connectionType": self.connection_type,
        }


def _mbit(megabits: float) -> float:
    """Megabits per second (decimal, as DevTools writes them) in bytes per second."""
    return megabits * 1000 * 1000 / 8


NETWORK_PRESETS: dict[str, NetworkProfile] = {
    "slow-3g": NetworkProfile("slow-3g", 400 * 5, _mbit(0.5) * 0.8, _mbit(0.5) * 0.8, "cellular3g"),
    "fast-3g": NetworkProfile("fast-3g", 150 * 3.75, _mbit(1.6) * 0.9, _mbit(0.75) * 0.9, "cellular3g"),
    "slow-4g": NetworkProfile("slow-4g", 150 * 3.75, _mbit(1.6) * 0.9, _mbit(0.75) * 0.9, "cellular4g"),
    "4g": NetworkProfile("4g", 60 * 2.75, _mbit(9) * 0.9, _mbit(1.5) * 0.9, "cellular4g"),
    "wifi": NetworkProfile("wifi", 40, _mbit(10), _mbit(10), "wifi"),
}


def network_profile(network: str | CustomNetwork) -> NetworkProfile | None:
    """The profile of a run's ``network`` condition; None for ``none`` (no throttling)."""
    if isinstance(network, CustomNetwork):
        return NetworkProfile(
            "custom", network.latency_ms, network.download_kbps * 1000 / 8, network.upload_kbps * 1000 / 8
        )
    if network == "none":
        return None
    return NETWORK_PRESETS[network]


async def apply_network(context: BrowserContext, page: Page, conditions: RunConditions) -> CDPSession | None:
    """Throttle the page's network and CPU as ``conditions`` say, before it navigates.

    Returns the CDP session (keep it for the page's lifetime: the emulation belongs to it), or None when
    nothing is throttled. Throttling is per page target: popups and service workers run at full speed.
    """
    profile = network_profile(conditions.network)
    if profile is None and conditions.cpu_slowdown <= 1.0:
        return None
    session = await context.new_cdp_session(page)
    if profile is not None:
        await session.send("Network.enable")
        await session.send("Network.emulateNetworkConditions", profile.cdp_params())
    if conditions.cpu_slowdown > 1.0:
        await session.send("Emulation.setCPUThrottlingRate", {"rate": conditions.cpu_slowdown})
    return session


# --- in-app browsers ------------------------------------------------------------------------------

# Real in-app browser user agents (2024): the app appends its token to the system web view's UA. iOS apps
# use WKWebView (no "Safari/" or "Version/" token); Android apps use the Chromium WebView ("; wv)" and
# "Version/4.0"). Facebook: [FBAN/FBIOS;...] and [FB_IAB/FB4A;...]; Instagram: "Instagram <version>
# (<device>; ...)"; TikTok: musical_ly_<version> (iOS), trill_<build> (Android), both BytedanceWebview.
_IOS_WEBKIT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)
_ANDROID_WEBVIEW = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240605.024; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/125.0.6422.165 Mobile Safari/537.36"
)

IN_APP_USER_AGENTS: dict[InAppProfile, str] = {
    "facebook_ios": f"{_IOS_WEBKIT} [FBAN/FBIOS;FBAV/467.0.0.37.108;FBBV/598640424;FBDV/iPhone15,2;FBMD/iPhone;"
    "FBSN/iOS;FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/600201521]",
    "facebook_android": f"{_ANDROID_WEBVIEW} [FB_IAB/FB4A;FBAV/467.0.0.47.107;]",
    "instagram_ios": f"{_IOS_WEBKIT} Instagram 334.0.4.32.98 (iPhone15,2; iOS 17_5_1; en_US; en; scale=3.00; "
    "1179x2556; 606196432)",
    "instagram_android": f"{_ANDROID_WEBVIEW} Instagram 334.0.0.42.95 Android (34/14; 420dpi; 1080x2400; "
    "Google/google; Pixel 7; panther; panther; en_US; 606196425)",
    "tiktok_ios": f"{_IOS_WEBKIT} musical_ly_35.0.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en "
    "Region/US ByteFullLocale/en RevealType/Dialog isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6",
    "tiktok_android": f"{_ANDROID_WEBVIEW} trill_350003 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly "
    "app_version/35.0.3 ByteLocale/en ByteFullLocale/en Region/US AppId/1233 Spark/1.5.8.3-bugfix "
    "AppVersion/35.0.3 BytedanceWebview/d8a21c6",
}


def context_overrides(conditions: RunConditions, device_descriptor: dict[str, Any]) -> dict[str, Any]:
    """Context arguments to merge over the device descriptor (``{**descriptor, **overrides}``).

    Only the user agent changes: viewport, touch and scale stay the device's, so pick an iPhone device for
    an ``*_ios`` profile and an Android one for ``*_android``.
    """
    if conditions.in_app is None:
        return {}
    return {"user_agent": IN_APP_USER_AGENTS[conditions.in_app]}


# --- consent ------------------------------------------------------------------------------------

DEFAULT_CONSENT_TIMEOUT_MS = 5_000


class ConsentNotAnswered(PlaywrightError):
    """The consent banner's button never appeared. ``str()`` is the run error; ``record`` the failed step.

    A ``PlaywrightError`` like the journey's own step failures, so ``visit.py``'s handler reports it.
    """

    def __init__(self, message: str, record: StepRecord) -> None:
        super().__init__(message)
        self.record = record


async def answer_consent(
    page: Page,
    choice: ConsentChoice | None,
    selectors: ConsentSelectors,
    *,
    index: int = 0,
    timeout_ms: int = DEFAULT_CONSENT_TIMEOUT_MS,
) -> StepRecord | None:
    """Click the CMP's accept or reject button, or grant only some purposes (``{custom: [...]}``);
    ``ignore``, a seeded choice (see ``seed_consent``) or None leave the banner alone.

    The button is the scenario's ``consent_selectors.accept``/``reject`` when it sets one; otherwise the first
    known CMP's (``harness/browser/cmps.py``, narrowed by ``consent_selectors.cmp``) to become visible, in the
    page or in the CMP's iframe.

    Returns the step ("consent: accept (OneTrust)", ``consent`` set to what the answer amounts to); raises
    ``ConsentNotAnswered`` when no control becomes visible within ``timeout_ms`` (no CMP, or another
    selector), a CMP has no known reject button, or a custom purpose has no selector.
    """
    if choice is None or choice == "ignore" or isinstance(choice, SeededConsent):
        return None
    if isinstance(choice, CustomConsent):
        return await _answer_custom(page, choice, selectors, index=index, timeout_ms=timeout_ms)
    selector = selectors.explicit(choice)
    if selector is None:
        return await _answer_known_cmp(page, choice, cmps_named(selectors.cmp), index=index, timeout_ms=timeout_ms)
    record = _consent_record(index, f"consent: {choice}", selector, consent=choice)
    await _click(page, selector, record, timeout_ms)
    return _answered(page, record)


async def _answer_custom(
    page: Page, choice: CustomConsent, selectors: ConsentSelectors, *, index: int, timeout_ms: int
) -> StepRecord:
    """Open the settings, set every known purpose's toggle (granted: checked), save."""
    record = _consent_record(index, f"consent: {choice.label()}", selectors.save or selectors.accept, choice.means)
    unknown = [p for p in choice.custom if p not in selectors.purposes]
    if unknown:
        record.error = (
            f"purpose {unknown[0]!r} has no selector in consent_selectors.purposes "
            f"(known: {', '.join(selectors.purposes) or 'none'})"
        )
        raise _not_answered("consent purposes not answered", record)
    if selectors.save is None:
        record.error = "a custom consent choice needs consent_selectors.save (the button that saves purposes)"
        raise _not_answered("consent purposes not answered", record)
    if selectors.settings:
        await _click(page, selectors.settings, record, timeout_ms)
    for purpose, selector in selectors.purposes.items():
        toggle = page.locator(selector).first
        try:
            await toggle.set_checked(purpose in choice.custom, timeout=timeout_ms)
        except PlaywrightError as exc:
            record.error = f"purpose {purpose!r} ({selector!r}) could not be set: {_first_line(exc)}"
            raise _not_answered("consent purposes not answered", record) from None
    await _click(page, selectors.save, record, timeout_ms)
    return _answered(page, record)


def _consent_record(index: int, label: str, target: str, consent: Literal["accept", "reject"] | None) -> StepRecord:
    return StepRecord(index=index, label=label, action="click", target=target, started_at=time.time(), consent=consent)


async def _click(page: Page, selector: str, record: StepRecord, timeout_ms: int) -> None:
    await _click_when_visible(
        page.locator(selector).first, record, timeout_ms, f"selector {selector!r} did not appear within {timeout_ms} ms"
    )


async def _click_when_visible(
    button: Locator, record: StepRecord, timeout_ms: int, missing: str, what: str = "no consent banner found"
) -> None:
    """Wait for ``button`` to be visible, then click it; ``missing`` is the error when it never shows."""
    try:
        await button.wait_for(state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        record.error = missing
        raise _not_answered(what, record) from None
    try:
        await button.click(timeout=timeout_ms)
    except PlaywrightError as exc:  # covered by an overlay, detached by the CMP's own animation, ...
        record.error = f"selector {record.target!r} could not be clicked: {_first_line(exc)}"
        raise _not_answered("consent banner not answered", record) from None


# --- consent: the known CMPs ----------------------------------------------------------------------


async def _answer_known_cmp(
    page: Page, choice: Literal["accept", "reject"], cmps: Sequence[KnownCmp], *, index: int, timeout_ms: int
) -> StepRecord:
    """Wait for the first of ``cmps`` whose banner shows, then click its ``choice`` button.

    A reject never falls back to an accept: a CMP without a known reject button is a run error."""
    deadline = time.monotonic() + timeout_ms / 1000
    names = ", ".join(dict.fromkeys(c.name for c in cmps))
    record = _consent_record(index, f"consent: {choice}", f"known CMPs: {names}", consent=choice)
    cmp = await _first_banner(page, choice, cmps, timeout_ms)
    if cmp is None:
        tried = "; ".join(f"{c.name} {c.quoted(_banner_marks(c, choice))}" for c in cmps)
        record.error = (
            f"no known CMP's banner appeared within {timeout_ms} ms (looked for {tried}); "
            f"set consent_selectors.{choice} to this site's {choice} button"
        )
        raise _not_answered("no consent banner found", record)
    if cmp.key != "demo":  # the demo shop's step reads as it always has
        record.label = f"consent: {choice} ({cmp.name})"
    selector = cmp.selector(choice)
    if selector is None:
        record.target = cmp.where(cmp.accept)
        hint = f" ({cmp.reject_hint})" if cmp.reject_hint else ""
        record.error = (
            f"{cmp.name}'s banner is up but has no known one-click reject button, and a reject never clicks "
            f"accept: set consent_selectors.reject to this site's reject button{hint}"
        )
        raise _not_answered("consent banner not answered", record)
    record.target = cmp.where(selector)
    remaining = max(1, round((deadline - time.monotonic()) * 1000))
    button = _scope(page, cmp.frame).locator(selector).filter(visible=True).first
    missing = (
        f"{cmp.name}'s banner is up but its {choice} button {cmp.quoted(selector)} did not appear within "
        f"{timeout_ms} ms: set consent_selectors.{choice} to this site's {choice} button"
    )
    await _click_when_visible(button, record, remaining, missing, "consent banner not answered")
    return _answered(page, record)


def _banner_marks(cmp: KnownCmp, choice: Literal["accept", "reject"]) -> str:
    """What shows that ``cmp``'s banner is up when answering ``choice``: the button itself, and for a reject
    the accept button too (so a CMP without a reject button, or a slow one, is recognised and named)."""
    if choice == "reject" and cmp.reject is not None:
        return f"{cmp.reject}, {cmp.accept}"
    return cmp.accept


def _scope(page: Page, frame: str | None) -> Page | FrameLocator:
    return page if frame is None else page.locator(frame).first.content_frame


async def _first_banner(
    page: Page, choice: Literal["accept", "reject"], cmps: Sequence[KnownCmp], timeout_ms: int
) -> KnownCmp | None:
    """The first CMP whose banner becomes visible within ``timeout_ms``, or None.

    One union locator per frame (the page itself, each CMP iframe), all waited for at once; the frame that
    shows a banner first wins and the other waits are cancelled (Playwright aborts a cancelled call)."""
    by_frame: dict[str | None, list[KnownCmp]] = {}
    for cmp in cmps:
        by_frame.setdefault(cmp.frame, []).append(cmp)

    async def watch(frame: str | None, group: list[KnownCmp]) -> KnownCmp | None:
        scope = _scope(page, frame)
        marks = [scope.locator(_banner_marks(c, choice)).filter(visible=True) for c in group]
        await reduce(Locator.or_, marks).first.wait_for(state="visible", timeout=timeout_ms)
        for cmp, mark in zip(group, marks, strict=True):  # which one: table order among those showing
            if await mark.count():
                return cmp
        return None  # gone again in between

    watches = [asyncio.ensure_future(watch(frame, group)) for frame, group in by_frame.items()]
    try:
        for next_done in asyncio.as_completed(watches):
            try:
                found = await next_done
            except PlaywrightError:  # timed out, or the frame went away
                continue
            if found is not None:
                return found
        return None
    finally:
        for pending in watches:
            pending.cancel()
        await asyncio.gather(*watches, return_exceptions=True)


def _answered(page: Page, record: StepRecord) -> StepRecord:
    record.ended_at = time.time()
    record.url_after = page.url
    return record


# Runs before every document's scripts. Sets each entry only when absent, so what the CMP writes later in
# the run (a changed answer) survives the next page; a fresh context starts with none.
_SEED_LOCAL_STORAGE = """((entries, origin) => {
  if (origin && location.origin !== origin) return;
  try {
    for (const [key, value] of Object.entries(entries)) {
      if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
    }
  } catch (e) { /* opaque origins (about:blank, data:) have no localStorage */ }
})(%s, %s);"""


async def seed_consent(context: BrowserContext, choice: ConsentChoice | None) -> StepRecord | None:
    """Store a CMP's answer before the first navigation (call right after creating the context): the
    seed's cookies via ``context.add_cookies``, its localStorage entries via an init script.

    Returns the step ("consent: seeded (accept)", ``consent`` = the seed's ``means``, so the consent checks
    judge every hit against it), or None when ``choice`` is not a seed.
    """
    if not isinstance(choice, SeededConsent):
        return None
    seed = choice.seed
    record = _consent_record(-1, f"consent: seeded ({seed.means})", _seed_target(seed), seed.means)
    record.action = "seed"
    if seed.cookies:
        await context.add_cookies(
            [{"name": c.name, "value": c.value, "domain": c.domain, "path": c.path} for c in seed.cookies]
        )
    if seed.local_storage:
        script = _SEED_LOCAL_STORAGE % (json.dumps(seed.local_storage), json.dumps(seed.origin))
        await context.add_init_script(script=script)
    record.ended_at = time.time()
    return record


def _seed_target(seed: ConsentSeed) -> str:
    """What was seeded, for the report: ``cookie shop_consent on .shop.example; localStorage cmp``."""
    parts = [f"cookie {c.name} on {c.domain}" for c in seed.cookies]
    if seed.local_storage:
        parts.append("localStorage " + ", ".join(seed.local_storage))
    return "; ".join(parts)


def _not_answered(what: str, record: StepRecord) -> ConsentNotAnswered:
    record.ended_at = time.time()
    return ConsentNotAnswered(f"{what}: {record.error}", record)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- content blocker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockedRequest:
    """A request the blocker aborted in the browser: it never reached the capture proxy."""

    url: str
    method: str
    resource_type: str
    headers: dict[str, str]
    body: bytes
    at: float  # epoch seconds


@dataclass
class BlockRecorder:
    """What ``apply_blocker`` stopped, in order, so the report can show which hits were lost."""

    blocklist: BlockList
    blocked: list[BlockedRequest] = field(default_factory=list)

    def as_captured(self, run_id: str | None = None) -> list[CapturedRequest]:
        """The blocked requests as ``CapturedRequest``s (``error`` says blocked), for the decoder registry.

        ``tag_hit`` is left False: set it from ``registry.claimant(request)`` before decoding, and keep them
        apart from the run's real requests (these never left the browser)."""
        return [
            CapturedRequest(
                id=f"blocked-{index}",
                run_id=run_id,
                method=request.method,
                url=request.url,
                request_headers=list(request.headers.items()),
                body=request.body,
                started_at=request.at,
                error=f"blocked by client ({self.blocklist.name} block list)",
            )
            for index, request in enumerate(self.blocked)
        ]


async def apply_blocker(context: BrowserContext, blocklist: BlockList) -> BlockRecorder:
    """Abort every request of ``context`` that ``blocklist`` matches, as a content blocker would
    (``net::ERR_BLOCKED_BY_CLIENT``), and record each one."""
    recorder = BlockRecorder(blocklist)

    async def block(route: Route) -> None:
        request = route.request
        recorder.blocked.append(
            BlockedRequest(
                url=request.url,
                method=request.method,
                resource_type=request.resource_type,
                headers=dict(request.headers),
                body=request.post_data_buffer or b"",
                at=time.time(),
            )
        )
        await route.abort("blockedbyclient")

    # A predicate, so only matching requests are routed through Python; the rest go on untouched.
    await context.route(blocklist.matches, block)
    return recorder
