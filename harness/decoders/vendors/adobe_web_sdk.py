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

Sources: @adobe/alloy 2.33.1 (request building, endpoints, cookie transfer, consent cookie, response
handling) driven in Chromium, Omnibug's AdobeWebSdk provider, Adobe's Web SDK and Analytics docs (XDM
and data object variable mapping, Edge Network event types, purchase event, Edge Network API examples),
and Adobe Commerce's storefront-events-collector (placeOrder).
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

# /<edge base path>[/<location hint>]/v1/interact|collect; the base path may have a segment of its own.
_HIT_PATH = re.compile(r"^/(?:[^/]+/){1,3}v1/(?:interact|collect)$")
_HIT_PATH_ENDS = ("/v1/interact", "/v1/collect")
_DATASTREAM_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?::[A-Za-z0-9_-]+)?$"
)
PURCHASE = "commerce.purchases"
NO_EVENT_TYPE = "(no eventType)"
# Adobe's cookie ID: a device identifier, not personal data the site sends.
_DEVICE_NAMESPACES = frozenset({"ECID"})
_CLICK_ID_NAMES = frozenset(CLICK_ID_PARAMS)
_CONSENT_COOKIE_SUFFIX = "_consent"
# What the typed fields hold, removed from the event's xdm in params.
_TYPED_XDM = ("identityMap", "personalEmail", "_id")


@lru_cache(maxsize=1024)  # asked of every POST to a /v1/interact or /v1/collect path: a site has few
def _is_hit_path(path: str) -> bool:
    return _HIT_PATH.match(path) is not None


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
    # ``localTime`` the browser's clock, ``queueTimeMillis`` how long alloy held the request, ``ECID`` the
    # visitor's cookie ID.
    volatile_params: ClassVar[frozenset[str]] = frozenset({"localTime", "queueTimeMillis", "ECID"})

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or not _is_hit_path(request.path):
            return False
        config_id = query_value(request.url, "configId")
        return config_id is not None and _DATASTREAM_ID.match(config_id) is not None

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith(_HIT_PATH_ENDS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path.endswith("/collect"):
            return SinkholeReply(status=204)  # sendBeacon: alloy reads no answer
        # What the Edge Network answers (alloy requires a ``handle`` list): no instructions.
        answer = {"requestId": query_value(request.url, "requestId") or "", "handle": []}
        return SinkholeReply(status=200, content_type="application/json", body=json.dumps(answer).encode())

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return [self.malformed(request, "body is not an Edge Network request (no events list)")]
        if not body["events"]:
            return [self.malformed(request, "Edge Network request with an empty events list")]
        shared = self._shared(request, body)
        return [self._event(request, shared, entry, index) for index, entry in enumerate(body["events"])]

    def _shared(self, request: CapturedRequest, body: dict[str, Any]) -> dict[str, Any]:
        """What the request says for all its events: datastream, consent cookie, identities, meta."""
        meta = dict(_dict(body.get("meta")))
        state = dict(_dict(meta.get("state")))
        entries = state.pop("entries", None)
        if state:
            meta["state"] = state
        else:
            meta.pop("state", None)
        return {
            "account_id": query_value(request.url, "configId"),
            "consent": _consent_from_entries(entries),
            "identity_map": _dict(_at(body, "xdm", "identityMap")),
            "meta": meta,
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
        identities = {**shared["identity_map"], **_dict(xdm.get("identityMap"))}
        if identities.get("ECID"):
            params["ECID"] = _identity_values(identities["ECID"])
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
            consent=new_consent(other=shared["consent"]),
            user_data=_user_data(identities, xdm),
            page_url=page_url,
            source=self.source,
            params=params,
        )


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
