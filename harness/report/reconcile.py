"""The reconciliation table: what the backend sold versus what each platform was told.

A pure function of one ``ScenarioRun`` (and, when the run names no backend truth, the scenario's expected
events): the first row is the reference, then one row per analytics or ad platform with its conversion
events, their count, total value and currency, and a note that explains each difference, using the run's
check failures where one names the platform.

Which events count as a purchase: those its decoder's profile names (``VendorProfile.purchase_events``,
compared case-insensitively: ``purchase`` for GA4, ``Purchase`` for Meta, ``CompletePayment`` for TikTok...),
and those its profile's ``reports_sale`` rule accepts whatever their name (Floodlight: any activity of a sales
tag, ``counting=sales``; Universal Analytics: any hit with ``pa=purchase``; Plausible: any event with
revenue); a redirect follow-up or consent-mode twin repeats a conversion and is never counted.

Malformed events are never counted (the platform would reject them); the note says how many there were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from harness.decoders.registry import vendor_profile, vendor_profiles
from harness.models import CheckFailure, DecodedEvent
from harness.results import ScenarioRun
from harness.scenario import ExpectedEvent


def dedupe_partners(vendor: str) -> tuple[str, ...]:
    """The vendors whose events the platform deduplicates with ``vendor``'s by event ID: a browser tag and
    the server APIs (or gateway) declaring themselves its twin, in registry order."""
    partners: list[str] = []
    for other, profile in vendor_profiles().items():
        twin = profile.twin_of
        if twin is None or "event_id" not in twin.key:
            continue
        if other == vendor:
            partners.append(twin.browser)
        elif twin.browser == vendor:
            partners.append(other)
    return tuple(partners)


# Root causes that change what a platform counts, in the order a note names them.
COUNTING_CAUSES: tuple[str, ...] = (
    "Missing tag",
    "Duplicate trigger",
    "Broken dedupe",
    "Wrong trigger",
    "Consent sequencing issue",
    "Missing value",
)
VALUE_TOLERANCE = 0.005
EXPECTATION_LABEL = "expected (no backend source named)"

RowStatus = Literal["reference", "match", "differs", "unknown"]


@dataclass(frozen=True)
class ReconciliationRow:
    label: str
    vendor: str | None  # None for the reference row
    events: tuple[str, ...]  # the event names counted
    count: int | None  # None: the reference is unknown
    total_value: float | None
    currency: str | None  # "EUR", or "EUR, USD" when mixed
    status: RowStatus
    note: str = ""
    request_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reconciliation:
    reference: ReconciliationRow
    platforms: list[ReconciliationRow] = field(default_factory=list)

    @property
    def rows(self) -> list[ReconciliationRow]:
        return [self.reference, *self.platforms]


def is_purchase(event: DecodedEvent) -> bool:
    """True when the event is the vendor's purchase (or sales conversion): see the module docstring."""
    if event.repeats:
        return False  # Google's redirect hop or consent-mode twin repeats the same conversion
    profile = vendor_profile(event.vendor)
    if profile.reports_sale is not None and profile.reports_sale(event):
        return True
    return event.event.lower() in profile.purchase_events


def platform_name(vendor: str) -> str:
    return vendor_profile(vendor).platform_name or vendor


def _reports_purchases(vendor: str) -> bool:
    """A vendor whose events may be purchases (a purchase event named, or a rule for its sales)."""
    profile = vendor_profile(vendor)
    return bool(profile.purchase_events) or profile.reports_sale is not None


def reconcile(run: ScenarioRun, expected: Sequence[ExpectedEvent] = ()) -> Reconciliation:
    """The reference row and one row per platform that sent, or was expected to send, a purchase."""
    reference = _reference_row(run, expected)
    return Reconciliation(
        reference, [_platform_row(run, vendor, reference) for vendor in _platforms(run, expected)]
    )


# --- the reference ---------------------------------------------------------------------------------


def _reference_row(run: ScenarioRun, expected: Sequence[ExpectedEvent]) -> ReconciliationRow:
    truth = run.truth
    if truth is not None:
        values = [o.value for o in truth.orders if o.value is not None]
        label = EXPECTATION_LABEL if truth.from_expectation else f"backend: {truth.source}"
        note = f"source could not be read: {truth.error}" if truth.error else ""
        return ReconciliationRow(
            label=label,
            vendor=None,
            events=("order",),
            count=None if truth.error and not truth.orders else len(truth.orders),
            total_value=round(sum(values), 2) if values else None,
            currency=_joined(o.currency for o in truth.orders),
            status="reference",
            note=note,
        )
    purchases = [e for e in expected if _expected_is_purchase(e)]
    if not purchases:
        return ReconciliationRow(
            label="no backend source, no expected purchase",
            vendor=None,
            events=(),
            count=None,
            total_value=None,
            currency=None,
            status="unknown",
            note="name a backend source or expect a purchase event to reconcile platforms",
        )
    count = max(e.count for e in purchases)
    value = next((e.value for e in purchases if e.value is not None), None)
    return ReconciliationRow(
        label=EXPECTATION_LABEL,
        vendor=None,
        events=tuple(sorted({f"{e.vendor} {e.event}" for e in purchases})),
        count=count,
        total_value=round(value * count, 2) if value is not None else None,
        currency=next((e.currency for e in purchases if e.currency), None),
        status="reference",
    )


def _expected_is_purchase(expected: ExpectedEvent) -> bool:
    return expected.event.lower() in vendor_profile(expected.vendor).purchase_events


# --- platform rows ---------------------------------------------------------------------------------


def _platforms(run: ScenarioRun, expected: Sequence[ExpectedEvent]) -> list[str]:
    """Vendors in a stable order: those seen in the run (known to the mapping), then expected ones."""
    seen = [e.vendor for e in run.result.events if _reports_purchases(e.vendor)]
    wanted = [e.vendor for e in expected if _expected_is_purchase(e)]
    return list(dict.fromkeys([*seen, *wanted]))


def _platform_row(run: ScenarioRun, vendor: str, reference: ReconciliationRow) -> ReconciliationRow:
    vendor_events = [e for e in run.result.events if e.vendor == vendor]
    purchases = [e for e in vendor_events if is_purchase(e) and not e.malformed]
    values = [e.value for e in purchases if e.value is not None]
    total = round(sum(values), 2) if values else None
    currency = _joined(e.currency for e in purchases)
    differences = _differences(purchases, total, currency, reference)
    status: RowStatus = "unknown" if reference.count is None else ("differs" if differences else "match")
    note = _note(run, vendor, vendor_events, purchases, differences, reference)
    return ReconciliationRow(
        label=platform_name(vendor),
        vendor=vendor,
        events=tuple(dict.fromkeys(e.event for e in purchases)),
        count=len(purchases),
        total_value=total,
        currency=currency,
        status=status,
        note=note,
        request_ids=tuple(dict.fromkeys(e.request_id for e in purchases if e.request_id)),
    )


def _differences(
    purchases: list[DecodedEvent], total: float | None, currency: str | None, reference: ReconciliationRow
) -> list[str]:
    """Each way the platform disagrees with the reference, as a short phrase."""
    if reference.count is None:
        return []
    found: list[str] = []
    if len(purchases) != reference.count:
        found.append("count")
    if purchases and any(e.value is None for e in purchases):
        found.append("no value")
    elif purchases and reference.total_value is not None and total is not None:
        if len(purchases) == reference.count and abs(total - reference.total_value) > VALUE_TOLERANCE:
            found.append(f"value {_money(total)} vs {_money(reference.total_value)}")
    if purchases and reference.currency and currency and currency.upper() != reference.currency.upper():
        found.append(f"currency {currency} vs {reference.currency}")
    return found


def _note(
    run: ScenarioRun,
    vendor: str,
    vendor_events: list[DecodedEvent],
    purchases: list[DecodedEvent],
    differences: list[str],
    reference: ReconciliationRow,
) -> str:
    """A note like "Meta Pixel: 2 purchases, backend 1: duplicate trigger, same event ID e-1"."""
    parts: list[str] = []
    details = [d for d in differences if d != "count"]
    if "count" in differences:
        parts.append(_count_phrase(run, vendor, vendor_events, purchases, reference))
    elif details:
        cause = _cause(run, vendor, purchases, ("Missing value", "Wrong trigger"))
        parts.append(cause.lower() if cause else "")
    parts.extend(details)
    parts.append(_dedupe_phrase(run, vendor, purchases))
    malformed = sum(1 for e in vendor_events if e.malformed)
    if malformed:
        parts.append(f"{malformed} malformed hit{'s' if malformed > 1 else ''} not counted")
    return ", ".join(p for p in parts if p)


def _count_phrase(
    run: ScenarioRun,
    vendor: str,
    vendor_events: list[DecodedEvent],
    purchases: list[DecodedEvent],
    reference: ReconciliationRow,
) -> str:
    noun = "purchase" if len(purchases) == 1 else "purchases"
    head = f"{platform_name(vendor)}: {len(purchases)} {noun}, {_reference_word(reference)} {reference.count}"
    cause = _cause(run, vendor, purchases, COUNTING_CAUSES)
    if len(purchases) > (reference.count or 0):
        reason = (cause or "counted more than once").lower()
        repeated = _repeated_id(purchases)
        return f"{head}: {reason}" + (f", {repeated}" if repeated else "")
    if not purchases:
        fallback = "tag present, no purchase sent" if vendor_events else "missing tag"
        return f"{head}: {(cause or fallback).lower()}"
    return f"{head}: {(cause or 'fewer purchases than orders').lower()}"


def _reference_word(reference: ReconciliationRow) -> str:
    return "expected" if reference.label == EXPECTATION_LABEL else "backend"


def _repeated_id(purchases: list[DecodedEvent]) -> str:
    for attribute, label in (("event_id", "same event ID"), ("transaction_id", "same order ID")):
        counts = Counter(getattr(e, attribute) for e in purchases if getattr(e, attribute))
        repeated = [value for value, n in counts.items() if n > 1]
        if repeated:
            return f"{label} {repeated[0]}"
    return ""


def _dedupe_phrase(run: ScenarioRun, vendor: str, purchases: list[DecodedEvent]) -> str:
    """Pixel and server API rows: say whether the platform can deduplicate them on the event ID."""
    if not purchases:
        return ""
    # The first partner that sent purchases in this run (a pixel may have both a CAPI and a gateway twin).
    for partner in dedupe_partners(vendor):
        partner_ids = {e.event_id for e in run.result.events if e.vendor == partner and is_purchase(e)}
        if partner_ids - {None}:
            break
    else:
        return ""
    own_ids = {e.event_id for e in purchases}
    if own_ids & (partner_ids - {None}):
        return f"deduplicated with {platform_name(partner)} by event ID"
    return f"event IDs differ from {platform_name(partner)}: counted twice"


def _cause(run: ScenarioRun, vendor: str, purchases: list[DecodedEvent], causes: Sequence[str]) -> str | None:
    """The first root cause (in ``causes`` order) of a failure that names this vendor."""
    related = [f for f in run.failures if _names_vendor(f, vendor, purchases)]
    for cause in causes:
        if any(f.root_cause == cause for f in related):
            return cause
    return None


def _names_vendor(failure: CheckFailure, vendor: str, purchases: list[DecodedEvent]) -> bool:
    request_ids = {e.request_id for e in purchases if e.request_id}
    if any(ev.request_id in request_ids for ev in failure.evidence if ev.request_id):
        return True
    words = [failure.title, *(ev.summary for ev in failure.evidence)]
    return any(vendor in text.replace(",", " ").replace(":", " ").split() for text in words)


def _joined(currencies: Iterable[str | None]) -> str | None:
    names = list(dict.fromkeys(c.upper() for c in currencies if c))
    return ", ".join(names) if names else None


def _money(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
