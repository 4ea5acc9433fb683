"""Adobe Analytics image requests: AppMeasurement, the legacy ``s_code`` (H code), Adobe's mobile SDKs, AMP
and hand-built image tags, on ``*.sc.omtrdc.net``, ``*.2o7.net``, ``*.data.adobedc.net`` or the site's own
tracking server (``smetrics.example.com``), so hits are claimed by their path, on any host.

Path: ``/b/ss/<report suite IDs>/<hit source>[/<library version>][/<cache buster>]``. The report suites are
comma-separated (``suite1,suite2``; the mobile SDKs URL-encode the comma); the hit source is ``1`` for
AppMeasurement (``10`` when it asks for Audience Manager postbacks, ``5.`` before either on its mobile build),
``0`` for the mobile SDKs, AMP and Target's A4T hits; the library version is ``JS-2.21.0`` (AppMeasurement),
``H.25`` (s_code), ``JAVA-4.8.1-AN``/``BS-..`` (mobile, Roku), ``amp-1.0``, ``MOBILE-1.0`` (Adobe's A4T
example, which has no cache buster); the cache buster is ``s`` + a random number (Adobe's hardcoded-request
example has no library version; hand-built tags use ``Math.random()``). One segment after the hit source is
the cache buster when it is a number (``s`` before it or not), else the library version.

Transport: an image GET (a script GET with ``callback=`` when AppMeasurement asks for postbacks), an
XMLHttpRequest POST of the query string as the body once the URL passes 2,047 characters and a
visitor ID is known (no content type set: the browser's ``text/plain``), a ``sendBeacon`` POST of the whole
URL with no body (exit links, ``useBeacon``), and the mobile SDKs' form POST. AppMeasurement opens every
query with ``AQB=1`` and closes it with ``AQE=1``: a hit with the first but not the second was cut short
(Adobe: "meaning that the request was not truncated") and is malformed.

Parameters (Adobe's "Data collection query parameters"): ``events`` (``ev``) lists the success events,
``purchase``, ``prodView``, ``scOpen``, ``scAdd``, ``scRemove``, ``scView``, ``scCheckout`` and
``event1``..``event1000``, each optionally ``=<number>`` (a counter, numeric or currency event's amount) or
``:<ID>`` (event serialization); ``products`` (``pl``) is ``category;product;quantity;price;events;eVars``
per product, products comma-separated, product events and merchandising eVars pipe-separated;
``purchaseID`` deduplicates orders; ``cc`` is the currency code; ``pageName`` (``gn``); ``g`` the page
URL (its bytes past 255 in ``-g``); ``r`` the referrer; ``v0`` the campaign (tracking code);
``c1``.. props, ``v1``.. eVars; ``pe``/``pev1``/``pev2`` the link type (``lnk_o``, ``lnk_d``,
``lnk_e``), URL and name of an ``s.tl()`` call; context data between ``c.`` and ``.c`` (and any other
``x.`` ... ``.x`` pair, such as ``a.`` and ``activitymap.`` inside it), flattened here into dotted
names (``c.a.activitymap.page``).

Events: a hit is one ``s.t()`` page view (``page_view``: it sends no ``pe``) or one link call, named by its
``pe`` as sent, followed by one event per entry of ``events``, in order, named as sent (case-sensitive).
What counts as a purchase: the ``purchase`` event, which "increments the Orders metric by 1 and takes values
set in the products variable to calculate Units and Revenue". Its value is that revenue: the sum of the
products' price fields, each already the line's total ("Revenue is not multiplied by the quantity field"),
in the currency's major unit; prices only count on a purchase. Another event's value is its own
``=<number>``, else the sum of the amounts the products give it (``event1=4.99`` in a product's events).
Every event of a hit shares its report suites (``account_id``), ``cc``, ``purchaseID``, page and params.
``cm.ssf=1`` in context data (AppMeasurement sets it when the opt-in service denies Audience Manager) is
kept as consent. Adobe Analytics has no click ID of its own; ad click IDs are read from the page URL.

Sources: AppMeasurement.js 2.21.0 as deployed (request building, transports), Adobe's Analytics
implementation docs (query parameters, events, products, purchaseID, currencyCode, event serialization,
context data, hardcoded image requests), Adobe Target's A4T reporting docs, Omnibug's AdobeAnalytics
provider and its tests, Adobe's aepsdk-analytics and Mobile Services 4.x SDKs, AMP's adobeanalytics vendor
config, and captured hits in public load-test recordings (Delta, Kohl's, Flipkart, JCPenney), an Omniture
access log (bol.com) and a replay of a bank's Android app (BNP Paribas Fortis).
The Data Insertion API (an XML POST to ``/b/ss//6``) is not decoded here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_consent, new_event, register
from harness.decoders.wire import (
    form_params,
    number_keeping_raw,
    query_named,
    query_params,
    text_or_none,
)
from harness.models import CLICK_ID_PARAMS, CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import unquote

_HIT_PATH = re.compile(
    r"^/b/ss/(?P<suites>[^/]+)/(?P<source>\d+(?:\.\d+)?)"
    r"(?:/(?P<first>[^/]+)(?:/(?P<second>[^/]+))?)?/?$"
)
PATH_PREFIX = "/b/ss/"
_METHODS = frozenset({"GET", "POST"})
# A cache buster: "s" + a random number (AppMeasurement), a plain number, Math.random()'s "0.8392".
_CACHE_BUSTER = re.compile(r"^s?\d+(?:\.\d+)?$")
# What a hit reports with no ``pe``: AppMeasurement's ``s.t()`` page view.
PAGE_VIEW = "page_view"
# One entry of ``events``: a name, then an optional serialization ID and an optional amount.
_EVENT_ENTRY = re.compile(r"^(?P<name>[^=:]+)(?::(?P<serial>[^=]*))?(?:=(?P<amount>.*))?$")
# Framing and what the typed fields hold; everything else stays in params under its wire name.
_CONSUMED = frozenset({"AQB", "AQE", "g", "-g", "cc", "purchaseID"})
_CLICK_ID_NAMES = frozenset(CLICK_ID_PARAMS)
_SCRIPT_REPLY = SinkholeReply(status=200, content_type="application/javascript", body=b"")
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_POST_REPLY = SinkholeReply(status=200, content_type="text/plain", body=b"")


@lru_cache(maxsize=1024)  # asked of every request whose path starts with /b/ss/: a site sends few
def hit_path(path: str) -> re.Match[str] | None:
    return _HIT_PATH.match(path)


@dataclass(frozen=True)
class SuccessEvent:
    """One entry of the ``events`` variable: ``event12=4.5``, ``event1:ABC123``, ``purchase``."""

    name: str
    serial: str | None
    amount: str | None


def success_events(text: str) -> list[SuccessEvent]:
    """The ``events`` variable's entries, in order; empty entries are skipped."""
    found = []
    for entry in text.split(","):
        match = _EVENT_ENTRY.match(entry.strip())
        if match and match["name"].strip():
            found.append(SuccessEvent(match["name"].strip(), text_or_none(match["serial"]), match["amount"]))
    return found


def parse_products(text: str) -> list[dict[str, Any]]:
    """The ``products`` variable as one dict per product (the fields as sent, product events and
    merchandising eVars as name -> value)."""
    items = []
    for entry in text.split(","):
        if not entry.strip():
            continue
        fields = entry.split(";")
        fields += [""] * (6 - len(fields))
        category, product, quantity, price, events = fields[:5]
        items.append(
            {
                "category": category,
                "product": product,
                "quantity": quantity,
                "price": price,
                "events": _pipe_pairs(events),
                "eVars": _pipe_pairs(";".join(fields[5:])),  # a stray ";" in an eVar stays in it
            }
        )
    return items


def _pipe_pairs(text: str) -> dict[str, str]:
    """``event1=4.99|event2`` -> {"event1": "4.99", "event2": ""}."""
    pairs: dict[str, str] = {}
    for part in text.split("|"):
        name, _, value = part.partition("=")
        if name.strip():
            pairs.setdefault(name.strip(), value)
    return pairs


def purchase_revenue(items: list[dict[str, Any]], params: dict[str, Any]) -> float | None:
    """The revenue a purchase reports: the sum of the products' price fields. None without prices; a
    price that is no number makes it None too, kept as sent in ``params["value_raw"]``."""
    prices = [item["price"] for item in items if str(item.get("price", "")).strip()]
    return sum_of_numbers(prices, params)


def product_amount(items: list[dict[str, Any]], event: str, params: dict[str, Any]) -> float | None:
    """What the products give one event (``event1=4.99`` in their events field), summed."""
    amounts = [item["events"][event] for item in items if str(item["events"].get(event, "")).strip()]
    return sum_of_numbers(amounts, params)


def sum_of_numbers(raw_numbers: list[Any], params: dict[str, Any]) -> float | None:
    """The sum of numbers as sent; None for none, or when one is no number (kept in ``params["value_raw"]``)."""
    if not raw_numbers:
        return None
    total = 0.0
    for raw in raw_numbers:
        number = number_keeping_raw(raw, params)
        if number is None:
            return None
        total += number
    return total if math.isfinite(total) else None


def flattened_pairs(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The hit's parameters with context data unnested: ``c.&a.&x=1&.a&.c`` -> {"c.a.x": "1"}. A name's
    first value wins, as the query comes before the body."""
    flat: dict[str, str] = {}
    prefix: list[str] = []
    for name, value in pairs:
        if name.endswith(".") and not value:  # opens a level ("c.", "a.", "activitymap.")
            prefix.append(name)
        elif name.startswith(".") and not value:  # closes one (".a", ".c")
            if prefix:
                prefix.pop()
        elif name:
            flat.setdefault("".join(prefix) + name, value)
    return flat


@register
class AdobeAnalyticsDecoder(Decoder):
    vendor = "adobe_analytics"
    profile = VendorProfile(
        tag_name="Adobe Analytics",
        platform_name="Adobe Analytics",
        purchase_events=frozenset({"purchase"}),
    )
    # ``t`` the browser's time, ``mid``/``aid``/``fid``/``vidn`` visitor IDs, ``sdid`` the supplemental
    # data ID, ``aamb`` the Audience Manager blob, ``lrt`` the last request's timing.
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"t", "mid", "aid", "fid", "vidn", "sdid", "aamb", "lrt", "cache_buster"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method in _METHODS and path.startswith(PATH_PREFIX)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method in _METHODS and path.startswith(PATH_PREFIX) and hit_path(path) is not None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.method != "GET":
            return _POST_REPLY  # XMLHttpRequest wants a 200; sendBeacon reads nothing
        # With postbacks AppMeasurement loads the hit as a <script>; otherwise as an image.
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest == "script" or (
            not dest and any(name == "callback" for name, _ in query_params(request.url))
        ):
            return _SCRIPT_REPLY
        return _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        path = hit_path(request.path)
        if path is None:
            return [self.malformed(request, "not an Adobe Analytics hit path (/b/ss/<report suites>/...)")]
        pairs = query_params(request.url)
        if request.body and request.content_type != "application/json":
            body = form_params(request.text)
            if not body:
                return [self.malformed(request, "POST body is not a form-encoded hit")]
            pairs += body
        hit = flattened_pairs(pairs)
        problem = _problem(hit)
        if problem:
            return [self.malformed(request, problem)]
        return self._events(request, path, hit)

    def _events(
        self, request: CapturedRequest, path: re.Match[str], hit: dict[str, str]
    ) -> list[DecodedEvent]:
        params: dict[str, Any] = {k: v for k, v in hit.items() if k not in _CONSUMED}
        params.update(_path_params(path))
        products = hit.get("products") or hit.get("pl") or ""
        items = parse_products(products) if products else []
        if items:
            params["items"] = items
        page_url = _page_url(hit) or request.header("referer")
        ssf = hit.get("c.cm.ssf")
        shared = {
            "vendor": self.vendor,
            "account_id": text_or_none(unquote(path["suites"])),
            "currency": text_or_none(hit.get("cc")),
            "transaction_id": text_or_none(hit.get("purchaseID")),
            "click_ids": {k: v for k, v in query_named(page_url, _CLICK_ID_NAMES) if v} if page_url else {},
            "page_url": page_url,
            "source": self.source,
        }
        kind = text_or_none(hit.get("pe")) or PAGE_VIEW
        events = [self._event(shared, params, ssf, kind, None, None)]
        for success in success_events(hit.get("events") or hit.get("ev") or ""):
            own: dict[str, Any] = {}
            value = _success_value(success, items, own)
            events.append(self._event(shared, {**params, **own}, ssf, success.name, value, success.serial))
        return events

    @staticmethod
    def _event(
        shared: dict[str, Any],
        params: dict[str, Any],
        ssf: str | None,
        name: str,
        value: float | None,
        event_id: str | None,
    ) -> DecodedEvent:
        return new_event(
            **shared,
            event=name,
            value=value,
            event_id=event_id,
            consent=new_consent(other={"cm.ssf": ssf}) if ssf else new_consent(),
            params=dict(params),  # each event its own copy
        )


def _success_value(
    success: SuccessEvent, items: list[dict[str, Any]], params: dict[str, Any]
) -> float | None:
    if success.name == "purchase":
        return purchase_revenue(items, params)
    if success.amount is not None:
        return number_keeping_raw(success.amount, params)
    return product_amount(items, success.name, params)


def _problem(hit: dict[str, str]) -> str | None:
    if not hit:
        return "hit without parameters"
    if "AQB" in hit and "AQE" not in hit:
        return "truncated: AQB=1 without the closing AQE=1"
    return None


def _page_url(hit: dict[str, str]) -> str | None:
    """``g``, with the bytes past 255 that AppMeasurement moves to ``-g``."""
    start = hit.get("g") or ""
    return text_or_none(start + hit.get("-g", ""))


def _path_params(path: re.Match[str]) -> dict[str, str]:
    """The hit source, then the library version and the cache buster (one of them if one segment follows)."""
    found = {"hit_source": path["source"]}
    if path["second"]:
        found["library_version"] = path["first"]
        found["cache_buster"] = path["second"]
    elif path["first"]:
        found["cache_buster" if _CACHE_BUSTER.match(path["first"]) else "library_version"] = path["first"]
    return found
