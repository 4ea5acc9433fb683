"""The emulated device's browser as its user-agent client hints tell it, not the headless Chromium it runs on.

Playwright's device emulation changes the User-Agent string only. Chromium keeps describing itself in the
client hints: every request carries ``Sec-CH-UA: "Chromium";v="156", "HeadlessChrome";v="156"`` and
``navigator.userAgentData.brands`` says the same, even on an emulated iPhone, whose Safari has neither. Tags
and sites read them: posthog-js drops every event of a browser whose brands name HeadlessChrome, gtag.js
sends the brands and model with each GA4 hit, bot managers block on the mismatch. A visitor's phone would not
be told apart, so a run's pages describe the device's browser instead:

- a Chromium-family user agent (Chrome, Android WebView, Samsung Internet, Edge): the hints say that browser,
  at the version, platform, platform version and model its user agent names (``Emulation.setUserAgentOverride``
  with ``userAgentMetadata``, per page, before it loads);
- any other (Safari on iOS, Firefox): no ``Sec-CH-UA`` headers (the override without metadata) and no
  ``navigator.userAgentData`` (removed by an init script in every frame).

Workers keep Chromium's own ``userAgentData`` (an init script does not reach them), and ``navigator.platform``
stays the host's ("Linux x86_64"): the override's ``platform`` did not survive the landing's navigation here.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import BrowserContext, CDPSession, Page

# Chromium's own GREASE brand of the headless build used here (156); any such brand is what real browsers send.
_GREASE = {"brand": "Not:A-Brand", "version": "8"}
_CHROME = re.compile(r"\bChrome/(\d+)((?:\.\d+)*)")
# The brand each Chromium-based browser adds beside "Chromium", by the token its user agent carries.
_BRAND_TOKENS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bEdgA?/"), "Microsoft Edge"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"; wv\)"), "Android WebView"),
)
_ANDROID = re.compile(r"Android (\d+(?:\.\d+)*)(?:; ([^;)]*))?")
_MAC = re.compile(r"Mac OS X (\d+(?:[._]\d+)*)")
_WINDOWS = re.compile(r"Windows NT (\d+(?:\.\d+)*)")

# Removes the API a non-Chromium browser does not have; runs in every frame before the page's scripts.
_NO_UA_DATA = "try { delete Navigator.prototype.userAgentData } catch (e) {}"


def ua_metadata(user_agent: str) -> dict[str, Any] | None:
    """CDP ``UserAgentMetadata`` for the browser ``user_agent`` names; None when it names no Chromium-family
    browser (Safari and Firefox send no client hints)."""
    chrome = _CHROME.search(user_agent)
    if chrome is None or "CriOS/" in user_agent:  # Chrome on iOS is WebKit: no client hints
        return None
    major, full = chrome.group(1), chrome.group(1) + chrome.group(2)
    product = next((name for token, name in _BRAND_TOKENS if token.search(user_agent)), "Google Chrome")
    brands = [_GREASE, {"brand": "Chromium", "version": major}, {"brand": product, "version": major}]
    platform, platform_version, model = _platform(user_agent)
    mobile = "Mobile" in user_agent
    return {
        "brands": brands,
        "fullVersionList": [{**brand, "version": full if brand is not _GREASE else "8.0.0.0"} for brand in brands],
        "fullVersion": full,
        "platform": platform,
        "platformVersion": platform_version,
        "architecture": "" if platform == "Android" else "x86",
        "bitness": "" if platform == "Android" else "64",
        "model": model,
        "mobile": mobile,
        "wow64": False,
    }


def _platform(user_agent: str) -> tuple[str, str, str]:
    """(platform, platform version as three numbers, model) as the user agent gives them."""
    if android := _ANDROID.search(user_agent):
        model = (android.group(2) or "").split(" Build/")[0].strip()
        return "Android", _three_numbers(android.group(1)), model
    if "CrOS" in user_agent:
        return "Chrome OS", "", ""
    if windows := _WINDOWS.search(user_agent):
        return "Windows", _three_numbers(windows.group(1)), ""
    if mac := _MAC.search(user_agent):
        return "macOS", _three_numbers(mac.group(1).replace("_", ".")), ""
    return "Linux", "", ""


def _three_numbers(version: str) -> str:
    parts = (version.split(".") + ["0", "0"])[:3]
    return ".".join(parts)


class ClientHints:
    """Puts the run's device browser in its pages' client hints (see the module's docstring)."""

    def __init__(self, context: BrowserContext, user_agent: str) -> None:
        self._context = context
        self._override: dict[str, Any] = {"userAgent": user_agent}
        metadata = ua_metadata(user_agent)
        if metadata is not None:
            self._override["userAgentMetadata"] = metadata
        self.chromium = metadata is not None
        self._sessions: list[CDPSession] = []  # the override lives as long as its session
        self._pending: set[asyncio.Future[None]] = set()

    @classmethod
    async def install(cls, context: BrowserContext, user_agent: str) -> ClientHints:
        hints = cls(context, user_agent)
        if user_agent and not hints.chromium:
            await context.add_init_script(_NO_UA_DATA)
        return hints

    def on_popup(self, page: Page) -> None:
        """A page the run did not open itself (a popup, a new tab): its hints as soon as it is seen."""
        task = asyncio.ensure_future(self.apply(page))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def apply(self, page: Page) -> None:
        """Before ``page`` loads anything of its own (a popup's, as soon as it is seen)."""
        if not self._override["userAgent"]:
            return  # no device user agent to tell: Chromium's own stays, hints and all
        try:
            session = await self._context.new_cdp_session(page)
            await session.send("Emulation.setUserAgentOverride", self._override)
        except Exception:  # noqa: BLE001 - a page closed under us keeps Chromium's hints; nothing else changes
            return
        self._sessions.append(session)
