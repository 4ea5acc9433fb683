"""Snap Pixel hits and Snap Conversions API calls.

The pixel (``sc-static.net/scevent.min.js``, never a hit) sends ``tr.snapchat.com/p`` (also the IPv6 twin
``tr6.snapchat.com`` and ``tr-shadow.snapchat.com``) as a form POST or a GET with ``pid`` (pixel ID), ``ev``
(PAGE_VIEW, PURCHASE, ...), ``pl`` (page URL), ``ts``, ``u_hem``/``u_hpn`` (hashed email/phone) and the
event parameters, which the script spells ``e_pr`` (price), ``e_cur``, ``e_tid`` (transaction),
``e_ni`` ... and ``<noscript>`` images and hand-built hits spell plainly (``price``, ``currency``,
``transaction_id``, ``client_dedup_id``). ``tr.snapchat.com/cm/...`` are cookie syncs, not events.
Newer scevent.min.js builds POST ``/p`` a JSON batch ``{"ctx": {...}, "req": [...]}`` whose entries are
``{"t": {pid, ev, ...}}`` (a tracked event, same fields), ``{"i": {"pids": [...]}}`` (pixel init) or
``{"log": {...}}`` (the script's own telemetry); only ``t`` entries are events, so a batch of ``i``/``log``
entries alone decodes to none.

Server-side: ``POST tr.snapchat.com/v3/<pixel>/events`` (``{"data": [...]}``, Meta-CAPI-like fields) and
the older ``POST tr.snapchat.com/v2/conversion`` (one event object or a list of them).
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, new_event, register
from harness.decoders.wire import (
    json_body,
    query_value,
    request_params_dict,
    server_event_extra,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_PIXEL_HOSTS = ("tr.snapchat.com", "tr6.snapchat.com", "tr-shadow.snapchat.com")
_PIXEL_PATHS = ("/p", "/gateway/p")
_CAPI_HOST = "tr.snapchat.com"
_CAPI_V3 = re.compile(r"^/v3/(?P<pixel>[^/]+)/events/?$")
_CAPI_V2 = ("/v2/conversion", "/v2/conversion/")

# Pixel parameter spellings, script form first. Each maps to one DecodedEvent field.
_PRICE = ("e_pr", "price")
_CURRENCY = ("e_cur", "currency")
_TRANSACTION = ("e_tid", "transaction_id")
_DEDUP = ("client_dedup_id", "e_cdid", "e_client_dedup_id")
_USER = {"u_hem": "em", "u_hpn": "ph", "u_hph": "ph", "user_email": "em", "user_phone_number": "ph"}
_KNOWN = {"pid", "ev", "pl", *_PRICE, *_CURRENCY, *_TRANSACTION, *_DEDUP, *_USER}


def _first(params: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        text = text_or_none(params.get(name))
        if text:
            return text
    return None


def _click_id(params: dict[str, Any], page_url: str | None) -> dict[str, str]:
    click = _first(params, ("ScCid", "sc_click_id", "click_id"))
    if not click and page_url:
        click = query_value(page_url, "ScCid") or None
    return {"ScCid": click} if click else {}


def _identifier_forms(values: dict[str, Any], names: dict[str, str]) -> dict[str, UserDataForm]:
    """``names`` maps a wire name to its identifier kind; lists (CAPI v3 sends ``em: [..]``) use the first."""
    found: dict[str, UserDataForm] = {}
    for wire_name, kind in names.items():
        value = values.get(wire_name)
        first = value[0] if isinstance(value, list) and value else value
        text = text_or_none(first)
        if text and kind not in found:
            found[kind] = user_data_form(text)
    return found


@register
class SnapchatDecoder(Decoder):
    vendor = "snapchat"
    claim_hosts = _PIXEL_HOSTS  # the Conversions API host is one of them
    volatile_params = frozenset(
        {
            "ts",
            "u_c1",
            "u_scsid",
            "u_sclid",
            "m_sl",
            "m_rd",
            "m_pi",
            "m_pl",
            "m_ic",
            "event_time",
            "timestamp",
        }
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host in _PIXEL_HOSTS and path in _PIXEL_PATHS:
            return True
        return host == _CAPI_HOST and method == "POST" and (path in _CAPI_V2 or bool(_CAPI_V3.match(path)))

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path in _PIXEL_PATHS:
            if request.method == "GET":
                return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
            return SinkholeReply(status=200)
        return SinkholeReply(status=200, content_type="application/json", body=b'{"status":"SUCCESS"}')

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.path in _PIXEL_PATHS:
            return self._decode_pixel(request)
        if request.path in _CAPI_V2:
            return self._decode_capi_v2(request)
        return self._decode_capi_v3(request)

    def _decode_pixel(self, request: CapturedRequest) -> list[DecodedEvent]:
        params: dict[str, Any] = request_params_dict(request)
        body = json_body(request)
        if isinstance(body, dict) and isinstance(body.get("req"), list):
            return self._decode_pixel_batch(request, params, body)
        if isinstance(body, dict):  # some integrations post the same fields as JSON
            params = {**body, **params}
        return [self._pixel_event(request, params)]

    def _decode_pixel_batch(
        self, request: CapturedRequest, query: dict[str, Any], body: dict[str, Any]
    ) -> list[DecodedEvent]:
        """The ``t`` entries of a ``{"ctx", "req"}`` batch, each over the shared ``ctx`` fields."""
        if not body["req"]:
            return [self.malformed(request, "empty req batch")]
        ctx: dict[str, Any] = body["ctx"] if isinstance(body.get("ctx"), dict) else {}
        events = []
        for entry in body["req"]:
            if not isinstance(entry, dict) or "t" not in entry:
                continue  # pixel init (i) and telemetry (log) entries carry no event
            tracked = entry["t"]
            if not isinstance(tracked, dict):
                events.append(self.malformed(request, "batch entry t is not an object"))
                continue
            events.append(self._pixel_event(request, {**ctx, **query, **tracked}, page_key="url"))
        return events

    def _pixel_event(
        self, request: CapturedRequest, params: dict[str, Any], page_key: str | None = None
    ) -> DecodedEvent:
        event = text_or_none(params.get("ev")) or text_or_none(params.get("e"))
        if not event:
            return self.malformed(request, "no event name (ev)")
        page_url = (
            text_or_none(params.get("pl"))
            or (text_or_none(params.get(page_key)) if page_key else None)
            or request.header("referer")
        )
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=text_or_none(params.get("pid")),
            value=to_number(_first(params, _PRICE)),
            currency=_first(params, _CURRENCY),
            event_id=_first(params, _DEDUP),
            transaction_id=_first(params, _TRANSACTION),
            click_ids=_click_id(params, page_url),
            user_data=_identifier_forms(params, _USER),
            page_url=page_url,
            source=self.source,
            # Query strings and json_body values: safe already (parse_json), at the depth they had.
            params={k: v for k, v in params.items() if k not in _KNOWN and k != "e"},
        )

    def _decode_capi_v3(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _CAPI_V3.match(request.path)
        pixel = match["pixel"] if match else None
        body = json_body(request)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return [self.malformed(request, "Conversions API v3 body has no data list")]
        events = []
        for item in items:
            name = text_or_none(item.get("event_name")) if isinstance(item, dict) else None
            if not isinstance(item, dict) or not name:
                events.append(self.malformed(request, "Conversions API event without event_name"))
                continue
            custom = item["custom_data"] if isinstance(item.get("custom_data"), dict) else {}
            user = item["user_data"] if isinstance(item.get("user_data"), dict) else {}
            click = text_or_none(user.get("sc_click_id"))
            extra = server_event_extra(item, custom)
            events.append(
                new_event(
                    vendor=self.vendor,
                    event=name,
                    account_id=pixel,
                    value=to_number(custom.get("value")),
                    currency=text_or_none(custom.get("currency")),
                    event_id=text_or_none(item.get("event_id")),
                    transaction_id=text_or_none(custom.get("order_id")),
                    click_ids={"ScCid": click} if click else {},
                    user_data=_identifier_forms(
                        user, {"em": "em", "ph": "ph", "madid": "madid", "external_id": "external_id"}
                    ),
                    page_url=text_or_none(item.get("event_source_url")),
                    source="server",
                    params=extra,  # from json_body: safe already (parse_json), and shallower here
                )
            )
        return events

    def _decode_capi_v2(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        if not items:
            return [self.malformed(request, "Conversions API v2 body is not a JSON event or list")]
        events = []
        for item in items:
            name = text_or_none(item.get("event_type")) if isinstance(item, dict) else None
            if not isinstance(item, dict) or not name:
                events.append(self.malformed(request, "Conversions API v2 event without event_type"))
                continue
            click = text_or_none(item.get("click_id"))
            known = (
                "pixel_id",
                "event_type",
                "price",
                "currency",
                "client_dedup_id",
                "transaction_id",
                "page_url",
                "click_id",
            )
            events.append(
                new_event(
                    vendor=self.vendor,
                    event=name,
                    account_id=text_or_none(item.get("pixel_id")),
                    value=to_number(item.get("price")),
                    currency=text_or_none(item.get("currency")),
                    event_id=text_or_none(item.get("client_dedup_id")),
                    transaction_id=text_or_none(item.get("transaction_id")),
                    click_ids={"ScCid": click} if click else {},
                    user_data=_identifier_forms(
                        item,
                        {"hashed_email": "em", "hashed_phone_number": "ph", "hashed_mobile_ad_id": "madid"},
                    ),
                    page_url=text_or_none(item.get("page_url")),
                    source="server",
                    # From json_body: safe already (parse_json), and shallower here than in the body.
                    params={k: v for k, v in item.items() if k not in known and not k.startswith("hashed_")},
                )
            )
        return events
