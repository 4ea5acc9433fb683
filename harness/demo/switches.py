"""The demo shop's seed bugs: one list, switched on per run.

A run names its switches in the query parameter ``eventpath_bugs=name1,name2`` on the ad click URL or
any shop URL (the shop then keeps them in the ``eventpath_bugs`` cookie on ``.demo.test`` so the whole
journey carries them), in the request header ``X-Eventpath-Bugs``, or in that cookie. Nothing is global:
every request works out its own switches, so parallel runs with different switches never interfere.

``python -m harness.demo.switches`` prints ``docs/demo-switches.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from harness.errors import BadInput
from harness.models import RootCauseName

BUGS_PARAM = "eventpath_bugs"
BUGS_COOKIE = "eventpath_bugs"
BUGS_HEADER = "X-Eventpath-Bugs"

RootCause = RootCauseName


class Switch(BaseModel):
    """One seed bug the demo shop can switch on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    breaks: str  # what goes wrong, in the words a report would use
    root_cause: RootCause
    where: Literal["browser tags", "site", "redirects", "backend"]
    catching_check: str | None = None  # the check that reports it, once checks exist
    # Root causes the bug legitimately brings along (a purchase fired too early also lacks its order ID).
    side_effects: tuple[RootCause, ...] = ()


SWITCHES: tuple[Switch, ...] = (
    Switch(
        name="missing_tag",
        breaks="The Meta Pixel Purchase event never fires on the thank-you page (the other Pixel events do).",
        root_cause="Missing tag",
        where="browser tags",
        catching_check="event_count",
    ),
    Switch(
        name="wrong_trigger",
        breaks="The browser purchase tags (GA4, Google Ads, Meta, TikTok, UET) fire when the checkout page "
        "loads, with the cart value and no order ID, instead of on the thank-you page.",
        root_cause="Wrong trigger",
        where="browser tags",
        catching_check="event_count",
        side_effects=(
            "Missing value",
            "Broken dedupe",
        ),
    ),
    Switch(
        name="duplicate_trigger",
        breaks="The browser purchase tags fire twice on the thank-you page and again on every reload of it "
        "(the once-per-order guard is gone).",
        root_cause="Duplicate trigger",
        where="browser tags",
        catching_check="event_count",
    ),
    Switch(
        name="broken_dedupe",
        breaks="The server-side Meta CAPI Purchase carries a fresh event_id instead of the Pixel's eid, so "
        "Meta cannot deduplicate the pair.",
        root_cause="Broken dedupe",
        where="backend",
        catching_check="browser_server_dedupe",
    ),
    Switch(
        name="server_event_without_fbc",
        breaks="The server-side Meta CAPI Purchase leaves out user_data.fbc although the _fbc cookie exists.",
        root_cause="Missing click IDs",
        where="backend",
        catching_check="server_match_quality",
    ),
    Switch(
        name="server_event_twice",
        breaks="The backend sends each server-side purchase event (Meta CAPI, TikTok Events API, GA4 "
        "Measurement Protocol) twice.",
        root_cause="Duplicate trigger",
        where="backend",
        catching_check="browser_server_dedupe",
    ),
    Switch(
        name="missing_value",
        breaks="The browser purchase tags send no value (GA4 epn.value, Ads value, Meta cd[value], TikTok "
        "properties.value, UET gv); the server-side events keep it.",
        root_cause="Missing value",
        where="browser tags",
        catching_check="event_value",
    ),
    Switch(
        name="missing_currency",
        breaks="The browser purchase tags send no currency (GA4 cu, Ads currency_code, Meta cd[currency], "
        "TikTok properties.currency, UET gc); the server-side events keep it.",
        root_cause="Missing value",
        where="browser tags",
        catching_check="event_value",
    ),
    Switch(
        name="tags_before_consent",
        breaks="Meta Pixel, TikTok and UET fire (and set their cookies) before the consent banner is "
        "answered instead of waiting for accept.",
        root_cause="Consent sequencing issue",
        where="browser tags",
        catching_check="consent_respected",
    ),
    Switch(
        name="gclid_dropped_by_redirect",
        breaks="The shop's /go 301 redirect drops gclid, so the landing page never sees it.",
        root_cause="Dropped parameters in redirects",
        where="redirects",
        catching_check="click_ids_reach_landing",
        side_effects=("Missing click IDs",),
    ),
    Switch(
        name="fbclid_dropped_by_js_redirect",
        breaks="The landing page first runs a JavaScript location.replace hop that drops fbclid.",
        root_cause="Dropped parameters in redirects",
        where="redirects",
        catching_check="click_ids_reach_landing",
        side_effects=("Missing click IDs",),
    ),
    Switch(
        name="click_ids_not_stored",
        breaks="No click-ID cookies (_gcl_aw, _fbc, ttclid, _uetmsclkid) are written, so later hits, the "
        "server events and the lead form lack the click IDs.",
        root_cause="Missing click IDs",
        where="browser tags",
        catching_check="click_ids_in_cookies",
    ),
    Switch(
        name="raw_email_in_hit",
        breaks="The Meta Pixel Purchase sends the typed email unhashed in ud[em].",
        root_cause="PII in hit",
        where="browser tags",
        catching_check="no_pii",
    ),
    Switch(
        name="lead_form_without_click_id",
        breaks="The lead form leaves its hidden click-ID fields empty, so the lead reaches the backend "
        "without gclid/fbc/ttclid/msclkid.",
        root_cause="Missing click IDs",
        where="site",
        catching_check="offline_import_ready",
    ),
    Switch(
        name="slow_page",
        breaks="The server holds the landing page's hero image for 4.5 s, so Largest Contentful Paint is "
        "over 4 s.",
        root_cause="Slow page",
        where="site",
        catching_check="page_speed",
    ),
)

SWITCH_NAMES: frozenset[str] = frozenset(s.name for s in SWITCHES)


def switch(name: str) -> Switch:
    for candidate in SWITCHES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def parse_switch_list(text: str) -> frozenset[str]:
    """``"missing_tag, slow_page"`` -> the names. An unknown name is an error: a typo must not silently
    run the correct shop."""
    names = frozenset(part.strip().lower() for part in text.replace(" ", ",").split(",") if part.strip())
    unknown = sorted(names - SWITCH_NAMES)
    if unknown:
        raise BadInput(
            f"unknown demo switch {', '.join(unknown)}; known switches: {', '.join(sorted(SWITCH_NAMES))}"
        )
    return names


def switches_for_request(
    query: Iterable[tuple[str, str]], headers: Mapping[str, str], cookies: Mapping[str, str]
) -> tuple[frozenset[str], bool]:
    """The switches one request runs with, and whether they came from its URL (then the shop stores
    them in the cookie). The URL wins over the header, the header over the cookie; an empty value
    switches everything off."""
    for key, value in query:
        if key == BUGS_PARAM:
            return parse_switch_list(value), True
    lowered = {k.lower(): v for k, v in headers.items()}
    if BUGS_HEADER.lower() in lowered:
        return parse_switch_list(lowered[BUGS_HEADER.lower()]), False
    if BUGS_COOKIE in cookies:
        return parse_switch_list(cookies[BUGS_COOKIE]), False
    return frozenset(), False


def with_switches(url: str, *names: str) -> str:
    """``url`` with ``eventpath_bugs=`` naming these switches (replacing any already there)."""
    parse_switch_list(",".join(names))
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != BUGS_PARAM]
    query.append((BUGS_PARAM, ",".join(names)))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def render_markdown() -> str:
    """The text of ``docs/demo-switches.md``."""
    lines = [
        "# Demo shop switches",
        "",
        "<!-- Generated by `python -m harness.demo.switches > docs/demo-switches.md`; do not edit. -->",
        "",
        "The demo shop (`eventpath demo --serve`) is correct by default. Each switch below seeds one "
        "real-world tracking bug. Switches are set per run, never globally, so parallel runs with "
        "different switches do not interfere:",
        "",
        f"- the query parameter `{BUGS_PARAM}=name1,name2` on the ad click URL or any shop URL (the "
        f"shop keeps it in the cookie `{BUGS_COOKIE}` on `.demo.test` for the rest of the journey; an "
        "empty value switches all off),",
        f"- or the request header `{BUGS_HEADER}: name1,name2`,",
        f"- or the cookie `{BUGS_COOKIE}=name1,name2` on `.demo.test`.",
        "",
        "The URL wins over the header and the header over the cookie. An unknown name is answered with "
        "HTTP 400 listing the known ones.",
        "",
        "| Switch | What it breaks | Root cause | Where | Caught by |",
        "|---|---|---|---|---|",
    ]
    for item in SWITCHES:
        check = f"`{item.catching_check}`" if item.catching_check else "(no check yet)"
        lines.append(f"| `{item.name}` | {item.breaks} | {item.root_cause} | {item.where} | {check} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
