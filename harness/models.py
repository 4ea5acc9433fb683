"""The typed models every stage of eventpath exchanges.

Data flows one way: a browser run produces a ``RunCapture`` (requests seen by the proxy, the redirect
chain, cookies); decoders turn its tag hits into ``DecodedEvent``s; later stages read both from a
``RunResult``. Nothing here imports a stage.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from harness.urls import url_parts, url_query

# Click IDs that ad platforms append to landing URLs, in the spelling the platforms use. A vendor's profile
# may add its own (``VendorProfile.click_ids``, a plug-in's too): ``harness.decoders.registry.click_id_params``
# is the whole list the chain, the scenario and the checks use.
CLICK_ID_PARAMS: tuple[str, ...] = (
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "ttclid",
    "msclkid",
    "li_fat_id",
    "epik",
    "ScCid",
    "twclid",
    "rdt_cid",
    "tblci",
    "qclid",
    # Google Merchant Center's auto-tagging of free listings (support.google.com/merchants/answer/15191080).
    "srsltid",
)


def is_navigation_headers(header: Callable[[str], str | None]) -> bool:
    """A top-level document request, judged from its headers (``header`` looks one up by name).

    Browsers send ``Sec-Fetch-Dest`` only to secure origins; on plain http a navigation is known by
    ``Upgrade-Insecure-Requests`` with an HTML ``Accept``."""
    dest = header("sec-fetch-dest")
    if dest is not None:
        return dest.lower() == "document"
    accept = (header("accept") or "").lower()
    return header("upgrade-insecure-requests") == "1" and accept.startswith("text/html")


class _Model(BaseModel):
    # bytes travel as base64 in JSON, so a binary or invalid-UTF-8 body survives a round trip.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", extra="forbid")


HeaderList = list[tuple[str, str]]


class CapturedRequest(_Model):
    """One request as the browser (or a backend) sent it, and what came back.

    ``url`` is the URL the client asked for, before any host mapping; ``mapped_to`` names where the
    proxy actually sent it, if anywhere.
    """

    id: str
    run_id: str | None = None
    seq: int = 0  # arrival order at the proxy, across the whole proxy
    method: str
    url: str
    http_version: str = "HTTP/1.1"
    request_headers: HeaderList = Field(default_factory=list)
    body: bytes = b""
    body_truncated: bool = False
    status: int | None = None
    response_headers: HeaderList = Field(default_factory=list)
    response_body: bytes = b""
    location: str | None = None
    started_at: float = 0.0  # epoch seconds
    ended_at: float | None = None
    error: str | None = None
    tag_hit: bool = False  # a decoder (or --sinkhole) claimed it
    sinkholed: bool = False  # answered locally, never left the machine
    mapped_to: str | None = None  # "127.0.0.1:8000" when --resolve sent it elsewhere
    source: Literal["browser", "server"] = "browser"

    def header(self, name: str) -> str | None:
        """First request header with this name (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.request_headers:
            if key.lower() == lname:
                return value
        return None

    def response_header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lname:
                return value
        return None

    # Every decoder's ``claims`` asks for host and path: ``url_parts`` splits each URL once.
    @property
    def host(self) -> str:
        parts = url_parts(self.url)
        return parts.host if parts else ""

    @property
    def path(self) -> str:
        parts = url_parts(self.url)
        return parts.path if parts else "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return url_query(self.url)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        """The body as text; invalid UTF-8 is replaced, never raised."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_navigation(self) -> bool:
        """A top-level document request (what the address bar shows), by the browser's own headers."""
        return is_navigation_headers(self.header)


class SinkholeReply(_Model):
    """What the proxy answers for a tag hit it keeps local: what the vendor's endpoint would answer."""

    status: int = 204
    content_type: str | None = None
    body: bytes = b""
    trailers: HeaderList = Field(default_factory=list)  # HTTP/2 trailers: where a gRPC call's status goes


# --- redirect chain ------------------------------------------------------------------------------

# "app": the chain handed over to an app or its store (a 3xx or the landing page's script to itms-apps://,
# intent://, market://, an app's own scheme): a browser cannot follow it, so it is the chain's last hop.
# "meta": a refresh, by <meta http-equiv=refresh> or by the HTTP Refresh header it stands for.
# How the browser got to a hop: "stripped" is the ad URL as the browser asked for it after its link tracking
# protection removed click IDs (the run's link_protection condition), no request of the site's.
HopKind = Literal["start", "stripped", "http", "meta", "js", "app"]


class RedirectHop(_Model):
    """One URL on the way from the ad click to the landing page."""

    index: int
    url: str
    kind: HopKind  # how the browser got here: the first URL is "start"
    status: int | None = None  # the HTTP status this URL answered with (3xx for an HTTP redirect)
    error: str | None = None  # why no answer came (host unreachable, TLS failure, ...)
    request_id: str | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)


class ParamFate(_Model):
    """What happened to one click ID or UTM parameter of the first URL (or of the landing URL it carries) along the chain."""

    param: str
    value: str
    reached_final: bool
    fate: Literal["kept", "dropped", "changed"]
    hop: int | None = None  # 0-based index of the first hop whose URL lacks or changed it
    changed_to: str | None = None


class RedirectChain(_Model):
    hops: list[RedirectHop] = Field(default_factory=list)
    params: list[ParamFate] = Field(default_factory=list)
    loop_detected: bool = False

    @property
    def start_url(self) -> str:
        return self.hops[0].url if self.hops else ""

    @property
    def final_url(self) -> str:
        return self.hops[-1].url if self.hops else ""

    @property
    def dropped(self) -> list[ParamFate]:
        return [p for p in self.params if not p.reached_final]


# --- decoded events ------------------------------------------------------------------------------

ConsentValue = Literal["granted", "denied"]


class ConsentState(_Model):
    """What one hit says about consent. None means the hit did not say."""

    ad_storage: ConsentValue | None = None
    analytics_storage: ConsentValue | None = None
    ad_user_data: ConsentValue | None = None
    ad_personalization: ConsentValue | None = None
    gcs: str | None = None
    gcd: str | None = None
    other: dict[str, str] = Field(default_factory=dict)

    @property
    def declared(self) -> bool:
        return any(
            v is not None
            for v in (self.ad_storage, self.analytics_storage, self.ad_user_data, self.ad_personalization)
        )


UserDataForm = Literal["sha256", "raw"]

# An event's default consent: ConsentState's own validator run on no input, so each event still gets a
# fresh, validated instance, minus the Python-level ``__init__`` a ``default_factory=ConsentState`` runs.
_no_consent = partial(ConsentState.__pydantic_validator__.validate_python, {})


class DecodedEvent(_Model):
    """One vendor event, whatever wire format carried it. Field meanings are fixed in ARCHITECTURE.md."""

    vendor: str
    event: str
    account_id: str | None = None
    value: float | None = None
    currency: str | None = None
    event_id: str | None = None
    transaction_id: str | None = None
    click_ids: dict[str, str] = Field(default_factory=dict)
    consent: ConsentState = Field(default_factory=_no_consent)
    user_data: dict[str, UserDataForm] = Field(default_factory=dict)
    page_url: str | None = None
    source: Literal["browser", "server"] = "browser"
    params: dict[str, Any] = Field(default_factory=dict)
    malformed: bool = False
    malformed_reason: str | None = None
    # The hit repeats another hit of the same action (Google's redirect hop, the tag's consent-mode twin):
    # decoded and shown, never counted as a firing of its own, unless the run holds no such other hit
    # (``decoders.registry.count_orphan_repeats``: then it is the one the platform got).
    repeats: bool = False
    request_id: str | None = None  # the CapturedRequest that carried it
    position: int = 0  # index inside a batched request
    run_id: str | None = None


# --- a run ---------------------------------------------------------------------------------------


class CookieRecord(_Model):
    name: str
    value: str
    domain: str
    path: str = "/"
    expires: float | None = None  # epoch seconds; None for a session cookie
    http_only: bool = False
    secure: bool = False
    same_site: str | None = None


class Navigation(_Model):
    """A main-frame document the page committed, in order, as the browser reported it."""

    index: int
    url: str
    at: float  # epoch seconds
    step: int | None = None  # journey step that was running, None while landing


class AppHandoff(_Model):
    """The page's script sending the browser to an app or its store (``intent://``, ``market://``,
    ``itms-apps://``, an app's own scheme): a browser does not follow it, so no document records it."""

    url: str
    at: float  # epoch seconds


class StepRecord(_Model):
    """One journey step as it ran."""

    index: int  # 0-based
    label: str  # the step's name, or "step 3 (click)"
    action: str  # goto, click, fill, ...
    target: str | None = None  # selector or URL
    started_at: float  # epoch seconds
    ended_at: float | None = None
    url_after: str | None = None
    typed: str | None = None  # what a fill/select step entered (the PII check looks for it in hits)
    consent: Literal["accept", "reject"] | None = None  # this step answered the consent banner
    error: str | None = None


class DialogRecord(_Model):
    """A JavaScript dialog the page opened (``alert``, ``confirm``, ``prompt``, ``beforeunload``) and the
    run's answer: accepted, as a visitor going on with the journey answers it (a ``prompt`` with its
    default text). Playwright alone would dismiss it, and a ``confirm()`` before an order then cancels the
    order without a word."""

    kind: str
    message: str
    url: str | None = None  # the page that opened it
    at: float  # epoch seconds
    answer: Literal["accepted", "failed"] = "accepted"  # failed: the page was gone before the answer


class TruthOrder(_Model):
    order_id: str | None = None
    value: float | None = None
    currency: str | None = None


class BackendTruth(_Model):
    """What the site really did in a run: the reference the reconciliation table compares platforms with."""

    source: str  # "order API https://api.shop/api/orders", "thank-you page", "file orders.json", "expectation"
    from_expectation: bool = False  # no real source was named: the scenario's expectation stands in
    orders: list[TruthOrder] = Field(default_factory=list)
    error: str | None = None  # the source could not be read


class PageMetrics(_Model):
    """Milliseconds from the start of the landing page's navigation; None where the browser did not say."""

    ttfb_ms: float | None = None
    lcp_ms: float | None = None
    dom_content_loaded_ms: float | None = None
    load_ms: float | None = None


class RunCapture(_Model):
    """Everything one browser run produced, before any decoding."""

    run_id: str
    start_url: str
    device: str
    chain: RedirectChain
    navigations: list[Navigation] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    dialogs: list[DialogRecord] = Field(default_factory=list)
    app_handoffs: list[AppHandoff] = Field(default_factory=list)  # by script; a 3xx one is a chain hop
    requests: list[CapturedRequest] = Field(default_factory=list)
    cookies: list[CookieRecord] = Field(default_factory=list)
    started_at: float
    finished_at: float
    capture_complete: bool = True  # False when the quiet window never came before the cap
    capture_note: str | None = None
    truth: BackendTruth | None = None  # read from the source the scenario names, before leaving the page
    metrics: PageMetrics | None = None  # of the landing page, read before the journey
    # Requests a content blocker (the run's ad-block condition) aborted in the browser: they never left it.
    blocked: list[CapturedRequest] = Field(default_factory=list)
    abandoned_at: float | None = None  # epoch seconds the run left the page early (abandon_after_ms)
    artifacts: dict[str, str] = Field(default_factory=dict)  # "trace", "screenshot" -> absolute path
    error: str | None = None  # the run could not finish (navigation timeout, unreachable host, ...)

    @property
    def final_url(self) -> str:
        return self.chain.final_url

    @property
    def tag_hits(self) -> list[CapturedRequest]:
        return [r for r in self.requests if r.tag_hit]


class RunResult(_Model):
    """A run with its decoded events: what checks and reports read."""

    capture: RunCapture
    events: list[DecodedEvent] = Field(default_factory=list)
    # What the blocked requests would have sent: the events a content blocker cost this run.
    blocked_events: list[DecodedEvent] = Field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.capture.run_id

    def select(self, vendor: str | None = None, event: str | None = None) -> list[DecodedEvent]:
        """Events of one vendor and/or name, in the order they were sent."""
        return [
            e
            for e in self.events
            if (vendor is None or e.vendor == vendor) and (event is None or e.event == event)
        ]


# --- check outcomes ------------------------------------------------------------------------------

# The root-cause table: how each cause breaks reporting and which way the fix goes. Checks name one.
RootCauseName = Literal[
    "Missing tag",
    "Wrong trigger",
    "Duplicate trigger",
    "Broken dedupe",
    "Missing value",
    "Consent sequencing issue",
    "Missing click IDs",
    "Dropped parameters in redirects",
    "Stripped by the browser",
    "PII in hit",
    "Unexpected vendor",
    "Event order",
    "Slow page",
    "Broken page",
    "Event definition drift",
    "Run error",
]


class Evidence(_Model):
    """A hit (or a redirect hop, a cookie) that shows the failure."""

    request_id: str | None = None
    summary: str  # one line: "meta_pixel Purchase eid=... value=59.9 EUR on https://.../thank-you"
    url: str | None = None


class CheckFailure(_Model):
    """What a check found: expected, seen, the likely root cause and the fix direction."""

    check: str  # the registered check's name
    title: str  # one line, e.g. "meta_pixel Purchase fired 2 times, expected 1"
    root_cause: RootCauseName
    fix_direction: str
    expected: str
    seen: str
    evidence: list[Evidence] = Field(default_factory=list)
    key: str = ""  # identical keys are one failure
