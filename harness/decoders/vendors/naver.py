"""Naver Analytics (wcslog.js) hits: page views and Naver Ads (search ads, GFA) ``cnv`` conversions.

The common script (``wcs.naver.net/wcslog.js``, never a hit) is set up with ``wcs_add["wa"] = <site ID>``
(Naver's "common key", ``s_<hex>``), ``wcs.inflow(<cookie domain>)`` and ``wcs_do(_nasa)``. wcslog.js 0.6.5 sends
``wcs_do`` as an image ``GET wcs.naver.com/m?u=<page URL>&e=<referrer>&wa=<site ID>&bt=<visit time>`` then every
``_nasa`` key of three or more characters (``cnv``), the browser facts (``os``, ``ln``, ``sr``, ``bw``, ``bh``,
``c``, ``j``, ``k``, ``ct``, ``jv``, ``cs``, ``tl`` the title), ``ur`` (``wcs.ref``), ``vs`` (its version), ``nt``
(the time) and a bare ``EOU``. ``wcs.event(category, action)`` sends ``/m?u=<page>&t=event&wa=..&e_cat=..
&e_act=..&nt=..``. Later builds send the same fields with ``navigator.sendBeacon`` to ``wcs.naver.com/b``
(``vs`` 0.8.x, plus ``fwb``, ``ui``, ``ext``); the beacon's body is read as a form or as a JSON object.

Conversions (the "cnv" script): ``_nasa["cnv"] = wcs.cnv(<type>, <value>)`` puts into the page view hit a ``|``
joined string, ``ci=<ad click ID>|t=<click time>|isDirect=<D|I|C>|u=..|cnvType=<type>|cnvValue=<value>``, the
``ci``... part taken from the ``NA_SA`` cookie ``wcs.inflow`` set on an ad-click landing (absent without one);
an empty ``cnv`` is wcslog's answer to a reload of the same page (not counted). A hit with a non-empty ``cnv``
decodes as the event ``cnv`` (value ``cnvValue``, the type kept as ``cnvType``: which number means which action
is Naver's install guide's, not the wire's); any other as ``pageview`` (``event`` for ``t=event``). The site ID
is the account. No currency or order ID is sent by the cnv script.

Naver search ads add ``NaPm`` (``ct=..|ci=..|tr=sa|hk=..``) to the landing URL; wcslog.js reads it from the page
URL, so a landing page view carries it in ``u``. A conversion carries the click through the cookie's ``ci``.

Sources: wcslog.js 0.6.5 (the full script, bundled into a public site's JS: ``wcs.pageview``, ``wcs.event``,
``wcs.cnv``, ``wcs.inflow``, the ``NaPm`` reader), the common and conversion snippets as deployed on many Korean
sites (``wcs_add["wa"] = "s_..."``, ``wcs.cnv("1", <amount>)``), Naver's conversion-tracking guides
(naver.github.io/conversion-tracking), captured traffic noting ``POST wcs.naver.com/b`` beacons, and a replay
tool's model of the beacon's fields (wa, u, e, bt, vs 0.8.17, nt, ...). The newer ``wcs.trans`` conversions'
wire form is not sourced: their fields stay in params as sent.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import (
    PIXEL_GIF,
    EndpointDecoder,
    VendorProfile,
    new_event,
    register,
)
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    query_value,
    request_params_dict,
    text_or_none,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "wcs.naver.com"
_IMAGE_PATH = "/m"
_BEACON_PATH = "/b"

PAGEVIEW = "pageview"
CONVERSION = "cnv"
CUSTOM_EVENT = "event"

# Fields that become typed ones (the cnv string is split into ``cnv.<key>`` params).
_TYPED = frozenset({"wa", "u", "cnv"})
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_BEACON_REPLY = SinkholeReply(status=204)


@register
class NaverDecoder(EndpointDecoder):
    vendor = "naver"
    profile = VendorProfile(
        tag_name="Naver Analytics (wcslog.js)",
        platform_name="Naver Ads",
        consent="ad_tag",
        click_ids=("NaPm",),
        # A conversion ties to the click through wcslog's NA_SA cookie, not a parameter of its own.
        hit_click_ids=(),
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = frozenset({_IMAGE_PATH, _BEACON_PATH})
    # ``nt`` is the send time; ``bt`` the visit time wcslog keeps in its cookie.
    volatile_params = frozenset({"nt", "bt"})

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return _BEACON_REPLY if request.path == _BEACON_PATH and request.method == "POST" else _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = _hit_params(request)
        site = text_or_none(params.get("wa"))
        if not site:
            return [self.malformed(request, "no site ID (wa)")]
        conversion = _cnv_fields(params.get("cnv"))
        extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _TYPED and v != ""}
        extra.update({f"cnv.{k}": v for k, v in conversion.items() if k != "cnvValue"})
        if "cnv" in params and not conversion:
            extra["cnv"] = params["cnv"]  # empty: wcslog's reload guard suppressed the conversion
        page_url = text_or_none(params.get("u")) or request.header("referer")
        value = number_keeping_raw(conversion.get("cnvValue"), extra, "cnv.cnvValue") if conversion else None
        return [
            new_event(
                vendor=self.vendor,
                event=_event_name(params, conversion),
                account_id=site,
                value=value,
                click_ids=_landing_click(page_url),
                page_url=page_url,
                source=self.source,
                params=extra,
            )
        ]


def _hit_params(request: CapturedRequest) -> dict[str, Any]:
    """The query and form fields, or a JSON beacon body's top-level fields after the query's."""
    params: dict[str, Any] = dict(request_params_dict(request))
    body = json_body(request)
    if isinstance(body, dict):
        for key, value in body.items():
            params.setdefault(str(key), value if isinstance(value, str) else _text(value))
    return params


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cnv_fields(raw: Any) -> dict[str, str]:
    """``wcs.cnv``'s ``key=value|key=value`` string as a dict; empty for an empty or unreadable one."""
    text = text_or_none(raw)
    if not text:
        return {}
    fields: dict[str, str] = {}
    for part in text.split("|"):
        key, sep, value = part.partition("=")
        if sep and key:
            fields.setdefault(key, value)
    return fields


def _event_name(params: dict[str, Any], conversion: dict[str, str]) -> str:
    if conversion:
        return CONVERSION
    if params.get("t") == CUSTOM_EVENT:
        return CUSTOM_EVENT
    return PAGEVIEW


def _landing_click(page_url: str | None) -> dict[str, str]:
    """``NaPm`` on the page URL wcslog reports (an ad-click landing)."""
    click = query_value(page_url, "NaPm") if page_url else None
    return {"NaPm": click} if click else {}
