"""Server-side checks: the backend's events (Meta CAPI, TikTok Events API, GA4 Measurement Protocol) can
be matched to the click, are dated right, agree with their browser twin, and the site's own form posts
keep the click IDs a CRM import needs.

Rules, in short (each check's docstring has the details):

- ``server_match_quality``: a server event is judged on the signals its platform matches on
  (``match_quality``). A signal is only *required* when the run had it to give: ``fbc`` when the ad URL
  had an fbclid (or the ``_fbc`` cookie was set), ``fbp`` when ``_fbp`` was set or the Pixel sent one,
  ``ttclid`` / ``ttp`` likewise, GA4's ``client_id`` always (MP drops events without one) and equal to the
  ``_ga`` cookie's when there is one; Meta's ``client_user_agent`` for ``action_source: website`` (Meta
  rejects website events without it). Email / phone / name sent unhashed is "PII in hit".
- ``server_freshness``: the event's own time (``event_time`` s, TikTok v1.2 ``timestamp`` ISO 8601, MP
  ``timestamp_micros``) is at most ``FRESHNESS_MINUTES`` (60) before its browser twin (or before the run
  began, when it has none), not after it was sent (``FUTURE_TOLERANCE_S`` for clock skew), and present
  where the API requires it. Platforms reject worse: Meta beyond 7 days, MP beyond 72 hours.
- ``server_value_agrees``: value and currency equal those of the browser twin (same order ID, or same
  event ID and name).
- ``offline_import_ready``: the ad URL's gclid/gbraid/wbraid/fbclid/ttclid/msclkid (those that reached
  the landing page) are in the body or URL of every form submission (``is_form_submission``). A lead form
  must carry them itself (hidden fields: leads often go to a CRM that never sees the site's cookies); an
  order placed with the site's own backend may carry them as the first-party cookies sent along.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from pydantic import BaseModel, Field

from harness.checks.base import CheckContext, check, event_evidence
from harness.checks.click_ids import ad_click_ids, short
from harness.models import CapturedRequest, CheckFailure, DecodedEvent, Evidence

SERVER_VENDORS = ("meta_capi", "tiktok_events_api", "ga4_mp")
BROWSER_TWIN_VENDOR = {"meta_capi": "meta_pixel", "tiktok_events_api": "tiktok_pixel", "ga4_mp": "ga4"}
VENDOR_LABEL = {"meta_capi": "Meta", "tiktok_events_api": "TikTok", "ga4_mp": "GA4"}

FRESHNESS_MINUTES = 60  # a server event dated more than this before its browser twin is misdated
FUTURE_TOLERANCE_S = 300  # clock skew between the backend and this machine
REJECTED_AFTER_S = {"meta_capi": 7 * 86400, "ga4_mp": 72 * 3600}  # what the platforms refuse outright
VALUE_TOLERANCE = 0.01  # a cent: rounding, not a different amount


# --- match quality -------------------------------------------------------------------------------

SignalState = Literal["hashed", "plain", "raw", "missing"]


class MatchSignal(BaseModel):
    name: str  # as the platform spells it: fbc, em, ttclid, client_id...
    state: SignalState  # hashed / plain (as the platform wants it) / raw (PII sent unhashed) / missing


class MatchQuality(BaseModel):
    """Which of the signals a platform matches a server event on were sent, and in which form."""

    vendor: str
    event: str
    request_id: str | None = None
    signals: list[MatchSignal] = Field(default_factory=list)

    def names(self, *states: SignalState) -> list[str]:
        return [s.name for s in self.signals if s.state in states]

    @property
    def present(self) -> list[str]:
        return self.names("hashed", "plain", "raw")

    @property
    def missing(self) -> list[str]:
        return self.names("missing")

    @property
    def raw_pii(self) -> list[str]:
        return self.names("raw")

    def summary(self) -> str:
        """One line for a report: 'sent: fbp, em (sha256); missing: fbc, ph'."""
        sent = [f"{s.name} (sha256)" if s.state == "hashed" else f"{s.name} (UNHASHED)" if s.state == "raw" else s.name
                for s in self.signals if s.state != "missing"]  # fmt: skip
        return f"sent: {', '.join(sent) or 'nothing'}; missing: {', '.join(self.missing) or 'nothing'}"


# Each vendor's signals: (name, where the decoded event carries it, whether unhashed means PII).
# Places are "user_data:<key>", "params:<key>" or "click_ids:<key>"; the first that has it counts.
_SIGNALS: dict[str, tuple[tuple[str, tuple[str, ...], bool], ...]] = {
    "meta_capi": (
        ("fbc", ("click_ids:fbc", "user_data:fbc"), False),
        ("fbp", ("user_data:fbp", "params:fbp"), False),
        ("client_ip_address", ("user_data:client_ip_address",), False),
        ("client_user_agent", ("user_data:client_user_agent",), False),
        ("em", ("user_data:em",), True),
        ("ph", ("user_data:ph",), True),
        ("external_id", ("user_data:external_id",), False),
    ),
    "tiktok_events_api": (
        ("ttclid", ("click_ids:ttclid", "user_data:ttclid"), False),
        ("ttp", ("user_data:ttp", "params:ttp"), False),
        ("ip", ("user_data:ip",), False),
        ("user_agent", ("user_data:user_agent",), False),
        ("email", ("user_data:email",), True),
        ("phone", ("user_data:phone", "user_data:phone_number"), True),
        ("external_id", ("user_data:external_id",), False),
    ),
    "ga4_mp": (
        ("client_id", ("params:client_id", "params:app_instance_id"), False),
        ("user_id", ("params:user_id",), False),
        ("em", ("user_data:em",), True),
        ("ph", ("user_data:ph",), True),
    ),
}
# Further identifiers that are personal data when sent unhashed (not match signals of their own here).
_OTHER_PII = {"meta_capi": ("fn", "ln", "db"), "tiktok_events_api": (), "ga4_mp": ("fn", "ln", "street")}


def _signal_state(event: DecodedEvent, places: tuple[str, ...], pii: bool) -> SignalState:
    for place in places:
        kind, key = place.split(":", 1)
        if kind == "click_ids" and event.click_ids.get(key):
            return "plain"
        if kind == "params" and event.params.get(key) not in (None, ""):
            return "plain"
        if kind == "user_data" and key in event.user_data:
            if event.user_data[key] == "sha256":
                return "hashed"
            return "raw" if pii else "plain"
    return "missing"


def match_quality(event: DecodedEvent) -> MatchQuality:
    """The match signals of one server event (any vendor of ``SERVER_VENDORS``); pure, for reports."""
    signals = [
        MatchSignal(name=name, state=_signal_state(event, places, pii))
        for name, places, pii in _SIGNALS.get(event.vendor, ())
    ]
    for key in _OTHER_PII.get(event.vendor, ()):
        if event.user_data.get(key) == "raw":
            signals.append(MatchSignal(name=key, state="raw"))
    return MatchQuality(vendor=event.vendor, event=event.event, request_id=event.request_id, signals=signals)


def server_events(ctx: CheckContext) -> list[DecodedEvent]:
    return [e for e in ctx.events if e.source == "server" and e.vendor in SERVER_VENDORS and not e.malformed]


def _cookie(ctx: CheckContext, name: str) -> str | None:
    return next((c.value for c in ctx.result.capture.cookies if c.name == name and c.value), None)


def reached_landing(ctx: CheckContext, param: str) -> bool:
    """False when the redirect chain lost this click ID: later stages cannot have it, and
    click_ids_reach_landing already reports the cause."""
    fate = next((f for f in ctx.result.capture.chain.params if f.param == param), None)
    return fate is None or fate.reached_final


def _event_key(event: DecodedEvent) -> str:
    return f"{event.request_id}:{event.position}"


def _label(event: DecodedEvent) -> str:
    return f"{event.vendor} {event.event}"


@check("server_match_quality")
def server_match_quality(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Server events carry the match signals the run had to give (click IDs, browser IDs), none unhashed."""
    in_ad = ad_click_ids(ctx.ad_url)
    for event in server_events(ctx):
        quality = match_quality(event)
        if quality.raw_pii:
            yield _raw_pii_failure(ctx, event, quality)
        problems = _missing_signal_problems(ctx, event, quality, in_ad)
        if problems:
            yield ctx.failure(
                "server_match_quality",
                f"{_label(event)} cannot be matched to the click: {'; '.join(problems)}",
                "Missing click IDs",
                expected=f"{_label(event)} with the match signals the browser had ({VENDOR_LABEL[event.vendor]} "
                "attributes server events to the ad click only through them)",
                seen=quality.summary(),
                evidence=[event_evidence(event)],
                key=f"server_match_quality:signals:{_event_key(event)}",
                fix=_signals_fix(event.vendor),
            )


def _raw_pii_failure(ctx: CheckContext, event: DecodedEvent, quality: MatchQuality) -> CheckFailure:
    fields = ", ".join(quality.raw_pii)
    return ctx.failure(
        "server_match_quality",
        f"{_label(event)} sends {fields} unhashed",
        "PII in hit",
        expected=f"{fields} as SHA-256 of the normalised value (lower-case, trimmed; phone digits with country code)",
        seen=quality.summary(),
        evidence=[event_evidence(event)],
        key=f"server_match_quality:pii:{_event_key(event)}",
    )


def _missing_signal_problems(
    ctx: CheckContext, event: DecodedEvent, quality: MatchQuality, in_ad: dict[str, str]
) -> list[str]:
    missing = set(quality.missing)
    if event.vendor == "meta_capi":
        return _meta_problems(ctx, event, missing, in_ad)
    if event.vendor == "tiktok_events_api":
        return _tiktok_problems(ctx, event, missing, in_ad)
    return _ga4_mp_problems(ctx, event, missing)


def _meta_problems(
    ctx: CheckContext, event: DecodedEvent, missing: set[str], in_ad: dict[str, str]
) -> list[str]:
    problems = []
    fbclid = in_ad.get("fbclid") if reached_landing(ctx, "fbclid") else None
    if "fbc" in missing and (fbclid or _cookie(ctx, "_fbc")):
        source = f"the ad URL had fbclid={short(fbclid)}" if fbclid else "the _fbc cookie was set"
        problems.append(f"no fbc although {source}")
    elif fbclid and event.click_ids.get("fbclid") and event.click_ids["fbclid"] != fbclid:
        problems.append(
            f"fbc carries fbclid {short(event.click_ids['fbclid'])}, not this click's {short(fbclid)}"
        )
    pixel_fbp = any(e.params.get("fbp") for e in ctx.result.select("meta_pixel"))
    if "fbp" in missing and (_cookie(ctx, "_fbp") or pixel_fbp):
        problems.append("no fbp although the browser had one (_fbp)")
    if "client_user_agent" in missing and event.params.get("action_source") == "website":
        problems.append("no client_user_agent, which Meta requires for website events")
    return problems


def _tiktok_problems(
    ctx: CheckContext, event: DecodedEvent, missing: set[str], in_ad: dict[str, str]
) -> list[str]:
    problems = []
    ttclid = in_ad.get("ttclid") if reached_landing(ctx, "ttclid") else None
    if "ttclid" in missing and (ttclid or _cookie(ctx, "ttclid")):
        source = f"the ad URL had ttclid={short(ttclid)}" if ttclid else "the ttclid cookie was set"
        problems.append(f"no ttclid although {source}")
    elif ttclid and event.click_ids.get("ttclid") and event.click_ids["ttclid"] != ttclid:
        problems.append(f"ttclid {short(event.click_ids['ttclid'])} is not this click's {short(ttclid)}")
    if "ttp" in missing and _cookie(ctx, "_ttp"):
        problems.append("no ttp although the browser had the _ttp cookie")
    return problems


def ga_client_id(cookie_value: str) -> str | None:
    """The client ID inside a ``_ga`` cookie (``GA1.1.<random>.<timestamp>``)."""
    parts = cookie_value.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 4 else None


def _ga4_mp_problems(ctx: CheckContext, event: DecodedEvent, missing: set[str]) -> list[str]:
    if "client_id" in missing:
        return ["no client_id / app_instance_id: Measurement Protocol drops the event"]
    browser_id = ga_client_id(_cookie(ctx, "_ga") or "")
    sent = str(event.params.get("client_id") or "")
    if browser_id and sent and sent != browser_id:
        return [
            f"client_id {sent} is not the browser's ({browser_id}, from _ga): GA4 credits another user, not the ad"
        ]
    return []


def _signals_fix(vendor: str) -> str:
    return {
        "meta_capi": "Forward the _fbc and _fbp cookies (or build fbc from the landing URL's fbclid), the client IP and user agent to the CAPI call",
        "tiktok_events_api": "Forward the ttclid (from the landing URL or its cookie) and the _ttp cookie to the Events API call",
        "ga4_mp": "Send the client_id from the browser's _ga cookie (or gtag 'get' client_id) with the Measurement Protocol event",
    }[vendor]


# --- browser twins -------------------------------------------------------------------------------


def browser_twins(server: DecodedEvent, events: list[DecodedEvent]) -> list[DecodedEvent]:
    """The browser events reporting the same action: same order ID, else same event ID and name."""
    vendor = BROWSER_TWIN_VENDOR.get(server.vendor)
    browser = [e for e in events if e.vendor == vendor and e.source == "browser" and not e.malformed]
    if server.transaction_id:
        by_order = [b for b in browser if b.transaction_id == server.transaction_id]
        if by_order:
            return by_order
    name = server.event.casefold()
    return [
        b for b in browser if server.event_id and b.event_id == server.event_id and b.event.casefold() == name
    ]


# --- server_freshness ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return float(value)
    return None


def event_time(event: DecodedEvent) -> tuple[float | None, str | None]:
    """(epoch seconds the event claims, a note on its unit when it looks wrong); (None, None) if unsent."""
    if event.vendor == "ga4_mp":
        micros = _number(event.params.get("timestamp_micros"))
        if micros is None:
            return None, None
        if micros < 1e14:  # seconds or milliseconds where microseconds belong
            return micros / 1e6, "timestamp_micros looks like seconds or milliseconds, not microseconds"
        return micros / 1e6, None
    raw = event.params.get("event_time", event.params.get("timestamp"))
    seconds = _number(raw)
    if seconds is None and isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp(), None
        except ValueError:
            return None, f"unreadable time {raw!r}"
    if seconds is not None and seconds > 1e11:
        return seconds, "event_time looks like milliseconds; the API wants Unix seconds"
    return seconds, None


def _time_required(event: DecodedEvent, request: CapturedRequest | None) -> bool:
    """Meta CAPI and TikTok v1.3 ``event/track`` require a time; MP and TikTok ``pixel/*`` date on arrival."""
    if event.vendor == "meta_capi":
        return True
    return event.vendor == "tiktok_events_api" and request is not None and "/event/track" in request.path


def _requests(ctx: CheckContext) -> dict[str, CapturedRequest]:
    return {r.id: r for r in ctx.result.capture.requests}


def _ago(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"


@check("server_freshness")
def server_freshness(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Server events are dated when the action happened: not long before their browser twin, not in the future."""
    requests = _requests(ctx)
    for event in server_events(ctx):
        claimed, unit_note = event_time(event)
        sent = requests.get(event.request_id or "")
        sent_at = sent.started_at if sent and sent.started_at else None
        if claimed is None:
            if unit_note or _time_required(event, sent):
                problem = unit_note or "has no event_time"
                yield _freshness_failure(ctx, event, problem, problem, "the API rejects the event")
            continue
        twins = browser_twins(event, ctx.events)
        twin_at = next((requests[t.request_id].started_at for t in twins if t.request_id in requests), None)
        reference = twin_at or ctx.result.capture.started_at
        against = (
            f"its browser twin ({twins[0].vendor} {twins[0].event})" if twin_at else "the start of the run"
        )
        if sent_at and claimed > sent_at + FUTURE_TOLERANCE_S:
            note = f" ({unit_note})" if unit_note else ""
            yield _freshness_failure(
                ctx,
                event,
                f"is dated {_ago(claimed - sent_at)} in the future{note}",
                f"event time {_iso(claimed)}, sent at {_iso(sent_at)}",
                "the platform rejects or misplaces it",
            )
        elif reference and reference - claimed > FRESHNESS_MINUTES * 60:
            rejected = REJECTED_AFTER_S.get(event.vendor)
            cost = (
                f"{VENDOR_LABEL[event.vendor]} rejects events this old"
                if rejected and sent_at and sent_at - claimed > rejected
                else "the conversion lands outside the click's session and attribution window"
            )
            note = f" ({unit_note})" if unit_note else ""
            yield _freshness_failure(
                ctx,
                event,
                f"is dated {_ago(reference - claimed)} before {against}{note}",
                f"event time {_iso(claimed)}, {against} at {_iso(reference)}",
                cost,
            )


def _iso(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.0f}"


def _freshness_failure(
    ctx: CheckContext, event: DecodedEvent, problem: str, seen: str, cost: str
) -> CheckFailure:
    return ctx.failure(
        "server_freshness",
        f"{_label(event)} {problem}",
        "Wrong trigger",
        expected=f"the time of the action, within {FRESHNESS_MINUTES} minutes of the browser event, not in the future",
        seen=f"{seen} => {cost}",
        evidence=[event_evidence(event)],
        key=f"server_freshness:{_event_key(event)}",
        fix="Set the event time when the action happens (Unix seconds, UTC; MP: microseconds) and send it with the event",
    )


# --- server_value_agrees -------------------------------------------------------------------------


def _money(event: DecodedEvent) -> str:
    value = "no value" if event.value is None else f"{event.value:g}"
    return f"{value} {event.currency or '(no currency)'}"


def values_agree(a: DecodedEvent, b: DecodedEvent) -> bool:
    if (a.value is None) != (b.value is None):
        return False
    if a.value is not None and b.value is not None and abs(a.value - b.value) > VALUE_TOLERANCE:
        return False
    return (a.currency or "").strip().upper() == (b.currency or "").strip().upper()


@check("server_value_agrees")
def server_value_agrees(ctx: CheckContext) -> Iterator[CheckFailure]:
    """A server event's value and currency equal its browser twin's (paired by order ID or event ID)."""
    # A browser event that lacks value or currency and is expected is event_value's to report, not twice.
    expected = {(e.vendor, e.event) for e in ctx.scenario.expect.events}
    for event in server_events(ctx):
        twins = browser_twins(event, ctx.events)
        if not twins or any(values_agree(event, t) for t in twins):
            continue
        twin = twins[0]
        if (twin.vendor, twin.event) in expected and (twin.value is None or not twin.currency):
            continue
        yield ctx.failure(
            "server_value_agrees",
            f"{_label(event)} reports {_money(event)}, its {twin.vendor} twin {_money(twin)}",
            "Missing value",
            expected=f"the same value and currency from the browser and the server for one action ({_pairing(event, twin)})",
            seen=f"server {_money(event)}; browser {_money(twin)} => value bidding learns from whichever arrives",
            evidence=[event_evidence(twin), event_evidence(event)],
            key=f"server_value_agrees:{_event_key(event)}",
            fix="Take value and currency for both from the order (same tax, shipping and currency rules)",
        )


def _pairing(server: DecodedEvent, browser: DecodedEvent) -> str:
    if server.transaction_id and server.transaction_id == browser.transaction_id:
        return f"order {server.transaction_id}"
    return f"event_id {server.event_id}"


# --- offline_import_ready ------------------------------------------------------------------------

# Click IDs a CRM / offline conversion import matches on.
OFFLINE_CLICK_IDS = ("gclid", "gbraid", "wbraid", "fbclid", "ttclid", "msclkid")
_FORM_PATH = re.compile(
    r"lead|checkout|order|contact|signup|sign-up|sign_up|register|submit|subscribe|enquir|inquir|quote|booking|demo-request|form",
    re.IGNORECASE,
)
# Orders go to the site's own backend, which gets the first-party click-ID cookies with them.
_ORDER_PATH = re.compile(r"checkout|order|payment|purchase", re.IGNORECASE)
_EMAIL_FIELD = re.compile(r"(^|[^a-z])e-?mail([^a-z]|$)", re.IGNORECASE)
_EMAIL_VALUE = re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")


def _site(host: str) -> str:
    # The last two labels: good enough to tell the site's own API from a third party (not for co.uk).
    return ".".join(host.split(".")[-2:])


def _has_email(request: CapturedRequest) -> bool:
    text = request.text
    keys = (
        [k for k, _ in parse_qsl(text)] if request.content_type == "application/x-www-form-urlencoded" else []
    )
    return (
        bool(_EMAIL_VALUE.search(text))
        or any(_EMAIL_FIELD.search(k) for k in keys)
        or '"email"' in text.lower()
    )


def is_form_submission(request: CapturedRequest, landing_host: str) -> bool:
    """A browser POST to the site's backend that submits a lead or an order, the kind a CRM keeps.

    Rule: a POST the browser sent that no decoder claimed, and either to the landing page's site with a
    path naming a form (lead, checkout, order, contact, signup, register, submit, subscribe, enquiry,
    quote, booking, form) or, to any host, with an email in its body. Tag hits, GETs and other XHRs
    (cart updates, consent APIs, analytics) are not judged.
    """
    if request.tag_hit or request.source != "browser" or request.method != "POST":
        return False
    if _has_email(request):
        return True
    own_site = bool(landing_host) and _site(request.host) == _site(landing_host)
    return own_site and bool(_FORM_PATH.search(request.path))


def _is_own_order(request: CapturedRequest, landing_host: str) -> bool:
    own_site = bool(landing_host) and _site(request.host) == _site(landing_host)
    return own_site and bool(_ORDER_PATH.search(request.path))


def _carried_text(request: CapturedRequest, landing_host: str) -> str:
    """URL and body, percent-decoding undone (a JSON body stays as it is); for an order placed with the
    site's own backend also the Cookie header, which that backend reads (_gcl_aw, _fbc, ttclid, ...)."""
    body = request.text
    parts = [unquote(request.url), body, unquote_plus(body)]
    if _is_own_order(request, landing_host):
        parts.append(cookie_header(request))
    return "\n".join(parts)


def cookie_header(request: CapturedRequest) -> str:
    """All Cookie headers as one (HTTP/2 sends one header per cookie)."""
    return "; ".join(value for key, value in request.request_headers if key.lower() == "cookie")


def _cookie_names_with(request: CapturedRequest, value: str) -> list[str]:
    cookies = cookie_header(request)
    return [part.split("=", 1)[0].strip() for part in cookies.split(";") if value in part]


@check("offline_import_ready")
def offline_import_ready(ctx: CheckContext) -> Iterator[CheckFailure]:
    """The site's lead / order form POSTs carry the ad URL's click IDs, so a CRM import can match them."""
    in_ad = {k: v for k, v in ad_click_ids(ctx.ad_url).items() if k in OFFLINE_CLICK_IDS}
    if not in_ad:
        return
    in_ad = {k: v for k, v in in_ad.items() if reached_landing(ctx, k)}
    landing_host = urlsplit(ctx.result.capture.final_url or ctx.ad_url).hostname or ""
    for request in ctx.result.capture.requests:
        if not is_form_submission(request, landing_host):
            continue
        carried = _carried_text(request, landing_host)
        lacking = [name for name, value in in_ad.items() if value not in carried]
        if lacking:
            yield _offline_failure(ctx, request, lacking, in_ad)


def _offline_failure(
    ctx: CheckContext, request: CapturedRequest, lacking: list[str], in_ad: dict[str, str]
) -> CheckFailure:
    names = "/".join(lacking)
    in_cookies = {n: _cookie_names_with(request, in_ad[n]) for n in lacking}
    cookie_note = "; ".join(
        f"{n} is only in the Cookie header ({', '.join(c)})" for n, c in in_cookies.items() if c
    )
    seen = f"POST {request.path} without {', '.join(f'{n}={short(in_ad[n])}' for n in lacking)}"
    if cookie_note:
        seen += f" ({cookie_note}: the backend must read and store it)"
    return ctx.failure(
        "offline_import_ready",
        f"the form POST {request.path} carries no {names}: a CRM import cannot match it back to the ad",
        "Missing click IDs",
        expected=f"{names} from the ad URL in the form's body or URL (a hidden field, or JSON)",
        seen=seen,
        evidence=[Evidence(request_id=request.id, summary=f"POST {request.url}", url=request.url)],
        key=f"offline_import_ready:{request.path}:{names}",
        fix=f"Store {names} from the landing URL (or its cookie) and submit it with the form, e.g. a hidden input",
    )
