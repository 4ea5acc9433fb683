"""Attributing server-side hits to the run that caused them, by what they carry, never by timing.

A backend's request reaches the proxy without a run's credentials. It belongs to a run when one of its
events shares an event ID, order ID or browser ID (GA4 client ID, Meta fbp, TikTok ttp) with the run's
browser events, or carries one of the run's click IDs (generated per run, so unique). What matches no
run stays unattributed.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.models import DecodedEvent, RunResult

# IDs shorter than this ("1", "abc") could match by chance.
MIN_KEY_LENGTH = 6
# Browser IDs that a backend forwards from the visitor's cookies: GA4 client ID (_ga), Meta browser ID
# (_fbp), TikTok browser ID (_ttp). Random per fresh context, so unique to a run.
BROWSER_ID_PARAMS = ("cid", "client_id", "fbp", "ttp", "anonymous_id")


def _fbclid_of(fbc: str) -> str | None:
    parts = fbc.split(".")
    return parts[3] if len(parts) >= 4 and parts[0] == "fb" else None


def run_keys(result: RunResult) -> set[str]:
    """The values that identify a run: its events' event and order IDs, and its ad URL's click IDs."""
    keys: set[str] = set()
    for event in result.events:
        keys.update(event_keys(event))
    for fate in result.capture.chain.params:
        if not fate.param.startswith("utm_"):
            keys.add(fate.value)
    return {k for k in keys if len(k) >= MIN_KEY_LENGTH}


def event_keys(event: DecodedEvent) -> set[str]:
    keys = {v for v in (event.event_id, event.transaction_id) if v}
    keys.update(str(event.params[p]) for p in BROWSER_ID_PARAMS if isinstance(event.params.get(p), str | int))
    for name, value in event.click_ids.items():
        keys.add(value)
        if name == "fbc" and (fbclid := _fbclid_of(value)):
            keys.add(fbclid)
    return keys


def belongs_to_run(keys: set[str], events: Iterable[DecodedEvent]) -> bool:
    return any({k for k in event_keys(e) if len(k) >= MIN_KEY_LENGTH} & keys for e in events)
