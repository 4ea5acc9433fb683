"""Snap Pixel hits and Snap Conversions API calls.

The pixel (``sc-static.net/scevent.min.js``, never a hit) sends ``tr.snapchat.com/p`` (also the IPv6 twin
``tr6.snapchat.com`` and ``tr-shadow.snapchat.com``) as a form POST or a GET with ``pid`` (pixel ID), ``ev``
(PAGE_VIEW, PURCHASE, ...), ``pl`` (page URL), ``ts``, ``u_hem``/``u_hpn`` (hashed email/phone) and the
event parameters, which the script spells ``e_pr`` (price), ``e_cur``, ``e_tid`` (transaction),
``e_ni`` ... and ``<noscript>`` images and hand-built hits spell plainly (``price``, ``currency``,
``transaction_id``, ``client_dedup_id``). The dedup ID travels as ``cdid`` (the script's name for
``client_dedup_id``); name, age and address identifiers as ``u_fn``, ``u_ln``, ``u_age``, ``l_city``, ``l_gr``,
``l_gpc``, ``l_gc`` ... ``tr.snapchat.com/cm/...`` are cookie syncs, not events.
Newer scevent.min.js builds POST ``/p`` a JSON batch ``{"ctx": {...}, "req": [...]}`` whose entries are
``{"t": {pid, ev, ...}}`` (a tracked event, same fields), ``{"i": {"pids": [...]}}`` (pixel init) or
``{"log": {...}}`` (the script's own telemetry); only ``t`` entries are events, so a batch of ``i``/``log``
entries alone decodes to none.

Server-side: ``POST tr.snapchat.com/v3/<pixel>/events`` (``{"data": [...]}``, Meta-CAPI-like fields) and
its Test Event Tool twin ``POST tr.snapchat.com/v3/<pixel>/events/validate`` (same body; Snap validates the events
and does not count them: developers.snap.com/api/marketing-api/Conversions-API/VerifySetUp; PostHog's Snapchat
destination posts there in test mode, PostHog/posthog cdp/templates/snapchat_ads), and
the older ``POST tr.snapchat.com/v2/conversion`` (one event object or a list of them, identifiers as
``hashed_email``, ``hashed_first_name_sha``, ``hashed_zip`` ...).
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
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
_CAPI_V3 = re.compile(r"^/v3/(?P<pixel>[^/]+)/events(?P<validate>/validate)?/?$")
_CAPI_V2 = ("/v2/conversion", "/v2/conversion/")

# Pixel parameter spellings, script form first. Each maps to one DecodedEvent field.
_PRICE = ("e_pr", "price")
_CURRENCY = ("e_cur", "currency")
_TRANSACTION = ("e_tid", "transaction_id")
_DEDUP = ("cdid", "client_dedup_id", "client_deduplication_id", "e_cdid", "e_client_dedup_id")
# Identifiers, under the short names the other decoders use (Meta's). Wire names from scevent.min.js's own map
# (user_hashed_email -> u_hem, firstname -> u_fn, age -> u_age, geo_city -> l_city, geo_region -> l_gr,
# geo_postal_code -> l_gpc, geo_country -> l_gc ...), then the plain names. The script hashes only email, phone
# and MAID itself and sends the rest as the site gave them, so each is reported by its form. u_hed (a digest of
# the email's domain) names no person and stays in params.
_USER = {
    "u_hem": "em",
    "u_em": "em",
    "user_email": "em",
    "user_hashed_email": "em",
    "u_hpn": "ph",
    "u_pn": "ph",
    "u_hph": "ph",
    "user_phone_number": "ph",
    "user_hashed_phone_number": "ph",
    "u_hmai": "madid",
    "u_mai": "madid",
    "user_mobile_ad_id": "madid",
    "user_hashed_mobile_ad_id": "madid",
    "u_fn": "fn",
    "firstname": "fn",
    "u_ln": "ln",
    "lastname": "ln",
    "u_age": "age",
    "age": "age",
    "u_gd": "ge",
    "gender": "ge",
    "l_city": "ct",
    "geo_city": "ct",
    "l_gr": "st",
    "geo_region": "st",
    "l_gpc": "zp",
    "geo_postal_code": "zp",
    "l_gc": "country",
    "geo_country": "country",
    "l_addr": "street",
    "geo_address": "street",
    "c_ip": "client_ip_address",
    "ip_address": "client_ip_address",
}
_KNOWN = {"pid", "ev", "pl", *_PRICE, *_CURRENCY, *_TRANSACTION, *_DEDUP, *_USER}

# Conversions API v3 user_data keys are Meta's short names already (Snap's Parameters page: em, ph, fn, ln, ge,
# db, ct, st, zp, country, external_id, client_ip_address, client_user_agent, sc_cookie1, idfv, madid ...), so
# each is kept under its own name, unknown ones too; sc_click_id is the click ID.
_CAPI_V3_CLICK = "sc_click_id"
# Conversions API v2 identifiers (Snap Business SDK's CapiEvent), by the same short names. Any other hashed_*
# field (the *_sdx soundex digests...) is reported under its own name; never copied to params.
_CAPI_V2_USER = {
    "hashed_email": "em",
    "hashed_phone_number": "ph",
    "hashed_mobile_ad_id": "madid",
    "hashed_idfv": "idfv",
    "hashed_ip_address": "client_ip_address",
    "user_agent": "client_user_agent",
    "hashed_first_name_sha": "fn",
    "hashed_middle_name_sha": "mn",
    "hashed_last_name_sha": "ln",
    "hashed_city_sha": "ct",
    "hashed_state_sha": "st",
    "hashed_zip": "zp",
    "hashed_dob_month": "dobm",
    "hashed_dob_day": "dobd",
}
_CAPI_V2_KNOWN = frozenset(
    {
        "pixel_id",
        "event_type",
        "price",
        "currency",
        "client_dedup_id",
        "transaction_id",
        "page_url",
        "click_id",
    }
)


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


def _identifier_text(value: Any) -> str | None:
    """An identifier's text; a list (CAPI v3 sends ``em: [..]``) gives its first item."""
    first = value[0] if isinstance(value, list) and value else value
    return text_or_none(first)


def _identifier_forms(values: dict[str, Any], names: dict[str, str]) -> dict[str, UserDataForm]:
    """``names`` maps a wire name to its identifier kind; the first wire name found for a kind wins."""
    found: dict[str, UserDataForm] = {}
    for wire_name, kind in names.items():
        text = _identifier_text(values.get(wire_name))
        if text and kind not in found:
            found[kind] = user_data_form(text)
    return found


def _unread(values: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The non-empty values under ``names`` that are no identifier text (an object, a list of objects): kept
    in params rather than dropped."""
    return {
        k: values[k]
        for k in names
        if k in values and values[k] not in ("", None, [], {}) and not _identifier_text(values[k])
    }


@register
class SnapchatDecoder(Decoder):
    vendor = "snapchat"
    profile = VendorProfile(
        tag_name="Snap Pixel",
        platform_name="Snapchat",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
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
            click = text_or_none(user.get(_CAPI_V3_CLICK))
            identifiers = {k: k for k in user if k != _CAPI_V3_CLICK}
            extra = server_event_extra(item, custom)
            if match and match["validate"]:
                extra["validate"] = True  # a Test Event Tool call: validated, never counted as a conversion
            extra.update({f"user_data.{k}": v for k, v in _unread(user, identifiers).items()})
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
                    user_data=_identifier_forms(user, identifiers),
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
            identifiers: dict[str, str] = {
                k: _CAPI_V2_USER.get(k, k)
                for k in map(str, item)
                if k in _CAPI_V2_USER or k.startswith("hashed_")
            }
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
                    user_data=_identifier_forms(item, identifiers),
                    page_url=text_or_none(item.get("page_url")),
                    source="server",
                    # From json_body: safe already (parse_json), and shallower here than in the body.
                    params={
                        **{k: v for k, v in item.items() if k not in _CAPI_V2_KNOWN and k not in identifiers},
                        **_unread(item, identifiers),
                    },
                )
            )
        return events
