"""Scenario files: an ad click, the devices, the journey, and what must be seen.

Scenarios are YAML files named ``*.scenario.yaml``; these models validate them and ``eventpath schema``
prints their JSON Schema for editors. See ``scenarios/`` for examples.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from harness.decoders.registry import click_id_params, is_click_id
from harness.options import HostMapping, coerce_mappings

AUTO = "auto"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the ad click ---------------------------------------------------------------------------------

Platform = Literal[
    "google", "meta", "tiktok", "microsoft", "linkedin", "pinterest", "snapchat", "reddit", "x", "taboola", "other"
]

# Which click ID each platform appends, so ``platform: google`` alone gives a realistic ad URL.
PLATFORM_CLICK_ID: dict[str, str] = {
    "google": "gclid",
    "meta": "fbclid",
    "tiktok": "ttclid",
    "microsoft": "msclkid",
    "linkedin": "li_fat_id",
    "pinterest": "epik",
    "snapchat": "ScCid",
    "reddit": "rdt_cid",
    "x": "twclid",
    "taboola": "tblci",  # Taboola appends it to every landing URL
}


def generate_click_id(name: str) -> str:
    """A value shaped like the platform's real click IDs (length and alphabet), unique per call."""
    urlsafe = string.ascii_letters + string.digits + "-_"

    def token(n: int, alphabet: str = urlsafe) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(n))

    if name in ("gclid", "dclid"):
        return "EAIaIQobChMI" + token(60)
    if name in ("gbraid", "wbraid"):
        return "0AAAAAD" + token(40)
    if name == "fbclid":
        return "IwAR" + token(57)
    if name == "msclkid":
        return token(32, "0123456789abcdef")
    if name == "ttclid":
        return "E_C_P_" + token(60)
    return token(40)


class AdClick(_Strict):
    """The ad click that starts every run of the scenario."""

    url: str = Field(description="The ad's landing URL (or its click tracker), with or without click IDs.")
    platform: Platform = Field(default="google", description="The ad platform the click comes from.")
    click_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Click IDs to append, e.g. {gclid: auto}; 'auto' generates a realistic value. "
        "Default: the platform's own click ID, generated.",
    )
    utm: dict[str, str] = Field(
        default_factory=dict, description="UTM parameters to append: {source: google, medium: cpc, ...}."
    )

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        return url

    @field_validator("click_ids")
    @classmethod
    def _known_click_ids(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in value if not is_click_id(k)]
        if unknown:
            raise ValueError(f"unknown click ID {unknown[0]!r}; known: {', '.join(click_id_params())}")
        return value

    def effective_click_ids(self) -> dict[str, str]:
        if self.click_ids:
            return dict(self.click_ids)
        own = PLATFORM_CLICK_ID.get(self.platform)
        return {own: AUTO} if own else {}

    def build_url(self) -> str:
        """The URL the run opens: ``url`` plus click IDs (generated where 'auto') and utm_* parameters."""
        parts = urlsplit(self.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        present = {k for k, _ in query}
        for name, value in self.effective_click_ids().items():
            if name not in present:
                query.append((name, generate_click_id(name) if value == AUTO else value))
        for name, value in self.utm.items():
            key = name if name.startswith("utm_") else f"utm_{name}"
            if key not in present:
                query.append((key, value))
        return urlunsplit(parts._replace(query=urlencode(query)))


# --- journey steps --------------------------------------------------------------------------------


class _Step(_Strict):
    name: str | None = Field(default=None, description="A label used in reports and in `after_step`.")
    timeout_ms: int | None = Field(default=None, ge=1, description="Override the navigation timeout.")
    consent: Literal["accept", "reject"] | None = Field(
        default=None, description="This step answers the consent banner (accept or reject)."
    )


class _ElementStep(_Step):
    frame: str | list[str] | None = Field(
        default=None,
        description="The iframe the element is in, as a selector (or a list, outermost first): the card fields "
        "of Stripe, Adyen or Braintree, an embedded form.",
    )

    def frames(self) -> list[str]:
        return [self.frame] if isinstance(self.frame, str) else list(self.frame or [])


class GotoStep(_Step):
    goto: str = Field(description="URL to open; a path is relative to the current page.")


_POPUP = Field(
    default=False,
    description="The step opens a new tab or window (target=_blank, window.open): the steps after it act there.",
)


class ClickStep(_ElementStep):
    click: str = Field(description="Playwright selector to click.")
    popup: bool = _POPUP


class FillStep(_ElementStep):
    fill: str = Field(description="Playwright selector of the field.")
    value: str = Field(description="Text to type; {run} is replaced by a run-unique token.")


class SelectStep(_ElementStep):
    select: str = Field(description="Playwright selector of the <select>.")
    value: str


class PressStep(_ElementStep):
    press: str = Field(description="Playwright selector to focus.")
    key: str = Field(description="Key to press, e.g. Enter.")
    popup: bool = _POPUP


class WaitForStep(_ElementStep):
    wait_for: str = Field(description="Playwright selector to wait for (visible).")


class WaitForUrlStep(_Step):
    wait_for_url: str = Field(description="URL glob (e.g. '**/thank-you**') to wait for.")


class ScrollStep(_ElementStep):
    scroll: Literal["bottom", "top"] | str = Field(description="'bottom', 'top' or a selector to scroll into view.")


class ScriptStep(_Step):
    script: str = Field(description="A small JavaScript expression run in the page.")


STEP_KINDS: dict[str, type[_Step]] = {
    "goto": GotoStep,
    "click": ClickStep,
    "fill": FillStep,
    "select": SelectStep,
    "press": PressStep,
    "wait_for": WaitForStep,
    "wait_for_url": WaitForUrlStep,
    "scroll": ScrollStep,
    "script": ScriptStep,
}


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in STEP_KINDS if k in value]
        return found[0] if len(found) == 1 else None
    if isinstance(value, _Step):
        return next(k for k, cls in STEP_KINDS.items() if isinstance(value, cls))
    return None


Step = Annotated[
    Annotated[GotoStep, Tag("goto")]
    | Annotated[ClickStep, Tag("click")]
    | Annotated[FillStep, Tag("fill")]
    | Annotated[SelectStep, Tag("select")]
    | Annotated[PressStep, Tag("press")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[WaitForUrlStep, Tag("wait_for_url")]
    | Annotated[ScrollStep, Tag("scroll")]
    | Annotated[ScriptStep, Tag("script")],
    Discriminator(
        _step_kind,
        custom_error_type="step_action",
        custom_error_message="a step needs exactly one action: " + ", ".join(STEP_KINDS),
    ),
]


def step_action(step: _Step) -> str:
    return _step_kind(step) or "?"


def step_label(index: int, step: _Step) -> str:
    return step.name or f"step {index + 1} ({step_action(step)})"


# --- expectations ---------------------------------------------------------------------------------


class ExpectedEvent(_Strict):
    """An event a vendor must send."""

    vendor: str = Field(description="Decoder vendor, e.g. ga4, google_ads, meta_pixel, meta_capi, tiktok_pixel.")
    event: str = Field(description="Event name as the vendor sends it: purchase, Purchase, CompletePayment...")
    count: int = Field(default=1, ge=0, description="Exactly how many times (0 = must not fire).")
    value: float | None = Field(default=None, description="Expected value; omit to only require a number.")
    value_required: bool = Field(default=True, description="Require a numeric value (conversions).")
    currency: str | None = Field(default=None, description="Expected ISO 4217 currency code.")
    transaction_id: str | None = Field(
        default=None, description="Expected order ID; 'present' only requires one."
    )
    event_id: Literal["required", "optional"] = Field(default="optional", description="Require an event ID.")
    on_url: str | None = Field(default=None, description="URL glob of the page it must fire on, e.g. '**/thank-you*'.")
    after_step: str | int | None = Field(
        default=None, description="Step name (or 1-based number) after which it must fire."
    )
    account: str | None = Field(
        default=None,
        description="Only events sent to this account (pixel ID, measurement ID, AW- conversion ID...). "
        "By default each account that receives the event is judged on its own: a second pixel is no duplicate.",
    )


class ClickIdExpectations(_Strict):
    final_url: list[str] = Field(
        default_factory=list, description="Click IDs (or 'all') that must reach the landing URL. Default: all."
    )
    cookies: dict[str, str] = Field(
        default_factory=dict,
        description="Cookie name -> click ID it must carry, e.g. {_gcl_aw: gclid, _fbc: fbclid}.",
    )
    hits: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Vendor -> click IDs its conversion hits must carry, e.g. {google_ads: [gclid], meta_pixel: [fbc]}.",
    )


class Expectations(_Strict):
    events: list[ExpectedEvent] = Field(default_factory=list)
    click_ids: ClickIdExpectations = Field(default_factory=ClickIdExpectations)
    forbidden_vendors: list[str] = Field(default_factory=list, description="Vendors that may not be contacted.")
    allowed_vendors: list[str] | None = Field(
        default=None, description="If set, any vendor not listed (or expected) is unexpected."
    )
    utm_consistent: bool = Field(default=True, description="UTM parameters on the final URL match the ad's.")
    no_pii: bool = Field(default=True, description="No raw personal data the journey typed leaves the page.")
    pages_answer: bool = Field(
        default=True, description="The landing page and every page of the journey answer without an HTTP error (4xx/5xx)."
    )
    consent: Literal["accept", "reject", "ignore"] | None = Field(
        default=None, description="The consent choice the journey makes; hits are judged against it."
    )
    max_lcp_ms: int | None = Field(default=None, ge=1, description="Largest contentful paint bound for the landing page.")
    durable_click_id_cookies: bool = Field(
        default=False,
        description="Fail when Safari's ITP would cap click-ID cookies written by script (checked on WebKit devices).",
    )
    order: list[str] = Field(
        default_factory=lambda: ["page_view<purchase"],
        description="Event order rules 'a<b': a must come before b (same vendor).",
    )

    @field_validator("order")
    @classmethod
    def _order_rules(cls, rules: list[str]) -> list[str]:
        for rule in rules:
            if not re.fullmatch(r"[^<\s]+<[^<\s]+", rule):
                raise ValueError(f"order rule {rule!r} must look like 'page_view<purchase'")
        return rules


# --- conditions, the app under test, backend truth ---------------------------------------------------

NetworkPreset = Literal["none", "slow-3g", "fast-3g", "slow-4g", "4g", "wifi"]
InAppProfile = Literal["facebook_ios", "facebook_android", "instagram_ios", "instagram_android", "tiktok_ios", "tiktok_android"]
ConsentAnswer = Literal["accept", "reject", "ignore"]
# A browser that removes click IDs from the link followed (harness/link_protection.py).
LinkProtection = Literal["safari", "firefox", "brave"]


class CustomConsent(_Strict):
    """Grant only the named purposes in the CMP's settings (``consent: {custom: [analytics]}``); the rest
    stay denied. Each purpose needs its toggle in ``consent_selectors.purposes``."""

    custom: list[str] = Field(description="Purposes to grant, as named in `consent_selectors.purposes`; [] grants none.")

    @property
    def means(self) -> Literal["accept", "reject"] | None:
        """What the checks may assume: none granted is a reject; a partial choice is neither."""
        return "reject" if not self.custom else None

    def label(self) -> str:
        return f"custom({'+'.join(self.custom) or 'none'})"

    def __str__(self) -> str:
        return self.label()


class SeedCookie(_Strict):
    name: str
    value: str
    domain: str = Field(description="Cookie domain, e.g. '.shop.example' (a leading dot covers subdomains).")
    path: str = "/"


class ConsentSeed(_Strict):
    """The CMP's stored answer, set before the first navigation instead of clicking the banner."""

    cookies: list[SeedCookie] = Field(default_factory=list, description="Consent cookies to set, e.g. OptanonConsent.")
    local_storage: dict[str, str] = Field(
        default_factory=dict, description="localStorage key -> value, set before any page script runs."
    )
    origin: str | None = Field(
        default=None, description="Set localStorage only on this origin (https://shop.example); default: every page."
    )
    means: Literal["accept", "reject"] = Field(
        default="accept", description="What the seeded state amounts to: hits are judged against it."
    )

    @model_validator(mode="after")
    def _seeds_something(self) -> ConsentSeed:
        if not self.cookies and not self.local_storage:
            raise ValueError("a consent seed needs at least one cookie or localStorage entry")
        return self


class SeededConsent(_Strict):
    """``consent: {seed: {cookies: [...], local_storage: {...}, means: accept}}``: no banner is clicked."""

    seed: ConsentSeed

    @property
    def means(self) -> Literal["accept", "reject"]:
        return self.seed.means

    def label(self) -> str:
        names = [c.name for c in self.seed.cookies] + list(self.seed.local_storage)
        return f"seeded({self.seed.means}:{'+'.join(names)})"

    def __str__(self) -> str:
        return self.label()


# A run's consent: click accept or reject, leave the banner (ignore), grant some purposes, or seed the state.
ConsentChoice = ConsentAnswer | CustomConsent | SeededConsent


def consent_means(choice: ConsentChoice | None) -> ConsentAnswer | None:
    """The plain answer a consent choice amounts to (None: no answer, or a partial custom one)."""
    if choice is None or isinstance(choice, str):
        return choice
    return choice.means


class CustomNetwork(_Strict):
    latency_ms: int = Field(ge=0)
    download_kbps: int = Field(ge=1)
    upload_kbps: int = Field(ge=1)


class RunConditions(_Strict):
    """The real-world conditions of one run (one value each)."""

    network: NetworkPreset | CustomNetwork = "none"
    cpu_slowdown: float = Field(default=1.0, ge=1.0, description="CPU throttling rate, e.g. 4 for a low-end phone.")
    consent: ConsentChoice | None = Field(
        default=None, description="Answer the consent banner right after landing (selectors in `consent_selectors`)."
    )
    blocker: str | None = Field(default=None, description="'common' (built-in list of tag hosts) or a block-list file.")
    in_app: InAppProfile | None = Field(default=None, description="In-app browser user agent.")
    abandon_after_ms: int | None = Field(default=None, ge=0, description="Leave the page this long after the click.")
    link_protection: LinkProtection | None = Field(
        default=None,
        description="Click as this browser would: its link tracking protection removes click IDs from the ad URL "
        "(Safari Private Browsing and links from Mail/Messages, Firefox Strict mode, Brave).",
    )

    def label(self) -> str:
        parts = [
            f"{k}={v.label() if hasattr(v, 'label') else 'custom' if isinstance(v, BaseModel) else v}"
            for k, v in self
            if v not in (None, "none", 1.0)
        ]
        return ",".join(parts)


class ConditionMatrix(_Strict):
    """Each condition may be a list: the scenario then runs once per combination."""

    network: list[NetworkPreset | CustomNetwork] = Field(default_factory=lambda: list[NetworkPreset | CustomNetwork](["none"]))
    cpu_slowdown: list[float] = Field(default_factory=lambda: [1.0])
    consent: list[ConsentChoice | None] = Field(default_factory=lambda: list[ConsentChoice | None]([None]))
    blocker: list[str | None] = Field(default_factory=lambda: list[str | None]([None]))
    in_app: list[InAppProfile | None] = Field(default_factory=lambda: list[InAppProfile | None]([None]))
    abandon_after_ms: list[int | None] = Field(default_factory=lambda: list[int | None]([None]))
    link_protection: list[LinkProtection | None] = Field(default_factory=lambda: list[LinkProtection | None]([None]))

    @model_validator(mode="before")
    @classmethod
    def _scalars_to_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    def expand(self) -> list[RunConditions]:
        import itertools

        names = list(type(self).model_fields)
        combos = itertools.product(*(getattr(self, n) for n in names))
        return [RunConditions(**dict(zip(names, combo, strict=True))) for combo in combos]


# The consent platforms a scenario may name in ``consent_selectors.cmp`` (the JSON Schema lists them); each
# is an entry of harness/browser/cmps.py, whose test checks both agree.
CmpName = Literal[
    "onetrust",
    "cookiebot",
    "usercentrics",
    "didomi",
    "quantcast",
    "sourcepoint",
    "trustarc",
    "cookieyes",
    "complianz",
    "osano",
    "iubenda",
    "axeptio",
    "consentmanager",
    "klaro",
    "cookieconsent",
    "shopify",
    "demo",
]


class ConsentSelectors(_Strict):
    """Where the CMP's buttons are. ``accept``/``reject`` left unset: the known CMPs' buttons are raced
    (``cmp: auto``) or one CMP's (``cmp: onetrust``), see ``harness/browser/cmps.py``; set, the selector is
    clicked as written. ``custom`` choices open ``settings``, set each purpose's toggle in ``purposes``
    (checked when granted, unchecked otherwise) and click ``save``."""

    cmp: Literal["auto", CmpName] = Field(
        default="auto",
        description="Which consent platform answers `consent: accept|reject` when `accept`/`reject` are unset: "
        "auto (the first known CMP whose button appears) or one of them.",
    )
    accept: str = Field(
        default="#consent-accept",
        description="Accept button, clicked as written when set; unset, the CMP's (`cmp`) is found.",
    )
    reject: str = Field(
        default="#consent-reject",
        description="Reject button, clicked as written when set; unset, the CMP's (`cmp`) is found.",
    )
    close: str | None = "#consent-close"
    settings: str | None = Field(default=None, description="Button that opens the CMP's purpose settings, if any.")
    purposes: dict[str, str] = Field(
        default_factory=dict, description="Purpose name -> selector of its checkbox/switch, e.g. {analytics: '#c-analytics'}."
    )
    save: str | None = Field(default=None, description="Button that saves the chosen purposes.")

    def explicit(self, choice: Literal["accept", "reject"]) -> str | None:
        """The selector the scenario wrote for ``choice``; None when it left it to CMP detection."""
        return getattr(self, choice) if choice in self.model_fields_set else None


class AppUnderTest(_Strict):
    """A backend started for the suite with the environment that routes its HTTPS through the harness."""

    command: str | list[str] = Field(description="Command that starts the app (a string runs in a shell).")
    port: int | None = Field(default=None, ge=1, le=65535, description="Wait until this local port accepts connections.")
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    startup_timeout_ms: int = Field(default=20_000, ge=100)


class TruthSource(_Strict):
    """Where the backend truth of a run is read from (what the site really did)."""

    order_api: str | None = Field(default=None, description="URL returning the run's orders (fetched in the run's browser context).")
    page: dict[str, str] | None = Field(
        default=None, description="Selectors on the final page: {order_id: '#order-id', value: '#order-total', currency: '#order-currency'}."
    )
    file: str | None = Field(default=None, description="A JSON file of orders [{order_id, value, currency}].")


# --- the scenario ---------------------------------------------------------------------------------


class Scenario(_Strict):
    """One journey from an ad click, run on each device, judged against its expectations."""

    name: str = Field(description="Short name, unique in a suite.")
    description: str = ""
    ad_click: AdClick
    devices: list[str] = Field(default_factory=lambda: ["Pixel 7"], min_length=1)
    demo: bool = Field(default=False, description="Run against the embedded demo shop (its hosts are mapped).")
    bugs: list[str] = Field(default_factory=list, description="Demo shop switches to turn on (demo only).")
    resolve: list[HostMapping] = Field(default_factory=list, description="HOST=ADDR:PORT mappings.")
    steps: list[Step] = Field(default_factory=list)
    expect: Expectations = Field(default_factory=Expectations)
    conditions: ConditionMatrix = Field(default_factory=ConditionMatrix)
    consent_selectors: ConsentSelectors = Field(default_factory=ConsentSelectors)
    app: AppUnderTest | None = None
    truth: TruthSource | None = None
    baseline_noise: list[str] = Field(
        default_factory=list, description="Baseline paths to ignore when comparing, e.g. 'ga4.page_view.params.ep.debug'."
    )

    @field_validator("resolve", mode="before")
    @classmethod
    def _parse_resolve(cls, value: object) -> object:
        return coerce_mappings(value)

    @model_validator(mode="after")
    def _steps_named_in_expectations_exist(self) -> Scenario:
        names = {s.name for s in self.steps if s.name}
        for event in self.expect.events:
            ref = event.after_step
            if isinstance(ref, str) and ref not in names:
                raise ValueError(f"expect.events: after_step {ref!r} names no step (steps: {sorted(names)})")
            if isinstance(ref, int) and not 1 <= ref <= len(self.steps):
                raise ValueError(f"expect.events: after_step {ref} is not a step number 1-{len(self.steps)}")
        return self
