"""Microsoft Advertising UET: the hits ``bat.js`` sends to ``bat.bing.com/action/0``, and UET Conversions
API (CAPI) calls.

Page loads (``evt=pageLoad``) and custom events (``evt=custom`` with ``ea``/``ec``/``el``/``ev``
and revenue ``gv``/``gc``) go as image GETs to ``/action/0``; ``pageHide`` and consent updates
(``evt=consent&src=update``) go as text/plain beacons to ``/actionp/0``. ``bat.bing.net`` is the
newer host for both, ``bat.r.msn.com`` the legacy one. ``bat.js`` and ``/p/action/<ti>.js`` are
scripts, not hits. Enhanced conversions (``uetq.push('set', {pid: {em, ph}})``) send the identifiers
in ``pid`` as a urlencoded ``em=..&ph=..``.

Server-side, the UET Conversions API takes ``POST capi.uet.microsoft.com/v1/<UET tag ID>/events``
(``Authorization: Bearer <token>``) with ``{"data": [{eventType: pageLoad|custom, eventId, eventName,
eventTime (epoch s), eventSourceUrl, pageLoadId, referrerUrl, pageTitle, keywords, adStorageConsent: G|D,
userData: {em, ph, msclkid, anonymousId, externalId, clientIpAddress, clientUserAgent, idfa, gaid},
customData: {value, currency, transactionId, eventCategory, eventLabel, eventValue, searchTerm, itemIds,
pageType, ecommTotalValue, ecommCategory, items, hotelData}}], continueOnValidationError, dataProvider}``
(Microsoft Advertising's "Conversions API (CAPI) Guide"; Segment's ms-bing-capi and Stape's Microsoft
CAPI tag send exactly that). A custom event is named by ``eventName`` as a browser custom hit is by its
action ``ea`` (a page load by its type), ``customData.value`` is the revenue the tag sends as ``gv``, and
``eventId`` is the key Microsoft deduplicates tag and CAPI events on. The answer is ``200`` with
``{"eventsReceived": N}``.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from harness.decoders.base import (
    PIXEL_GIF,
    Decoder,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    register,
)
from harness.decoders.wire import json_body, request_params_dict, text_or_none, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query

UET_HOSTS = ("bat.bing.com", "bat.bing.net", "bat.r.msn.com")
_HIT_PATH = re.compile(r"^/actionp?/\d+/?$")

# asc is UET's own ad-storage consent flag (G granted, D denied), set by uetq.push('consent', ...).
_ASC_STATES = {"G": "granted", "D": "denied"}
# The no-click placeholder bat.js sends when it has no msclkid.
_NO_CLICK_ID = {"", "N"}
NUMERIC_PARAMS = frozenset({"ev", "sw", "sh", "sc", "lt", "pi"})
# Enhanced-conversion identifiers inside ``pid``, already under the short names eventpath uses.
_PID_IDENTIFIERS = ("em", "ph")
CAPI_HOST = "capi.uet.microsoft.com"
_CAPI_PATH = re.compile(r"^/v1/(?P<tag>[^/]+)/events/?$")
# Request-level fields of a CAPI body, kept on each of its events.
_CAPI_REQUEST_FIELDS = ("continueOnValidationError", "dataProvider")
# Event fields decoded into typed fields (the rest go to params as sent).
_CAPI_KNOWN = {
    "eventType",
    "eventName",
    "eventId",
    "eventSourceUrl",
    "adStorageConsent",
    "userData",
    "customData",
}
_CAPI_CUSTOM_KNOWN = {"value", "currency", "transactionId"}


def _pid_user_data(raw: Any) -> dict[str, UserDataForm]:
    """The forms of the identifiers ``pid`` carries (``em=<sha256>&ph=<sha256>``), so an address sent
    unhashed shows as raw. ``pid`` itself stays in params as sent."""
    text = text_or_none(raw)
    if not text or "=" not in text:
        return {}
    found: dict[str, UserDataForm] = {}
    for key, value in parse_query(text):
        identifier = text_or_none(value)
        if key in _PID_IDENTIFIERS and identifier and key not in found:
            found[key] = user_data_form(identifier)
    return found


@register
class BingUetDecoder(Decoder):
    vendor = "bing_uet"
    profile = VendorProfile(
        tag_name="Microsoft UET tag",
        platform_name="Microsoft UET",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("msclkid",),
        click_id_cookies={"msclkid": "_uetmsclkid"},
    )
    claim_hosts = (*UET_HOSTS, CAPI_HOST)
    source = "browser"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"rn", "mid", "sid", "vid", "lt", "bo", "vids", "eventTime", "pageLoadId"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == CAPI_HOST:
            return method == "POST" and bool(_CAPI_PATH.match(path))
        return bool(_HIT_PATH.match(path)) and host_matches(host, UET_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == CAPI_HOST:
            return self._decode_capi(request)
        params: dict[str, Any] = request_params_dict(request)
        tag_id = str(params.pop("ti", "")).strip()
        if not tag_id:
            return [self.malformed(request, "UET hit without ti (tag ID)")]
        evt = str(params.pop("evt", "")).strip()
        if not evt:
            # Microsoft's <noscript> tag is just ?ti=...&Ver=2 and counts as a page load.
            evt = "pageLoad"
            params["evt_implied"] = True
        else:
            params["evt"] = evt
        action = str(params.pop("ea", "")).strip()
        event_name = action if evt == "custom" and action else evt
        if action and event_name != action:
            params["ea"] = action

        value = to_number(params.pop("gv", None))
        currency = str(params.pop("gc", "")).strip() or None
        msclkid = str(params.pop("msclkid", "")).strip()
        asc = str(params.pop("asc", "")).strip()
        consent = new_consent(
            ad_storage=_ASC_STATES.get(asc),  # type: ignore[arg-type]
            other={"asc": asc} if asc else {},
        )
        page_url = str(params.pop("p", "")).strip() or request.header("referer")
        for key in NUMERIC_PARAMS & params.keys():
            number = to_number(params[key])
            if number is not None:
                params[key] = number

        return [
            new_event(
                vendor=self.vendor,
                event=event_name,
                account_id=tag_id,
                value=value,
                currency=currency,
                click_ids={} if msclkid in _NO_CLICK_ID else {"msclkid": msclkid},
                consent=consent,
                user_data=_pid_user_data(params.get("pid")),
                page_url=page_url or None,
                source=self.source,
                params=params,
            )
        ]

    def _capi_malformed(self, request: CapturedRequest, reason: str) -> DecodedEvent:
        """The one event of an unreadable Conversions API call: a server event, wherever it was sent from."""
        event = self.malformed(request, reason)
        event.source = "server"
        return event

    def _decode_capi(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _CAPI_PATH.match(request.path)
        tag_id = match["tag"] if match else None
        body = json_body(request)
        if not isinstance(body, dict):
            return [self._capi_malformed(request, "UET Conversions API body is not a JSON object")]
        items = body.get("data")
        if not isinstance(items, list) or not items:
            return [self._capi_malformed(request, "UET Conversions API body has no data list")]
        shared: dict[str, Any] = {k: body[k] for k in _CAPI_REQUEST_FIELDS if k in body}
        if request.header("authorization"):
            shared["access_token_present"] = True  # a credential: recorded as present, never copied
        return [self._capi_event(request, tag_id, item, shared) for item in items]

    def _capi_event(
        self, request: CapturedRequest, tag_id: str | None, item: Any, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(item, dict):
            return self._capi_malformed(request, "UET Conversions API event is not an object")
        event_type = text_or_none(item.get("eventType"))
        if not event_type:
            return self._capi_malformed(request, "UET Conversions API event without eventType")
        name = text_or_none(item.get("eventName"))
        custom_raw = item.get("customData")
        custom: dict[str, Any] = custom_raw if isinstance(custom_raw, dict) else {}
        user_raw = item.get("userData")
        user: dict[str, Any] = user_raw if isinstance(user_raw, dict) else {}
        msclkid = text_or_none(user.get("msclkid"))
        user_data: dict[str, UserDataForm] = {}
        for key, raw in user.items():
            text = text_or_none(raw)
            if key != "msclkid" and text:
                user_data[key] = user_data_form(text)
        consent_flag = text_or_none(item.get("adStorageConsent"))
        params: dict[str, Any] = {**shared, "eventType": event_type}
        if name and event_type != "custom":
            params["eventName"] = name  # named only on custom events, as the tag's action is
        params.update({k: v for k, v in item.items() if k not in _CAPI_KNOWN})
        params.update({f"customData.{k}": v for k, v in custom.items() if k not in _CAPI_CUSTOM_KNOWN})
        if anonymous := text_or_none(user.get("anonymousId")):
            params["anonymousId"] = anonymous  # the browser's UET visitor ID (_uetvid), not personal data
        value = to_number(custom.get("value"))
        if value is None and text_or_none(custom.get("value")):
            params["value_raw"] = text_or_none(custom.get("value"))
        return new_event(
            vendor=self.vendor,
            event=name if event_type == "custom" and name else event_type,
            account_id=tag_id,
            value=value,
            currency=text_or_none(custom.get("currency")),
            event_id=text_or_none(item.get("eventId")),
            transaction_id=text_or_none(custom.get("transactionId")),
            click_ids={"msclkid": msclkid} if msclkid else {},
            consent=new_consent(
                ad_storage=_ASC_STATES.get(consent_flag or ""),  # type: ignore[arg-type]
                other={"adStorageConsent": consent_flag} if consent_flag else {},
            ),
            user_data=user_data,
            page_url=text_or_none(item.get("eventSourceUrl")),
            source="server",
            params=params,  # from json_body: safe already (parse_json)
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == CAPI_HOST:
            # What the API answers a batch it took: how many events it received.
            body = json_body(request)
            items = body.get("data") if isinstance(body, dict) else None
            reply = {"eventsReceived": len(items) if isinstance(items, list) else 0}
            return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
        # /action/0 is loaded as an image; /actionp/0 beacons get an empty answer.
        if request.method == "GET" and not request.path.startswith("/actionp"):
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)
