"""Amazon Ads (Amazon DSP) tag hits: the Amazon Advertising Tag and the legacy Amazon pixel.

- Advertising Tag: ``c.amazon-adsystem.com/aat/amzn.js`` (never a hit), driven by ``amzn("addTag", <tag
  id>)`` and ``amzn("trackEvent", <event>, {attributes})``, sends ``GET s.amazon-adsystem.com/iu3?pid=<tag
  id>&event=<event>&<attribute>=<value>...`` (``gtmVersion`` from Amazon's GTM template, ``value``,
  ``currencyCode``, ``unitsSold`` on ``Off-AmazonPurchases``, ``gdpr``/``gdpr_consent``...). Its noscript
  image is ``iu3?pid=<tag id>&event=PageView``. Europe and the Far East send the same to
  ``aax-eu.amazon-adsystem.com/s/iu3`` and ``aax-fe.amazon-adsystem.com/s/iu3``; server containers (Stape's
  "Amazon CAPI" sGTM tag) send it too, marked ``eventSource=gtm-server-side``, with ``ts``, ``arefs``
  (measurement tokens) and ``amznToken``.
- Legacy pixel: an iframe or image ``GET s.amazon-adsystem.com/iu3?d=generic|forester-did&ex-fargs=
  ?id=<pixel id>&type=<n>&m=<n>&ex-fch=416613&ex-src=<site>&ex-hargs=v=1.0;c=<n>;p=<PIXEL ID>&cb=<random>``
  (the noscript image on ``/iui3``; EU on ``aax-eu.amazon-adsystem.com/s/iu3`` and ``/s/iui3``). It names no
  event, so it decodes as ``pixel``; ``type`` and ``c`` are kept uninterpreted. Sites also load a bare
  ``iu3?pid=<tag id>`` (no ``event``) in an iframe; it decodes as ``pixel`` too.

Only those two shapes are claimed: ``/iu3`` also serves Amazon's own sites (``d=amazon.com&slot=navFooter``,
IMDb's click pixels) and cookie syncs (``cm3ppd=1``, ``d=dtb-pub``), which are not an advertiser's hits.

Sources: amzn/ads-pao-amznjs-gtm-template, stape-io/amazon-tag, deployed pages carrying the pixel snippets
(getbevel.com, lumee.com, core-hydration.com, entrenaymas.com), a Shopify web pixel's noscript image, twitch.tv's
page config (its ``amazon_ads_url_*`` pixels, quoted in a public write-up) and a tag tracer's captured hits.
``iui3?d=3p-hbg&ex-hargs=..;p=<id>`` (twitch.tv, no ``ex-fargs``) is not claimed: its meaning is not sourced.
"""

from __future__ import annotations

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import query_dict, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import parse_query

_PATHS: dict[str, frozenset[str]] = {
    "s.amazon-adsystem.com": frozenset({"/iu3", "/iui3"}),
    "aax-eu.amazon-adsystem.com": frozenset({"/s/iu3", "/s/iui3"}),
    "aax-fe.amazon-adsystem.com": frozenset({"/s/iu3"}),
}
_ALL_PATHS = frozenset(path for paths in _PATHS.values() for path in paths)
_TAG_KNOWN = frozenset({"pid", "event", "value", "currencyCode"})
_PIXEL_KNOWN = frozenset({"ex-fargs", "ex-hargs"})
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_FRAME_REPLY = SinkholeReply(status=200, content_type="text/html", body=b"")
_EMPTY_REPLY = SinkholeReply(status=200, content_type="text/plain", body=b"")


def _fargs(params: dict[str, str]) -> dict[str, str]:
    """``ex-fargs``, itself a query string (``?id=..&type=..&m=..``), as a dict."""
    text = params.get("ex-fargs") or ""
    return dict(parse_query(text[1:] if text.startswith("?") else text))


def _hargs(params: dict[str, str]) -> dict[str, str]:
    """``ex-hargs`` (``v=1.0;c=..;p=..``) as a dict."""
    pairs = (part.partition("=") for part in (params.get("ex-hargs") or "").split(";") if part)
    return {name: value for name, _, value in pairs if name}


@register
class AmazonAdsDecoder(Decoder):
    vendor = "amazon_ads"
    profile = VendorProfile(
        tag_name="Amazon Ads tag",
        platform_name="Amazon Ads",
        consent="ad_tag",
        purchase_events=frozenset({"off-amazonpurchases"}),
    )
    claim_hosts = tuple(_PATHS)
    volatile_params = frozenset({"cb", "ts"})

    def claims(self, request: CapturedRequest) -> bool:
        paths = _PATHS.get(request.host)
        if paths is None or request.path not in paths:
            return False
        params = query_dict(request.url)
        return "pid" in params or bool(_fargs(params).get("id"))

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _ALL_PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest in ("iframe", "frame", "document"):
            return _FRAME_REPLY  # the legacy snippet loads /iu3 in a hidden iframe
        if dest == "empty" or request.method != "GET":
            return _EMPTY_REPLY  # amzn.js fetches /iu3 and reads nothing back
        return _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = query_dict(request.url)
        if "pid" in params:
            return [self._decode_tag(request, params)]
        return [self._decode_pixel(request, params)]

    def _decode_tag(self, request: CapturedRequest, params: dict[str, str]) -> DecodedEvent:
        event = text_or_none(params.get("event"))
        tag = text_or_none(params.get("pid"))
        if not tag:
            return self.malformed(request, "no tag ID (pid)", event or "(malformed)")
        if "event" in params and not event:
            return self.malformed(request, "no event name (event)")  # the tag sent one, empty
        server = params.get("eventSource") == "gtm-server-side"
        return new_event(
            vendor=self.vendor,
            # A bare ``iu3?pid=<tag id>`` (twitch.tv's iframe) names no event: a pixel load, as the legacy one.
            event=event or "pixel",
            account_id=tag,
            value=to_number(params.get("value")),
            currency=text_or_none(params.get("currencyCode")),
            page_url=request.header("referer"),
            source="server" if server else self.source,
            params={k: v for k, v in params.items() if k not in _TAG_KNOWN and v != ""},
        )

    def _decode_pixel(self, request: CapturedRequest, params: dict[str, str]) -> DecodedEvent:
        fargs = _fargs(params)
        pixel = text_or_none(fargs.get("id"))
        if not pixel:
            return self.malformed(request, "no pixel ID (id in ex-fargs)", "pixel")
        extra: dict[str, object] = {k: v for k, v in params.items() if k not in _PIXEL_KNOWN and v != ""}
        extra.update({f"ex-fargs.{k}": v for k, v in fargs.items() if k != "id"})
        extra.update({f"ex-hargs.{k}": v for k, v in _hargs(params).items()})
        return new_event(
            vendor=self.vendor,
            event="pixel",
            account_id=pixel,
            page_url=request.header("referer"),
            source=self.source,
            params=extra,
        )
