"""Vendor checks: who may be contacted at all, and in which order events reach each vendor."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.checks.base import CheckContext, check, event_evidence
from harness.checks.events import hit_evidence, names_list, plural, send_order, vendor_name
from harness.models import CheckFailure, DecodedEvent


def _by_vendor(events: list[DecodedEvent]) -> dict[str, list[DecodedEvent]]:
    grouped: dict[str, list[DecodedEvent]] = {}
    for event in events:
        grouped.setdefault(event.vendor, []).append(event)
    return grouped


def _vendor_failure(
    ctx: CheckContext, check_name: str, vendor: str, events: list[DecodedEvent], expected: str, why: str
) -> CheckFailure:
    names = names_list(e.event for e in events)
    return ctx.failure(
        check_name,
        f"{vendor} ({vendor_name(vendor)}) was contacted: {plural(len(events), 'hit')} ({names})",
        "Unexpected vendor",
        expected=expected,
        seen=f"{plural(len(events), 'hit')} to {vendor}: {names}, first on {events[0].page_url or 'an unknown page'}",
        evidence=hit_evidence(events),
        key=f"{check_name}:{vendor}",
        fix=f"Remove the {vendor_name(vendor)} tag from these pages{why}",
    )


@check("forbidden_vendors")
def forbidden_vendors(ctx: CheckContext) -> Iterator[CheckFailure]:
    """No hit reaches a vendor the scenario forbids (malformed hits count: they still leave the page)."""
    forbidden = set(ctx.scenario.expect.forbidden_vendors)
    for vendor, events in _by_vendor([e for e in ctx.events if e.vendor in forbidden]).items():
        yield _vendor_failure(
            ctx,
            "forbidden_vendors",
            vendor,
            events,
            expected=f"no hit to {vendor}: the scenario forbids it",
            why=" (or its trigger on this journey); it is forbidden here",
        )


@check("unexpected_vendors")
def unexpected_vendors(ctx: CheckContext) -> Iterator[CheckFailure]:
    """With ``allowed_vendors`` set, every vendor contacted is allowed or named by an expected event."""
    expect = ctx.scenario.expect
    if expect.allowed_vendors is None:
        return
    allowed = set(expect.allowed_vendors) | {e.vendor for e in expect.events}
    forbidden = set(expect.forbidden_vendors)  # reported by forbidden_vendors already
    strays = [e for e in ctx.events if e.vendor not in allowed and e.vendor not in forbidden]
    allowed_text = ", ".join(sorted(allowed)) or "none"
    for vendor, events in _by_vendor(strays).items():
        yield _vendor_failure(
            ctx,
            "unexpected_vendors",
            vendor,
            events,
            expected=f"only these vendors: {allowed_text}",
            why=", or add it to expect.allowed_vendors if it belongs",
        )


# --- event_order ---------------------------------------------------------------------------------


def _normalised(name: str) -> str:
    # Rules are written once for every vendor: 'page_view<purchase' also judges Meta 'PageView' before
    # 'Purchase' and UET 'page_view'. Case, '_', '-' and spaces do not distinguish event names here.
    return re.sub(r"[\s_\-]", "", name).casefold()


@check("event_order")
def event_order(ctx: CheckContext) -> Iterator[CheckFailure]:
    """For each rule 'a<b' and each vendor that sent both, the first a was sent before the first b."""
    order = send_order(ctx.result)
    for vendor, events in _by_vendor([e for e in ctx.events if not e.malformed]).items():
        ranked = sorted(events, key=lambda e: order[id(e)])
        for rule in ctx.scenario.expect.order:
            before, after = rule.split("<", 1)
            first_before = _first(ranked, before)
            first_after = _first(ranked, after)
            if first_before is None or first_after is None:
                continue  # an absent event is event_count's to report
            if order[id(first_before)] > order[id(first_after)]:
                yield _order_failure(ctx, vendor, rule, first_before, first_after)


def _first(events: list[DecodedEvent], name: str) -> DecodedEvent | None:
    wanted = _normalised(name)
    return next((e for e in events if _normalised(e.event) == wanted), None)


def _order_failure(
    ctx: CheckContext, vendor: str, rule: str, first_before: DecodedEvent, first_after: DecodedEvent
) -> CheckFailure:
    return ctx.failure(
        "event_order",
        f"{vendor} {first_after.event} was sent before {first_before.event} (rule {rule})",
        "Event order",
        expected=f"{vendor}: the first {first_before.event} before the first {first_after.event}",
        seen=f"{first_after.event} first (request {first_after.request_id}), "
        f"{first_before.event} only later (request {first_before.request_id})",
        evidence=[event_evidence(first_after), event_evidence(first_before)],
        key=f"event_order:{vendor}:{rule}",
    )
