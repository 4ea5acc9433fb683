"""Matomo (formerly Piwik) Tracking HTTP API hits.

Matomo runs on the site's own host (or ``<account>.matomo.cloud``), so a hit is recognised by its path and
the Tracking API's signature, never by host: ``/matomo.php`` or ``/piwik.php`` under any directory (also
``/js/``, ``/js/index.php`` and ``/js/tracker.php``, which Matomo serves as the tracker when they carry a
query) with ``idsite=<site>&rec=1``. The tracker script itself (``matomo.js``, ``piwik.js``, the same
``/js/`` paths without a query) carries neither, so it is never claimed.

Three shapes (``js/piwik.js``: ``getRequest``, ``sendRequest``, ``sendBulkRequest``):

- ``GET <endpoint>?<params>`` (an image, or ``send_image=0`` for 204);
- ``POST <endpoint>`` with the same params as a form body (``setRequestMethod('POST')``, requests over 2000
  characters, ``sendBeacon``);
- bulk: ``POST {"requests": ["?idsite=..&rec=1&..", ...], "token_auth": ..}``, one event per entry.

Each request builds on ``idsite``, ``rec=1``, ``r``/``h``/``m``/``s``, ``url`` (the page), ``urlref``, ``uid``
(``setUserId``), ``_id``/``_idts``/``_idvc`` (visitor cookie), ``_rcn``/``_rck`` (the campaign name and keyword
that goal conversions are attributed to), ``_refts``/``_viewts``/``_ects``, ``send_image``, ``pv_id`` and
``consent=1`` (only when the site requires consent, ``requireConsent``, and it was given; until then the
tracker queues every request and sends nothing). What it reports is named by the Tracking API reference:

- ``idgoal=0`` + ``ec_id``: an ecommerce order (``trackEcommerceOrder``): ``revenue`` the grand total,
  ``ec_st``/``ec_tx``/``ec_sh``/``ec_dt`` sub total, tax, shipping, discount, ``ec_items``
  ``[[sku, name, category, price, quantity], ...]`` (JSON). Event ``ecommerce_order``, the purchase;
- ``idgoal=0`` without ``ec_id``: a cart update (``trackEcommerceCartUpdate``), ``revenue`` the cart total:
  ``cart_update``;
- ``idgoal=<n>``: a goal conversion, optional ``revenue``: ``goal``;
- ``e_c``/``e_a``/``e_n``/``e_v``: an event, named by its action ``e_a`` (as the Snowplow decoder names
  structured events), ``e_v`` its value;
- ``search`` (site search), ``link`` (outlink), ``download``, ``c_n``/``c_i`` (content impression and
  interaction), ``ma_id`` (Media Analytics), ``cra`` (Crash Analytics), ``ping=1`` (heartbeat), any other
  ``ca=1`` request (a custom action, never a page view); everything else is a ``page_view``
  (``action_name``, ``url``).

Matomo sends no currency: revenue is in the currency set for the site in Matomo. ``ec_id`` is the order
ID. ``uid`` is the site's own user ID, "such as an email address or a username" (Tracking API reference):
personal data, kept as ``user_data["uid"]`` (and ``em`` when it is an email address). Click IDs are read
from the page URL (``url``), where the landing page's query arrives.

Sources: matomo-org/matomo ``js/piwik.js`` (3.x and 4.x/5.x), ``js/tracker.php`` and ``js/index.php``;
matomo-org/developer-documentation ``docs/5.x/tracking-api.md`` (parameters, bulk tracking, send_image);
Matomo's bulk tracking tests (``{"status":"success","tracked":2,"invalid":0}``); captured hits (fixtures):
openstreetmap.fr's uMap page view, btdconf.com, Banco do Brasil's event with ``uid``, aicoin.cn's event,
matomo-org/matomo-for-wordpress WooCommerce tests (cart update and order), Matomo's own bulk test request.
"""

from __future__ import annotations

import json
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_consent, new_event, register
from harness.decoders.registry import click_id_names
from harness.decoders.wire import (
    form_params,
    json_body,
    number_keeping_raw,
    params_dict,
    parse_json,
    query_dict,
    query_named,
    query_params,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import parse_query

_ENDPOINT_NAMES = frozenset({"matomo.php", "piwik.php"})
# Matomo's js/ directory answers a request with a query as the tracker does (js/tracker.php, js/index.php).
_JS_ENDPOINT_ENDINGS = ("/js/", "/js/index.php", "/js/tracker.php")
_BULK_MARK = b'"requests"'
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_NO_CONTENT = SinkholeReply(status=204)
# Typed fields of the event; every other parameter stays in params under its wire name.
_TYPED = frozenset({"idsite", "url", "ec_id", "uid", "consent"})
# Which parameter makes a request which kind of action (Tracking API reference), in the order they are tested
# after goals, ecommerce and events.
_ACTION_KINDS = (
    ("search", "site_search"),
    ("link", "outlink"),
    ("download", "download"),
    ("c_i", "content_interaction"),
    ("c_n", "content_impression"),
    ("ma_id", "media"),
    ("cra", "crash"),
)
PURCHASE_EVENT = "ecommerce_order"


def _is_endpoint(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in _ENDPOINT_NAMES or path.endswith(_JS_ENDPOINT_ENDINGS)


def _signed(params: dict[str, str]) -> bool:
    """The Tracking API's two required parameters: ``idsite`` and ``rec=1``."""
    return params.get("rec") == "1" and bool(params.get("idsite"))


def _single_params(request: CapturedRequest) -> dict[str, str]:
    """A GET's query, or a POST's query plus its form body (piwik.js posts the query string as the body)."""
    pairs = query_params(request.url)
    if request.method == "POST" and request.body:
        pairs += form_params(request.text)
    return params_dict(pairs)


def _bulk_entries(request: CapturedRequest) -> list[Any] | None:
    """The ``requests`` list of a bulk body, or None when the body is no bulk request."""
    if request.method != "POST" or request.body.find(_BULK_MARK) < 0:
        return None
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return None
    entries: list[Any] = body["requests"]
    return entries


def _entry_params(entry: Any) -> dict[str, str] | None:
    """One bulk entry, ``"?idsite=1&rec=1&..."`` (a query string, or a URL with one), as params."""
    if not isinstance(entry, str):
        return None
    query = entry.split("?", 1)[1] if "?" in entry else entry
    return params_dict(parse_query(query))


def _event_name(params: dict[str, str]) -> str:
    if params.get("ping") == "1":
        return "ping"
    goal = params.get("idgoal")
    if goal is not None and goal != "":
        if goal == "0":
            return PURCHASE_EVENT if params.get("ec_id") else "cart_update"
        return "goal"
    if params.get("e_c") or params.get("e_a"):
        return text_or_none(params.get("e_a")) or "event"
    for key, name in _ACTION_KINDS:
        if key in params:
            return name
    return "action" if params.get("ca") == "1" else "page_view"


def _value(name: str, params: dict[str, str], extra: dict[str, Any]) -> float | None:
    if name in (PURCHASE_EVENT, "cart_update", "goal"):
        return number_keeping_raw(params.get("revenue"), extra)
    if params.get("e_v") is not None and (params.get("e_c") or params.get("e_a")):
        return number_keeping_raw(params["e_v"], extra)
    return None


def _user_data(params: dict[str, str]) -> dict[str, Any]:
    uid = text_or_none(params.get("uid"))
    if not uid:
        return {}
    forms: dict[str, Any] = {"uid": user_data_form(uid)}
    if "@" in uid:
        forms["em"] = "raw"
    return forms


def _extra_params(params: dict[str, str]) -> dict[str, Any]:
    extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _TYPED}
    items = params.get("ec_items")
    if items:
        parsed = parse_json(items)
        if isinstance(parsed, list):
            extra["ec_items"] = parsed  # [[sku, name, category, price, quantity], ...]
    return extra


@register
class MatomoDecoder(Decoder):
    vendor = "matomo"
    profile = VendorProfile(
        tag_name="Matomo tracker",
        platform_name="Matomo",
        purchase_events=frozenset({PURCHASE_EVENT}),
    )
    # Matomo Cloud's tracking hosts; self-hosted Matomo runs on any host.
    platform_hosts = (".matomo.cloud",)
    volatile_params = frozenset(
        {
            "r",
            "rand",
            "h",
            "m",
            "s",
            "_id",
            "cid",
            "_idts",
            "_viewts",
            "_refts",
            "_ects",
            "pv_id",
            "gt_ms",
            "cdt",
        }
        | {"pf_net", "pf_srv", "pf_tfr", "pf_dm1", "pf_dm2", "pf_onl"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        if request.method not in ("GET", "POST") or not _is_endpoint(request.path):
            return False
        if request.method == "GET":
            return _signed(query_dict(request.url))
        if _signed(_single_params(request)):
            return True
        entries = _bulk_entries(request)
        if not entries:
            return False
        return any(params is not None and _signed(params) for params in map(_entry_params, entries))

    def may_claim_path(self, method: str, path: str) -> bool:
        return method in ("GET", "POST") and _is_endpoint(path)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        entries = _bulk_entries(request)
        if entries is not None:
            answer = {"status": "success", "tracked": len(entries), "invalid": 0}
            return SinkholeReply(
                status=200, content_type="application/json", body=json.dumps(answer).encode()
            )
        # Matomo answers a tracking request with a GIF unless it asked for none (send_image=0: 204).
        return _NO_CONTENT if _single_params(request).get("send_image") == "0" else _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        single = _single_params(request)
        if _signed(single):
            return [self._event(request, single)]
        entries = _bulk_entries(request)
        if entries is None:
            return [self.malformed(request, "no idsite and rec=1, and no bulk requests list")]
        if not entries:
            return [self.malformed(request, "bulk request with an empty requests list")]
        return [self._bulk_event(request, index, entry) for index, entry in enumerate(entries)]

    def _bulk_event(self, request: CapturedRequest, index: int, entry: Any) -> DecodedEvent:
        params = _entry_params(entry)
        if params is None:
            return self.malformed(request, f"bulk entry {index} is not a query string")
        if not _signed(params):
            return self.malformed(request, f"bulk entry {index} has no idsite and rec=1", _event_name(params))
        return self._event(request, params)

    def _event(self, request: CapturedRequest, params: dict[str, str]) -> DecodedEvent:
        name = _event_name(params)
        extra = _extra_params(params)
        page_url = text_or_none(params.get("url")) or request.header("referer")
        consent = params.get("consent")
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=text_or_none(params.get("idsite")),
            value=_value(name, params, extra),
            transaction_id=text_or_none(params.get("ec_id")),
            click_ids={k: v for k, v in query_named(page_url, click_id_names()) if v} if page_url else {},
            consent=new_consent(other={"consent": consent}) if consent else new_consent(),
            user_data=_user_data(params),
            page_url=page_url,
            source=self.source,
            params=extra,
        )
