"""The Trade Desk hits: the universal pixel, static tracking tags and the real-time conversion API.

- Universal pixel: ``js.adsrvr.org/up_loader.<version>.js`` (never a hit), started with
  ``TTDUniversalPixelApi().init(adv, [upid, ...], "https://insight.adsrvr.org/track/up")``, loads an
  iframe ``GET insight.adsrvr.org/track/up?adv=<advertiser>&ref=<top page URL>&upid=<pixel ids,
  comma-separated>&osi=..&osv=..&upv=<loader version>`` plus any dynamic parameters (``td1``..``td10``,
  ``v`` revenue, ``vf`` currency, ``orderid``), ``gdpr``/``gdpr_consent`` when a CMP answered, ``paapi=1``,
  ``uidcs=1``. It names no event: TTD classifies the visit by URL rules, so it decodes as
  ``universal_pixel``.
- Static tracking tags: image ``GET insight.adsrvr.org/track/conv/?adv=<advertiser>&ct=0:<tag id>&fmt=3``
  (``conversion``), ``/track/evnt/?...`` (``event``) and ``/track/pxl/?...`` (``tracking_tag``: the
  tracking-tag image TTD's UI hands out, used for conversions and retargeting alike), with the same
  ``v``/``vf``/``orderid``/``td*`` (deployed ``/track/pxl`` tags carry ``&orderid=..&v=..``).
- Real-time conversions: ``POST insight.adsrvr.org/track/realtimeconversion`` with
  ``{"data": [{tracker_id | upixel_id, adv, event_name, value, currency, order_id, items, td1.., adid,
  adid_type, referrer_url, privacy_settings, ...}]}`` from browsers (TTD's conversion-events SDK) or servers.

``match.adsrvr.org`` (cookie syncs) and ``/track/cei`` (the pixel's sync frame) are never hits.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_consent, new_event, pixel_reply, register
from harness.decoders.wire import json_body, request_params_dict, text_or_none, to_number
from harness.models import CapturedRequest, ConsentState, DecodedEvent, SinkholeReply

_HOST = "insight.adsrvr.org"
_UP_PATHS = ("/track/up", "/track/up/")
_TAG_PATHS = {
    "/track/conv": "conversion",
    "/track/conv/": "conversion",
    "/track/evnt": "event",
    "/track/evnt/": "event",
    "/track/pxl": "tracking_tag",
    "/track/pxl/": "tracking_tag",
}
_RTC_PATHS = ("/track/realtimeconversion", "/track/realtimeconversion/")
_PIXEL_KNOWN = frozenset({"adv", "ref", "v", "vf", "orderid", "gdpr", "gdpr_consent"})
_RTC_KNOWN = frozenset(
    {"adv", "event_name", "value", "currency", "order_id", "referrer_url", "privacy_settings"}
)
# What the API answers a batch it accepted (TTD's response shape, as integrations record it).
_RTC_REPLY = b'{"Message":null,"EventResponses":[]}'


def _pixel_consent(params: dict[str, str]) -> ConsentState:
    return new_consent(other={k: params[k] for k in ("gdpr", "gdpr_consent") if k in params})


def _rtc_consent(item: dict[str, Any]) -> ConsentState:
    other: dict[str, str] = {}
    settings = item.get("privacy_settings")
    for setting in settings if isinstance(settings, list) else []:
        if isinstance(setting, dict) and text_or_none(setting.get("privacy_type")) == "GDPR":
            applies = text_or_none(setting.get("is_applicable"))
            consent = text_or_none(setting.get("consent_string"))
            if applies:
                other["gdpr"] = applies
            if consent:
                other["gdpr_consent"] = consent
    return new_consent(other=other)


@register
class TradeDeskDecoder(Decoder):
    vendor = "tradedesk"
    profile = VendorProfile(
        tag_name="The Trade Desk pixel",
        platform_name="The Trade Desk",
        consent="ad_tag",
        purchase_events=frozenset({"conversion", "purchase"}),
    )
    claim_hosts = (_HOST,)
    volatile_params = frozenset({"osi", "imp"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.startswith("/track/")

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host != _HOST:
            return False
        if path in _RTC_PATHS:
            return method == "POST"
        return path in _UP_PATHS or path in _TAG_PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        path = request.path
        if path in _RTC_PATHS:
            return SinkholeReply(status=200, content_type="application/json", body=_RTC_REPLY)
        if path in _UP_PATHS:
            # The universal pixel is an iframe: an empty document (the live one only starts syncs).
            return SinkholeReply(status=200, content_type="text/html", body=b"")
        return pixel_reply(request)  # the static tags are images

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        path = request.path
        if path in _RTC_PATHS:
            return self._decode_rtc(request)
        return [self._decode_pixel(request, "universal_pixel" if path in _UP_PATHS else _TAG_PATHS[path])]

    def _decode_pixel(self, request: CapturedRequest, name: str) -> DecodedEvent:
        params = request_params_dict(request)
        advertiser = text_or_none(params.get("adv"))
        if not advertiser:
            return self.malformed(request, "no advertiser id (adv)")
        if name == "universal_pixel" and not text_or_none(params.get("upid")):
            return self.malformed(request, "universal pixel without a pixel id (upid)")
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=advertiser,
            value=to_number(params.get("v")),
            currency=text_or_none(params.get("vf")),
            transaction_id=text_or_none(params.get("orderid")),
            consent=_pixel_consent(params),
            page_url=text_or_none(params.get("ref")) or request.header("referer"),
            source=self.source,
            params={k: v for k, v in params.items() if k not in _PIXEL_KNOWN},
        )

    def _decode_rtc(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return [self.malformed(request, "real-time conversion body has no data list")]
        return [self._rtc_event(request, item) for item in items]

    def _rtc_event(self, request: CapturedRequest, item: Any) -> DecodedEvent:
        if not isinstance(item, dict):
            return self.malformed(request, "real-time conversion event is not an object")
        name = text_or_none(item.get("event_name"))
        if not name and text_or_none(item.get("upixel_id")):
            name = "universal_pixel"  # a page-view (URL mapping) event names its pixel, not an event
        if not name:
            return self.malformed(request, "real-time conversion event without event_name or upixel_id")
        if not text_or_none(item.get("adv")):
            return self.malformed(request, "real-time conversion event without an advertiser id (adv)", name)
        # From json_body: safe already (parse_json), and no deeper here than in the body.
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=text_or_none(item.get("adv")),
            value=to_number(item.get("value")),
            currency=text_or_none(item.get("currency")),
            transaction_id=text_or_none(item.get("order_id")),
            consent=_rtc_consent(item),
            page_url=text_or_none(item.get("referrer_url")),
            source=self.source,
            params={k: v for k, v in item.items() if k not in _RTC_KNOWN},
        )
