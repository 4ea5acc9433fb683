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

Offline conversions (a CRM's sales matched to ad clicks) go to the Campaign Management service, SOAP 1.1:
``POST https://campaign.api.bingads.microsoft.com/Api/Advertiser/CampaignManagement/v13/
CampaignManagementService.svc`` (``campaign.api.sandbox.bingads.microsoft.com`` in the sandbox) with
``SOAPAction: "ApplyOfflineConversions"`` (or ``ApplyOfflineConversionAdjustments``,
``ApplyOnlineConversionAdjustments``; the same URL serves every other campaign method, which is no
conversion and not claimed). The envelope's header carries ``AuthenticationToken``, ``DeveloperToken``
(credentials, recorded as present only), ``CustomerId`` and ``CustomerAccountId``; its body one
``<ApplyOfflineConversionsRequest><OfflineConversions><OfflineConversion>`` per conversion with
ConversionName, ConversionTime, ConversionValue, ConversionCurrencyCode, MicrosoftClickId,
HashedEmailAddress, HashedPhoneNumber, ExternalAttributionCredit and ExternalAttributionModel (an
``OfflineConversionAdjustment`` has AdjustmentType, AdjustmentValue, AdjustmentCurrencyCode and
AdjustmentTime instead of the value, currency and attribution; an ``OnlineConversionAdjustment``
TransactionId instead of the click, time and identifiers). Names as in the WSDL that Microsoft's ``bingads``
SDK ships (v13), and as that SDK sends them (suds, ``tns:``/``ns1:`` prefixes: read by local name). Each
becomes a server ``conversion`` (or ``conversion_adjustment``) event; hashed emails are kept in
``params["hashed_emails"]`` for attribution. The XML is parsed only as UTF-8 and never with a DOCTYPE, so
no entity is ever expanded. The answer is the method's response envelope with no partial errors.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any, ClassVar, NamedTuple

from harness.decoders.base import (
    PIXEL_GIF,
    Decoder,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    register,
)
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    request_params_dict,
    text_or_none,
    to_number,
    user_data_form,
)
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

# Microsoft Advertising's Campaign Management service (SOAP), where offline conversions are uploaded.
CAMPAIGN_HOSTS = ("campaign.api.bingads.microsoft.com", "campaign.api.sandbox.bingads.microsoft.com")
_CAMPAIGN_PATH = re.compile(
    r"^/api/advertiser/campaignmanagement/(?P<version>v\d+)/campaignmanagementservice\.svc$", re.IGNORECASE
)
# SOAP action -> (the request's list element, its item element, the event name)
_SOAP_METHODS: dict[str, tuple[str, str, str]] = {
    "ApplyOfflineConversions": ("OfflineConversions", "OfflineConversion", "conversion"),
    "ApplyOfflineConversionAdjustments": (
        "OfflineConversionAdjustments",
        "OfflineConversionAdjustment",
        "conversion_adjustment",
    ),
    "ApplyOnlineConversionAdjustments": (
        "OnlineConversionAdjustments",
        "OnlineConversionAdjustment",
        "conversion_adjustment",
    ),
}
# Without a SOAPAction header, the method is the Body's first element: <ns1:ApplyOfflineConversionsRequest>.
# Looked for in the body's first bytes (the envelope header before it is short); no part of the pattern can
# run past the next "<", so the search stays linear whatever the body holds.
_BODY_METHOD = re.compile(r"<(?:[\w.-]+:)?Body\b[^<>]*>\s*<(?:[\w.-]+:)?(?P<method>\w+)Request[\s/>]")
_BODY_METHOD_SCAN = 64 * 1024
# Envelope header fields that are credentials: recorded as present, never copied.
_SOAP_CREDENTIALS = {
    "AuthenticationToken": "authentication_token_present",
    "DeveloperToken": "developer_token_present",
    "ApplicationToken": "application_token_present",
    "Password": "password_present",
    "UserName": "user_name_present",
}
# Conversion fields decoded into typed fields (the rest go to params under their own names).
_SOAP_VALUE = ("ConversionValue", "AdjustmentValue")
_SOAP_CURRENCY = ("ConversionCurrencyCode", "AdjustmentCurrencyCode")
_SOAP_IDENTIFIERS = {"HashedEmailAddress": "em", "HashedPhoneNumber": "ph"}
_SOAP_TYPED = {*_SOAP_VALUE, *_SOAP_CURRENCY, *_SOAP_IDENTIFIERS, "MicrosoftClickId", "TransactionId"}
MAX_SOAP_BODY = 4 * 1024 * 1024  # an upload takes up to 1,000 conversions: well under this
_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_NIL = f"{{{_XSI}}}nil"


def _local(tag: Any) -> str:
    """An element's name without its namespace (comments and processing instructions have none)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _is_nil(element: ET.Element) -> bool:
    return element.get(_XSI_NIL, "").strip() in ("true", "1")


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _leaves(element: ET.Element) -> dict[str, str]:
    """The element's childless, non-nil children as local name -> text (the first of a repeated name)."""
    found: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name and len(child) == 0 and not _is_nil(child) and name not in found:
            found[name] = (child.text or "").strip()
    return found


def _soap_action(request: CapturedRequest) -> str | None:
    """The SOAPAction header without its quotes; None when it is absent or empty."""
    raw = request.header("soapaction")
    action = raw.strip().strip('"').strip() if raw else ""
    return action or None


def _campaign_method(request: CapturedRequest) -> str | None:
    """The offline conversion method a request to the Campaign Management service calls, or None."""
    action = _soap_action(request)
    if action is not None:
        return action if action in _SOAP_METHODS else None
    match = _BODY_METHOD.search(request.body[:_BODY_METHOD_SCAN].decode("utf-8", "replace"))
    method = match["method"] if match else None
    return method if method in _SOAP_METHODS else None


class _SoapUpload(NamedTuple):
    header: dict[str, str]  # the envelope header's fields, by local name
    items: list[ET.Element]  # the conversions (or adjustments)


def _soap_upload(request: CapturedRequest, method: str) -> _SoapUpload | str:
    """The envelope's header fields and conversions, or why they cannot be read. Parsed as UTF-8 only, and
    never with a DOCTYPE: no entity is ever declared, so none is expanded."""
    if request.body_truncated or len(request.body) > MAX_SOAP_BODY:
        return "SOAP body too large to read (truncated)"
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return "SOAP body is not UTF-8"
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        return "SOAP body declares a DOCTYPE or entities (refused, not parsed)"
    try:
        # A str: expat reads it as the text it is, whatever encoding its XML declaration names.
        root = ET.fromstring(text.removeprefix("\ufeff"))
    except (ET.ParseError, ValueError) as exc:
        return f"SOAP body is not XML: {exc}"
    body = _child(root, "Body") if _local(root.tag) == "Envelope" else None
    if body is None:
        return "not a SOAP envelope with a Body"
    first = next(iter(body), None)
    if first is None or _local(first.tag) != f"{method}Request":
        return f"SOAP body is no {method}Request"
    list_name, item_name, _event = _SOAP_METHODS[method]
    header = _child(root, "Header")
    listed = _child(first, list_name)
    items = [c for c in listed if _local(c.tag) == item_name] if listed is not None else []
    if not items:
        return f"{method} without any {item_name}"
    return _SoapUpload(_leaves(header) if header is not None else {}, items)


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
        consent="consent_mode_ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("msclkid",),
        without_click_id="Microsoft Advertising: enhanced conversions in UET (hashed email or phone)",
        click_id_cookies={"msclkid": "_uetmsclkid"},
    )
    claim_hosts = (*UET_HOSTS, CAPI_HOST, *CAMPAIGN_HOSTS)
    source = "browser"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {
            "rn",
            "mid",
            "sid",
            "vid",
            "lt",
            "bo",
            "vids",
            "eventTime",
            "pageLoadId",
            "ConversionTime",
            "AdjustmentTime",
        }
    )

    def claims(self, request: CapturedRequest) -> bool:
        host = request.host
        if host_matches(host, CAMPAIGN_HOSTS):
            # One URL for every campaign method: only the offline conversion uploads are hits.
            return (
                request.method == "POST"
                and bool(_CAMPAIGN_PATH.match(request.path))
                and _campaign_method(request) is not None
            )
        return self.surely_claims(host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == CAPI_HOST:
            return method == "POST" and bool(_CAPI_PATH.match(path))
        if host_matches(host, CAMPAIGN_HOSTS):
            return False  # the SOAP action says, not the URL
        return bool(_HIT_PATH.match(path)) and host_matches(host, UET_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == CAPI_HOST:
            return self._decode_capi(request)
        if host_matches(request.host, CAMPAIGN_HOSTS):
            return self._decode_soap(request)
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
        """The one event of an unreadable Conversions API call or offline conversion upload: a server
        event, wherever it was sent from."""
        event = self.malformed(request, reason)
        event.source = "server"
        return event

    def _decode_soap(self, request: CapturedRequest) -> list[DecodedEvent]:
        method = _campaign_method(request)
        if method is None:
            return [self._capi_malformed(request, "not a Microsoft Advertising offline conversion upload")]
        found = _soap_upload(request, method)
        if isinstance(found, str):
            return [self._capi_malformed(request, found)]
        header, items = found
        match = _CAMPAIGN_PATH.match(request.path)
        shared: dict[str, Any] = {"method": method, "api_version": match["version"] if match else None}
        if host_matches(request.host, CAMPAIGN_HOSTS[1:]):
            shared["environment"] = "sandbox"
        if customer := text_or_none(header.get("CustomerId")):
            shared["customer_id"] = customer  # the manager (customer) ID: an ID, not a secret
        for name, flag in _SOAP_CREDENTIALS.items():
            if text_or_none(header.get(name)):
                shared[flag] = True
        if request.source == "browser":
            shared["sent_from_browser"] = True  # a page holding a developer token and OAuth token
        account = text_or_none(header.get("CustomerAccountId"))
        event_name = _SOAP_METHODS[method][2]
        return [self._soap_event(request, event_name, account, item, shared) for item in items]

    def _soap_event(
        self,
        request: CapturedRequest,
        event_name: str,
        account: str | None,
        item: ET.Element,
        shared: dict[str, Any],
    ) -> DecodedEvent:
        fields = _leaves(item)
        if _is_nil(item) or not fields:
            event = self.malformed(request, f"empty {_local(item.tag)}", event_name)
            event.source = "server"
            return event
        params: dict[str, Any] = dict(shared)
        params.update({k: v for k, v in fields.items() if k not in _SOAP_TYPED})
        user_data: dict[str, UserDataForm] = {}
        hashed_emails: list[str] = []
        for name, key in _SOAP_IDENTIFIERS.items():
            if identifier := text_or_none(fields.get(name)):
                user_data[key] = user_data_form(identifier)
                if key == "em" and user_data[key] == "sha256":
                    hashed_emails.append(identifier.lower())
        if hashed_emails:
            params["hashed_emails"] = hashed_emails
        raw_value = next((fields[k] for k in _SOAP_VALUE if k in fields), None)
        value = number_keeping_raw(raw_value, params)
        msclkid = text_or_none(fields.get("MicrosoftClickId"))
        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=account,
            value=value,
            currency=text_or_none(next((fields[k] for k in _SOAP_CURRENCY if k in fields), None)),
            transaction_id=text_or_none(fields.get("TransactionId")),
            click_ids={"msclkid": msclkid} if msclkid else {},
            user_data=user_data,
            source="server",
            params=params,
        )

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
        value = number_keeping_raw(custom.get("value"), params)
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
        if host_matches(request.host, CAMPAIGN_HOSTS):
            return _soap_reply(request)
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


def _soap_reply(request: CapturedRequest) -> SinkholeReply:
    """What the Campaign Management service answers an upload it took: the method's response with no
    partial errors, and the call's tracking ID in the header (the SDK reads it with get_response_header)."""
    method = _campaign_method(request) or "ApplyOfflineConversions"
    match = _CAMPAIGN_PATH.match(request.path)
    namespace = f"https://bingads.microsoft.com/CampaignManagement/{match['version'] if match else 'v13'}"
    tracking = uuid.uuid5(uuid.NAMESPACE_URL, f"eventpath:{request.id}")
    envelope = (
        f'<s:Envelope xmlns:s="{_SOAP_ENV}">'
        f'<s:Header><h:TrackingId xmlns:h="{namespace}">{tracking}</h:TrackingId></s:Header>'
        f'<s:Body><{method}Response xmlns="{namespace}">'
        f'<PartialErrors i:nil="true" xmlns:i="{_XSI}"/>'
        f"</{method}Response></s:Body></s:Envelope>"
    )
    return SinkholeReply(status=200, content_type="text/xml; charset=utf-8", body=envelope.encode())
