"""Adobe Experience Platform Web SDK (alloy.js) requests to the Edge Network.

``alloy("sendEvent", ...)`` posts ``https://<edge domain>/<edge base path>[/<location hint>]/v1/interact
?configId=<datastream ID>&requestId=<UUID>`` with ``fetch``, or ``/v1/collect`` with ``sendBeacon`` when
the document may be unloading and an identity is established. The edge domain is ``edge.adobedc.net``,
``adobedc.demdex.net`` (alloy's first request when third-party cookies are enabled and no identity cookie
exists yet), ``<org>.data.adobedc.net`` or the site's own CNAME (``edgeDomain``); the base path is ``ee``
unless configured (``edgeBasePath``); the location hint is the region cookie's (``irl1``, ``or2``). So hits
are claimed by path shape plus a datastream ID (a UUID, ``:stage``/``:dev`` suffixed for the tag
extension's other environments) in ``configId``, on any host. ``privacy/set-consent``,
``identity/acquire`` and the media path (``/va/v1/...``) carry no events and are not claimed.

Body (JSON sent as text/plain): ``events[]``, each with ``xdm`` (``eventType``, ``web.webPageDetails.URL``,
``commerce``, ``productListItems``, ``identityMap``, ``_id``...), an optional ``data`` object (Adobe
Analytics' ``data.__adobe.analytics`` in AppMeasurement syntax) and ``query``; beside them the request's
``query``, ``meta`` (``state.entries`` carries alloy's ``kndctr_<org>_*`` cookies when the edge is
third-party, among them ``..._consent`` = ``general=in``/``general=out``; ``configOverrides``) and ``xdm``
(an ``identityMap`` where alloy puts the ECID it
knows from a legacy AMCV cookie or an ``adobe_mc`` link).

One event per ``events[]`` entry, named by its ``xdm.eventType`` as sent (``web.webpagedetails.pageViews``,
``commerce.productListAdds``, ``commerce.purchases``, ``web.webinteraction.linkClicks``...). What counts as
a purchase: ``commerce.purchases`` ("an order has been accepted", the XDM ExperienceEvent eventType; the
event Adobe Commerce's storefront connector sends for a placed order). An entry without an ``eventType``
that sets ``commerce.purchases.value`` or lists ``purchase`` in ``data.__adobe.analytics.events`` is an
order to Adobe Analytics ("Orders are mapped to commerce.purchases.value") and is named
``commerce.purchases``; any other is ``(no eventType)``. Value: ``commerce.order.priceTotal`` (the
order's total), else the sum of ``productListItems[].priceTotal`` (what Analytics counts as revenue), else
for an Analytics data-object purchase the revenue of its ``products`` string; currency:
``commerce.order.currencyCode``, else a product's ``currencyCode``, else the data object's
``currencyCode``; order ID: ``commerce.order.purchaseID`` (else the data object's ``purchaseID``); event ID:
``xdm._id``; account: the datastream ID. Identities: every ``identityMap`` namespace but ``ECID`` (Adobe's
own cookie ID, kept in params) is the site's identifier of the person (``Email``, ``Email_LC_SHA256``,
``CRMID``...), as is ``personalEmail.address``; each goes to ``user_data`` under its name, ``sha256`` when
every value is a SHA-256 digest, else ``raw``.

The Edge Network Server API (v2) takes the same events from servers and devices: ``POST
https://server.adobedc.net/ee/v2/interact?datastreamId=<ID>`` (authenticated: ``Authorization: Bearer``,
``x-api-key``, ``x-gw-ims-org-id``) or ``edge.adobedc.net`` (unauthenticated, as a datastream allows by
default), ``/ee/<location hint>/v2/...`` once the edge named one, ``<hint>.server.adobedc.net`` for a batch,
``ee-pre-prd`` as the stage base path, or a site's own edge path (adobe.com's ``/experienceedge/v2/collect``).
``interact`` holds a single ``event``, ``collect`` an ``events[]`` batch whose events may be different people's;
real senders mix them (adobe.com posts one ``event`` to ``collect``, others an ``events`` list to
``interact``), so either is read on either path. The datastream rides in ``datastreamId`` (the API
reference), ``dataStreamId`` (Experience League, Adobe's samples) or ``configId`` (seen on v2 too). A v2
event's source is the request's: a server's mostly, a page's when it calls the unauthenticated endpoint
itself; a page holding the API credentials is flagged (``sent_from_browser``). ``FPID`` (a first-party
device ID, a UUIDv4 that "cannot be seeded using ... PII") is a device identifier like ``ECID``. An IAB TCF
string in ``xdm.consentStrings`` (``consentStandard``, ``consentStringValue``, ``gdprApplies``) is part of
the consent, beside the consent cookie.

Sources: @adobe/alloy 2.33.1 (request building, endpoints, cookie transfer, consent cookie, response
handling) driven in Chromium, Omnibug's AdobeWebSdk provider, Adobe's Web SDK and Analytics docs (XDM
and data object variable mapping, Edge Network event types, purchase event, Edge Network API examples,
first-party device IDs, IAB TCF 2.0 ``consentStrings``), and Adobe Commerce's storefront-events-collector
(placeOrder). Server API: Adobe's Edge Network API reference (AdobeDocs/data-collection-apis
static/api-reference.yaml: /v2/interact SingleEventRequest, /v2/collect BatchV2Request, ``datastreamId``,
``silent``, 202 CollectV2Response), Experience League's Server API pages (AdobeDocs/experience-platform.en
help/server-api: interactive and non-interactive collection, authentication, location hints), Adobe's
alloy-samples (common/aepEdgeClient.js: interact and collect URLs, base paths, text/plain body, 202 answer),
and public senders: adobe.com's Milo martech code (browser, ``/ee/v2/interact``) and its Akamai EdgeWorker
(``/experienceedge/v2/collect``), a Node script posting ``events`` to ``server.adobedc.net/ee/v2/interact``,
a Next.js server module (``edge.adobedc.net/ee/v2/interact?dataStreamId=``) and WKND's MCP server
(``configId`` on v2).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, new_consent, new_event, register
from harness.decoders.vendors.adobe_analytics import (
    parse_products,
    purchase_revenue,
    success_events,
    sum_of_numbers,
)
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    query_named,
    query_value,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CLICK_ID_PARAMS, CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

# /<edge base path>[/<location hint>]/v1|v2/interact|collect; the base path may have a segment of its own.
_HIT_PATH = re.compile(r"^/(?:[^/]+/){1,3}v([12])/(?:interact|collect)$")
_HIT_PATH_ENDS = ("/v1/interact", "/v1/collect", "/v2/interact", "/v2/collect")
# Where each API version names the datastream (v2: the API reference's name, the one Adobe's pages and
# samples spell, and v1's, which v2 senders use too).
_DATASTREAM_PARAMS = {"1": ("configId",), "2": ("datastreamId", "dataStreamId", "configId")}
_DATASTREAM_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?::[A-Za-z0-9_-]+)?$"
)
PURCHASE = "commerce.purchases"
NO_EVENT_TYPE = "(no eventType)"
# Adobe's cookie ID and the site's first-party device ID (a random UUIDv4): device identifiers, not
# personal data the site sends.
_DEVICE_NAMESPACES = frozenset({"ECID", "FPID"})
_CLICK_ID_NAMES = frozenset(CLICK_ID_PARAMS)
_CONSENT_COOKIE_SUFFIX = "_consent"
# What the typed fields hold, removed from the event's xdm in params.
_TYPED_XDM = ("identityMap", "personalEmail", "_id", "consentStrings")


@lru_cache(maxsize=1024)  # asked of every POST to an .../interact or .../collect path: a site has few
def _api_version(path: str) -> str | None:
    """``"1"`` or ``"2"`` for an Edge Network hit path, else None."""
    match = _HIT_PATH.match(path)
    return match.group(1) if match else None


def _datastream_id(url: str, version: str) -> str | None:
    for name in _DATASTREAM_PARAMS[version]:
        found = query_value(url, name)
        if found is not None:
            return found
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@register
class AdobeWebSdkDecoder(Decoder):
    vendor = "adobe_web_sdk"
    profile = VendorProfile(
        tag_name="Adobe Experience Platform Web SDK",
        platform_name="Adobe Experience Platform (Web SDK)",
        purchase_events=frozenset({PURCHASE}),
    )
    # ``localTime`` the browser's clock, ``queueTimeMillis`` how long alloy held the request, ``ECID`` and
    # ``FPID`` the visitor's device IDs.
    volatile_params: ClassVar[frozenset[str]] = frozenset({"localTime", "queueTimeMillis", "ECID", "FPID"})

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST":
            return False
        version = _api_version(request.path)
        if version is None:
            return False
        datastream = _datastream_id(request.url, version)
        return datastream is not None and _DATASTREAM_ID.match(datastream) is not None

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith(_HIT_PATH_ENDS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        request_id = query_value(request.url, "requestId") or ""
        if request.path.endswith("/collect"):
            if _api_version(request.path) != "2" or query_value(request.url, "silent") == "true":
                return SinkholeReply(status=204)  # v1: alloy's sendBeacon reads no answer; v2 when silent
            # The Server API's batch answer: accepted, the request's ID.
            answer: dict[str, Any] = {"requestId": request_id}
            return SinkholeReply(
                status=202, content_type="application/json", body=json.dumps(answer).encode()
            )
        # What the Edge Network answers (alloy requires a ``handle`` list): no instructions.
        answer = {"requestId": request_id, "handle": []}
        return SinkholeReply(status=200, content_type="application/json", body=json.dumps(answer).encode())

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        version = _api_version(request.path) or "1"
        found = _entries(body, version)
        if isinstance(found, str):
            return [self.malformed(request, found)]
        shared = self._shared(request, _dict(body), version)
        return [self._event(request, shared, entry, index) for index, entry in enumerate(found)]

    def _shared(self, request: CapturedRequest, body: dict[str, Any], version: str) -> dict[str, Any]:
        """What the request says for all its events: datastream, consent cookie, identities, meta, and
        for the Server API, where it came from and whether it was authenticated."""
        meta = dict(_dict(body.get("meta")))
        state = dict(_dict(meta.get("state")))
        entries = state.pop("entries", None)
        if state:
            meta["state"] = state
        else:
            meta.pop("state", None)
        return {
            "account_id": _datastream_id(request.url, version),
            "consent": _consent_from_entries(entries),
            "identity_map": _dict(_at(body, "xdm", "identityMap")),
            "meta": meta,
            "server_api": _server_api_params(request) if version == "2" else {},
            # alloy is a page's library; the Server API is anyone's, mostly a server's.
            "source": request.source if version == "2" else self.source,
        }

    def _event(
        self, request: CapturedRequest, shared: dict[str, Any], entry: Any, index: int
    ) -> DecodedEvent:
        if not isinstance(entry, dict):
            return self.malformed(request, f"event {index} is not an object")
        xdm, data = _dict(entry.get("xdm")), _dict(entry.get("data"))
        if not xdm and not data:
            return self.malformed(request, f"event {index} has neither xdm nor data")
        analytics = _dict(_at(data, "__adobe", "analytics"))
        params: dict[str, Any] = {"xdm": {k: v for k, v in xdm.items() if k not in _TYPED_XDM}}
        for name in ("data", "query"):
            if entry.get(name):
                params[name] = entry[name]
        if shared["meta"]:
            params["meta"] = dict(shared["meta"])  # each event its own copy
        params.update(shared["server_api"])
        identities = {**shared["identity_map"], **_dict(xdm.get("identityMap"))}
        for namespace in sorted(_DEVICE_NAMESPACES):
            if identities.get(namespace):
                params[namespace] = _identity_values(identities[namespace])
        page_url = (
            text_or_none(_at(xdm, "web", "webPageDetails", "URL"))
            or text_or_none(analytics.get("pageURL"))
            or request.header("referer")
        )
        order = _dict(_at(xdm, "commerce", "order"))
        return new_event(
            vendor=self.vendor,
            event=_event_name(xdm, analytics),
            account_id=shared["account_id"],
            value=_value(order, xdm, analytics, params),
            currency=_currency(order, xdm, analytics),
            event_id=text_or_none(xdm.get("_id")),
            transaction_id=text_or_none(order.get("purchaseID")) or text_or_none(analytics.get("purchaseID")),
            click_ids={k: v for k, v in query_named(page_url, _CLICK_ID_NAMES) if v} if page_url else {},
            consent=new_consent(other={**shared["consent"], **_consent_strings(xdm)}),
            user_data=_user_data(identities, xdm),
            page_url=page_url,
            source=shared["source"],
            params=params,
        )


def _entries(body: Any, version: str) -> list[Any] | str:
    """The request's events, or why there are none: v1 sends an ``events`` list; v2 a single ``event``
    (interact) or an ``events`` list (collect), and senders use either on either path."""
    if version == "2":
        if isinstance(body, dict) and isinstance(body.get("event"), dict):
            return [body["event"]]
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return "body is not an Edge Network Server API request (no event object or events list)"
    elif not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return "body is not an Edge Network request (no events list)"
    return body["events"] or "Edge Network request with an empty events list"


def _server_api_params(request: CapturedRequest) -> dict[str, Any]:
    """Whether a Server API call carries Adobe IMS credentials (never their values), and whether a page
    sent them: a browser holding the bearer token and API key exposes them to every visitor."""
    if not request.header("authorization"):
        return {"edge_api": "v2"}
    found: dict[str, Any] = {"edge_api": "v2", "authenticated": True}
    if request.source == "browser":
        found["sent_from_browser"] = True
    return found


def _event_name(xdm: dict[str, Any], analytics: dict[str, Any]) -> str:
    named = text_or_none(xdm.get("eventType"))
    if named:
        return named
    orders = to_number(_at(xdm, "commerce", "purchases", "value"))
    return PURCHASE if (orders is not None and orders > 0) or _lists_purchase(analytics) else NO_EVENT_TYPE


def _lists_purchase(analytics: dict[str, Any]) -> bool:
    """The Analytics data object's ``events`` (AppMeasurement syntax) include ``purchase``."""
    events = analytics.get("events")
    return isinstance(events, str) and any(event.name == "purchase" for event in success_events(events))


def _value(
    order: dict[str, Any], xdm: dict[str, Any], analytics: dict[str, Any], params: dict[str, Any]
) -> float | None:
    if order.get("priceTotal") is not None:
        return number_keeping_raw(order["priceTotal"], params)
    line_totals = [item["priceTotal"] for item in _items(xdm) if item.get("priceTotal") is not None]
    if line_totals:
        return sum_of_numbers(line_totals, params)
    products = analytics.get("products")
    if isinstance(products, str) and _lists_purchase(analytics):
        return purchase_revenue(parse_products(products), params)
    return None


def _currency(order: dict[str, Any], xdm: dict[str, Any], analytics: dict[str, Any]) -> str | None:
    found = text_or_none(order.get("currencyCode"))
    if found:
        return found
    for item in _items(xdm):
        found = text_or_none(item.get("currencyCode"))
        if found:
            return found
    return text_or_none(analytics.get("currencyCode"))


def _items(xdm: dict[str, Any]) -> list[dict[str, Any]]:
    items = xdm.get("productListItems")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _identity_values(identities: Any) -> list[str]:
    """The ``id``s of one identityMap namespace (a list of ``{"id": ..., "authenticatedState": ...}``)."""
    if not isinstance(identities, list):
        return []
    return [text for item in identities if (text := text_or_none(_dict(item).get("id")))]


def _user_data(identities: dict[str, Any], xdm: dict[str, Any]) -> dict[str, UserDataForm]:
    forms: dict[str, UserDataForm] = {}
    for namespace, entries in identities.items():
        values = _identity_values(entries)
        if namespace not in _DEVICE_NAMESPACES and values:
            forms[str(namespace)] = "sha256" if all(user_data_form(v) == "sha256" for v in values) else "raw"
    email = text_or_none(_at(xdm, "personalEmail", "address"))
    if email:
        forms["personalEmail"] = user_data_form(email)
    return forms


def _consent_strings(xdm: dict[str, Any]) -> dict[str, str]:
    """The IAB TCF strings alloy's docs put in ``xdm.consentStrings`` (``consentStandard``: the string), with
    ``gdprApplies`` as sent."""
    strings = xdm.get("consentStrings")
    found: dict[str, str] = {}
    for item in strings if isinstance(strings, list) else []:
        item = _dict(item)
        value = text_or_none(item.get("consentStringValue"))
        if value:
            found[text_or_none(item.get("consentStandard")) or "consentStringValue"] = value
        if isinstance(item.get("gdprApplies"), bool):
            found["gdprApplies"] = "true" if item["gdprApplies"] else "false"
    return found


def _consent_from_entries(entries: Any) -> dict[str, str]:
    """The purposes of alloy's ``kndctr_<org>_consent`` cookie (``general=in``), as the request carries
    it in ``meta.state.entries`` to a third-party edge."""
    if not isinstance(entries, list):
        return {}
    for entry in entries:
        entry = _dict(entry)
        key, value = entry.get("key"), entry.get("value")
        if isinstance(key, str) and key.startswith("kndctr_") and key.endswith(_CONSENT_COOKIE_SUFFIX):
            if isinstance(value, str):
                return {
                    name.strip(): state.strip()
                    for name, _, state in (pair.partition("=") for pair in value.split(";"))
                    if name.strip()
                }
    return {}
