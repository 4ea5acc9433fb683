"""Event checks: did each expected event fire, as often as expected, where expected, with its value?

Also the small helpers the other event checks of this package share (matching, windows, wording).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from functools import cache

from harness.checks.base import CheckContext, check, event_evidence
from harness.decoders.registry import vendor_profile
from harness.models import (
    CapturedRequest,
    CheckFailure,
    DecodedEvent,
    Evidence,
    RedirectChain,
    RootCauseName,
    RunResult,
    StepRecord,
)
from harness.scenario import ExpectedEvent

# Active ISO 4217 codes (ISO list as of 2026, e.g. XCG replaced ANG, BGN retired for EUR), without the
# X-codes that are not money a shop charges in (gold, SDR, test code XTS, "no currency" XXX...).
ISO_4217_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
    SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

VALUE_TOLERANCE = 0.005  # half a cent: float noise and rounding, never a real price difference


# --- shared helpers -----------------------------------------------------------------------------


def vendor_name(vendor: str) -> str:
    """How people name the vendor's tag (QA hands a failure to whoever owns it): its profile's tag name."""
    return vendor_profile(vendor).tag_name or vendor


def matching_events(result: RunResult, vendor: str, event: str, account: str | None = None) -> list[DecodedEvent]:
    """Well-formed events of this vendor and exact name (case-sensitive: platforms treat names so), each
    action once: a hit that repeats another (a redirect hop, a consent-mode twin) is not a firing. Only
    those sent to ``account`` when one is given."""
    return [
        e
        for e in result.select(vendor, event)
        if not e.malformed and not e.repeats and (account is None or e.account_id == account)
    ]


def expected_events(result: RunResult, expected: ExpectedEvent) -> list[DecodedEvent]:
    """``matching_events`` for an expectation (its vendor, event and account)."""
    return matching_events(result, expected.vendor, expected.event, expected.account)


def requests_by_id(result: RunResult) -> dict[str, CapturedRequest]:
    return {r.id: r for r in result.capture.requests}


def send_order(result: RunResult) -> dict[int, tuple[float, int, int]]:
    """Sort key per event (by ``id()``): proxy arrival ``seq``, then place in its batch, then list order."""
    requests = requests_by_id(result)
    keys: dict[int, tuple[float, int, int]] = {}
    for index, event in enumerate(result.events):
        request = requests.get(event.request_id or "")
        seq = float(request.seq) if request else math.inf
        keys[id(event)] = (seq, event.position, index)
    return keys


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    # URL globs as scenarios write them ('**/thank-you*'): '*' and '**' match anything, '/' included,
    # and every other character is literal ('?' and '[' are ordinary URL characters here).
    parts = (re.escape(chunk) for chunk in re.split(r"\*+", pattern))
    return re.compile(".*".join(parts), re.DOTALL)


def url_glob_matches(pattern: str, url: str | None) -> bool:
    return bool(url) and _glob_regex(pattern).fullmatch(url or "") is not None


def names_list(names: Iterable[str]) -> str:
    """Distinct names in first-seen order: 'PageView, ViewContent'."""
    return ", ".join(dict.fromkeys(names))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def hit_evidence(events: Iterable[DecodedEvent], limit: int = 10) -> list[Evidence]:
    return [event_evidence(e) for e in list(events)[:limit]]


def expected_label(expected: ExpectedEvent, account: str | None = None) -> str:
    """``meta_pixel Purchase``; with the account it went to where several received it, or one is expected."""
    label = f"{expected.vendor} {expected.event}"
    account = account or expected.account
    return f"{label} to {account}" if account else label


# --- the window an event must fire in -----------------------------------------------------------


def find_step(steps: list[StepRecord], ref: str | int) -> StepRecord | None:
    """The step ``after_step`` names: its label, or its 1-based number."""
    if isinstance(ref, int):
        return next((s for s in steps if s.index == ref - 1), None)
    return next((s for s in steps if s.label == ref), None)


class Window:
    """Where an expected event may fire: ``on_url`` and ``after_step`` of its expectation.

    ``after_step``: the hit's request must have *started at or after the named step's start*. A
    conversion fired by a click starts while the step runs, so its end is no boundary; a hit that
    started before the step began cannot have been caused by it. Events whose request is unknown
    (not in the capture) are given the benefit of the doubt.
    """

    def __init__(self, expected: ExpectedEvent, result: RunResult) -> None:
        self.on_url = expected.on_url
        self.after_step = expected.after_step
        self.step = (
            find_step(result.capture.steps, expected.after_step) if expected.after_step is not None else None
        )
        self.requests = requests_by_id(result)

    @property
    def step_never_ran(self) -> bool:
        return self.after_step is not None and self.step is None

    @property
    def description(self) -> str:
        parts = []
        if self.on_url:
            parts.append(f"on a page matching {self.on_url}")
        if self.after_step is not None:
            parts.append(f"after step {self.after_step!r}")
        return " and ".join(parts) or "anywhere"

    def _request(self, event: DecodedEvent) -> CapturedRequest | None:
        return self.requests.get(event.request_id or "")

    def url_ok(self, event: DecodedEvent) -> bool:
        if not self.on_url:
            return True
        request = self._request(event)
        referer = request.header("referer") if request else None
        return url_glob_matches(self.on_url, event.page_url) or url_glob_matches(self.on_url, referer)

    def time_ok(self, event: DecodedEvent) -> bool:
        if self.after_step is None:
            return True
        if self.step is None:
            return False
        request = self._request(event)
        return request is None or request.started_at >= self.step.started_at

    def contains(self, event: DecodedEvent) -> bool:
        return self.url_ok(event) and self.time_ok(event)

    def where(self, event: DecodedEvent) -> str:
        """Where an event fired, in the terms of this window: 'on https://.../checkout, before step 'pay''."""
        parts = [f"on {event.page_url or 'an unknown page'}"]
        if self.after_step is not None and not self.time_ok(event):
            parts.append(f"before step {self.after_step!r}")
        return ", ".join(parts)


# --- event_count ---------------------------------------------------------------------------------


@check("event_count")
def event_count(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Each expected event fires exactly as often as expected, where expected; malformed hits are reported."""
    for expected in ctx.scenario.expect.events:
        yield from _count_failures(ctx, expected)
    yield from _malformed_failures(ctx)


def _count_failures(ctx: CheckContext, expected: ExpectedEvent) -> Iterator[CheckFailure]:
    fired = expected_events(ctx.result, expected)
    window = Window(expected, ctx.result)
    inside = [e for e in fired if window.contains(e)]
    outside = [e for e in fired if not window.contains(e)]
    if expected.count == 0:
        if fired:
            yield _fired_but_forbidden(ctx, expected, fired)
        return
    if window.step_never_ran:
        # The journey stopped before the step: a missing event is the run's fault, not the tag's.
        yield _step_never_ran(ctx, expected, window, fired)
        return
    if not fired:
        yield _never_fired(ctx, expected, window)
        return
    accounts = _by_account(inside)
    if len(accounts) > 1:
        # Two pixels (fbq('init') twice), two GA4 properties, two conversion IDs: each platform account is
        # told once, which is no duplicate. Each account that received the event is judged on its own.
        for account, events in accounts.items():
            shown = account or "no account"
            if len(events) < expected.count:
                yield _too_few(ctx, expected, window, events, [], account=shown)
            elif len(events) > expected.count:
                yield _too_many(ctx, expected, window, events, account=shown)
        if outside:
            yield _also_outside(ctx, expected, window, outside)
    elif len(inside) < expected.count:
        yield _too_few(ctx, expected, window, inside, outside)
    else:
        if len(inside) > expected.count:
            yield _too_many(ctx, expected, window, inside)
        if outside:
            yield _also_outside(ctx, expected, window, outside)


def _by_account(events: list[DecodedEvent]) -> dict[str | None, list[DecodedEvent]]:
    accounts: dict[str | None, list[DecodedEvent]] = {}
    for event in events:
        accounts.setdefault(event.account_id, []).append(event)
    return accounts


def _fired_but_forbidden(
    ctx: CheckContext, expected: ExpectedEvent, fired: list[DecodedEvent]
) -> CheckFailure:
    label = expected_label(expected)
    pages = names_list(e.page_url or "an unknown page" for e in fired)
    return ctx.failure(
        "event_count",
        f"{label} fired {plural(len(fired), 'time')}, expected never",
        "Wrong trigger",
        expected=f"{label} must not fire in this journey (count: 0)",
        seen=f"{label} fired {plural(len(fired), 'time')}, on {pages}",
        evidence=hit_evidence(fired),
        key=f"event_count:{label}:forbidden",
        fix=f"Remove the {expected.event} trigger from this path, or tie it to the actual success state",
    )


def _never_fired(ctx: CheckContext, expected: ExpectedEvent, window: Window) -> CheckFailure:
    label = expected_label(expected)
    name = vendor_name(expected.vendor)
    others = [e for e in ctx.result.select(expected.vendor) if not e.malformed]
    broken = [e for e in ctx.result.select(expected.vendor) if e.malformed]
    if others:
        seen = f"the {name} is on the page ({names_list(e.event for e in others)}) but {expected.event} never fired"
        fix = f"The {name} loads: add or repair the {expected.event} event on the success state"
    elif broken:
        seen = f"the {name} sent only malformed hits ({plural(len(broken), 'hit')}); {expected.event} never arrived"
        fix = f"Repair the {name}: its hits cannot be read (see the malformed-hit failure)"
    else:
        seen = f"no {name} ({expected.vendor}) hit at all in the run"
        fix = None  # the table's "Reinstall or repair tag/container" is the direction
    capture = ctx.result.capture
    root: RootCauseName = "Missing tag"
    if (handoff := _handed_to_app(capture.chain)) is not None:
        app, page_first = handoff
        if page_first:
            # The hand-off ends the page: its loads are cancelled and its load event never comes.
            seen += f"; the landing page handed the click to an app ({app}) before it was sent"
            fix = (
                f"Send {expected.event} before handing off (a beacon survives the hand-off; an image or a tag "
                "waiting for the page's load does not), or hold the redirect to the app until it is sent"
            )
            root = "Wrong trigger"
        else:
            seen += f"; the click went straight to an app ({app}) by a redirect: no web page loaded to send it"
            fix = f"Count {expected.event} in the app (its SDK or measurement partner), or expect it only from the web"
    elif capture.error or not capture.capture_complete:
        seen += (
            " (the run did not finish cleanly, see run_completed: the hit may simply not have been captured)"
        )
    return ctx.failure(
        "event_count",
        f"{label} never fired",
        root,
        expected=f"{label} {plural(expected.count, 'time')} ({window.description})",
        seen=seen,
        evidence=hit_evidence(others or broken),
        key=f"event_count:{label}:missing",
        fix=fix,
    )


def _handed_to_app(chain: RedirectChain) -> tuple[str, bool] | None:
    """The app URL the ad click ended in, and whether a page came first (its script handed off) rather
    than a redirect straight to the app."""
    if len(chain.hops) < 2 or chain.hops[-1].kind != "app":
        return None
    before = chain.hops[-2].status
    return chain.hops[-1].url, before is not None and not 300 <= before < 400


def _step_never_ran(
    ctx: CheckContext, expected: ExpectedEvent, window: Window, fired: list[DecodedEvent]
) -> CheckFailure:
    label = expected_label(expected)
    return ctx.failure(
        "event_count",
        f"{label} not judged: step {expected.after_step!r} never ran",
        "Run error",
        expected=f"{label} {plural(expected.count, 'time')} {window.description}",
        seen=f"the journey stopped before step {expected.after_step!r}; {label} "
        + ("fired only " + "; ".join(window.where(e) for e in fired) if fired else "never fired"),
        evidence=hit_evidence(fired),
        key=f"event_count:{label}:step-missing",
    )


def _too_few(
    ctx: CheckContext,
    expected: ExpectedEvent,
    window: Window,
    inside: list[DecodedEvent],
    outside: list[DecodedEvent],
    account: str | None = None,
) -> CheckFailure:
    label = expected_label(expected, account)
    where = "; ".join(window.where(e) for e in outside)
    if not inside:
        title = f"{label} fired only outside the expected window ({window.description})"
        seen = f"{label} fired {plural(len(outside), 'time')}: {where}"
    else:
        title = f"{label} fired {plural(len(inside), 'time')} {window.description}, expected {expected.count}"
        seen = f"{plural(len(inside), 'time')} {window.description}" + (f"; also {where}" if outside else "")
    return ctx.failure(
        "event_count",
        title,
        "Wrong trigger",
        expected=f"{label} {plural(expected.count, 'time')} {window.description}",
        seen=seen,
        evidence=hit_evidence(inside + outside),
        key=f"event_count:{label}:too-few",
    )


def _too_many(
    ctx: CheckContext,
    expected: ExpectedEvent,
    window: Window,
    inside: list[DecodedEvent],
    account: str | None = None,
) -> CheckFailure:
    label = expected_label(expected, account)
    return ctx.failure(
        "event_count",
        f"{label} fired {plural(len(inside), 'time')}, expected {expected.count}",
        "Duplicate trigger",
        expected=f"{label} {plural(expected.count, 'time')} {window.description}",
        seen=f"{plural(len(inside), 'time')}: {_duplicate_story(expected, inside)}",
        evidence=hit_evidence(inside),
        key=f"event_count:{label}:too-many",
    )


def _duplicate_story(expected: ExpectedEvent, events: list[DecodedEvent]) -> str:
    """Whether the extra hits repeat one action (same order/event ID) or carry different ones."""
    stories = []
    for field, word in (("transaction_id", "order ID"), ("event_id", "event ID")):
        values = [getattr(e, field) for e in events]
        repeated = [v for v in dict.fromkeys(values) if v is not None and values.count(v) > 1]
        for value in repeated:
            stories.append(
                f"{values.count(value)} {expected.event} hits with the same {word} {value} => one action counted "
                f"{values.count(value)} times"
            )
    if stories:
        return "; ".join(stories)
    if all(e.transaction_id is None and e.event_id is None for e in events):
        return "no order ID or event ID on them, so the platform cannot tell repeats apart"
    ids = names_list(e.transaction_id or e.event_id or "none" for e in events)
    return f"different order/event IDs ({ids}): more actions reported than the journey made"


def _also_outside(
    ctx: CheckContext, expected: ExpectedEvent, window: Window, outside: list[DecodedEvent]
) -> CheckFailure:
    label = expected_label(expected)
    return ctx.failure(
        "event_count",
        f"{label} also fired outside the expected window ({window.description})",
        "Wrong trigger",
        expected=f"{label} only {window.description}",
        seen=f"{plural(len(outside), 'extra hit')}: " + "; ".join(window.where(e) for e in outside),
        evidence=hit_evidence(outside),
        key=f"event_count:{label}:outside",
    )


def _malformed_failures(ctx: CheckContext) -> Iterator[CheckFailure]:
    # A hit the platform cannot read is an event that never reaches it: "Missing tag" (events never
    # reach platform) is the closest cause, with the repair named as the fix. Only vendors the
    # scenario expects are judged: a broken hit of a vendor nobody asked about is noise here.
    expected_vendors = {e.vendor for e in ctx.scenario.expect.events}
    for event in ctx.events:
        if not event.malformed or event.vendor not in expected_vendors:
            continue
        reason = event.malformed_reason or "unreadable hit"
        yield ctx.failure(
            "event_count",
            f"{event.vendor} sent a malformed hit: {reason}",
            "Missing tag",
            expected=f"well-formed {vendor_name(event.vendor)} hits",
            seen=f"a hit the platform cannot read ({reason}) on {event.page_url or 'an unknown page'}",
            evidence=[
                Evidence(
                    request_id=event.request_id,
                    summary=f"{event.vendor} malformed: {reason}",
                    url=event.page_url,
                )
            ],
            key=f"event_count:malformed:{event.request_id}:{event.position}",
            fix=f"Repair the {vendor_name(event.vendor)} call that builds this hit ({reason})",
        )


# --- event_value ---------------------------------------------------------------------------------


@check("event_value")
def event_value(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Expected conversions carry a numeric value, a valid (expected) currency and their order ID."""
    for expected in ctx.scenario.expect.events:
        if expected.count == 0:
            continue
        for event in expected_events(ctx.result, expected):
            yield from _value_failures(ctx, expected, event)
            yield from _currency_failures(ctx, expected, event)
            yield from _transaction_failures(ctx, expected, event)


def _event_key(event: DecodedEvent) -> str:
    return f"{event.request_id}:{event.position}"


def _value_failures(
    ctx: CheckContext, expected: ExpectedEvent, event: DecodedEvent
) -> Iterator[CheckFailure]:
    label = expected_label(expected)
    value = event.value if event.value is not None and math.isfinite(event.value) else None
    required = expected.value_required or expected.value is not None  # an expected amount implies one
    if value is None:
        if required:
            raw = _raw_value(event)
            yield ctx.failure(
                "event_value",
                f"{label} has no numeric value",
                "Missing value",
                expected=f"{label} with a numeric value"
                + (f" of {expected.value:g}" if expected.value is not None else ""),
                seen=f"value {raw!r}" if raw is not None else "no value parameter",
                evidence=[event_evidence(event)],
                key=f"event_value:value:{_event_key(event)}",
            )
    elif expected.value is not None and abs(value - expected.value) > VALUE_TOLERANCE:
        yield ctx.failure(
            "event_value",
            f"{label} value is {value:g}, expected {expected.value:g}",
            "Missing value",
            expected=f"value {expected.value:g}",
            seen=f"value {value:g}",
            evidence=[event_evidence(event)],
            key=f"event_value:value:{_event_key(event)}",
            fix="Pass the order's actual total as value (not a constant, an item price or a pre-discount sum)",
        )


def _raw_value(event: DecodedEvent) -> object:
    # Decoders keep a non-numeric value visible in params (e.g. "value_raw", custom_data.value).
    for key in ("value_raw", "value"):
        if key in event.params:
            return event.params[key]
    nested = event.params.get("custom_data") or event.params.get("cd")
    return nested.get("value") if isinstance(nested, dict) else None


def _currency_failures(
    ctx: CheckContext, expected: ExpectedEvent, event: DecodedEvent
) -> Iterator[CheckFailure]:
    # Codes are compared case-insensitively: Meta documents lowercase ("usd") as accepted.
    label = expected_label(expected)
    currency = (event.currency or "").strip()
    key = f"event_value:currency:{_event_key(event)}"
    if not currency:
        if expected.value_required or expected.currency:
            yield ctx.failure(
                "event_value",
                f"{label} has no currency",
                "Missing value",
                expected=f"an ISO 4217 currency{' ' + expected.currency if expected.currency else ''} with the value",
                seen="no currency parameter",
                evidence=[event_evidence(event)],
                key=key,
                fix="Send the currency with every value (platforms otherwise assume the account currency)",
            )
    elif currency.upper() not in ISO_4217_CODES:
        yield ctx.failure(
            "event_value",
            f"{label} currency {currency!r} is not an ISO 4217 code",
            "Missing value",
            expected=f"an ISO 4217 currency code{' (' + expected.currency + ')' if expected.currency else ''}",
            seen=f"currency {currency!r}",
            evidence=[event_evidence(event)],
            key=key,
            fix="Send the three-letter ISO 4217 code (EUR, USD...), not a symbol, a name or a template placeholder",
        )
    elif expected.currency and currency.upper() != expected.currency.upper():
        yield ctx.failure(
            "event_value",
            f"{label} currency is {currency}, expected {expected.currency}",
            "Missing value",
            expected=f"currency {expected.currency}",
            seen=f"currency {currency}",
            evidence=[event_evidence(event)],
            key=key,
            fix=f"Send the shop's order currency ({expected.currency}), not a hard-coded or default one",
        )


def _transaction_failures(
    ctx: CheckContext, expected: ExpectedEvent, event: DecodedEvent
) -> Iterator[CheckFailure]:
    # Root cause "Missing value": a missing or wrong order ID is a missing field of the conversion
    # payload, owned by whoever passes value and currency (the purchase dataLayer push / tag fields).
    # Its consequence is named in the fix: without it platforms cannot deduplicate a reloaded
    # confirmation page, nor can offline imports and refunds match the order.
    wanted = expected.transaction_id
    if wanted is None:
        return
    label = expected_label(expected)
    seen = event.transaction_id
    key = f"event_value:transaction_id:{_event_key(event)}"
    if not seen:
        yield ctx.failure(
            "event_value",
            f"{label} has no order ID (transaction_id)",
            "Missing value",
            expected="an order ID" if wanted == "present" else f"order ID {wanted}",
            seen="no order ID / transaction_id parameter",
            evidence=[event_evidence(event)],
            key=key,
            fix="Pass the order ID: without it a reloaded confirmation page counts the purchase again",
        )
    elif wanted != "present" and seen != wanted:
        yield ctx.failure(
            "event_value",
            f"{label} order ID is {seen}, expected {wanted}",
            "Missing value",
            expected=f"order ID {wanted}",
            seen=f"order ID {seen}",
            evidence=[event_evidence(event)],
            key=key,
            fix="Pass the real order ID of this order (not a constant, a cart ID or an unfilled placeholder)",
        )
