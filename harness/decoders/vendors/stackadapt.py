"""StackAdapt pixel hits: what ``events.js`` sends for each ``saq(...)`` call, and the image pixels.

``tags.srv.stackadapt.com/events.js`` (never a hit) runs the ``saq`` queue:

- ``saq('ts', <universal pixel id>, {data})``: ``GET tags.srv.stackadapt.com/saq_pxl?uid=<id>&is_js=true
  &landing_url=<page URL>&t=<title>&tip=<token>&host=<origin>`` plus ``sa_conv_data_<key>=<value>`` per
  data key (an XHR). Server integrations (StackAdapt's own Segment destination, Tealium's connector) send
  the same endpoint ``url``, ``ref``, ``title``, ``event_type``, ``email``/``phone``/``first_name``/
  ``last_name`` and the data as one JSON ``args``.
- ``saq('conv', <conversion event id>, {data})``: image ``GET srv.stackadapt.com/conv?cid=<id>&url=<page
  URL without its query>&is_js=true&rnd=..&t=..&tip=..`` plus ``sa_conv_data_<key>=<value>``; the noscript
  twin StackAdapt hands out is ``tags.srv.stackadapt.com/conv?cid=<id>&sa_conv_data_revenue=..``.
- ``saq('rt', <sid>)``, ``saq('drt', <sid>, {args})``, ``saq('lal', <sid>)``: retargeting, dynamic
  retargeting (``rt?drt=true&...&args=<JSON>``) and lookalike audience images on ``srv.stackadapt.com``.

Both ``ts`` and ``conv`` also send ``css_value`` and ``image_value`` (IDs read back from StackAdapt's
cached ``sa.css``/``sa.jpeg``) as conversion data, and newer builds the ``sa-user-id``/``sa-camp-*``
cookies as parameters of their own.

The event is the data's ``action`` (StackAdapt's key for the event name: its Segment destination and
Tealium's connector send it; its Segment browser destination sends ``eventName``), else the ``saq`` call
(``ts``, ``conv``, ``rt``, ``drt``, ``lal``). ``revenue``, ``order_id`` and ``currency`` in the data are the
value, order ID and currency (the keys of StackAdapt's snippets and Segment destination, and of the
StackAdapt GTM template; the data's other keys are the advertiser's own and stay in params as sent).
StackAdapt's click ID ``sapid`` (``{SA_POSTBACK_ID}`` on the ad's click URL) rides on the page URL.

Never hits: ``/js_tracking`` and the ``ifr_ts``/``ifr_pv`` time-on-site pings on ``*.srv.stackadapt.com``,
``sa.css``/``sa.jpeg``, and ``sync.srv.stackadapt.com`` / ``pjs.stackadapt.com`` (cookie syncs, bidding).

Sources: events.js as served (three builds saved in public repositories), StackAdapt's Segment
destinations (``actions-stackadapt`` browser: ``saq('ts', id, {eventName, ...})``; cloud: ``saq_pxl`` with
``args``), Tealium's StackAdapt Events connector guide, the New North StackAdapt GTM template
(``revenue``/``order_id``/``currency``), Freshpaint's StackAdapt guide (``sapid``), and deployed pages
(a WordPress site's conversion pixel, a React site's ``saq('conv', id, {revenue, "product name"})`` with its
noscript image, a store's ``conv?cid=..&sa_conv_data_order=..`` image).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import (
    number_keeping_raw,
    parse_json,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_TAGS_HOST = "tags.srv.stackadapt.com"
_SRV_HOST = "srv.stackadapt.com"
# (host, path) -> the saq call that sends it, and the parameter naming its ID.
_ENDPOINTS: dict[tuple[str, str], tuple[str, str]] = {
    (_TAGS_HOST, "/saq_pxl"): ("ts", "uid"),
    (_TAGS_HOST, "/conv"): ("conv", "cid"),
    (_SRV_HOST, "/conv"): ("conv", "cid"),
    (_SRV_HOST, "/rt"): ("rt", "sid"),
    (_SRV_HOST, "/lal"): ("lal", "sid"),
}
_PATHS = frozenset(path for _, path in _ENDPOINTS)
_DATA_PREFIX = "sa_conv_data_"
_PERSONAL = ("email", "phone", "first_name", "last_name")  # StackAdapt's field names for a person
_PAGE_KEYS = ("landing_url", "url")
_KNOWN = frozenset({"uid", "cid", "sid", "args", *_PAGE_KEYS, *_PERSONAL})
_TYPED_DATA = frozenset({"action", "eventName", "revenue", "order_id", "currency", *_PERSONAL})


def _conversion_data(params: Mapping[str, str]) -> dict[str, Any]:
    """The call's data object: the ``sa_conv_data_*`` parameters, else the server form's ``args`` JSON."""
    data: dict[str, Any] = {
        k[len(_DATA_PREFIX) :]: v for k, v in params.items() if k.startswith(_DATA_PREFIX)
    }
    args = parse_json(params["args"]) if params.get("args") else None
    if isinstance(args, dict):
        for key, value in args.items():
            data.setdefault(key, value)
    return data


def _user_data(params: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, UserDataForm]:
    forms: dict[str, UserDataForm] = {}
    for key in _PERSONAL:
        value = text_or_none(params.get(key)) or text_or_none(data.get(key))
        if value:
            forms[key] = user_data_form(value)
    return forms


def _extra(params: Mapping[str, str]) -> dict[str, Any]:
    """Params as sent, minus those that became typed fields; ``args`` shown parsed."""
    extra: dict[str, Any] = {}
    for key, value in params.items():
        if key in _KNOWN or value == "":
            continue
        if key.startswith(_DATA_PREFIX) and key[len(_DATA_PREFIX) :] in _TYPED_DATA:
            continue
        extra[key] = value
    args = parse_json(params["args"]) if params.get("args") else None
    if args is not None:
        extra["args"] = args
    elif params.get("args"):
        extra["args"] = params["args"]
    return extra


@register
class StackAdaptDecoder(Decoder):
    vendor = "stackadapt"
    profile = VendorProfile(
        tag_name="StackAdapt Pixel",
        platform_name="StackAdapt",
        consent="ad_tag",
        purchase_events=frozenset({"conv", "purchase"}),
        # StackAdapt's postback ID on landing URLs (sapid={SA_POSTBACK_ID}): followed through the redirects;
        # a conversion on a later page does not carry it.
        click_ids=("sapid",),
        hit_click_ids=(),
    )
    claim_hosts = (_TAGS_HOST, _SRV_HOST)
    # Cache busters, the per-load token, and the browser IDs events.js reads back and sends.
    volatile_params = frozenset(
        {"rnd", "tip", "sa_conv_data_css_value", "sa_conv_data_image_value", "sa-user-id", "sa-user-id-v2"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return (host, path) in _ENDPOINTS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)  # images, and an XHR whose answer events.js ignores

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        call, id_param = _ENDPOINTS.get((request.host, request.path), ("", ""))
        params = request_params_dict(request)
        if call == "rt" and params.get("drt") == "true":
            call = "drt"
        account = text_or_none(params.get(id_param))
        if not call or not account:
            return [self.malformed(request, f"no pixel ID ({id_param or 'unknown endpoint'})")]
        data = _conversion_data(params)
        extra = _extra(params)
        page_url = next((u for key in _PAGE_KEYS if (u := text_or_none(params.get(key)))), None)
        page_url = page_url or request.header("referer")
        sapid = query_value(page_url, "sapid") if page_url else None
        value = number_keeping_raw(data.get("revenue"), extra)
        return [
            new_event(
                vendor=self.vendor,
                event=text_or_none(data.get("action")) or text_or_none(data.get("eventName")) or call,
                account_id=account,
                value=value,
                currency=text_or_none(data.get("currency")),
                transaction_id=text_or_none(data.get("order_id")),
                click_ids={"sapid": sapid} if sapid else {},
                user_data=_user_data(params, data),
                page_url=page_url,
                source=self.source,
                params=extra,
            )
        ]
