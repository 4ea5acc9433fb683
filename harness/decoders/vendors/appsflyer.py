"""AppsFlyer hits: the Web SDK (People-Based Attribution) and the two server-to-server event APIs.

The Web SDK (``websdk.appsflyer.com?st=...``, never a hit; ``AF('pba', 'event', {...})`` queues calls)
posts each visit and event to ``wa.appsflyer.com/events?site-id=<web dev key>`` as ``text/plain`` JSON:
``{"data": {"eventType": "LOAD"|"EVENT"|..., "afWebUserId": <its af_id cookie>, "webAppId": <web dev key>,
...}, "meta": {"locationHref", "referrer", "query", "version", device and browser traits...}}``. ``data``
carries what the page passed: ``eventName``, ``eventValue`` (a map), ``eventRevenue``,
``eventRevenueCurrency`` and the customer user ID. A ``LOAD`` (visit) is named by its type; an ``EVENT``
by its ``eventName``.

The mobile S2S API (``POST api2.appsflyer.com/inappevent/<app id>``, JSON, by a server) takes
``appsflyer_id``, ``customer_user_id``, ``eventName``, ``eventValue`` (a JSON string or object with
``af_revenue``, ``af_currency``, ``af_order_id``...), ``eventCurrency``, ``eventTime``, ``ip``, device IDs.
The Web S2S API (``POST webs2s.appsflyer.com/v1/<bundle id>/event``) takes ``customerUserId``,
``afUserId``, ``webDevKey``, ``eventType: EVENT``, ``eventName``, ``eventValue``, ``eventRevenue``,
``eventRevenueCurrency``, ``timestamp``.

Value: ``eventRevenue``, else ``eventValue.af_revenue``; currency: ``eventRevenueCurrency``, else
``eventCurrency``, else ``eventValue.af_currency``; order ID: ``eventValue.af_order_id`` (AppsFlyer's
predefined parameter). The customer user ID goes to ``user_data`` (the advertiser's own ID, sometimes an
e-mail). Landing parameters (``pid``, ``c``, ``af_c_id``, ``af_ad``, ``af_xp``...) name a media source and
campaign, not a click: the SDK sends them inside ``meta.query``, kept in params; no click ID is declared.
The Smart Script only builds OneLink URLs in the page and sends nothing. Neither SDK is a consent-mode tag
and no AppsFlyer source says when the Web SDK may fire: ``not_judged``.

Sources: a captured Web SDK ``LOAD`` hit (public GitHub file, code-search id 49433966428: playplus.com,
``version`` 0.0.54); ``wa.appsflyer.com/events?site-id=...`` URLs in Cypress/Selenium suites (code-search ids
39994762570, 29867474661, which stub it with 204); AppsFlyer's "PBA Web SDK integration guide", the Web-S2S
"Send Event" reference (dev.appsflyer.com/hc/reference/web-s2s-api-event-post) and "Server-to-server events
API for mobile" (support.appsflyer.com/hc/en-us/articles/207034486); the ``appsflyer`` PyPI client. No public
capture of a Web SDK ``EVENT`` body was found: its fields are read by the names the SDK's ``AF('pba',
'event', ...)`` API and the Web-S2S API document, inside ``data`` as the ``LOAD`` capture shows.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    parse_json,
    query_value,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_WEB_HOST, _WEB_PATH = "wa.appsflyer.com", "/events"
_S2S_HOST, _S2S_PREFIX = "api2.appsflyer.com", "/inappevent/"
_WEB_S2S_HOST = "webs2s.appsflyer.com"
_HOSTS = (_WEB_HOST, _S2S_HOST, _WEB_S2S_HOST)
_REVENUE_KEYS = ("eventRevenue",)
_CURRENCY_KEYS = ("eventRevenueCurrency", "eventCurrency")
_USER_KEYS = {"customerUserId": "customer_user_id", "customUserId": "customer_user_id",
              "customer_user_id": "customer_user_id"}
_TYPED = frozenset({"eventName", "eventValue", "eventRevenue", "eventRevenueCurrency", "eventCurrency",
                    "webAppId", "webDevKey", *_USER_KEYS})
# meta is mostly device traits; these say where the visit came from.
_META_KEPT = ("referrer", "query", "version", "isDevMode")


@register
class AppsFlyerDecoder(Decoder):
    vendor = "appsflyer"
    profile = VendorProfile(
        tag_name="AppsFlyer Web SDK",
        platform_name="AppsFlyer",
        consent="not_judged",
        purchase_events=frozenset({"af_purchase", "purchase"}),
    )
    claim_hosts = _HOSTS
    volatile_params = frozenset({"afWebUserId", "afUserId", "appsflyer_id", "eventTime", "timestamp"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path == _WEB_PATH or path.startswith((_S2S_PREFIX, "/v1/"))

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _WEB_HOST:
            return path == _WEB_PATH
        if host == _S2S_HOST:
            return _app_in(path) is not None
        return host == _WEB_S2S_HOST and _bundle_in(path) is not None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == _WEB_HOST:
            return SinkholeReply(status=204)  # what test suites stub the Web SDK's endpoint with
        return SinkholeReply(status=200, content_type="text/plain", body=b"ok")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "body is not a JSON object")]
        if request.host == _WEB_HOST:
            return [self._web_event(request, body)]
        account = _app_in(request.path) if request.host == _S2S_HOST else _bundle_in(request.path)
        return [self._server_event(request, body, account)]

    def _web_event(self, request: CapturedRequest, body: dict[str, Any]) -> DecodedEvent:
        data, meta = body.get("data"), body.get("meta")
        if not isinstance(data, dict):
            return self.malformed(request, "no data object")
        meta = meta if isinstance(meta, dict) else {}
        kind = text_or_none(data.get("eventType"))
        name = text_or_none(data.get("eventName")) if kind == "EVENT" else kind
        if not name:
            return self.malformed(request, "no event name (eventName / eventType)")
        account = text_or_none(query_value(request.url, "site-id")) or text_or_none(data.get("webAppId"))
        extra = {f"meta.{k}": meta[k] for k in _META_KEPT if k in meta}
        page = text_or_none(meta.get("locationHref")) or request.header("referer")
        return self._event(name, account, data, extra, page, "browser")

    def _server_event(self, request: CapturedRequest, body: dict[str, Any], account: str | None) -> DecodedEvent:
        name = text_or_none(body.get("eventName"))
        if not name:
            return self.malformed(request, "no event name (eventName)")
        return self._event(name, account, body, {}, None, "server")

    def _event(self, name: str, account: str | None, fields: dict[str, Any], extra: dict[str, Any],
               page: str | None, source: str) -> DecodedEvent:
        values = _event_value(fields.get("eventValue"))
        params = {k: v for k, v in fields.items() if k not in _TYPED and v not in ("", None)}
        if values:
            params["eventValue"] = values
        elif fields.get("eventValue") not in (None, ""):
            params["eventValue"] = fields["eventValue"]  # not JSON: kept as sent
        params.update(extra)
        revenue = next((fields[k] for k in _REVENUE_KEYS if fields.get(k) not in (None, "")), None)
        value = number_keeping_raw(revenue if revenue is not None else values.get("af_revenue"), params)
        currency = next((text for k in _CURRENCY_KEYS if (text := text_or_none(fields.get(k)))), None)
        user = {_USER_KEYS[k]: user_data_form(text) for k in _USER_KEYS if (text := text_or_none(fields.get(k)))}
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=account,
            value=value,
            currency=currency or text_or_none(values.get("af_currency")),
            transaction_id=text_or_none(values.get("af_order_id")),
            user_data=user,
            page_url=page,
            source=source,
            params=params,
        )


def _event_value(raw: Any) -> dict[str, Any]:
    """``eventValue``: an object, or (mobile S2S) a JSON string of one; {} otherwise."""
    value = parse_json(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


def _app_in(path: str) -> str | None:
    """The app ID of ``/inappevent/<app id>``."""
    app = path[len(_S2S_PREFIX):] if path.startswith(_S2S_PREFIX) else ""
    return app if app and "/" not in app else None


def _bundle_in(path: str) -> str | None:
    """The bundle ID of the Web-S2S ``/v1/<bundle id>/event``."""
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "v1" and parts[2] and parts[3] == "event":
        return parts[2]
    return None
