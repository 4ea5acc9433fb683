"""Finding the decoder for a request and decoding whole runs.

The registry is built once (built-in vendors plus the ``eventpath.decoders`` entry points) and is
what the engine hands to the proxy as its tag-hit test, and to the decoding stage.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Hashable, Iterable
from functools import cache
from importlib.metadata import entry_points
from typing import TypeVar

from harness.decoders import vendors
from harness.decoders.base import BUILTIN_DECODER_SET, BUILTIN_DECODERS, Decoder, VendorProfile
from harness.decoders.wire import json_safe
from harness.models import (
    CLICK_ID_PARAMS,
    CapturedRequest,
    DecodedEvent,
    RunCapture,
    RunResult,
    SinkholeReply,
)
from harness.urls import url_parts

ENTRY_POINT_GROUP = "eventpath.decoders"


def _import_builtin_vendors() -> None:
    for module in pkgutil.iter_modules(vendors.__path__):
        importlib.import_module(f"{vendors.__name__}.{module.name}")


def _entry_point_decoders() -> list[type[Decoder]]:
    found: list[type[Decoder]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Decoder):
            found.append(cls)
    return found


class DecoderRegistry:
    def __init__(self, decoders: Iterable[Decoder]):
        self.decoders: list[Decoder] = list(decoders)
        # Which decoders are worth asking (see ``candidates``), memoised per host and per request line.
        self._by_host: _Memo[tuple[Decoder, ...]] = _Memo()
        self._by_line: _Memo[_Plan] = _Memo()
        self._memos_for: list[Decoder] = list(self.decoders)

    @classmethod
    def default(cls) -> DecoderRegistry:
        return _default_registry()

    def by_vendor(self, vendor: str) -> Decoder | None:
        return next((d for d in self.decoders if d.vendor == vendor), None)

    def profiles(self) -> dict[str, VendorProfile]:
        """Each vendor's profile, in registry order."""
        return {d.vendor: d.profile for d in self.decoders}

    def candidates(self, host: str, method: str, path: str) -> tuple[Decoder, ...]:
        """The decoders that may claim a request with this host, method and path, in registry order: the
        others' ``claims`` is False for it whatever the rest of the request says (their ``may_claim_host``
        or ``may_claim_path`` hint is False). Memoised: ``claimant`` runs on every request the proxy sees,
        and a run talks to few hosts and sends its hits to few paths."""
        return tuple(decoder for decoder, _sure in self._plan((host, method, path)))

    def _plan(self, line: _Line) -> _Plan:
        """``candidates`` for a (host, method, path) line, each with its ``surely_claims`` answer."""
        if self._memos_for != self.decoders:  # the list was changed since the memos were made
            self._by_host.clear()
            self._by_line.clear()
            self._memos_for = list(self.decoders)
        found = self._by_line.get(line)
        if found is None:
            host, method, path = line
            on_host = self._by_host.get(host)
            if on_host is None:
                on_host = self._by_host.put(host, _hinted(self.decoders, "may_claim_host", host))
            asked = _hinted(on_host, "may_claim_path", method, path)
            found = self._by_line.put(line, tuple((d, _surely_claims(d, line)) for d in asked))
        return found

    def claimant(self, request: CapturedRequest) -> Decoder | None:
        """The first decoder that claims the request. A decoder whose ``claims`` raises claims nothing."""
        # request.host and request.path from one split (what those properties read, minus a lookup).
        parts = url_parts(request.url)
        line = (parts.host, request.method, parts.path) if parts else ("", request.method, "/")
        # ``_plan`` inlined for a remembered line: this runs for every request the proxy sees.
        found = self._by_line.get(line) if self._memos_for == self.decoders else None
        for decoder, sure in self._plan(line) if found is None else found:
            if sure:
                return decoder
            try:
                if decoder.claims(request):
                    return decoder
            except Exception:  # noqa: BLE001 - a faulty plug-in must not break capture
                continue
        return None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply | None:
        """The local answer for a tag hit, or None when no decoder claims the request."""
        decoder = self.claimant(request)
        if decoder is None:
            return None
        try:
            return decoder.sinkhole_reply(request)
        except Exception:  # noqa: BLE001
            return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        """The events of one request; empty when no decoder claims it. Never raises."""
        decoder = self.claimant(request)
        if decoder is None:
            return []
        try:
            events = decoder.decode(request)
        except Exception as exc:  # noqa: BLE001 - a decoder bug becomes a visible malformed event
            return [decoder.malformed(request, f"decoder error: {type(exc).__name__}: {exc}")]
        # Built-in decoders bound what they copy (the never-raises test proves it); a plug-in may not.
        third_party = type(decoder) not in BUILTIN_DECODER_SET
        request_id, run_id = request.id, request.run_id
        server = request.source == "server"
        for position, event in enumerate(events):
            if third_party:
                event.params = json_safe(event.params)
            if type(event) is DecodedEvent:
                # What BaseModel.__setattr__ does (DecodedEvent validates no assignment), minus its
                # overhead per call: the values are typed already.
                values = event.__dict__
                values["request_id"], values["run_id"], values["position"] = request_id, run_id, position
                if server and values["source"] != "server":
                    values["source"] = "server"
                    event.__pydantic_fields_set__.update(_STAMPED_WITH_SOURCE)
                else:
                    event.__pydantic_fields_set__.update(_STAMPED)
            else:  # a plug-in's subclass may validate or hook assignment
                _stamp(event, request_id, run_id, position, "server" if server else None)
        return events

    def decode_run(self, capture: RunCapture) -> RunResult:
        events: list[DecodedEvent] = []
        for request in capture.requests:
            if request.tag_hit:
                events.extend(self.decode(request))
        return RunResult(capture=capture, events=count_orphan_repeats(events))


def count_orphan_repeats(events: list[DecodedEvent]) -> list[DecodedEvent]:
    """``events`` with each repeat whose original the run does not hold counted as the action itself.

    A decoder marks a hit that repeats another hit of the same action (``repeats``: Google's redirect hop,
    Awin's fall-back image beside its script's conversion) so it is never counted twice. When the run has no
    such other hit, the repeat is the only one the platform received (a site that fires only Awin's image, an
    original stopped by a blocker): it counts. Its original is a well-formed event of the same vendor and
    account with the same order ID, or, without one, the same event name."""
    originals: dict[str, list[DecodedEvent]] = {}
    for event in events:
        if not event.repeats and not event.malformed:
            originals.setdefault(event.vendor, []).append(event)
    return [
        event.model_copy(update={"repeats": False})
        if event.repeats and not any(_same_action(o, event) for o in originals.get(event.vendor, ()))
        else event
        for event in events
    ]


def _same_action(original: DecodedEvent, repeat: DecodedEvent) -> bool:
    if original.account_id and repeat.account_id and original.account_id != repeat.account_id:
        return False
    if repeat.transaction_id:
        return original.transaction_id == repeat.transaction_id
    return original.event.lower() == repeat.event.lower()


_Line = tuple[str, str, str]  # host, method, path
_Plan = tuple[tuple[Decoder, bool], ...]  # the decoders to ask, in order, each with surely_claims
_MemoValue = TypeVar("_MemoValue")


class _Memo(dict[Hashable, _MemoValue]):
    """A dict that starts again rather than grow past a few thousand entries (a crawl meets many hosts)."""

    def put(self, key: Hashable, value: _MemoValue) -> _MemoValue:
        if len(self) >= 4096:
            self.clear()
        self[key] = value
        return value


def _hinted(decoders: Iterable[Decoder], hint: str, *args: str) -> tuple[Decoder, ...]:
    """The decoders whose hint (``may_claim_host`` or ``may_claim_path``) allows a claim."""
    return tuple(d for d in decoders if _allows(d, hint, *args))


def _surely_claims(decoder: Decoder, line: _Line) -> bool:
    """The decoder's ``surely_claims`` answer, trusted only from the class that defines its ``claims``."""
    try:
        cls = type(decoder)
        if "claims" in vars(decoder) or _definer(cls, "claims") is not _definer(cls, "surely_claims"):
            return False
        return decoder.surely_claims(*line) is True
    except Exception:  # noqa: BLE001 - a faulty or missing hint: ask claims
        return False


def _definer(cls: type, name: str) -> type | None:
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


def _allows(decoder: Decoder, hint: str, *args: str) -> bool:
    try:
        return bool(getattr(decoder, hint)(*args))
    except Exception:  # noqa: BLE001 - a faulty or missing hint must not hide a decoder: ask its claims
        return True


# The fields ``decode`` stamps on every event, as ``model_fields_set`` records them.
_STAMPED = ("request_id", "run_id", "position")
_STAMPED_WITH_SOURCE = (*_STAMPED, "source")


def _stamp(event: DecodedEvent, request_id: str, run_id: str | None, position: int, source: str | None) -> None:
    """Set where a plug-in's event came from through ``setattr``; ``source`` only when given and different."""
    values: dict[str, object] = {"request_id": request_id, "run_id": run_id, "position": position}
    if source is not None and event.source != source:
        values["source"] = source
    for name, value in values.items():
        setattr(event, name, value)


@cache
def _default_registry() -> DecoderRegistry:
    _import_builtin_vendors()
    classes = list(BUILTIN_DECODERS) + [c for c in _entry_point_decoders() if c not in BUILTIN_DECODERS]
    return DecoderRegistry(cls() for cls in classes)


@cache
def click_id_params() -> tuple[str, ...]:
    """Every click ID eventpath follows through redirects, cookies and hits: the well-known ones
    (``models.CLICK_ID_PARAMS``), then those a vendor's profile declares (a plug-in's too), in that order."""
    names = dict.fromkeys(CLICK_ID_PARAMS)
    for profile in vendor_profiles().values():
        names.update(dict.fromkeys(profile.click_ids))
    return tuple(names)


@cache
def click_id_names() -> frozenset[str]:
    """``click_id_params`` as a set."""
    return frozenset(click_id_params())


def is_click_id(name: str) -> bool:
    """``name`` is a click ID (see ``click_id_params``), spelled as the platform spells it."""
    return name in click_id_names()


def is_tracked_param(name: str) -> bool:
    """True for the parameters whose survival through redirects we report: click IDs and ``utm_*``."""
    return is_click_id(name) or name.lower().startswith("utm_")


@cache
def vendor_profiles() -> dict[str, VendorProfile]:
    """The default registry's profiles (built-in vendors and plug-ins), for the checks and the report."""
    return DecoderRegistry.default().profiles()


def vendor_profile(vendor: str) -> VendorProfile:
    """``vendor``'s profile; an empty one for a vendor no decoder names."""
    return vendor_profiles().get(vendor) or VendorProfile()
