"""Click-ID checks: the ad's click IDs survive the redirects, land in the vendors' cookies and ride along
on the conversion hits, so offline imports and platform attribution can match a conversion to its click.

Defaults when the scenario's ``expect.click_ids`` does not say:

- ``click_ids_reach_landing``: every click ID of the ad URL must reach the final URL of the chain.
- ``click_ids_in_cookies``: per click ID of the ad URL, the cookie its vendor's tag writes, but only
  when a tag of that vendor fired in the run (no Meta tag at all is not this check's business):
  ``gclid`` -> ``_gcl_aw`` (``GCL.<ts>.<gclid>``, Google Ads / Floodlight tags),
  ``fbclid`` -> ``_fbc`` (``fb.<n>.<ms>.<fbclid>``, Meta pixel / CAPI),
  ``msclkid`` -> ``_uetmsclkid`` (``_uet<msclkid>``, Microsoft UET),
  ``ttclid`` -> ``ttclid`` (the bare value; TikTok's first-party click cookie, ``_ttp`` is the
  browser ID, not the click). ``gbraid``/``wbraid`` -> ``_gcl_gb`` is checked only when asked for.
- ``click_ids_in_hits``: per click ID of the ad URL, the conversion events of its vendors that fired
  (``gclid``/``gbraid``/``wbraid`` -> google_ads, ``fbclid`` -> meta_pixel/meta_capi as ``fbc``,
  ``ttclid`` -> tiktok_pixel/tiktok_events_api, ``msclkid`` -> bing_uet) must carry it. Conversion events
  are the ones ``expect.events`` names for that vendor, else those with a value or an order ID.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from harness.chain import carried_params
from harness.checks.base import CheckContext, check, event_evidence
from harness.decoders.registry import is_click_id, vendor_profiles
from harness.decoders.vendors.meta_pixel import fbclid_from_fbc
from harness.link_protection import FEATURE_APPLIES, FEATURE_NAME, STRIPPED_PARAMS
from harness.models import (
    CheckFailure,
    CookieRecord,
    DecodedEvent,
    Evidence,
    ParamFate,
    RedirectChain,
    RedirectHop,
)

# --- shared helpers (utm.py uses the hop ones) -----------------------------------------------------


def ad_click_ids(ad_url: str) -> dict[str, str]:
    """The click IDs the ad URL carries, first value of each: its own, and those of the landing URL it
    carries when it is a click tracker's link (``harness.chain.carried_params``)."""
    return {name: value for name, value in carried_params(ad_url).items() if is_click_id(name) and value}


def short(value: str, keep: int = 10) -> str:
    """Click IDs run to 60+ characters; reports quote their head and tail so they stay one line."""
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-4:]}"


_HOP_KIND_TEXT = {
    "http": "HTTP redirect",
    "meta": "meta refresh",
    "js": "JavaScript navigation",
    "start": "start",
    "stripped": "the browser's link tracking protection",
    "app": "hand-off to an app",
}


def hop_loss(chain: RedirectChain, fate: ParamFate) -> tuple[RedirectHop | None, RedirectHop | None]:
    """The hop whose URL first lacks (or changed) the parameter, and the hop that redirected to it."""
    if fate.hop is None or not 0 < fate.hop < len(chain.hops):
        return None, None
    return chain.hops[fate.hop - 1], chain.hops[fate.hop]


def without_query(url: str) -> str:
    """Titles quote hop URLs without their query: it repeats every click ID and buries the path."""
    return url.split("?", 1)[0]


def compact_url(url: str) -> str:
    """The URL with every query value shortened: which parameters a hop kept stays visible in one line."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(f"{k}={short(v, 8)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=query))


def hop_kind(previous: RedirectHop, hop: RedirectHop) -> str:
    """``HTTP redirect (302)``, ``meta refresh``, ``JavaScript navigation``."""
    how = _HOP_KIND_TEXT[hop.kind]
    return f"{how} ({previous.status})" if hop.kind == "http" and previous.status else how


def hop_description(previous: RedirectHop, hop: RedirectHop) -> str:
    """``HTTP redirect (302) from https://a/go?gclid=EAIa…x9Qz to https://a/``: for 'seen' and evidence."""
    return f"{hop_kind(previous, hop)} from {compact_url(previous.url)} to {compact_url(hop.url)}"


def hop_fix(param: str, previous: RedirectHop, hop: RedirectHop) -> str:
    """Who fixes a lost parameter depends on how the hop navigated."""
    source, target = without_query(previous.url), without_query(hop.url)
    if hop.kind == "app":
        return (
            f"Make the redirect answering {source} carry {param} into the app URL {target} (an app's deep link "
            f"keeps it as a parameter; a Google Play link in its referrer: &referrer={param}%3D...)"
        )
    if hop.kind == "http":
        return f"Make the redirect rule answering {source} keep the query string ({param} included)"
    if hop.kind == "meta":
        return f"The refresh (meta tag or Refresh header) of {source} must carry the query string ({param} included) to {target}"
    return f"The script on {source} that navigates to {target} must append location.search ({param} included)"


def hop_evidence(previous: RedirectHop, hop: RedirectHop) -> list[Evidence]:
    return [
        Evidence(
            request_id=previous.request_id,
            summary=f"hop {previous.index}: {hop_description(previous, hop)}",
            url=previous.url,
        ),
        Evidence(
            request_id=hop.request_id,
            summary=f"hop {hop.index}: {compact_url(hop.url)} (status {hop.status})",
            url=hop.url,
        ),
    ]


def param_loss_failure(ctx: CheckContext, name: str, chain: RedirectChain, fate: ParamFate) -> CheckFailure:
    """A **Dropped parameters in redirects** failure naming the hop that lost (or changed) ``fate.param``."""
    previous, hop = hop_loss(chain, fate)
    if previous is not None and hop is not None and hop.kind == "stripped":
        return _stripped_failure(ctx, name, fate, previous, hop)
    changed_to = short(fate.changed_to or "")
    lost = "dropped" if fate.fate == "dropped" else f"changed from {short(fate.value)} to {changed_to}"
    expected = f"{fate.param}={short(fate.value)} on the landing URL {without_query(chain.final_url)}"
    if previous is None or hop is None:
        return ctx.failure(
            name,
            f"{fate.param} {lost} before the landing URL {without_query(chain.final_url)}",
            "Dropped parameters in redirects",
            expected=expected,
            seen=f"landing URL {compact_url(chain.final_url)}",
            key=f"{name}:{fate.param}",
        )
    verb = f"has no {fate.param}" if fate.fate == "dropped" else f"carries {fate.param}={changed_to}"
    return ctx.failure(
        name,
        f"{fate.param} {lost} at hop {hop.index} ({hop_kind(previous, hop)} "
        f"{without_query(previous.url)} -> {without_query(hop.url)})",
        "Dropped parameters in redirects",
        expected=expected,
        seen=f"hop {hop.index} is a {hop_description(previous, hop)}, which {verb}",
        evidence=hop_evidence(previous, hop),
        key=f"{name}:{fate.param}",
        fix=hop_fix(fate.param, previous, hop),
    )


def _stripped_failure(
    ctx: CheckContext, name: str, fate: ParamFate, previous: RedirectHop, asked: RedirectHop
) -> CheckFailure:
    """The run's browser removed the click ID, from the ad URL before the first request or from a redirect's
    target crossing to another site: the site is not to blame, and no redirect rule brings it back."""
    browser = ctx.conditions.link_protection
    feature = FEATURE_NAME[browser] if browser else "the browser's link tracking protection"
    emulated = f"{feature} ({FEATURE_APPLIES[browser]})" if browser else feature
    ways = [p.without_click_id for p in vendor_profiles().values() if fate.param in p.click_ids and p.without_click_id]
    match = "; ".join(dict.fromkeys(ways)) or "server-side matching with hashed user data"
    if fate.param == "gclid" and browser and "gbraid" not in STRIPPED_PARAMS[browser]:
        match += "; gbraid/wbraid, which this browser keeps"
    if previous.index == 0 and previous.request_id is None:  # the ad URL as clicked, never requested as such
        where = "before the first request"
        seen = f"the ad URL {compact_url(previous.url)} was requested as {compact_url(asked.url)}"
    elif (target := urlsplit(asked.url).hostname) == urlsplit(previous.url).hostname and previous.index > 0:
        # A page on another site sent the browser here (a script, a refresh): the hop before is that page.
        sender = urlsplit(ctx.result.capture.chain.hops[previous.index - 1].url).hostname
        where = f"as a page on {sender} sent the browser to {target} (another site)"
        seen = f"{sender} sent the browser to {compact_url(previous.url)}, which it requested as {compact_url(asked.url)}"
    else:
        source = urlsplit(previous.url).hostname
        where = f"at the redirect from {source} to {target} (another site)"
        seen = f"hop {previous.index} redirected to {target}, which the browser requested as {compact_url(asked.url)}"
    return ctx.failure(
        name,
        f"{fate.param} removed by {feature} {where}",
        "Stripped by the browser",
        expected=f"{fate.param}={short(fate.value)} on the landing URL {without_query(ctx.result.capture.chain.final_url)}",
        seen=f"{seen} (the run emulates {emulated})",
        evidence=[
            *([] if previous.request_id is None else [Evidence(request_id=previous.request_id, summary=f"hop {previous.index}: the redirect as its server sent it", url=previous.url)]),
            Evidence(request_id=asked.request_id, summary=f"hop {asked.index}: requested by the browser as {compact_url(asked.url)}", url=asked.url),
        ],
        key=f"{name}:{fate.param}",
        fix=f"Nothing on the site or in its redirects can keep {fate.param} here: the browser removes it. Count these "
        f"visitors by what it keeps: {match}; UTM parameters are not removed",
    )


# --- click_ids_reach_landing -------------------------------------------------------------------------


@check("click_ids_reach_landing")
def click_ids_reach_landing(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Every click ID of the ad URL (or those expect.click_ids.final_url names) reaches the landing URL."""
    name = "click_ids_reach_landing"
    chain = ctx.result.capture.chain
    in_ad = ad_click_ids(ctx.ad_url)
    wanted = ctx.scenario.expect.click_ids.final_url
    names = list(in_ad) if not wanted or "all" in wanted else wanted
    fates = {f.param: f for f in chain.params}
    for param in names:
        if param not in in_ad:
            yield _not_in_ad_url(ctx, name, param, "reach the landing URL")
            continue
        fate = fates.get(param)
        if fate is not None and not fate.reached_final:
            yield param_loss_failure(ctx, name, chain, fate)


def _not_in_ad_url(ctx: CheckContext, name: str, param: str, purpose: str) -> CheckFailure:
    # The scenario asks for a click ID the ad URL never had: nothing to trace, the scenario needs fixing.
    return ctx.failure(
        name,
        f"scenario expects {param} to {purpose}, but the ad URL has no {param}",
        "Run error",
        expected=f"{param} on the ad URL",
        seen=f"ad URL {ctx.ad_url}",
        key=f"{name}:scenario:{param}",
        fix=f"Add {param} to ad_click.click_ids (e.g. {{{param}: auto}}) or drop it from expect.click_ids",
    )


# --- click_ids_in_cookies ----------------------------------------------------------------------------

def default_cookies() -> dict[str, tuple[str, tuple[str, ...]]]:
    """click ID -> the cookie it lands in when the scenario does not say, and the vendors whose tags write
    it (their profiles' ``click_id_cookies``; the first vendor to name a cookie for a click ID decides it)."""
    cookies: dict[str, tuple[str, tuple[str, ...]]] = {}
    for vendor, profile in vendor_profiles().items():
        for click_id, cookie in profile.click_id_cookies.items():
            named, vendors = cookies.get(click_id, (cookie, ()))
            cookies[click_id] = (named, (*vendors, vendor))
    return cookies

_GCL = re.compile(r"^GCL\.\d+\.(.+)$")
_FBC = re.compile(r"^fb\.\d+\.\d+\.[^.]+(?:\.[^.]*)?$")
_UET = re.compile(r"^_uet(.+)$")


def cookie_format(cookie: str) -> str:
    """The vendor's format of a click-ID cookie, as QA reads it in a report."""
    if cookie.startswith("_gcl_"):
        return "GCL.<timestamp>.<click ID>"
    if cookie == "_fbc":
        return "fb.<subdomain index>.<creation ms>.<fbclid>"
    if cookie == "_uetmsclkid":
        return "_uet<msclkid>"
    return "<click ID>"


def click_id_in_cookie(cookie: str, value: str) -> str | None:
    """The click ID a cookie value carries in its vendor's format, or None when it is not in that format."""
    value = unquote(value.strip())
    if cookie.startswith("_gcl_"):
        match = _GCL.match(value)
        return match.group(1) if match else None
    if cookie == "_fbc":
        return fbclid_from_fbc(value) if _FBC.match(value) else None
    if cookie == "_uetmsclkid":
        match = _UET.match(value)
        return match.group(1) if match else None
    return value or None


def _lost_on_the_way(ctx: CheckContext, click_id: str) -> str:
    """Why no tag could store the click ID, when the redirects already lost it."""
    fate = next((f for f in ctx.result.capture.chain.params if f.param == click_id), None)
    if fate is None or fate.reached_final:
        return ""
    hops = ctx.result.capture.chain.hops
    if fate.hop is not None and fate.hop < len(hops) and hops[fate.hop].kind == "stripped":
        return f"; the browser removed {click_id} from the ad URL (link tracking protection), so no tag could store it"
    return f"; {click_id} never reached the landing URL ({fate.fate} at hop {fate.hop}), so no tag could store it"


def _cookie_summary(cookie: CookieRecord) -> str:
    return f"cookie {cookie.name}={short(cookie.value, 24)} (domain {cookie.domain})"


def _vendors_fired(ctx: CheckContext) -> set[str]:
    return {e.vendor for e in ctx.events if not e.malformed}


def expected_cookies(ctx: CheckContext, in_ad: dict[str, str]) -> dict[str, str]:
    """cookie -> click ID: the scenario's list, else the defaults for vendors whose tags fired."""
    explicit = ctx.scenario.expect.click_ids.cookies
    if explicit:
        return dict(explicit)
    fired = _vendors_fired(ctx)
    return {
        cookie: click_id
        for click_id, (cookie, vendors) in default_cookies().items()
        if click_id in in_ad and fired.intersection(vendors)
    }


@check("click_ids_in_cookies")
def click_ids_in_cookies(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Each click ID sits in its vendor's first-party cookie, in the vendor's format, with the ad's value."""
    name = "click_ids_in_cookies"
    in_ad = ad_click_ids(ctx.ad_url)
    cookies = ctx.result.capture.cookies
    for cookie_name, click_id in expected_cookies(ctx, in_ad).items():
        if click_id not in in_ad:
            yield _not_in_ad_url(ctx, name, click_id, f"be stored in {cookie_name}")
            continue
        found = [c for c in cookies if c.name == cookie_name]
        failure = _cookie_failure(ctx, name, cookie_name, click_id, in_ad[click_id], found, cookies)
        if failure is not None:
            yield failure


def _cookie_failure(
    ctx: CheckContext,
    name: str,
    cookie_name: str,
    click_id: str,
    ad_value: str,
    found: list[CookieRecord],
    all_cookies: list[CookieRecord],
) -> CheckFailure | None:
    expected = (
        f"{cookie_name} = {cookie_format(cookie_name)} carrying {click_id} {short(ad_value)} from the ad URL"
    )
    if not found:
        names = ", ".join(sorted({c.name for c in all_cookies})) or "none"
        return ctx.failure(
            name,
            f"{cookie_name} not set: offline conversion import cannot match {click_id}",
            "Missing click IDs",
            expected=expected,
            seen=f"no {cookie_name} cookie at the end of the run (cookies: {names}){_lost_on_the_way(ctx, click_id)}",
            evidence=[
                Evidence(summary=f"cookies at the end of the run: {names}", url=ctx.result.capture.final_url)
            ],
            key=f"{name}:{cookie_name}:missing",
        )
    carried = [(c, click_id_in_cookie(cookie_name, c.value)) for c in found]
    if any(value == ad_value for _, value in carried):
        return None
    evidence = [Evidence(summary=_cookie_summary(c), url=ctx.result.capture.final_url) for c in found]
    in_format = [(c, v) for c, v in carried if v is not None]
    if in_format:
        cookie, stale = in_format[0]
        return ctx.failure(
            name,
            f"{cookie_name} carries another {click_id} (stale): {short(stale or '')}, the ad's is {short(ad_value)}",
            "Missing click IDs",
            expected=expected,
            seen=_cookie_summary(cookie),
            evidence=evidence,
            key=f"{name}:{cookie_name}:stale",
            fix=f"Overwrite {cookie_name} when a new {click_id} arrives on the landing URL (the tag or the "
            "site's cookie code keeps an old one)",
        )
    return ctx.failure(
        name,
        f"{cookie_name} is not in {cookie_format(cookie_name)} format: the vendor's tag cannot read {click_id}",
        "Missing click IDs",
        expected=expected,
        seen=_cookie_summary(found[0]),
        evidence=evidence,
        key=f"{name}:{cookie_name}:format",
        fix=f"Let the vendor's tag write {cookie_name}, or write it as {cookie_format(cookie_name)}",
    )


# --- click_ids_in_hits -------------------------------------------------------------------------------

# Names a scenario may use for a click ID on a hit -> the ad URL parameter it stands for.
_HIT_NAME_TO_AD_PARAM = {"gclaw": "gclid", "fbc": "fbclid", "gclgb": "gbraid"}


def carrier_keys(param: str) -> tuple[str, ...]:
    """The DecodedEvent.click_ids keys that may carry the ad URL parameter ``param``: its own name, and those
    the vendors' profiles name for it (``VendorProfile.click_id_keys``; decoders strip GCL./fb. wrappers)."""
    keys = [param]
    for profile in vendor_profiles().values():
        keys.extend(profile.click_id_keys.get(param, ()))
    return tuple(dict.fromkeys(keys))


def default_hit_vendors() -> dict[str, tuple[str, ...]]:
    """click ID -> the vendors whose conversion hits must carry it (their profiles' ``hit_click_ids``, else
    ``click_ids``)."""
    vendors: dict[str, tuple[str, ...]] = {}
    for vendor, profile in vendor_profiles().items():
        for click_id in profile.click_ids if profile.hit_click_ids is None else profile.hit_click_ids:
            vendors[click_id] = (*vendors.get(click_id, ()), vendor)
    return vendors


def _wire_name(vendor: str, param: str) -> str:
    """How QA finds the click ID on the vendor's hit."""
    if param == "fbclid" and vendor.startswith("meta"):
        return "fbc"
    if param == "gclid" and vendor == "google_ads":
        return "gclaw/gclid"
    return param


def _ad_param(hit_name: str, in_ad: dict[str, str]) -> str:
    param = _HIT_NAME_TO_AD_PARAM.get(hit_name, hit_name)
    if hit_name == "gclgb" and "gbraid" not in in_ad and "wbraid" in in_ad:
        return "wbraid"
    return param


def carried_values(event: DecodedEvent, param: str) -> list[str]:
    """The values of one ad click ID an event carries, in whichever of the vendor's spellings."""
    values = [event.click_ids[k] for k in carrier_keys(param) if event.click_ids.get(k)]
    if param == "fbclid" and event.click_ids.get("fbc"):
        embedded = fbclid_from_fbc(event.click_ids["fbc"])
        if embedded:
            values.append(embedded)
    return values


def conversion_events(ctx: CheckContext, vendor: str, *, all_if_unnamed: bool) -> list[DecodedEvent]:
    """The events of ``vendor`` that count as its conversions for this check."""
    named = {e.event for e in ctx.scenario.expect.events if e.vendor == vendor and e.count > 0}
    # A repeat (a mirror of the counted hit, a tag's fall-back image) is not the conversion the platform counts.
    events = [e for e in ctx.events if e.vendor == vendor and not e.malformed and not e.repeats]
    if named:
        return [e for e in events if e.event in named]
    if all_if_unnamed:
        return events
    return [e for e in events if e.value is not None or e.transaction_id]


def expected_hit_click_ids(ctx: CheckContext, in_ad: dict[str, str]) -> tuple[dict[str, list[str]], bool]:
    """vendor -> ad URL click IDs its conversion hits must carry, and whether the scenario said so."""
    explicit = ctx.scenario.expect.click_ids.hits
    if explicit:
        return {v: [_ad_param(n, in_ad) for n in names] for v, names in explicit.items()}, True
    fired = _vendors_fired(ctx)
    wanted: dict[str, list[str]] = {}
    hit_vendors = default_hit_vendors()
    for param in in_ad:
        for vendor in hit_vendors.get(param, ()):
            if vendor in fired:
                wanted.setdefault(vendor, []).append(param)
    return wanted, False


@check("click_ids_in_hits")
def click_ids_in_hits(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Conversion hits carry the ad's click IDs (gclaw/gclid, fbc, ttclid, msclkid) with the ad's values."""
    name = "click_ids_in_hits"
    in_ad = ad_click_ids(ctx.ad_url)
    wanted, explicit = expected_hit_click_ids(ctx, in_ad)
    for vendor, params in wanted.items():
        events = conversion_events(ctx, vendor, all_if_unnamed=explicit)
        if not events and explicit and vendor not in {e.vendor for e in ctx.scenario.expect.events}:
            yield _no_hits_failure(ctx, name, vendor, params)
        for param in params:
            if param not in in_ad:
                yield _not_in_ad_url(ctx, name, param, f"ride on {vendor} hits")
                continue
            for event in events:
                failure = _hit_failure(ctx, name, event, param, in_ad[param])
                if failure is not None:
                    yield failure


def _no_hits_failure(ctx: CheckContext, name: str, vendor: str, params: list[str]) -> CheckFailure:
    # expect.events does not name this vendor, so the event checks will not report its absence.
    return ctx.failure(
        name,
        f"{vendor} sent no hit to carry {', '.join(params)}",
        "Missing tag",
        expected=f"{vendor} conversion hits carrying {', '.join(params)}",
        seen=f"no {vendor} hit in the run",
        key=f"{name}:{vendor}:no-hits",
    )


def _hit_failure(
    ctx: CheckContext, name: str, event: DecodedEvent, param: str, ad_value: str
) -> CheckFailure | None:
    values = carried_values(event, param)
    if ad_value in values:
        return None
    wire = _wire_name(event.vendor, param)
    expected = f"{event.vendor} {event.event} carrying {wire} with {param} {short(ad_value)} from the ad URL"
    if values:
        title = f"{event.vendor} {event.event} carries another {param} ({short(values[0])}, the ad's is {short(ad_value)})"
        seen = f"{wire} = {short(values[0])} (stale click ID from an earlier visit?)"
        kind = "stale"
    else:
        title = (
            f"{event.vendor} {event.event} carries no {wire}: the conversion cannot be matched to the click"
        )
        present = ", ".join(f"{k}={short(v)}" for k, v in event.click_ids.items()) or "no click IDs at all"
        seen = f"{event.vendor} {event.event} hit with {present}"
        kind = "missing"
    return ctx.failure(
        name,
        title,
        "Missing click IDs",
        expected=expected,
        seen=seen,
        evidence=[event_evidence(event)],
        key=f"{name}:{event.vendor}:{event.event}:{param}:{kind}",
    )
