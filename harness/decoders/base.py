"""The decoder plug-in point: what one vendor's hits look like and how they become events.

A vendor is one module in ``harness.decoders.vendors`` holding one ``Decoder`` subclass decorated with
``@register``. Third parties register theirs under the entry point group ``eventpath.decoders`` (the
entry point names the class). The shared pipeline lives in ``wire.py`` so a vendor only says what is
unusual about it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from harness.models import CapturedRequest, ConsentState, DecodedEvent, SinkholeReply
from harness.urls import host_matches  # vendors import it from here too

# Decoders build models through their pydantic-core validators, called directly: the same full
# validation as ``DecodedEvent(**fields)``, minus ``BaseModel.__init__``, a wrapper whose cost is a
# measurable share of decoding a hit. ``validate_*`` take the fields as a dict.
validate_event = DecodedEvent.__pydantic_validator__.validate_python
validate_consent = ConsentState.__pydantic_validator__.validate_python


def new_event(**fields: Any) -> DecodedEvent:
    """``DecodedEvent(**fields)``."""
    return validate_event(fields)


def new_consent(**fields: Any) -> ConsentState:
    """``ConsentState(**fields)``."""
    return validate_consent(fields)


# How the consent checks judge a vendor's hits: an "ad_tag" may neither fire before consent nor after a
# reject; a "consent_mode_ad_tag" (Google Ads, Floodlight, Microsoft UET) may send consent-mode pings that say
# ad_storage denied, and a hit that says nothing of consent counts as consented; a "consent_mode_tag" (GA4,
# UA) may send pings that grant nothing and must carry its consent state once the visitor rejected;
# "not_judged": server APIs and data pipelines, which no banner governs.
ConsentRole = Literal["ad_tag", "consent_mode_ad_tag", "consent_mode_tag", "not_judged"]


@dataclass(frozen=True)
class TwinOf:
    """This vendor reports the same actions as a browser tag of its platform (a server API and its pixel),
    and the platform counts a pair once only when ``key`` (DecodedEvent fields) is equal on both."""

    browser: str  # the browser tag's vendor
    key: tuple[str, ...]
    rule: str  # how the platform dedupes, for the failure text
    events: frozenset[str] | None = None  # only these event names are deduplicated (None: all)


@dataclass(frozen=True)
class VendorProfile:
    """What checks and reports know of a vendor beyond its wire format, declared beside its decoder (so a
    vendor, built in or a plug-in, is one module)."""

    tag_name: str | None = None  # how a failure names it to whoever owns the tag: "Meta Pixel"
    platform_name: str | None = None  # its row in the reconciliation table: "Google Ads"
    consent: ConsentRole = "not_judged"
    purchase_events: frozenset[str] = frozenset()  # lower-case event names that report a sale
    # Events that report a sale whatever their name (Floodlight's sales tags, Plausible's events with revenue).
    reports_sale: Callable[[DecodedEvent], bool] | None = None
    # The click IDs its ads add to landing URLs: followed through the redirect chain (with the well-known
    # ones of models.CLICK_ID_PARAMS) and, unless ``hit_click_ids`` says otherwise, required on its
    # conversion hits.
    click_ids: tuple[str, ...] = ()
    # Those its conversion hits must carry, when not all of ``click_ids`` (a tag that ties the click to the
    # visit through its landing page view sends no click ID on a later purchase: ``()``).
    hit_click_ids: tuple[str, ...] | None = None
    # The first-party cookie its tag keeps each click ID in (gclid -> _gcl_aw).
    click_id_cookies: Mapping[str, str] = field(default_factory=dict)
    # The DecodedEvent.click_ids keys its hits carry a landing click ID under, when not (only) its own name
    # (gclid -> gclid or gclaw, the _gcl_aw cookie's ID; AppLovin's axeid -> aleid, the same click).
    click_id_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What still matches its conversions to the ad when a browser's link tracking protection removed the
    # click ID from the ad URL (the fix direction of a "Stripped by the browser" failure).
    without_click_id: str | None = None
    # Declared by a server API (or another channel) whose events duplicate a browser tag's.
    twin_of: TwinOf | None = None
    # Why a missing event ID matters on its hits, in the platform's terms (None: the generic reason).
    event_id_reason: str | None = None


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
    # The platform's own hosts, when ``claim_hosts`` cannot name them (a decoder that also claims on the
    # advertiser's hosts): ``eventpath proxy`` flags a call there that is no known hit. Default: claim_hosts.
    platform_hosts: ClassVar[tuple[str, ...] | None] = None
    # Names, consent role, purchase events and click IDs, for the checks and the report.
    profile: ClassVar[VendorProfile] = VendorProfile()

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

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        """The opposite hint: True only if ``claims`` is True for every request with this host (lower
        case), method and path, whatever its query, headers and body; the registry then takes this decoder
        without asking ``claims``. A wrong True swallows requests, so when in doubt it returns False.
        A subclass that redefines ``claims`` but not this gets no such shortcut."""
        return False

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        """Every event the request carries, in the order it carries them. Must never raise: a request
        that is this vendor's but malformed decodes to one event with ``malformed=True`` and the reason."""
        raise NotImplementedError

    def encoded_texts(self, request: CapturedRequest) -> list[tuple[str, str]]:
        """What the hit carries in an encoding of the vendor's own (AdRoll's scrambled ``epq``), decoded: (label,
        text) pairs the personal-data check searches beside the URL and body. None by default."""
        return []

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        """What the vendor's endpoint would answer, so client code carries on as it would live."""
        accept = (request.header("accept") or "").lower()
        dest = (request.header("sec-fetch-dest") or "").lower()
        if request.method == "GET" and (dest == "image" or accept.startswith("image/")):
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def malformed(self, request: CapturedRequest, reason: str, event: str = "(malformed)") -> DecodedEvent:
        """The one event a vendor's unreadable hit decodes to."""
        return new_event(
            vendor=self.vendor,
            event=event,
            source=self.source,
            malformed=True,
            malformed_reason=reason,
            request_id=request.id,
            run_id=request.run_id,
            page_url=request.header("referer"),
        )


class EndpointDecoder(Decoder):
    """A vendor whose hits are exactly ``endpoint_paths`` on ``endpoint_hosts``, whatever their query and body:
    ``claims``, both hints and the registry's ``surely_claims`` shortcut follow from the two sets (and
    ``claim_hosts`` from the hosts)."""

    endpoint_hosts: ClassVar[frozenset[str]]
    endpoint_paths: ClassVar[frozenset[str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "endpoint_hosts" in vars(cls) and "claim_hosts" not in vars(cls):
            cls.claim_hosts = tuple(sorted(cls.endpoint_hosts))

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in self.endpoint_paths

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host in self.endpoint_hosts and path in self.endpoint_paths


def pixel_reply(request: CapturedRequest) -> SinkholeReply:
    """What classic pixel endpoints answer: a 1x1 GIF to an image GET, an empty 200 to a POST beacon."""
    if request.method == "GET":
        return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
    return SinkholeReply(status=200, content_type="text/plain", body=b"")


DecoderT = TypeVar("DecoderT", bound=type[Decoder])

# Built-in decoder classes, filled by @register as the vendor modules are imported (in order), and the
# same as a set for the registry's test per request.
BUILTIN_DECODERS: list[type[Decoder]] = []
BUILTIN_DECODER_SET: set[type[Decoder]] = set()


def register(cls: DecoderT) -> DecoderT:
    """Class decorator: make a built-in vendor decoder known to the default registry."""
    if cls not in BUILTIN_DECODER_SET:
        BUILTIN_DECODERS.append(cls)
        BUILTIN_DECODER_SET.add(cls)
    return cls
