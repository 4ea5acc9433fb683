"""Safari's Intelligent Tracking Prevention (ITP) and click-ID cookies written by JavaScript.

Since ITP 2.1 (Safari 12.1, 2019) a cookie written with ``document.cookie`` expires after at most 7 days;
since ITP 2.2, after 24 hours when the user arrived from a tracking-classified site with link decoration
(a query string or fragment: ``?gclid=``, ``?fbclid=``). A conversion a week after the click then finds no
``_gcl_aw`` or ``_fbc`` and cannot be matched to the ad. Cookies the server sets with HTTP ``Set-Cookie``
(first-party, from the site's own IP range: Safari 16.4 caps those from third-party IPs too) keep their
lifetime.

When it is judged: only runs that emulate a WebKit browser, told by the user agent the browser sent (the
landing request's ``User-Agent``): every browser on iPhone and iPad is WebKit with ITP (Chrome ``CriOS``
and the Facebook/Instagram/TikTok in-app browsers included, ITP has applied to apps' WKWebViews since
iOS 14), and on macOS Safari itself. A Chromium or Firefox run has no such cap, so a failure there would
be noise. The demo shop writes its click-ID cookies with JavaScript, so on an iPhone device this fires.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

from harness.checks.base import CheckContext, check
from harness.decoders.registry import is_click_id
from harness.models import CapturedRequest, CheckFailure, CookieRecord, Evidence, RunCapture

DAY_S = 24 * 3600
SCRIPT_COOKIE_CAP_S = 7 * DAY_S
DECORATED_LINK_CAP_S = 1 * DAY_S

# Cookies that carry an ad click (or the browser ID the platform matches it with), by name or prefix.
CLICK_ID_COOKIES = frozenset(
    {"_gcl_aw", "_gcl_gb", "_gcl_gs", "_gcl_dc", "_gcl_ag", "_gcl_au", "_fbc", "_fbp", "ttclid", "_ttp",
     "_uetmsclkid", "_uetvid", "li_fat_id", "_epik", "_scclid", "_scid", "_rdt_cid", "_rdt_uuid", "_twclid"}
)
CLICK_ID_COOKIE_PREFIXES = ("_gac_", "_gcl_aw_", "_gcl_gb_", "_gcl_dc_")

_APPLE_MOBILE = re.compile(r"\b(iPhone|iPad|iPod)\b")
_NOT_SAFARI_ON_MAC = re.compile(r"Chrome/|Chromium/|Edg/|Firefox/|OPR/")

FIX = "Set click-ID cookies from the server (HTTP Set-Cookie, first-party) so Safari keeps them"


def is_click_id_cookie(name: str) -> bool:
    return name in CLICK_ID_COOKIES or name.startswith(CLICK_ID_COOKIE_PREFIXES)


def is_webkit_user_agent(user_agent: str) -> bool:
    """True for a browser ITP governs: any iOS/iPadOS browser, or Safari on macOS."""
    if _APPLE_MOBILE.search(user_agent):
        return True
    return "Macintosh" in user_agent and "Safari/" in user_agent and not _NOT_SAFARI_ON_MAC.search(user_agent)


def run_user_agent(capture: RunCapture) -> str:
    """The User-Agent the browser sent on the run's first request ('' when none was captured)."""
    for request in capture.requests:
        if request.source == "browser" and (agent := request.header("user-agent")):
            return agent
    return ""


def server_set_cookie_names(requests: list[CapturedRequest]) -> set[str]:
    """Names of cookies any captured response set with a ``Set-Cookie`` header."""
    names: set[str] = set()
    for request in requests:
        for key, value in request.response_headers:
            if key.lower() == "set-cookie":
                names.update(_set_cookie_names(value))
    return names


def _set_cookie_names(header: str) -> set[str]:
    parsed: SimpleCookie = SimpleCookie()
    try:
        parsed.load(header)
    except Exception:  # noqa: BLE001 - a malformed header: fall back to the name before "="
        name = header.split("=", 1)[0].strip()
        return {name} if name else set()
    return set(parsed.keys()) or {header.split("=", 1)[0].strip()}


def landing_is_decorated(capture: RunCapture) -> bool:
    """The landing URL carries a click ID (link decoration ITP 2.2 shortens cookies for)."""
    landing = capture.chain.hops[-1] if capture.chain.hops else None
    params = landing.params if landing else []
    return any(is_click_id(name) for name, _ in params)


def capped_cookies(capture: RunCapture, cap_s: float) -> list[tuple[CookieRecord, float]]:
    """Click-ID cookies written by script whose lifetime (seconds, from the end of the run) exceeds ``cap_s``."""
    from_server = server_set_cookie_names(capture.requests)
    found = []
    for cookie in capture.cookies:
        if not is_click_id_cookie(cookie.name) or cookie.http_only or cookie.name in from_server:
            continue
        if cookie.expires is None:
            continue  # a session cookie: ITP does not shorten it further
        lifetime = cookie.expires - capture.finished_at
        if lifetime > cap_s:
            found.append((cookie, lifetime))
    return found


@check("itp_cookie_lifetime")
def itp_cookie_lifetime(ctx: CheckContext) -> Iterator[CheckFailure]:
    """On WebKit (iOS, Safari), click-ID cookies written by JavaScript outlive what ITP allows them."""
    capture = ctx.result.capture
    if not ctx.scenario.expect.durable_click_id_cookies:
        return  # gtag and fbevents write these cookies by script everywhere: judged only when asked for
    in_app_ios = (ctx.conditions.in_app or "").endswith("_ios")
    if not (in_app_ios or is_webkit_user_agent(run_user_agent(capture))):
        return
    decorated = landing_is_decorated(capture)
    cap_s = DECORATED_LINK_CAP_S if decorated else SCRIPT_COOKIE_CAP_S
    found = capped_cookies(capture, cap_s)
    if not found:
        return
    cap = "24 hours" if decorated else "7 days"
    why = "the landing URL carries a click ID (link decoration)" if decorated else "they are written by script"
    names = ", ".join(cookie.name for cookie, _ in found)
    yield ctx.failure(
        "itp_cookie_lifetime",
        f"Safari's ITP caps {names} to {cap}: written by JavaScript",
        "Missing click IDs",
        expected=f"click-ID cookies set with HTTP Set-Cookie, or a lifetime within {cap}",
        seen="; ".join(f"{cookie.name} set by script to last {_days(lifetime)}" for cookie, lifetime in found)
        + f"; ITP keeps them {cap} because {why}, so a later conversion loses the ad click",
        evidence=[_cookie_evidence(cookie, lifetime) for cookie, lifetime in found],
        key="itp_cookie_lifetime",
        fix=FIX,
    )


def _days(seconds: float) -> str:
    days = seconds / DAY_S
    return f"{days:.0f} days" if days >= 2 else f"{seconds / 3600:.0f} hours"


def _cookie_evidence(cookie: CookieRecord, lifetime: float) -> Evidence:
    return Evidence(
        summary=f"cookie {cookie.name} on {cookie.domain} (not HttpOnly, no Set-Cookie seen), "
        f"expires in {_days(lifetime)}"
    )
