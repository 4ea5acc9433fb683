"""Dedupe checks: event IDs are present, and a browser hit and its server twin share the dedupe key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.checks.base import CheckContext, check, event_evidence
from harness.checks.events import expected_events, expected_label, hit_evidence, names_list
from harness.decoders.registry import vendor_profile, vendor_profiles
from harness.models import CheckFailure, DecodedEvent


@dataclass(frozen=True)
class DedupePair:
    """A browser tag and the server API of the same platform, and the fields the platform dedupes on."""

    browser: str
    server: str
    key: tuple[str, ...]  # DecodedEvent fields that must be equal on both hits
    rule: str  # how the platform dedupes, for the failure text
    events: frozenset[str] | None = None  # only these event names are deduplicated (None: all)

    def applies_to(self, event: DecodedEvent) -> bool:
        if event.repeats:
            return False  # it repeats another hit of the same action (a redirect hop), not an action
        return self.events is None or event.event in self.events


def dedupe_pairs() -> list[DedupePair]:
    """Each browser tag and the vendors that report its actions again, as their profiles declare (``twin_of``)."""
    return [
        DedupePair(twin.browser, vendor, twin.key, twin.rule, twin.events)
        for vendor, profile in vendor_profiles().items()
        if (twin := profile.twin_of) is not None
    ]


# --- event_id_present ----------------------------------------------------------------------------


@check("event_id_present")
def event_id_present(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Events whose expectation says ``event_id: required`` carry an event ID."""
    for expected in ctx.scenario.expect.events:
        if expected.event_id != "required" or expected.count == 0:
            continue
        fired = expected_events(ctx.result, expected)
        lacking = [e for e in fired if not e.event_id]
        if not lacking:
            continue  # events that never fired are event_count's to report
        label = expected_label(expected)
        reason = (
            vendor_profile(expected.vendor).event_id_reason
            or "the platform cannot deduplicate browser and server hits without an event ID"
        )
        yield ctx.failure(
            "event_id_present",
            f"{label} has no event ID on {len(lacking)} of {len(fired)} hits: {reason}",
            "Broken dedupe",
            expected=f"every {label} hit with an event ID",
            seen=f"{len(lacking)} of {len(fired)} {label} hits without one",
            evidence=hit_evidence(lacking),
            key=f"event_id_present:{label}",
            fix="Generate one event ID per action (e.g. from the order ID) and send it with the browser and the server event",
        )


# --- browser_server_dedupe -----------------------------------------------------------------------


@check("browser_server_dedupe")
def browser_server_dedupe(ctx: CheckContext) -> Iterator[CheckFailure]:
    """A browser event and its server twin carry the same dedupe key; no server event is sent twice."""
    for pair in dedupe_pairs():
        browser = [e for e in ctx.result.select(pair.browser) if not e.malformed and pair.applies_to(e)]
        server = [e for e in ctx.result.select(pair.server) if not e.malformed and pair.applies_to(e)]
        if not browser or not server:
            continue  # only pairs present in the run are judged; a missing side is event_count's business
        for event in browser:
            for twin in server_twins(event, browser, server):
                failure = _key_mismatch(ctx, pair, event, twin)
                if failure:
                    yield failure
        yield from _server_repeats(ctx, pair, server)


def server_twins(
    event: DecodedEvent, browser: list[DecodedEvent], server: list[DecodedEvent]
) -> list[DecodedEvent]:
    """The server events reporting the same action as a browser event.

    Same action = the same order ID, or the same event ID on the same event name; failing both, the
    same event name when the run has exactly one action of it on each side (hits repeating one order
    or event ID are one action). Names compare case-insensitively here so that a 'purchase' /
    'Purchase' twin is found and then reported for its differing name.
    """
    by_order = [s for s in server if event.transaction_id and s.transaction_id == event.transaction_id]
    if by_order:
        return by_order
    name = event.event.casefold()
    by_id = [
        s for s in server if event.event_id and s.event_id == event.event_id and s.event.casefold() == name
    ]
    if by_id:
        return by_id
    same_name_server = [s for s in server if s.event.casefold() == name]
    same_name_browser = [b for b in browser if b.event.casefold() == name]
    if _action_count(same_name_browser) == 1 and _action_count(same_name_server) == 1:
        return same_name_server
    return []


def _action_count(events: list[DecodedEvent]) -> int:
    """How many distinct actions these hits report: one per order ID / event ID, else one per hit."""
    return len({e.transaction_id or e.event_id or f"{e.request_id}:{e.position}" for e in events})


def _key_text(pair: DedupePair, event: DecodedEvent) -> str:
    return " + ".join(f"{field}={getattr(event, field)}" for field in pair.key)


def _key_mismatch(
    ctx: CheckContext, pair: DedupePair, browser: DecodedEvent, server: DecodedEvent
) -> CheckFailure | None:
    differing = [f for f in pair.key if getattr(browser, f) != getattr(server, f)]
    missing = [f for f in pair.key if not getattr(browser, f) or not getattr(server, f)]
    if not differing and not missing:
        return None
    if missing:
        sides = [
            f"{e.vendor} {e.event}" for e in (browser, server) if any(not getattr(e, f) for f in pair.key)
        ]
        problem = f"{' and '.join(sides)} carr{'y' if len(sides) > 1 else 'ies'} no {'/'.join(missing)}"
    else:
        problem = "; ".join(f"{f} {getattr(browser, f)} vs {getattr(server, f)}" for f in differing)
    return ctx.failure(
        "browser_server_dedupe",
        f"{browser.vendor} {browser.event} and its {server.vendor} twin do not share a dedupe key ({problem})",
        "Broken dedupe",
        expected=f"equal {' + '.join(pair.key)} on both hits: {pair.rule}",
        seen=f"browser {_key_text(pair, browser)}; server {_key_text(pair, server)} => the action is counted twice",
        evidence=[event_evidence(browser), event_evidence(server)],
        key=f"browser_server_dedupe:{browser.request_id}:{browser.position}:{server.request_id}:{server.position}",
        fix=f"Send the same {' and '.join(pair.key)} from the browser tag and the server (e.g. derived from the order ID)",
    )


def _server_repeats(
    ctx: CheckContext, pair: DedupePair, server: list[DecodedEvent]
) -> Iterator[CheckFailure]:
    # A server event whose expectation has a count is judged by event_count: reporting it twice is noise.
    counted = {(e.vendor, e.event) for e in ctx.scenario.expect.events}
    groups: dict[tuple[str | None, ...], list[DecodedEvent]] = {}
    for event in server:
        key = tuple(getattr(event, f) for f in pair.key)
        if all(key) and (event.vendor, event.event) not in counted:
            groups.setdefault(key, []).append(event)
    for key, events in groups.items():
        if len(events) < 2:
            continue
        key_text = _key_text(pair, events[0])
        yield ctx.failure(
            "browser_server_dedupe",
            f"{pair.server} {events[0].event} sent {len(events)} times for one action ({key_text})",
            "Duplicate trigger",
            expected=f"one {pair.server} {events[0].event} per action",
            seen=f"{len(events)} server hits with the same {key_text} from requests "
            f"{names_list(e.request_id or '?' for e in events)} => one action counted {len(events)} times",
            evidence=hit_evidence(events),
            key=f"browser_server_dedupe:repeat:{pair.server}:{key}",
            fix="Send the server event once per action: guard the backend hook (retries, webhooks, reloads)",
        )
