"""Floodlight (Campaign Manager 360 / Search Ads 360 / DV360) activity tags.

Parameters ride in the path as semicolon "matrix" pairs: ``ad.doubleclick.net/activity;src=123;type=grp;
cat=act;ord=1?`` (gtag fetch), ``<src>.fls.doubleclick.net/activityi;...`` (iframe), ``activityj``, and
the server-to-server ``ad.doubleclick.net/ddm/activity/src=...;cat=...`` form (Campaign Manager help
"Track app conversion with Floodlight and S2S"). ``src`` is the advertiser, ``type`` the activity group,
``cat`` the activity; sales tags add ``qty`` and ``cost`` and put the order ID in ``ord``, counter tags
use ``ord`` as a cache buster (or "1" for unique counting). ``u1``..``uN`` are custom variables.
A gtag activity may carry the Google tag's enhanced-conversions ``em=tv.1~em.<hash>...`` (with
``user_data_mode``; ``em=tv.1`` alone, no data, in a criteo.com capture): decoded like Google Ads' into
``user_data`` and ``params["em_status"]``.

Google answers the first request with a redirect whose hop repeats the activity with ``dc_pre=``
(``<src>.fls.doubleclick.net/activityi;dc_pre=...`` or ``adservice.google.com/ddm/fls/z/dc_pre=...``,
seen in bestbuy.com captures; ``/ddm/fls/i/`` and ``/p/`` too, on the country host ``adservice.google.co.in``
in a recorded victoriassecret.com load test, and ``<src>.fls.doubleclick.net/ddm/fls/r/dc_pre=...`` in a
recorded myuhc.com one); those decode too, flagged ``params["redirect_followup"] = True``. So does
the tag's Protected Audience iframe, ``td.doubleclick.net/td/fls/rul/activityi;fledge=1;...`` with the
activity's own params and ``ord`` (beside it on deusto.es), a repeat of it: ``params["protected_audience"]``.
Click trackers (``/ddm/clk/``, ``/ddm/trackclk/``) are redirects of an ad click, never claimed; nor is
Campaign Manager's ad-side event reporting on the same path (``activity;src=..;met=1;v=1;pid=..;aid=..``,
rich-media and VAST tracking pings fired by a served creative, with no ``type``/``cat``).

A Floodlight config's Google tag (``gtag/js?id=DC-<src>``) also sends its own events to Google Ads'
``/ccm/collect`` (``www.google.com``, ``pagead2.googlesyndication.com``) with ``tid=DC-<src>``, e.g. a
``page_view`` captured on bechtle.com: those with only ``DC-`` destinations are Floodlight's, one event
per destination, ``params["tag_format"] = "ccm"``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.google_consent import consent_from_params, consumed_consent_params
from harness.decoders.vendors.google_ads import (
    FLOODLIGHT_DESTINATION_PREFIX,
    GOOGLE_CLICK_ID_PARAMS,
    ccm_destinations,
    ccm_params,
    google_click_ids,
    is_ccm_collect,
    is_ccm_host,
    is_floodlight_ccm,
    user_data_from_em,
)
from harness.decoders.wire import params_dict, query_params, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import unquote

DOUBLECLICK_HOSTS: tuple[str, ...] = ("ad.doubleclick.net", "fls.doubleclick.net", ".fls.doubleclick.net")
_ACTIVITY_PATH = re.compile(r"^/(?:ddm/)?(activity[ij]?)[;/]")
_FLS_FOLLOWUP_PATH = re.compile(r"^/ddm/fls/[a-z]/")
# adservice.google.com and its country domains (adservice.google.co.in), which serve the redirect hop.
_ADSERVICE_HOST = re.compile(r"^adservice\.google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$")
# The tag's Protected Audience iframe (allow="join-ad-interest-group"): the same activity, matrix params and
# ord as the activity hit it mirrors, plus fledge=1 (captured beside it on deusto.es).
_PROTECTED_AUDIENCE_HOST = "td.doubleclick.net"
_PROTECTED_AUDIENCE_PATH = re.compile(r"^/td/fls/rul/(activity[ij]?)[;/]")
_CUSTOM_VARIABLE = re.compile(r"^u\d+$")
_CONSUMED = (
    frozenset({"src", "cat", "cost", "ord", "~oref", "em", *GOOGLE_CLICK_ID_PARAMS})
    | consumed_consent_params()
)
_CCM_CONSUMED = frozenset({"en", "tid", "tids", "dl", *GOOGLE_CLICK_ID_PARAMS}) | consumed_consent_params()


def _matrix_start(request: CapturedRequest) -> int | None:
    """Where the ``;``-pairs start in the path of a Floodlight hit; None for anything else."""
    return _matrix_start_of(request.host, request.path)


def _matrix_start_of(host: str, path: str) -> int | None:
    if host_matches(host, DOUBLECLICK_HOSTS):
        match = _ACTIVITY_PATH.match(path) or _FLS_FOLLOWUP_PATH.match(path)
        if match and ";met=" in path and ";type=" not in path:
            return None  # creative event reporting (met=), not an activity tag
    elif _ADSERVICE_HOST.match(host):
        match = _FLS_FOLLOWUP_PATH.match(path)
    elif host == _PROTECTED_AUDIENCE_HOST:
        match = _PROTECTED_AUDIENCE_PATH.match(path)
    else:
        return None
    return match.end() if match else None


def matrix_params(path: str) -> list[tuple[str, str]]:
    """``k=v;k=v`` pairs (URL-decoded); fragments without ``=`` are skipped."""
    pairs: list[tuple[str, str]] = []
    for part in path.split(";"):
        key, sep, value = part.partition("=")
        if sep and key:  # unquote leaves a part without "%" as it is: spare it the call
            pairs.append((unquote(key) if "%" in key else key, unquote(value) if "%" in value else value))
    return pairs


@register
class FloodlightDecoder(Decoder):
    vendor = "floodlight"
    profile = VendorProfile(
        tag_name="Floodlight tag",
        platform_name="Floodlight",
        consent="consent_mode_ad_tag",
        click_id_cookies={"gclid": "_gcl_aw"},
        click_ids=("dclid",),
        hit_click_ids=(),
        without_click_id="Campaign Manager / Floodlight: enhanced conversions for Floodlight",
        reports_sale=lambda event: event.params.get("counting") == "sales",  # any activity of a sales tag
    )
    claim_hosts = (*DOUBLECLICK_HOSTS, "adservice.google.com", _PROTECTED_AUDIENCE_HOST)
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"num", "dc_random", "rcb", "auiddc", "tag_exp", "dc_pre", "_dc_test", "match_id", "ord"}
        | {"rnd", "auid", "tft", "tfd"}  # ccm/collect's
    )

    def claims(self, request: CapturedRequest) -> bool:
        host, path = request.host, request.path
        if _matrix_start_of(host, path) is not None:
            return True
        # Google Ads' ccm endpoint: the tid/tids decide (google_ads claims the rest).
        return is_ccm_collect(host, path) and is_floodlight_ccm(ccm_params(request))

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return _matrix_start_of(host, path) is not None

    def may_claim_host(self, host: str) -> bool:
        return (
            host_matches(host, self.claim_hosts or ())
            or is_ccm_host(host)
            or bool(_ADSERVICE_HOST.match(host))
        )

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        start = _matrix_start(request)
        if start is None:
            if is_ccm_collect(request.host, request.path):
                return self._decode_ccm(request)
            return [self.malformed(request, "not a Floodlight activity path")]
        # Query pairs (rare) come after the path's own; the path wins on a clash.
        params = params_dict(matrix_params(request.path[start:]) + query_params(request.url))
        missing = [name for name in ("src", "type", "cat") if not params.get(name)]
        if missing:
            bad = self.malformed(request, f"missing {', '.join(missing)}")
            bad.account_id = params.get("src") or None
            return [bad]
        page_url = params.get("~oref") or request.header("referer")
        sales = "qty" in params or "cost" in params
        # The gtag activity carries the Google tag's enhanced-conversions em (criteo.com capture: em=tv.1).
        user_data, em_status = user_data_from_em(params.get("em"))
        extra = _params(params, sales, request)
        if em_status:
            extra["em_status"] = em_status
        return [
            new_event(
                vendor=self.vendor,
                event=params["cat"],
                account_id=params["src"],
                value=to_number(params.get("cost")),
                transaction_id=(params.get("ord") or None) if sales else None,
                click_ids=google_click_ids(params, page_url),
                consent=consent_from_params(params),
                user_data=user_data,
                page_url=page_url,
                source=self.source,
                params=extra,
                # Google's redirect hop, and the Protected Audience mirror, repeat the activity they follow.
                repeats="dc_pre" in params or _is_protected_audience_mirror(request),
            )
        ]

    def _decode_ccm(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = ccm_params(request)
        destinations = [d for d in ccm_destinations(params) if d.startswith(FLOODLIGHT_DESTINATION_PREFIX)]
        if not destinations:
            return [self.malformed(request, "ccm: no DC- destination")]
        if not params.get("en"):
            bad = self.malformed(request, "ccm: missing en (event name)")
            bad.account_id = destinations[0]
            return [bad]
        page_url = params.get("dl") or request.header("referer")
        extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _CCM_CONSUMED}
        extra["tag_format"] = "ccm"
        return [
            new_event(
                vendor=self.vendor,
                event=params["en"],
                account_id=destination,
                click_ids=google_click_ids(params, page_url),
                consent=consent_from_params(params),
                page_url=page_url,
                source=self.source,
                params=dict(extra),
            )
            for destination in destinations
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest == "iframe" or "/activityi" in request.path:
            return SinkholeReply(status=200, content_type="text/html", body=b"")
        return super().sinkhole_reply(request)


def _counting(params: dict[str, str], sales: bool) -> str:
    """The counting method the tag's parameters imply (Omnibug's reading of ``ord``/``qty``)."""
    if sales:
        return "sales"
    ord_value = params.get("ord")
    if ord_value is None:
        return "per_session" if "num" in params else "unknown"
    return "unique" if ord_value == "1" else "standard"


def _params(params: dict[str, str], sales: bool, request: CapturedRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for key, value in params.items():
        if key in _CONSUMED:
            continue
        if key[:1] == "u" and _CUSTOM_VARIABLE.match(key):
            custom[key] = value
        elif key == "qty" and to_number(value) is not None:
            out[key] = to_number(value)
        else:
            out[key] = value
    if custom:
        out["custom_variables"] = custom
    if not sales and "ord" in params:
        out["ord"] = params["ord"]
    cost = params.get("cost")
    if cost is not None and to_number(cost) is None:
        out["value_raw"] = cost
    out["counting"] = _counting(params, sales)
    out["tag_format"] = _tag_format(request)
    if "dc_pre" in params:
        out["redirect_followup"] = True
    if _is_protected_audience_mirror(request):
        out["protected_audience"] = True
    return out


def _is_protected_audience_mirror(request: CapturedRequest) -> bool:
    return request.host == _PROTECTED_AUDIENCE_HOST


def _tag_format(request: CapturedRequest) -> str:
    """activity (fetch/image), activityi (iframe), activityj, or fls (the adservice hop)."""
    match = _ACTIVITY_PATH.match(request.path) or _PROTECTED_AUDIENCE_PATH.match(request.path)
    return match.group(1) if match else "fls"
