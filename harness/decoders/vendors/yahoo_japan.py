"""Yahoo! JAPAN Ads (LINE Yahoo): the site general tag ``ytag.js``, its conversion and retargeting hits.

The site general tag (``s.yimg.jp/images/listing/tool/cv/ytag.js``, never a hit) reads ``ytag({type, config})``
calls from ``window.yjDataLayer``:

- ``ycl_cookie``: no hit. It keeps the landing page's ``yclid`` (``YSS.<id>`` from search ads,
  ``YJAD.<10-digit time>.<id>`` from display ads) in a first-party cookie: ``_ycl_aw`` (or ``_ycl_<prefix>_aw``)
  as ``GCL.<time>.<id>`` for search ads, ``_ycl_yjad`` as ``YJAD.<time>.<id>`` for display ads.
- ``yjad_conversion`` (display ads): an image ``GET b90.yahoo.co.jp/c?yahoo_ydn_conv_io=<IO>
  &yahoo_ydn_conv_label=<label>&yahoo_ydn_conv_transaction_id=<order ID>&yahoo_ydn_conv_value=<value>&r=<time
  .random>&yclid=<_ycl_yjad>&_impl=ytag&nc=<0|1>``. The older ``conv.js`` snippet and its noscript image send the
  same ``yahoo_ydn_conv_*`` keys (the value as ``yahoo_ydn_conv_amount`` in older snippets, plus ``guid=ON``);
  the oldest image tag sent ``account_id``, ``transaction_id`` and ``amount``.
- ``yjad_retargeting`` (display ads site retargeting): a script ``GET b92.yahoo.co.jp/search/?p=<retargeting
  ID>&label=&ref=<page>&rref=<referrer>&pt=<page type>&item=&cat=&price=&quantity=&r=&pvid=&yclid=&tsyjad=
  &_impl=ytag``.
- ``yss_conversion`` / ``yss_call_conversion`` (search ads): ytag.js hands the call to Google's
  ``conversion_async.js`` served from ``b91.yahoo.co.jp`` with ``google_conversion_domain=b91.yahoo.co.jp``, so
  the hit is Google's conversion shape on Yahoo's host: ``GET b91.yahoo.co.jp/pagead/conversion/<conversion
  ID>/?...&value=<value>&label=<label>``; the noscript image is ``.../?value=0&label=<label>&guid=ON&script=0
  &disvt=true`` (an older one ``.../<ID>/imp.gif?value=..&label=..``). ytag.js sets the Google tag's cookie
  prefix to ``_ycl``, so the ``gclaw`` parameter Google's script fills from ``<prefix>_aw`` carries the
  ``_ycl_aw`` cookie (``GCL.<time>.<id>``): the search-ads ``yclid``.
- ``yss_retargeting``: the same on ``b97.yahoo.co.jp/pagead/conversion/<ID>/`` (noscript ``?guid=ON&script=0
  &disvt=false``).

Events: ``conversion`` (b90, b91) and ``retargeting`` (b92, b97), Yahoo's own names for the two tag kinds.
The account is the IO (display conversion), the conversion ID (search ads) or the retargeting ID. Neither
tag sends a currency. The hits carry the click ID (``yclid``) as the cookie keeps it (``YJAD.<time>.<id>``),
or, on search-ads hits, the bare ID taken from ``GCL.<time>.<id>``.

Sources: ytag.js as deployed (webpack build: ``ycl_cookie``, ``yjad_conversion``, ``yjad_retargeting``,
``yss_*`` handlers; captured in a public crawler's instrumented page sources), the conversion and retargeting
snippets Yahoo! JAPAN Ads issues (their noscript images, deployed on many Japanese sites and returned by the
Sponsored Search / Display Ads API ``ConversionTrackerService`` and ``RetargetingListService`` samples), the
Display Ads Conversion API docs (``yclid`` = the ``_ycl_yjad`` cookie, ``YJAD.<time>.<id>``), Yahoo! JAPAN Ads
help ("Complementary feature for conversion analytics": auto-tagging adds ``yclid``).
``ads-cv.yahooapis.jp`` (the Conversion API) is not decoded here.

``yclid`` is also Yandex Direct's click ID (``yandex_metrica``): the name is shared, the value tells them apart
(Yahoo's begin ``YSS.`` or ``YJAD.``).
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import number_keeping_raw, request_params_dict, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_DISPLAY_CONVERSION_HOST = "b90.yahoo.co.jp"
_SEARCH_CONVERSION_HOST = "b91.yahoo.co.jp"
_DISPLAY_RETARGETING_HOST = "b92.yahoo.co.jp"
_SEARCH_RETARGETING_HOST = "b97.yahoo.co.jp"
_HOSTS = (
    _DISPLAY_CONVERSION_HOST,
    _SEARCH_CONVERSION_HOST,
    _DISPLAY_RETARGETING_HOST,
    _SEARCH_RETARGETING_HOST,
)

_DISPLAY_CONVERSION_PATH = "/c"
_DISPLAY_RETARGETING_PATH = re.compile(r"^/search/?$")
# Google's conversion path on Yahoo's hosts; ``imp.gif`` is an older noscript image's file name.
_PAGEAD_PATH = re.compile(r"^/pagead/conversion/(?P<id>\d+)/?(?:imp\.gif)?$")

CONVERSION = "conversion"
RETARGETING = "retargeting"

# The display conversion's keys: ytag.js / conv.js (``yahoo_ydn_conv_*``), then the oldest image tag's.
_IO_KEYS = ("yahoo_ydn_conv_io", "account_id")
_VALUE_KEYS = ("yahoo_ydn_conv_value", "yahoo_ydn_conv_amount", "amount")
_ORDER_KEYS = ("yahoo_ydn_conv_transaction_id", "transaction_id")
_GCL_COOKIE = re.compile(r"^GCL\.\d+\.(?P<id>.+)$")

_SCRIPT_REPLY = SinkholeReply(status=200, content_type="application/javascript", body=b"")
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)


def _first(params: dict[str, str], keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first of ``keys`` present in ``params`` and its value as sent (None, None if none is)."""
    for key in keys:
        if key in params:
            return key, params[key]
    return None, None


def _without(params: dict[str, str], typed: set[str | None]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in typed and v != ""}


@register
class YahooJapanDecoder(Decoder):
    vendor = "yahoo_japan"
    profile = VendorProfile(
        tag_name="Yahoo! JAPAN Ads tag",
        platform_name="Yahoo! JAPAN Ads",
        consent="ad_tag",
        purchase_events=frozenset({CONVERSION}),
        click_ids=("yclid",),
        click_id_cookies={"yclid": "_ycl_yjad"},
    )
    claim_hosts = _HOSTS
    # ``r`` is ytag.js's time + random cache buster; ``pvid`` a random ID per page; ``tsyjad`` a cookie's time.
    volatile_params = frozenset({"r", "pvid", "tsyjad", "random"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path == _DISPLAY_CONVERSION_PATH or path.startswith(("/search", "/pagead/conversion/"))

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _DISPLAY_CONVERSION_HOST:
            return path == _DISPLAY_CONVERSION_PATH
        if host == _DISPLAY_RETARGETING_HOST:
            return _DISPLAY_RETARGETING_PATH.match(path) is not None
        if host in (_SEARCH_CONVERSION_HOST, _SEARCH_RETARGETING_HOST):
            return _PAGEAD_PATH.match(path) is not None
        return False

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # ytag.js loads the site-retargeting hit as a <script>; every other hit is an image.
        return _SCRIPT_REPLY if request.host == _DISPLAY_RETARGETING_HOST else _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        if request.host == _DISPLAY_CONVERSION_HOST:
            return [self._display_conversion(request, params)]
        if request.host == _DISPLAY_RETARGETING_HOST:
            return [self._display_retargeting(request, params)]
        match = _PAGEAD_PATH.match(request.path)
        if match is None:
            return [self.malformed(request, "not a Yahoo! JAPAN Ads hit path")]
        event = CONVERSION if request.host == _SEARCH_CONVERSION_HOST else RETARGETING
        return [self._search_ads(request, params, match["id"], event)]

    def _display_conversion(self, request: CapturedRequest, params: dict[str, str]) -> DecodedEvent:
        io_key, io = _first(params, _IO_KEYS)
        if not text_or_none(io):
            return self.malformed(request, "no conversion IO (yahoo_ydn_conv_io)", CONVERSION)
        value_key, raw_value = _first(params, _VALUE_KEYS)
        order_key, order = _first(params, _ORDER_KEYS)
        extra = _without(params, {io_key, value_key, order_key, "yclid"})
        return new_event(
            vendor=self.vendor,
            event=CONVERSION,
            account_id=text_or_none(io),
            value=number_keeping_raw(raw_value, extra, "value_raw") if raw_value != "" else None,
            transaction_id=text_or_none(order),
            click_ids=_yclid(params.get("yclid")),
            page_url=request.header("referer"),
            source=self.source,
            params=extra,
        )

    def _display_retargeting(self, request: CapturedRequest, params: dict[str, str]) -> DecodedEvent:
        retargeting_id = text_or_none(params.get("p"))
        if not retargeting_id:
            return self.malformed(request, "no retargeting ID (p)", RETARGETING)
        return new_event(
            vendor=self.vendor,
            event=RETARGETING,
            account_id=retargeting_id,
            click_ids=_yclid(params.get("yclid")),
            # ytag.js sends the page as ``ref`` (the parent page's URL inside an iframe).
            page_url=text_or_none(params.get("ref")) or request.header("referer"),
            source=self.source,
            params=_without(params, {"p", "ref", "yclid"}),
        )

    def _search_ads(
        self, request: CapturedRequest, params: dict[str, str], conversion_id: str, event: str
    ) -> DecodedEvent:
        extra = _without(params, {"value", "gclaw", "url"})
        raw_value = params.get("value")
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=conversion_id,
            value=number_keeping_raw(raw_value, extra, "value_raw") if raw_value != "" else None,
            click_ids=_search_yclid(params.get("gclaw")),
            # Google's conversion_async sends the page as ``url``; the noscript image sends none.
            page_url=text_or_none(params.get("url")) or request.header("referer"),
            source=self.source,
            params=extra,
        )


def _yclid(value: str | None) -> dict[str, str]:
    """The display-ads click ID as the ``_ycl_yjad`` cookie holds it (``YJAD.<time>.<id>``)."""
    click = text_or_none(value)
    return {"yclid": click} if click else {}


def _search_yclid(gclaw: str | None) -> dict[str, str]:
    """The search-ads click ID from the ``_ycl_aw`` cookie's ``GCL.<time>.<id>``: the bare ID."""
    text = text_or_none(gclaw)
    if not text:
        return {}
    match = _GCL_COOKIE.match(text)
    return {"yclid": match["id"] if match else text}
