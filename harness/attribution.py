"""Attributing server-side hits to the run that caused them, by what they carry, never by timing.

A backend's request reaches the proxy on the backend port, which belongs to no run. It belongs to a run when one of its
events shares an event ID, order ID or browser ID (GA4 client ID, Meta fbp, TikTok ttp) with the run's
browser events, or carries one of the run's click IDs (generated per run, so unique), or the SHA-256 of
an email the journey typed (run-unique by the scenario's design). What matches no run stays unattributed.

Limit of the email key: DecodedEvent records only the FORM of each identifier (``user_data``), not its
value, so an event contributes hashed emails only where its decoder keeps the digests in
``params["hashed_emails"]`` (the server APIs' decoders do: Meta's, Google Ads', LinkedIn's, X's and
Microsoft's conversion uploads; raw values are never kept).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from harness.models import CapturedRequest, DecodedEvent, RunResult

# IDs shorter than this ("1", "abc") could match by chance.
MIN_KEY_LENGTH = 6
# Browser IDs that a backend forwards from the visitor's cookies: GA4 client ID (_ga), Meta browser ID
# (_fbp), TikTok browser ID (_ttp). Random per fresh context, so unique to a run.
BROWSER_ID_PARAMS = ("cid", "client_id", "fbp", "ttp", "anonymous_id")
# Where a decoder keeps the SHA-256 hex digests of the emails a server event carries.
HASHED_EMAILS_PARAM = "hashed_emails"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hashed_email(typed: str) -> str | None:
    """SHA-256 hex of a typed email normalised as the ad platforms ask (trimmed, lowercased); None otherwise."""
    email = typed.strip().lower()
    return hashlib.sha256(email.encode("utf-8")).hexdigest() if _EMAIL.match(email) else None


def _fbclid_of(fbc: str) -> str | None:
    parts = fbc.split(".")
    return parts[3] if len(parts) >= 4 and parts[0] == "fb" else None


def run_keys(result: RunResult) -> set[str]:
    """The values that identify a run: its events' event and order IDs, its ad URL's click IDs, and the
    SHA-256 of each email its journey typed."""
    keys: set[str] = set()
    for event in result.events:
        keys.update(event_keys(event))
    for fate in result.capture.chain.params:
        if not fate.param.startswith("utm_"):
            keys.add(fate.value)
    for step in result.capture.steps:
        if step.typed and (digest := hashed_email(step.typed)):
            keys.add(digest)
    return {k for k in keys if len(k) >= MIN_KEY_LENGTH}


def event_keys(event: DecodedEvent) -> set[str]:
    keys = {v for v in (event.event_id, event.transaction_id) if v}
    keys.update(str(event.params[p]) for p in BROWSER_ID_PARAMS if isinstance(event.params.get(p), str | int))
    for name, value in event.click_ids.items():
        keys.add(value)
        if name == "fbc" and (fbclid := _fbclid_of(value)):
            keys.add(fbclid)
    hashes = event.params.get(HASHED_EMAILS_PARAM)
    if isinstance(hashes, list):
        keys.update(h.lower() for h in hashes if isinstance(h, str))
    return keys


def belongs_to_run(keys: set[str], events: Iterable[DecodedEvent]) -> bool:
    return any({k for k in event_keys(e) if len(k) >= MIN_KEY_LENGTH} & keys for e in events)


class UnclaimedServerHits:
    """The backend hits no run has claimed yet, each decoded once. Every run asks which of them are its
    own; a long session keeps some that match no run, and decoding them all again for every run made each
    run slower than the one before."""

    def __init__(self, decode: Callable[[CapturedRequest], list[DecodedEvent]]) -> None:
        self._decode = decode
        self._events: dict[str, list[DecodedEvent]] = {}  # request ID -> its events, decoded once

    def matching(self, keys: set[str], unattributed: Iterable[CapturedRequest]) -> dict[str, list[DecodedEvent]]:
        """The events of each hit in ``unattributed`` that belongs to the run with ``keys``, by request ID."""
        current: dict[str, list[DecodedEvent]] = {}
        for request in unattributed:
            if request.tag_hit:
                events = self._events.get(request.id)
                current[request.id] = events if events is not None else self._decode(request)
        self._events = current  # what left the unattributed list (claimed, or never again asked) is forgotten
        return {rid: events for rid, events in current.items() if belongs_to_run(keys, events)}
