"""Google Ads: conversion, remarketing and consent-mode pings of the Google tag (gtag / GTM).

One conversion in a browser shows up on several endpoints, and the decoder keeps them apart with
``params["endpoint"]`` rather than guessing which one "counts":

* ``conversion``: ``www.googleadservices.com/pagead/conversion/<ID>/`` (also on googleads.g.doubleclick.net);
* ``viewthroughconversion``: ``googleads.g.doubleclick.net/pagead/viewthroughconversion/<ID>/`` (remarketing),
  mirrored by ``rmkt``: ``www.google.com/rmkt/collect/<ID>/``;
* ``1p-conversion`` / ``1p-user-list``: ``www.google.<tld>/pagead/...`` - the redirect hops Google answers the
  two above with, flagged ``params["redirect_followup"] = True``;
* ``ccm``: ``www.google.com/ccm/collect?en=...`` (Google tag's consent-mode collection, ``tid``/``tids``;
  also on ``pagead2.googlesyndication.com``); the event's value rides GA4-style as ``epn.value``. A GTM
  container's own Google tag sends it with no ``tid``/``tids`` at all (``gtm=45He...``): an event of no
  one account. A ``DC-`` destination is a Floodlight config's, decoded by ``floodlight``. Through the tag
  gateway it reaches the site's own host as ``<prefix>/gs/ccm/collect``, claimed there only with an ``en``
  and an ``AW-`` destination, flagged ``params["first_party"] = True``;
* ``ccm-conversion``: ``www.googleadservices.com/ccm/conversion/<ID>/``, the consent-mode twin the tag sends
  beside every ``conversion`` (same ``random``, label, value and ``em``); through the Google tag gateway
  it reaches the site's own host as ``<prefix>/<g|as>/d/ccm/conversion/<ID>/``, claimed there only with
  the tag's query signature (``random``, ``gtm`` and ``en`` or ``label``) and flagged
  ``params["first_party"] = True``;
* ``rul``: ``td.doubleclick.net/td/rul/<ID>``, the tag's Protected Audience iframe (``fledge=1``,
  ``allow="join-ad-interest-group"``) carrying the same fields as the hit it mirrors: a repeat, as
  Floodlight's ``td/fls/rul`` mirror is of its activity (same ``ord``, captured side by side on deusto.es);
* ``measurement-conversion``: ``/measurement/conversion?tid=G-...&en=...`` on ``www.google.com``,
  ``pagead2.googlesyndication.com`` and GA4's own hosts (``region1.analytics.google.com``): the Google tag
  forwarding a GA4 event to Google Ads for conversions imported from GA4 (``gacid`` the GA4 client ID;
  captured on a crypto exchange in a 2025 HAR-made test, ``en=form_submit`` / ``first_visit`` /
  ``session_start`` in public site audits). Its account is the ``G-`` ``tid``; it mirrors the GA4 event, so
  it is a repeat, never a firing of its own;
* ``landing``: ``/pagead/landing`` (landing-page ping; no conversion, so its default event is "landing");
* ``form-data`` / ``ccm-form-data``: ``www.google.com/pagead/form-data/<ID>`` and ``/ccm/form-data/<ID>`` (also
  on ``google.com``), the enhanced conversions' user-provided data the tag sends beside a conversion (Tag
  Assistant's "User-provided data" hit; ``em=tv.1~em.<hash>``, ``ec_mode``, captured on talent-dev.dealls.com
  in a 2026 k6 recording). It names no event and is no firing of its own: "user_provided_data", a repeat.

A hit names its event in ``en`` or ``data=event=...``; without one, a remarketing endpoint's hit
(``viewthroughconversion``, ``rmkt``, ``1p-user-list``, ``rul``) with no ``label`` names no conversion
action: it is the remarketing tag's page-level ping, "page_view". Any other (but ``landing``) is a
"conversion".

Shapes follow captured hits (bestbuy.com / qdrant.tech network logs, Omnibug's GoogleAds provider, the
atomkraftwerke24.de conversion captures of a public Ads debugger's tests, 6sense.com's tag gateway).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.google_consent import consent_from_params, consumed_consent_params
from harness.decoders.wire import (
    number_keeping_raw,
    params_dict,
    query_dict,
    query_params,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query

ADS_HOSTS: tuple[str, ...] = (
    "www.googleadservices.com",
    "googleadservices.com",
    "googleads.g.doubleclick.net",
    "td.doubleclick.net",
)
# www.google.com and the country domains (www.google.co.uk, www.google.com.au, ...) serve 1p hops.
_GOOGLE_DOMAIN = re.compile(r"^(?:www\.)?google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$")

_PAGEAD = re.compile(
    r"^/pagead/(conversion|viewthroughconversion|1p-conversion|1p-user-list)/(?:AW-)?(\d+)/?$"
)
_RMKT = re.compile(r"^/rmkt/collect/(\d+)/?$")
_RUL = re.compile(r"^/td/rul/(\d+)/?$")
_LANDING = re.compile(r"^/pagead/landing(?:/(\d+))?/?$")
_CCM = "/ccm/collect"
_CCM_CONVERSION = re.compile(r"^/ccm/conversion/(\d+)/?$")
# Enhanced conversions' user-provided data, on www.google.com / google.com only.
_FORM_DATA = re.compile(r"^/(pagead|ccm)/form-data/(\d+)/?$")
_FORM_DATA_ENDPOINTS = {"pagead": "form-data", "ccm": "ccm-form-data"}
# GA4 events forwarded to Google Ads; also sent to GA4's own collection hosts.
_MEASUREMENT_CONVERSION = "/measurement/conversion"
_GA4_HOSTS: tuple[str, ...] = (".google-analytics.com", ".analytics.google.com", "analytics.google.com")
# The tag gateway's form on a first-party host: any prefix, then the short host code and the ccm path.
_GATEWAY_CCM_CONVERSION = re.compile(r"^/(?:[^?#]*/)?d/ccm/conversion/(\d+)/?$")
_GATEWAY_MARK = "/d/ccm/conversion/"
# The gateway's path for www.google.com/ccm/collect on the site's own host: <prefix>/gs/ccm/collect (spocket.co,
# painlessremovals.com, m.alza.cz captures; gateway proxies rewrite the tag's hard-coded "/gs/ccm/collect").
_GATEWAY_CCM_COLLECT = "/gs/ccm/collect"
# ccm/collect is also sent to this syndication host (captured on taggrs.io).
_CCM_ONLY_HOSTS = frozenset({"pagead2.googlesyndication.com"})
_REDIRECT_FOLLOWUPS = frozenset({"1p-conversion", "1p-user-list"})
# The endpoints that name their destination in tid/tids, not in the path.
_DESTINATION_ENDPOINTS = frozenset({"ccm", "measurement-conversion"})
# The endpoints a remarketing (audience) ping goes to; only a label makes one of their hits a conversion.
_REMARKETING = frozenset({"viewthroughconversion", "rmkt", "1p-user-list", "rul"})
# A Floodlight (Campaign Manager 360) config's destination in ccm's tid/tids.
FLOODLIGHT_DESTINATION_PREFIX = "DC-"

# --- shared Google wire helpers (GA4, UA and Floodlight use them too) -----------------------------

# Not gclgs: with gclst and gcllp it reports the _gcl_gs cookie's link state (its value the flag "1",
# captured beside gclaw on streamshop.com.br and criteo.com), no click; it stays a plain parameter.
GOOGLE_CLICK_ID_PARAMS: tuple[str, ...] = (
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "gclaw",
    "gclgb",
    "gcldc",
)
_GCL_COOKIE = re.compile(r"^GCL\.\d+\.(.+)$")
_BASE64URL_SHA256 = re.compile(r"^[A-Za-z0-9_-]{43}=?$")
_EM_ERROR = re.compile(r"e\d+")  # tv.1~em.e1: the tag rejected the data
# The em=tv.1~em.<hash>~pn.<hash>~fn0.<hash>... keys, spelled the way the other decoders spell them.
_EM_KEYS: dict[str, str] = {
    "em": "em",
    "pn": "ph",
    "fn": "fn",
    "ln": "ln",
    "sa": "street",
    "ct": "ct",
    "re": "st",
    "pc": "zp",
    "co": "country",
}


def strip_gcl_cookie(value: str) -> str:
    """``GCL.<timestamp>.<gclid>`` (the ``_gcl_aw``/``_gcl_gb`` cookie form) to the bare click ID."""
    match = _GCL_COOKIE.match(value.strip())
    return match.group(1) if match else value.strip()


def google_click_ids(params: Mapping[str, str], page_url: str | None = None) -> dict[str, str]:
    """Google click IDs sent as parameters, plus those the reported page URL carries."""
    found: dict[str, str] = {}
    for name in GOOGLE_CLICK_ID_PARAMS:
        value = params.get(name, "").strip()
        if value:
            found[name] = strip_gcl_cookie(value) if name.startswith("gcl") and name != "gclid" else value
    if page_url:
        page_params = query_dict(page_url)
        for name in ("gclid", "gbraid", "wbraid", "dclid"):
            if page_params.get(name) and name not in found:
                found[name] = page_params[name]
    return found


def _hash_form(value: str) -> UserDataForm:
    # Newer tags send the SHA-256 digest base64url-encoded (43 chars), older ones hex.
    return "sha256" if _BASE64URL_SHA256.match(value) else user_data_form(value)


def user_data_from_em(em: str | None) -> tuple[dict[str, UserDataForm], str | None]:
    """The identifiers an ``em`` parameter carries, and its status: "ok", "empty", "error" or None.

    ``tv.1~em.`` means the tag had no data, ``tv.1~em.e1`` that it rejected the data (Google Ads' own
    troubleshooting reading).
    """
    if em is None:
        return {}, None
    found: dict[str, UserDataForm] = {}
    error = False
    for token in em.split("~"):
        key, _, value = token.partition(".")
        if key == "tv" or not key:
            continue
        if _EM_ERROR.fullmatch(value):
            error = True
            continue
        if value:
            base = key.rstrip("0123456789") or key  # fn0, ln0: the index of an address
            name = _EM_KEYS.get(base, base)
            found[name] = _hash_form(value)
    status = "ok" if found else ("error" if error else "empty")
    return found, status


def is_ccm_host(host: str) -> bool:
    """A host the Google tag sends ``/ccm/collect`` to."""
    return bool(_GOOGLE_DOMAIN.match(host)) or host in _CCM_ONLY_HOSTS


def is_ccm_collect(host: str, path: str) -> bool:
    """A ``/ccm/collect`` hit on Google's hosts."""
    return path == _CCM and is_ccm_host(host)


def ccm_params(request: CapturedRequest) -> dict[str, str]:
    """A ccm/collect (or rmkt/collect) hit's pairs: the query first, then those of a text/plain body."""
    return params_dict(query_params(request.url) + _lenient_pairs(request.text))


def ccm_destinations(params: Mapping[str, str]) -> list[str]:
    """Every ``tids`` destination, else the ``tid``; empty when the hit names none."""
    if params.get("tids"):
        return [t for t in params["tids"].split("~") if t.strip()]
    return [params["tid"]] if params.get("tid") else []


def is_floodlight_ccm(params: Mapping[str, str]) -> bool:
    """A ccm hit sent to Floodlight configs (``DC-``) only: Floodlight's, not Google Ads'."""
    destinations = ccm_destinations(params)
    return bool(destinations) and all(d.startswith(FLOODLIGHT_DESTINATION_PREFIX) for d in destinations)


def semicolon_pairs(text: str) -> dict[str, str]:
    """``event=purchase;value=10`` (the ``data=`` parameter) as a dict."""
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            pairs.setdefault(key.strip(), value)
    return pairs


# --- the decoder ----------------------------------------------------------------------------------


def _is_ads_host(host: str) -> bool:
    return bool(_GOOGLE_DOMAIN.match(host)) or host_matches(host, ADS_HOSTS) or host in _CCM_ONLY_HOSTS


def _endpoint(request: CapturedRequest) -> tuple[str, str | None] | None:
    """(endpoint name, conversion ID) for a Google Ads hit, None for anything else."""
    return _endpoint_of(request.host, request.path)


@lru_cache(maxsize=1024)  # asked by claims and decode; an account sends to few endpoints (its ID in them)
def _endpoint_of(host: str, path: str) -> tuple[str, str | None] | None:
    if path.rstrip("/") == _MEASUREMENT_CONVERSION and (_is_ads_host(host) or host_matches(host, _GA4_HOSTS)):
        return "measurement-conversion", None
    if not _is_ads_host(host):
        return None
    if host in _CCM_ONLY_HOSTS:
        return ("ccm", None) if path == _CCM else None
    google_domain = bool(_GOOGLE_DOMAIN.match(host))
    if match := _PAGEAD.match(path):
        return match.group(1), match.group(2)
    if match := _RMKT.match(path):
        return "rmkt", match.group(1)
    if host == "td.doubleclick.net" and (match := _RUL.match(path)):
        return "rul", match.group(1)
    if match := _LANDING.match(path):
        return "landing", match.group(1)
    if google_domain and path == _CCM:
        return "ccm", None
    if match := _CCM_CONVERSION.match(path):
        return "ccm-conversion", match.group(1)
    if google_domain and (match := _FORM_DATA.match(path)):
        return _FORM_DATA_ENDPOINTS[match.group(1)], match.group(2)
    return None


@lru_cache(maxsize=1024)
def _gateway_conversion_id(path: str) -> str | None:
    """The conversion ID of a tag gateway ``.../d/ccm/conversion/<ID>/`` path, None for any other path."""
    if _GATEWAY_MARK not in path:
        return None
    match = _GATEWAY_CCM_CONVERSION.match(path)
    return match.group(1) if match else None


def _is_gateway_ccm_collect(request: CapturedRequest) -> bool:
    """A ccm/collect hit through the tag gateway: its path, an event and a Google Ads (AW-) destination."""
    if not request.path.endswith(_GATEWAY_CCM_COLLECT) or _is_ads_host(request.host):
        return False
    params = ccm_params(request)
    return bool(params.get("en")) and any(d.startswith("AW-") for d in ccm_destinations(params))


def _has_gateway_signature(request: CapturedRequest) -> bool:
    """The Google tag's own query on a first-party host: ``random``, ``gtm`` and ``en`` or ``label``."""
    params = query_dict(request.url)
    return bool(
        params.get("random", "").isdigit() and params.get("gtm") and (params.get("en") or params.get("label"))
    )


_CONSUMED = frozenset(
    {
        "en",
        "tid",
        "tids",
        "value",
        "epn.value",
        "ep.value",
        "currency_code",
        "currency",
        "oid",
        "transaction_id",
        "event_id",
        "url",
        "dl",
        "em",
        "data",
    }
    | set(GOOGLE_CLICK_ID_PARAMS)
    | consumed_consent_params()
)


@register
class GoogleAdsDecoder(Decoder):
    vendor = "google_ads"
    profile = VendorProfile(
        tag_name="Google Ads tag",
        platform_name="Google Ads",
        consent="consent_mode_ad_tag",
        purchase_events=frozenset({"conversion", "purchase"}),
        click_ids=("gclid", "gbraid", "wbraid"),
        without_click_id="Google Ads: enhanced conversions (hashed email or phone with the conversion tag)",
        click_id_cookies={"gclid": "_gcl_aw"},
        # gclaw / gclgb: the _gcl_aw / _gcl_gb cookies' IDs (GCL.<time>.<id>, decoders keep <id>).
        click_id_keys={"gclid": ("gclid", "gclaw"), "gbraid": ("gbraid", "gclgb"), "wbraid": ("wbraid", "gclgb")},
    )
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {
            "random",
            "rnd",
            "fst",
            "auid",
            "tft",
            "tfd",
            "ept",
            "gcp",
            "tag_exp",
            "ptag_exp",
            "rcb",
            "ecsid",
            "_ht",
        }
    )

    def claims(self, request: CapturedRequest) -> bool:
        host, path = request.host, request.path
        if (found := _endpoint_of(host, path)) is not None:
            return found[0] != "ccm" or not is_floodlight_ccm(ccm_params(request))
        # The tag gateway on the site's own host: the path and the tag's query signature decide.
        if _gateway_conversion_id(path) is not None:
            return _has_gateway_signature(request)
        return _is_gateway_ccm_collect(request)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        found = _endpoint_of(host, path)
        return found is not None and found[0] != "ccm"  # ccm's tid decides (DC- is Floodlight's)

    def may_claim_host(self, host: str) -> bool:
        return True  # Google's hosts, and any host the tag gateway serves (``may_claim_path`` narrows)

    def may_claim_path(self, method: str, path: str) -> bool:
        # Every Ads endpoint path on Google's hosts, and the gateway's on any other.
        return (
            path.startswith(("/pagead/", "/rmkt/", "/td/", "/ccm/", _MEASUREMENT_CONVERSION))
            or _gateway_conversion_id(path) is not None
            or path.endswith(_GATEWAY_CCM_COLLECT)
        )

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        found = _endpoint(request)
        first_party = False
        if found is None and (gateway_id := _gateway_conversion_id(request.path)) is not None:
            found, first_party = ("ccm-conversion", gateway_id), True
        elif found is None and request.path.endswith(_GATEWAY_CCM_COLLECT):
            found, first_party = ("ccm", None), True
        if found is None:
            return [self.malformed(request, "not a Google Ads endpoint")]
        endpoint, conversion_id = found
        # ccm/collect and rmkt/collect may POST a text/plain body of more pairs; the query comes first.
        params = ccm_params(request)
        accounts: list[str | None] = list(_accounts(endpoint, conversion_id, params))
        if not accounts:
            if endpoint == "ccm" and ccm_destinations(params):  # not claimed: Floodlight's
                return [self.malformed(request, "ccm: Floodlight (DC-) destinations only")]
            # GTM's own Google tag sends a ccm/collect event with no tid/tids (professionele-koeling.nl,
            # cargoes.com, directv.com captures): a real hit, of no one account.
            if endpoint not in _DESTINATION_ENDPOINTS or not params.get("en"):
                return [self.malformed(request, f"{endpoint}: no conversion ID or tid")]
            accounts = [None]
        return [self._event(request, endpoint, account, params, first_party) for account in accounts]

    def _event(
        self,
        request: CapturedRequest,
        endpoint: str,
        account: str | None,
        params: dict[str, str],
        first_party: bool,
    ) -> DecodedEvent:
        data = semicolon_pairs(params.get("data", ""))
        event = params.get("en") or data.get("event") or _default_event(endpoint, params)
        page_url = params.get("url") or params.get("dl") or request.header("referer")
        user_data, em_status = user_data_from_em(params.get("em"))
        extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _CONSUMED}
        extra["endpoint"] = endpoint
        if first_party:
            extra["first_party"] = True
        if data:
            extra["data"] = data
        if em_status:
            extra["em_status"] = em_status
        if endpoint in _REDIRECT_FOLLOWUPS:
            extra["redirect_followup"] = True
        # A redirect hop and the consent-mode twin on Google's host repeat the conversion hit beside them.
        repeats = (
            endpoint in _REDIRECT_FOLLOWUPS
            or endpoint == "rul"  # the Protected Audience mirror of the tag's conversion or remarketing hit
            or (endpoint == "ccm-conversion" and not first_party)
            or endpoint in _FORM_DATA_ENDPOINTS.values()  # the user data of a conversion sent beside it
            or endpoint == "measurement-conversion"  # a GA4 event forwarded, sent to GA4 itself too
        )
        # ccm/collect sends the event's value GA4-style, as a numeric (or text) event parameter.
        raw_value = params.get("value", params.get("epn.value", params.get("ep.value")))
        value = number_keeping_raw(raw_value, extra)
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=account,
            value=value,
            currency=params.get("currency_code") or params.get("currency") or None,
            event_id=params.get("event_id") or None,
            transaction_id=params.get("oid") or params.get("transaction_id") or None,
            click_ids=google_click_ids(params, page_url),
            consent=consent_from_params(params),
            user_data=user_data,
            page_url=page_url,
            source=self.source,
            params=extra,
            repeats=repeats,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest == "iframe":
            return SinkholeReply(status=200, content_type="text/html", body=b"")
        if dest == "script":
            return SinkholeReply(status=200, content_type="application/javascript", body=b"")
        if request.method == "GET" and dest == "image":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return super().sinkhole_reply(request)


def _accounts(endpoint: str, conversion_id: str | None, params: Mapping[str, str]) -> list[str]:
    """``AW-<ID>`` from the path, else ccm's ``tid`` or every ``tids`` destination (one event each) but a
    Floodlight config's (``DC-``), which is no Google Ads account."""
    if conversion_id:
        return [f"AW-{conversion_id}"]
    return [d for d in ccm_destinations(params) if not d.startswith(FLOODLIGHT_DESTINATION_PREFIX)]


def _default_event(endpoint: str, params: Mapping[str, str]) -> str:
    """The event of a hit that names none (no ``en``, no ``data=event=``)."""
    if endpoint == "landing":
        return "landing"
    if endpoint in _FORM_DATA_ENDPOINTS.values():
        return "user_provided_data"  # Tag Assistant's name for the hit; it carries no conversion of its own
    if endpoint in _REMARKETING and not params.get("label"):
        return "page_view"  # the remarketing tag's page-level ping: no label, no conversion action
    return "conversion"


def _lenient_pairs(text: str) -> list[tuple[str, str]]:
    """Form pairs from every line of a body; nothing from an empty or JSON body."""
    pairs: list[tuple[str, str]] = []
    if text.lstrip()[:1] in ("{", "["):
        return pairs
    for line in text.splitlines():
        pairs += parse_query(line.strip())
    return pairs
