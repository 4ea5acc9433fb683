"""LinkedIn Insight Tag hits and LinkedIn Conversions API calls.

Wire shapes (px., px4. and dc.ads.linkedin.com all carry them; px4 mirrors px and adds ``e_ipv6``):

- ``GET /collect/?pid=..&fmt=gif|js&url=..&time=..[&conversionId=..][&eventId=..]``: a page view, or a
  conversion when ``conversionId`` is present. ``pid`` may join several partner IDs with commas.
- ``POST /wa/?medium=fetch&fmt=g``: a "website signal" (PAGE_VISIT, CLICK, ...) as JSON
  ``{pids, scriptVersion, time, domain, url, pageTitle, websiteSignalRequestId, liFatId, hem, signalType}``;
  newer tag versions send that JSON gzipped and base64-encoded.
- ``GET /attribution_trigger?pid=..&time=..&url=..``: the tag's attribution ping.

``snap.licdn.com/li.lms-analytics/insight.min.js`` is the script, never a hit.

Server-side, the Conversions API takes ``POST api.linkedin.com/rest/conversionEvents`` (headers
``LinkedIn-Version: yyyymm``, ``X-Restli-Protocol-Version: 2.0.0``, ``Authorization: Bearer ..``) with one
event as the body, or with ``X-RestLi-Method: BATCH_CREATE`` a batch ``{"elements": [...]}``. An event is
``{conversion: "urn:lla:llaPartnerConversion:<rule id>", conversionHappenedAt: <epoch ms>,
conversionValue: {currencyCode, amount}, eventId, user: {userIds: [{idType, idValue}], userInfo:
{firstName, lastName, companyName, title, countryCode}}}`` (LinkedIn's API reference and Postman collection;
Segment's linkedin-conversions and RudderStack's linkedin_ads send exactly that). ``eventId`` is the key
LinkedIn deduplicates Insight Tag and Conversions API events of one conversion rule on, and the rule ID is
the tag's ``conversionId``: so a server event is named ``conversion`` as the tag's conversion hit is, with
the rule ID under the same ``conversionId`` param, and the two can be matched. The body names no partner
(Insight Tag) ID, hence no ``account_id``. A single create is answered ``201 Created`` with an empty body
(the ID rides in an ``x-restli-id`` header, which a sinkhole reply cannot set), a batch ``200`` with
``{"elements": [{"status": 201}, ...]}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.wire import (
    gunzipped,
    json_body,
    json_safe,
    loads_json,
    number_keeping_raw,
    query_dict,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_HOSTS = (".ads.linkedin.com",)
_COLLECT_PATHS = ("/collect", "/collect/")
_SIGNAL_PATHS = ("/wa", "/wa/")
_ATTRIBUTION_PATHS = ("/attribution_trigger", "/attribution_trigger/")
_HIT_PATHS = frozenset(_COLLECT_PATHS + _SIGNAL_PATHS + _ATTRIBUTION_PATHS)
# A gzipped /wa/ body is a few KB; refuse to inflate past this so a hostile body cannot balloon.
_MAX_INFLATED = 1 << 20
_CAPI_HOST = "api.linkedin.com"
_CAPI_PATHS = ("/rest/conversionEvents", "/rest/conversionEvents/")
_CONVERSION_URN = re.compile(r"^urn:lla:llaPartnerConversion:(?P<id>[^:\s]+)$")
_CLICK_ID_TYPE = "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID"  # the li_fat_id cookie's value
# user.userIds idTypes -> user_data keys (SHA256_EMAIL keeps eventpath's short name for an email).
_ID_TYPES = {
    "SHA256_EMAIL": "em",
    "ACXIOM_ID": "acxiom_id",
    "ORACLE_MOAT_ID": "oracle_moat_id",
    "PLAINTEXT_IP_ADDRESS": "ip",
    "SHA256_IP_ADDRESS": "ip",
    "GOOGLE_AID": "gaid",
}
# user.userInfo fields, which LinkedIn takes unhashed (personal data all the same) -> user_data keys.
_USER_INFO = {
    "firstName": "fn",
    "lastName": "ln",
    "companyName": "company",
    "title": "title",
    "countryCode": "country",
}
_CAPI_KNOWN = {"conversion", "conversionValue", "eventId", "user"}


def _partner_ids(raw: Any) -> list[str]:
    """``pid=15939,543`` (one beacon for several tags) or a JSON ``pids`` list, as separate IDs."""
    if isinstance(raw, list):
        items = [text_or_none(item) for item in raw]
    else:
        items = [part.strip() for part in (text_or_none(raw) or "").split(",")]
    return [item for item in items if item]


def _click_id_from_url(url: str | None) -> str | None:
    if not url:
        return None
    return query_value(url, "li_fat_id") or None


def _signal_payload(request: CapturedRequest) -> dict[str, Any] | None:
    """The /wa/ JSON, whether sent plain or as base64(gzip(JSON))."""
    body = json_body(request)
    if isinstance(body, dict):
        return body
    text = request.text.strip()
    if not text:
        return None
    try:
        packed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    inflated = gunzipped(packed, _MAX_INFLATED)
    if inflated is None:
        return None
    try:
        decoded = loads_json(inflated.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


@register
class LinkedInDecoder(Decoder):
    vendor = "linkedin"
    profile = VendorProfile(
        tag_name="LinkedIn Insight Tag",
        platform_name="LinkedIn",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
    )
    claim_hosts = (*_HOSTS, _CAPI_HOST)
    volatile_params = frozenset(
        {"time", "e_ipv6", "websiteSignalRequestId", "liGiant", "scriptVersion", "conversionHappenedAt"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _CAPI_HOST:
            return method == "POST" and path in _CAPI_PATHS
        return host_matches(host, _HOSTS) and path in _HIT_PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == _CAPI_HOST:
            return _capi_reply(request)
        # /collect is loaded as an image (fmt=gif, and the tag's fmt=js beacon is an Image() too).
        if request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == _CAPI_HOST:
            return self._decode_capi(request)
        if request.path in _SIGNAL_PATHS:
            return self._decode_signal(request)
        return self._decode_collect(request)

    def _decode_collect(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        pids = _partner_ids(params.get("pid"))
        if not pids:
            return [self.malformed(request, "no partner id (pid)")]
        conversion_id = text_or_none(params.get("conversionId"))
        if request.path in _ATTRIBUTION_PATHS:
            event = "attribution_trigger"
        else:
            event = "conversion" if conversion_id else "pageview"
        page_url = text_or_none(params.get("url")) or request.header("referer")
        click_id = text_or_none(params.get("li_fat_id")) or _click_id_from_url(page_url)
        event_id = text_or_none(params.get("eventId")) or text_or_none(params.get("event_id"))
        extra = {k: v for k, v in params.items() if k not in ("pid", "url", "li_fat_id")}
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=pid,
                event_id=event_id,
                click_ids={"li_fat_id": click_id} if click_id else {},
                page_url=page_url,
                source=self.source,
                params=json_safe(extra),
            )
            for pid in pids
        ]

    def _decode_signal(self, request: CapturedRequest) -> list[DecodedEvent]:
        payload = _signal_payload(request)
        if payload is None:
            return [self.malformed(request, "website-signal body is neither JSON nor base64(gzip(JSON))")]
        pids = _partner_ids(payload.get("pids"))
        if not pids:
            return [self.malformed(request, "website signal without partner ids (pids)")]
        event = text_or_none(payload.get("signalType")) or "PAGE_VISIT"
        page_url = (
            text_or_none(payload.get("url"))
            or text_or_none(payload.get("pageUrl"))
            or request.header("referer")
        )
        click_id = text_or_none(payload.get("liFatId")) or _click_id_from_url(page_url)
        hashed_email = text_or_none(payload.get("hem"))
        conversion_id = text_or_none(payload.get("conversionId"))
        if conversion_id and event == "PAGE_VISIT":
            event = "conversion"
        event_id = text_or_none(payload.get("eventId")) or text_or_none(payload.get("event_id"))
        extra = {k: v for k, v in payload.items() if k not in ("pids", "url", "pageUrl", "liFatId", "hem")}
        extra.update(query_dict(request.url))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=pid,
                event_id=event_id,
                click_ids={"li_fat_id": click_id} if click_id else {},
                user_data={"em": user_data_form(hashed_email)} if hashed_email else {},
                page_url=page_url,
                source=self.source,
                params=json_safe(extra),
            )
            for pid in pids
        ]

    def _capi_malformed(self, request: CapturedRequest, reason: str) -> DecodedEvent:
        """The one event of an unreadable Conversions API call: a server event, wherever it was sent from."""
        event = self.malformed(request, reason)
        event.source = "server"
        return event

    def _decode_capi(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        if not isinstance(body, dict):
            return [self._capi_malformed(request, "Conversions API body is not a JSON object")]
        entries = _capi_entries(request, body)
        if entries is None:
            return [self._capi_malformed(request, "Conversions API BATCH_CREATE body has no elements list")]
        if not entries:
            return [self._capi_malformed(request, "Conversions API BATCH_CREATE with an empty elements list")]
        shared: dict[str, Any] = {}
        if version := text_or_none(request.header("linkedin-version")):
            shared["api_version"] = version
        if method := text_or_none(request.header("x-restli-method")):
            shared["restli_method"] = method
        if request.header("authorization"):
            shared["access_token_present"] = True  # a credential: recorded as present, never copied
        return [self._capi_event(request, entry, shared) for entry in entries]

    def _capi_event(self, request: CapturedRequest, entry: Any, shared: dict[str, Any]) -> DecodedEvent:
        if not isinstance(entry, dict):
            return self._capi_malformed(request, "Conversions API event is not an object")
        urn = text_or_none(entry.get("conversion"))
        match = _CONVERSION_URN.match(urn) if urn else None
        if not match:
            return self._capi_malformed(
                request, "Conversions API event without a conversion rule (urn:lla:llaPartnerConversion:<id>)"
            )
        value_raw = entry.get("conversionValue")
        money: dict[str, Any] = value_raw if isinstance(value_raw, dict) else {}
        user_raw = entry.get("user")
        user: dict[str, Any] = user_raw if isinstance(user_raw, dict) else {}
        user_data, click_id, hashed_emails, id_types = _capi_user(user)
        params: dict[str, Any] = {**shared, "conversion": urn, "conversionId": match["id"]}
        params.update({k: v for k, v in entry.items() if k not in _CAPI_KNOWN})
        if id_types:
            params["user.idTypes"] = id_types
        if hashed_emails:
            params["hashed_emails"] = hashed_emails  # SHA-256 digests only, for attribution.py
        value = number_keeping_raw(money.get("amount"), params)
        return new_event(
            vendor=self.vendor,
            event="conversion",  # as the Insight Tag names a conversion hit; the rule is conversionId
            value=value,
            currency=text_or_none(money.get("currencyCode")),
            event_id=text_or_none(entry.get("eventId")),
            click_ids={"li_fat_id": click_id} if click_id else {},
            user_data=user_data,
            source="server",
            params=params,  # from json_body: safe already (parse_json)
        )


def _capi_entries(request: CapturedRequest, body: dict[str, Any]) -> list[Any] | None:
    """The events of a Conversions API body: ``elements`` of a batch, else the body itself (one event).
    None when a batch has no readable ``elements`` list."""
    elements = body.get("elements")
    if isinstance(elements, list):
        return elements
    if (request.header("x-restli-method") or "").strip().upper() == "BATCH_CREATE":
        return None
    return [body]


def _capi_user(
    user: dict[str, Any],
) -> tuple[dict[str, UserDataForm], str | None, list[str], list[str]]:
    """``user`` read: identifier forms (never values), the li_fat_id, SHA-256 email digests, idTypes sent."""
    forms: dict[str, UserDataForm] = {}
    click_id: str | None = None
    hashed: list[str] = []
    id_types: list[str] = []
    ids = user.get("userIds")
    for item in ids if isinstance(ids, list) else []:
        if not isinstance(item, dict):
            continue
        id_type = text_or_none(item.get("idType"))
        value = text_or_none(item.get("idValue"))
        if not id_type or not value:
            continue
        id_types.append(id_type)
        if id_type == _CLICK_ID_TYPE:
            click_id = click_id or value
            continue
        form = user_data_form(value)
        key = _ID_TYPES.get(id_type, id_type.lower())
        forms[key] = "raw" if forms.get(key) == "raw" else form  # one raw value makes the key raw
        if key == "em" and form == "sha256":
            hashed.append(value.lower())
    external = user.get("externalIds")
    for value in external if isinstance(external, list) else []:
        if text := text_or_none(value):
            forms["external_id"] = "raw" if forms.get("external_id") == "raw" else user_data_form(text)
    info = user.get("userInfo")
    if isinstance(info, dict):
        for wire_name, key in _USER_INFO.items():
            if text := text_or_none(info.get(wire_name)):
                forms[key] = user_data_form(text)
    return forms, click_id, hashed, id_types


def _capi_reply(request: CapturedRequest) -> SinkholeReply:
    """What the Conversions API answers a create: 201 and no body for one event; for a BATCH_CREATE, 200 and
    one ``{"status": 201}`` per element, in order."""
    body = json_body(request)
    elements = body.get("elements") if isinstance(body, dict) else None
    batch = (request.header("x-restli-method") or "").strip().upper() == "BATCH_CREATE"
    if not batch and not isinstance(elements, list):
        return SinkholeReply(status=201)
    count = len(elements) if isinstance(elements, list) else 0
    reply = {"elements": [{"status": 201}] * count}
    return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
