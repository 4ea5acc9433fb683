"""Finding the decoder for a request and decoding whole runs.

The registry is built once (built-in vendors plus the ``eventpath.decoders`` entry points) and is
what the engine hands to the proxy as its tag-hit test, and to the decoding stage.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points

from harness.decoders import vendors
from harness.decoders.base import BUILTIN_DECODERS, Decoder
from harness.decoders.wire import json_safe
from harness.models import CapturedRequest, DecodedEvent, RunCapture, RunResult, SinkholeReply

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

    @classmethod
    def default(cls) -> DecoderRegistry:
        return _default_registry()

    def by_vendor(self, vendor: str) -> Decoder | None:
        return next((d for d in self.decoders if d.vendor == vendor), None)

    def claimant(self, request: CapturedRequest) -> Decoder | None:
        """The first decoder that claims the request. A decoder whose ``claims`` raises claims nothing."""
        for decoder in self.decoders:
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
        third_party = type(decoder) not in BUILTIN_DECODERS
        for position, event in enumerate(events):
            if third_party:
                event.params = json_safe(event.params)
            event.request_id = request.id
            event.run_id = request.run_id
            event.position = position
            if event.source != request.source and request.source == "server":
                event.source = "server"
        return events

    def decode_run(self, capture: RunCapture) -> RunResult:
        events: list[DecodedEvent] = []
        for request in capture.requests:
            if request.tag_hit:
                events.extend(self.decode(request))
        return RunResult(capture=capture, events=events)


@cache
def _default_registry() -> DecoderRegistry:
    _import_builtin_vendors()
    classes = list(BUILTIN_DECODERS) + [c for c in _entry_point_decoders() if c not in BUILTIN_DECODERS]
    return DecoderRegistry(cls() for cls in classes)
