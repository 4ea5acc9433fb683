"""Reddit Pixel hits and Reddit Conversions API calls.

The pixel (``www.redditstatic.com/ads/pixel.js``, never a hit) sends
``GET alb.reddit.com/rp.gif?ts=..&id=<advertiser id>&event=Purchase&m.itemCount=..&m.value=..
&m.valueDecimal=..&m.currency=..&m.transactionId=..&m.customEventName=..&m.products=..&m.conversionId=..
&uuid=..&em=..&external_id=..&integration=..&opt_out=0&sh=..&sw=..&v=..``; empty parameters are sent
too, so an empty value means "not set". ``m.conversionId`` is the key Reddit deduplicates pixel and
Conversions API events on, hence ``event_id``. Newer pixels also ``POST alb.reddit.com/rp`` (fetch) with
the same fields split between the query (``id``, ``event``) and a form body (``m.*``...). ``esurl`` is
the page the event fired on (sent by current pixels, also where no Referer is).

The legacy "Reddit Conversion Pixel" (an ``<img>``/``new Image()`` snippet still deployed, also as the
``<noscript>`` of current installs) sends ``GET alb.reddit.com/snoo.gif?q=<opaque token>&s=<signature>
[&ts=<ms>]``: one conversion, whose advertiser and event are inside the signed ``q`` and not readable. It
decodes as ``conversion`` with ``q``/``s`` kept as sent (a ``snoo.gif`` with an ``event`` is read as rp.gif).

Server-side: ``POST ads-api.reddit.com/api/v2.0/conversions/events/<account>`` with
``{"events": [{event_type: {tracking_type, custom_event_name}, click_id, user, event_metadata}]}`` (its
``value`` in the currency's minor units, ``value_decimal`` in whole ones) and
``POST ads-api.reddit.com/api/v3/pixels/<pixel>/conversion_events`` with
``{"data": {"events": [{type: {...}, click_id, user, metadata}]}}``. Its ``user`` also carries ``ip_address``
(hashed or plain) and ``user_agent``, reported by form like the other match keys, and ``uuid``,
``screen_dimensions``, ``opt_out`` ..., kept in params as ``user.<name>`` (RudderStack's reddit destination,
rudderlabs/rudder-transformer test/integrations/destinations/reddit/dataDelivery/business.ts).
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import (
    json_body,
    query_value,
    request_params_dict,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_PIXEL_HOST = "alb.reddit.com"
_LEGACY_PATHS = ("/snoo.gif", "/snoo.gif/")
_PIXEL_PATHS = ("/rp.gif", "/rp.gif/", "/rp", "/rp/", *_LEGACY_PATHS)
_CAPI_HOST = "ads-api.reddit.com"
_CAPI_V2 = re.compile(r"^/api/v2\.0/conversions/events/(?P<account>[^/]+)/?$")
_CAPI_V3 = re.compile(r"^/api/v3/pixels/(?P<account>[^/]+)/conversion_events/?$")
_PIXEL_USER = {"em": "em", "external_id": "external_id", "aaid": "aaid", "idfa": "idfa", "pn": "ph"}
_CAPI_USER = {
    "email": "em",
    "phone_number": "ph",
    "external_id": "external_id",
    "aaid": "aaid",
    "idfa": "idfa",
    "ip_address": "ip_address",
    "user_agent": "user_agent",
}
_PIXEL_KNOWN = {
    "id",
    "event",
    "m.value",
    "m.valueDecimal",
    "m.currency",
    "m.conversionId",
    "m.transactionId",
    "click_id",
    "esurl",
    *_PIXEL_USER,
}


def _identifier_forms(values: dict[str, Any], names: dict[str, str]) -> dict[str, UserDataForm]:
    found: dict[str, UserDataForm] = {}
    for wire_name, kind in names.items():
        text = text_or_none(values.get(wire_name))
        if text:
            found[kind] = user_data_form(text)
    return found


def _click_id_from_page(page_url: str | None) -> str | None:
    return query_value(page_url, "rdt_cid") or None if page_url else None


# ISO 4217 currencies whose minor unit is not the cent: none (JPY, KRW...) or a thousandth (KWD, BHD...).
_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())


def _minor_digits(currency: str | None) -> int:
    """How many decimal digits the currency's minor unit has (2 when unknown or unsaid, as for most)."""
    code = (currency or "").strip().upper()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


@register
class RedditDecoder(Decoder):
    vendor = "reddit"
    profile = VendorProfile(
        tag_name="Reddit Pixel",
        platform_name="Reddit",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
    claim_hosts = (_PIXEL_HOST, _CAPI_HOST)
    volatile_params = frozenset({"ts", "uuid", "event_at"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _PIXEL_HOST:
            return path in _PIXEL_PATHS
        return host == _CAPI_HOST and method == "POST" and bool(_CAPI_V2.match(path) or _CAPI_V3.match(path))

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == _PIXEL_HOST:
            return pixel_reply(request)  # rp.gif is an image; the /rp fetch POST gets an empty 200
        return SinkholeReply(status=200, content_type="application/json", body=b"{}")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == _PIXEL_HOST:
            return self._decode_pixel(request)
        return self._decode_capi(request)

    def _decode_pixel(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        event = text_or_none(params.get("event"))
        if not event and request.path in _LEGACY_PATHS and text_or_none(params.get("q")):
            return [self._legacy_conversion(request, params)]
        if not event:
            return [self.malformed(request, "no event parameter")]
        page_url = text_or_none(params.get("esurl")) or request.header("referer")
        click = text_or_none(params.get("click_id")) or _click_id_from_page(page_url)
        # ``m.valueDecimal`` is the value in currency units; older pixels only sent ``m.value``.
        value = to_number(params.get("m.valueDecimal"))
        if value is None:
            value = to_number(params.get("m.value"))
        extra = {k: v for k, v in params.items() if k not in _PIXEL_KNOWN and v != ""}
        if value is None:
            # A value sent but unreadable ("12,55" from a decimal-comma locale, "undefined" from a GTM
            # variable) is no number, but kept as sent so the value check can show it: locales not guessed.
            raw_value = text_or_none(params.get("m.valueDecimal")) or text_or_none(params.get("m.value"))
            if raw_value:
                extra["value_raw"] = raw_value
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=text_or_none(params.get("id")),
                value=value,
                currency=text_or_none(params.get("m.currency")),
                event_id=text_or_none(params.get("m.conversionId")),
                transaction_id=text_or_none(params.get("m.transactionId")),
                click_ids={"rdt_cid": click} if click else {},
                user_data=_identifier_forms(params, _PIXEL_USER),
                page_url=page_url,
                source=self.source,
                params=extra,
            )
        ]

    def _legacy_conversion(self, request: CapturedRequest, params: dict[str, Any]) -> DecodedEvent:
        """A snoo.gif conversion: its advertiser and event sit in the opaque ``q``, so neither is read."""
        return new_event(
            vendor=self.vendor,
            event="conversion",
            page_url=request.header("referer"),
            source=self.source,
            params={k: v for k, v in params.items() if v != ""},
        )

    def _decode_capi(self, request: CapturedRequest) -> list[DecodedEvent]:
        path_match = _CAPI_V2.match(request.path) or _CAPI_V3.match(request.path)
        account = path_match["account"] if path_match else None
        body = json_body(request)
        container = (
            body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
        )
        items = container.get("events") if isinstance(container, dict) else None
        if not isinstance(items, list) or not items:
            return [self.malformed(request, "Conversions API body has no events list")]
        return [self._capi_event(request, account, item) for item in items]

    def _capi_event(self, request: CapturedRequest, account: str | None, item: Any) -> DecodedEvent:
        if not isinstance(item, dict):
            return self.malformed(request, "Conversions API event is not an object")
        kind = item.get("event_type") if isinstance(item.get("event_type"), dict) else item.get("type")
        name = text_or_none(kind.get("tracking_type")) if isinstance(kind, dict) else None
        if not name:
            return self.malformed(request, "Conversions API event without a tracking_type")
        metadata_raw = item.get("event_metadata", item.get("metadata"))
        metadata: dict[str, Any] = metadata_raw if isinstance(metadata_raw, dict) else {}
        user: dict[str, Any] = item["user"] if isinstance(item.get("user"), dict) else {}
        currency = text_or_none(metadata.get("currency"))
        value = to_number(metadata.get("value_decimal"))
        minor_units = to_number(metadata.get("value")) if value is None else None
        if minor_units is not None:
            # v2.0's event_metadata.value is in the currency's minor units (Reddit's example pairs value 1099
            # with value_decimal 10.99); v3's metadata.value is in whole units.
            value = minor_units / 10 ** _minor_digits(currency) if "event_metadata" in item else minor_units
        click = text_or_none(item.get("click_id"))
        params: dict[str, Any] = {
            k: v
            for k, v in item.items()
            if k not in ("event_type", "type", "click_id", "user", "event_metadata", "metadata")
        }
        params.update({f"user.{k}": v for k, v in user.items() if k not in _CAPI_USER})
        if isinstance(kind, dict) and kind.get("custom_event_name") is not None:
            params["custom_event_name"] = kind["custom_event_name"]
        params.update(
            {
                f"metadata.{k}": v
                for k, v in metadata.items()
                if k not in ("value", "value_decimal", "currency", "conversion_id")
            }
        )
        if minor_units is not None and "event_metadata" in item:
            params["metadata.value"] = metadata["value"]  # as sent, in minor units
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=account,
            value=value,
            currency=currency,
            event_id=text_or_none(metadata.get("conversion_id")),
            click_ids={"rdt_cid": click} if click else {},
            user_data=_identifier_forms(user, _CAPI_USER),
            page_url=text_or_none(item.get("event_source_url")),
            source="server",
            params=params,  # from json_body: safe already (parse_json), and shallower here than there
        )
