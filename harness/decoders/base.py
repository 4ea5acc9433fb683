"""The decoder plug-in point: what one vendor's hits look like and how they become events.

A vendor is one module in ``harness.decoders.vendors`` holding one ``Decoder`` subclass decorated with
``@register``. Third parties register theirs under the entry point group ``eventpath.decoders`` (the
entry point names the class). The shared pipeline lives in ``wire.py`` so a vendor only says what is
unusual about it.
"""

from __future__ import annotations

import base64
from typing import ClassVar, Literal, TypeVar

from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import host_matches  # vendors import it from here too

# The 1x1 transparent GIF that pixel endpoints answer image requests with.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class Decoder:
    """One vendor's hits. Subclasses set the class attributes and implement ``decode``.

    ``claims`` must be cheap and exact: the proxy calls it on every request to decide whether to answer
    locally (sinkhole), so a false claim would swallow a site's own request. A vendor's script file
    (``gtag/js``, ``fbevents.js``) is never a hit.
    """

    vendor: ClassVar[str]
    source: ClassVar[Literal["browser", "server"]] = "browser"
    # Parameters whose values change on every run (timestamps, random IDs, cache busters); baselines
    # keep their names and types but not their values.
    volatile_params: ClassVar[frozenset[str]] = frozenset()
    # Optional speed hint: the only hosts (``host_matches`` patterns) ``claims`` can be True on, so the
    # registry need not ask on any other host. None, the default, means any host (first-party collectors).
    claim_hosts: ClassVar[tuple[str, ...] | None] = None

    def claims(self, request: CapturedRequest) -> bool:
        raise NotImplementedError

    # The two hints below let the registry skip asking ``claims`` (it memoises their answers per host and
    # per host, method and path). A wrong False hides real hits, so when in doubt they return True.

    def may_claim_host(self, host: str) -> bool:
        """False only if ``claims`` is False for every request to ``host`` (lower case)."""
        return self.claim_hosts is None or host_matches(host, self.claim_hosts)

    def may_claim_path(self, method: str, path: str) -> bool:
        """False only if ``claims`` is False for every request with this method and path, on any host."""
        return True

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        """Every event the request carries, in the order it carries them. Must never raise: a request
        that is this vendor's but malformed decodes to one event with ``malformed=True`` and the reason."""
        raise NotImplementedError

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        """What the vendor's endpoint would answer, so client code carries on as it would live."""
        accept = (request.header("accept") or "").lower()
        dest = (request.header("sec-fetch-dest") or "").lower()
        if request.method == "GET" and (dest == "image" or accept.startswith("image/")):
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def malformed(self, request: CapturedRequest, reason: str, event: str = "(malformed)") -> DecodedEvent:
        """The one event a vendor's unreadable hit decodes to."""
        return DecodedEvent(
            vendor=self.vendor,
            event=event,
            source=self.source,
            malformed=True,
            malformed_reason=reason,
            request_id=request.id,
            run_id=request.run_id,
            page_url=request.header("referer"),
        )


def pixel_reply(request: CapturedRequest) -> SinkholeReply:
    """What classic pixel endpoints answer: a 1x1 GIF to an image GET, an empty 200 to a POST beacon."""
    if request.method == "GET":
        return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
    return SinkholeReply(status=200, content_type="text/plain", body=b"")


DecoderT = TypeVar("DecoderT", bound=type[Decoder])

# Built-in decoder classes, filled by @register as the vendor modules are imported.
BUILTIN_DECODERS: list[type[Decoder]] = []


def register(cls: DecoderT) -> DecoderT:
    """Class decorator: make a built-in vendor decoder known to the default registry."""
    if cls not in BUILTIN_DECODERS:
        BUILTIN_DECODERS.append(cls)
    return cls
