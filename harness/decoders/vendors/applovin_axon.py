"""AppLovin Axon Pixel hits (AppLovin's e-commerce pixel for web advertisers).

The pixel (``s.axon.ai/pixel.js`` with ``res4.applovin.com/p/l/loader.iife.js`` or ``c.albss.com/p/l/
loader.iife.js``; never hits) is queued with ``var AXON_EVENT_KEY=<event key>`` and ``axon('init')``,
``axon('track', 'page_view'|'view_item'|'add_to_cart'|'begin_checkout'|'purchase'|'generate_lead', {items,
value, currency, transaction_id, user_data})``. Axon's click IDs ride on the landing URL: ``aleid`` and
``alart``; the pixel keeps them and reports them as ``eventId`` and ``art``.

Two wire shapes, both ``POST b.applovin.com/...`` with JSON:

- ``/v1/pixel`` (pixel.js; its body may come gzipped): ``{"name": <event>, "axon"|"applovin": {"eventId":
  <aleid>, "art": <alart>, "pixelTimings", "pageTimings", ...}, "page": {"document": {"location", "referrer",
  "title"}, "navigator", "window"}, ...}``. Where the call's value, currency and order ID travel in it is
  not public, so everything but the event, click IDs and page stays in params as sent.
- ``/shopify/v1/pixel`` and ``/v2/pixel`` (AppLovin's Shopify app, a Shopify web pixel; the event key in
  the ``X-Connect-Event-Key`` header): ``{"applovin": {"wrt", "sid", "eventId": <aleid>, "art": <alart>},
  "event": <the Shopify customer event>, "initData"}``. The Shopify event is read as the Web Pixels API
  types it: ``name`` (``page_viewed``, ``product_added_to_cart``, ``checkout_completed``...), the page in
  ``context.document.location.href``, money as ``MoneyV2 {amount, currencyCode}`` (major units) in
  ``data.checkout.totalPrice``, ``data.cartLine.cost.totalAmount``, ``data.cart.cost.totalAmount`` or
  ``data.productVariant.price``, the order in ``data.checkout.order.id``, the buyer's raw
  ``data.checkout.email``/``phone``.

Sources: AppLovin's Shopify web pixel extension (code posting to ``b.applovin.com/shopify/v1/pixel``),
AppLovin's GTM pixel installer (``GTMPixelInstaller``: the snippet, the event calls, the verifier watching
``POST b.applovin.com/v1/pixel`` and its gzipped body), a site checker's parser of v1 and v2 pixel bodies
(``name``, ``axon``/``applovin`` ``eventId``/``art`` matched against the landing URL's ``aleid``/``alart``),
an AppLovin pixel evidence page (``page.document``, ``page.navigator``, ``axon.pixelTimings``),
``@shopify/web-pixels-extension@2.18.0`` (event types) and Axon's "Events and objects" help page.
``b.applovin.com/v1/event`` (the server Conversion API) is not decoded here.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import EndpointDecoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import (
    gunzipped,
    json_body,
    number_keeping_raw,
    parse_json,
    query_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_HOST = "b.applovin.com"
_PATHS = frozenset({"/v1/pixel", "/v2/pixel", "/shopify/v1/pixel", "/shopify/v2/pixel"})
_EVENT_KEY_HEADER = "x-connect-event-key"
# A pixel body is a few KB; refuse to inflate past this so a hostile body cannot balloon.
_MAX_INFLATED = 1 << 20
# Where each Shopify event carries its money (MoneyV2), in the order tried.
_MONEY_PATHS = (
    ("checkout", "totalPrice"),
    ("cartLine", "cost", "totalAmount"),
    ("cart", "cost", "totalAmount"),
    ("productVariant", "price"),
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = _dict(value).get(key)
    return value


def _body(request: CapturedRequest) -> Any | None:
    """The JSON body, sent plain or gzipped (pixel.js compresses its beacons)."""
    body = json_body(request)
    if body is not None or request.body[:2] != b"\x1f\x8b":
        return body
    inflated = gunzipped(request.body, _MAX_INFLATED)
    return parse_json(inflated) if inflated is not None else None


def _click_ids(ids: dict[str, Any]) -> dict[str, str]:
    """``eventId`` is the landing URL's aleid, ``art`` its alart."""
    found = {"aleid": text_or_none(ids.get("eventId")), "alart": text_or_none(ids.get("art"))}
    return {name: value for name, value in found.items() if value}


def _money(data: dict[str, Any]) -> tuple[Any, str | None]:
    """The Shopify event's amount and currency, from the first MoneyV2 it carries."""
    checkout_currency = text_or_none(_dig(data, "checkout", "currencyCode"))
    for path in _MONEY_PATHS:
        money = _dig(data, *path)
        if isinstance(money, dict) and money.get("amount") is not None:
            return money["amount"], text_or_none(money.get("currencyCode")) or checkout_currency
    return None, checkout_currency


def _buyer(data: dict[str, Any]) -> dict[str, UserDataForm]:
    checkout = _dict(data.get("checkout"))
    return {
        key: user_data_form(text) for key in ("email", "phone") if (text := text_or_none(checkout.get(key)))
    }


def _page_location(page: Any) -> str | None:
    return text_or_none(_dig(page, "document", "location"))


@register
class AppLovinAxonDecoder(EndpointDecoder):
    vendor = "applovin_axon"
    profile = VendorProfile(
        tag_name="AppLovin Axon Pixel",
        platform_name="AppLovin Axon",
        consent="ad_tag",
        purchase_events=frozenset({"purchase", "checkout_completed"}),
        # axeid: the landing parameter AppLovin's Shopify theme script also reads the click from (aleid ||
        # axeid, kept in the _axeid cookie); its hits report it as eventId, which is decoded as aleid.
        click_ids=("aleid", "alart", "axeid"),
        click_id_keys={"axeid": ("aleid",)},
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = _PATHS
    # wrt and sid: AppLovin's visitor and session IDs; clientId: Shopify's visitor ID; the Shopify event's own
    # ID, time and sequence number.
    volatile_params = frozenset(
        {"applovin.wrt", "applovin.sid", "event.clientId", "event.id", "event.timestamp", "event.seq"}
    )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)  # the Shopify pixel only checks for a 200

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = _body(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "AppLovin pixel body is not a JSON object (plain or gzipped)")]
        if isinstance(body.get("event"), dict):
            return [self._shopify_event(request, body)]
        return [self._pixel_event(request, body)]

    def _pixel_event(self, request: CapturedRequest, body: dict[str, Any]) -> DecodedEvent:
        """pixel.js's own beacon: ``name``, the click IDs under ``axon`` (or ``applovin``), the page."""
        name = text_or_none(body.get("name"))
        if not name:
            return self.malformed(request, "AppLovin pixel hit without an event name")
        ids_key = "axon" if isinstance(body.get("axon"), dict) else "applovin"
        ids = _dict(body.get(ids_key))
        params: dict[str, Any] = dict(query_dict(request.url))
        params.update({k: v for k, v in body.items() if k not in ("name", ids_key)})
        rest = {k: v for k, v in ids.items() if k not in ("eventId", "art")}
        if rest:
            params[ids_key] = rest
        return new_event(
            vendor=self.vendor,
            event=name,
            click_ids=_click_ids(ids),
            page_url=_page_location(body.get("page")) or request.header("referer"),
            source=self.source,
            params=params,
        )

    def _shopify_event(self, request: CapturedRequest, body: dict[str, Any]) -> DecodedEvent:
        """The Shopify app's beacon: AppLovin's IDs beside the Shopify customer event it forwards."""
        event = body["event"]
        name = text_or_none(event.get("name"))
        if not name:
            return self.malformed(request, "AppLovin Shopify pixel hit without an event name")
        ids = _dict(body.get("applovin"))
        data = _dict(event.get("data"))
        params: dict[str, Any] = {f"applovin.{k}": v for k, v in ids.items() if k not in ("eventId", "art")}
        params.update({f"event.{k}": v for k, v in event.items() if k != "name"})
        params.update({k: v for k, v in body.items() if k not in ("applovin", "event")})
        amount, currency = _money(data)
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=request.header(_EVENT_KEY_HEADER),
            value=number_keeping_raw(amount, params),
            currency=currency,
            transaction_id=text_or_none(_dig(data, "checkout", "order", "id")),
            click_ids=_click_ids(ids),
            user_data=_buyer(data),
            page_url=text_or_none(_dig(event, "context", "document", "location", "href"))
            or request.header("referer"),
            source=self.source,
            params=params,
        )
