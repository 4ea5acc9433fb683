"""Attributing server-side hits to the run that caused them, by what they carry, never by timing.

A backend's request reaches the proxy without a run's credentials. It belongs to a run when one of its
events shares an event ID or order ID with the run's browser events, or carries one of the run's click
IDs (generated per run, so unique). What matches no run stays unattributed.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.models import DecodedEvent, RunResult

# IDs shorter than this ("1", "abc") could match by chance.
MIN_KEY_LENGTH = 6


def _fbclid_of(fbc: str) -> str | None:
    parts = fbc.split(".")
    return parts[3] if len(parts) >= 4 and parts[0] == "fb" else None


def run_keys(result: RunResult) -> set[str]:
    """The values that identify a run: its events' event and order IDs, and its ad URL's click IDs."""
    keys: set[str] = set()
    for event in result.events:
        keys.update(v for v in (event.event_id, event.transaction_id) if v)
    for fate in result.capture.chain.params:
        if not fate.param.startswith("utm_"):
            keys.add(fate.value)
    return {k for k in keys if len(k) >= MIN_KEY_LENGTH}


def event_keys(event: DecodedEvent) -> set[str]:
    keys = {v for v in (event.event_id, event.transaction_id) if v}
    for name, value in event.click_ids.items():
        keys.add(value)
        if name == "fbc" and (fbclid := _fbclid_of(value)):
            keys.add(fbclid)
    return keys


def belongs_to_run(keys: set[str], events: Iterable[DecodedEvent]) -> bool:
    return any(event_keys(e) & keys for e in events)
