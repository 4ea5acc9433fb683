"""X (Twitter) pixel hits and X Conversions API calls.

The website tag (``static.ads-twitter.com/uwt.js``, never a hit) sends the same hit twice, to
``analytics.twitter.com`` (or, newer, ``analytics.x.com``) and to ``t.co`` (for each domain's cookies),
under ``/i/adsct`` or ``/1/i/adsct`` as an image GET, or under ``/i/adsctp`` or ``/1/i/adsctp`` as a
form POST (fetch/beacon) carrying the same fields in its body:

- legacy: ``?p_id=Twitter&txn_id=<pixel>&events=[["pageview",null]]|[["purchase",{value,currency,..}]]
  &tw_sale_amount=..&tw_order_quantity=..&tw_document_href=..&tpx_cb=..``
- current (uwt.js 2.3.x): ``?bci=4&dv=..&eci=3&event={..}&event_id=..&integration=advertiser|gtm
  &p_id=Twitter&p_user_id=0&pl_id=<page load uuid>&tw_document_href=..&txn_id=<pixel>&type=javascript``;
  a ``twq('event', 'tw-<pixel>-<event>', {value, currency, conversion_id, email_address, ...})`` call
  carries its event tag ID in ``event_id`` and its parameters in ``event``.
- single-event website tag (``oct.js`` ``twttr.conversion.trackPid('<tag>', {tw_sale_amount, ..})``), in
  its ``<noscript>`` image: ``?txn_id=<tag>&p_id=Twitter&tw_sale_amount=..&tw_order_quantity=..`` and
  nothing else. ``txn_id`` is then the conversion (web event) tag itself, so the hit is that tag's
  conversion, named by its ID as event tags are. The universal tag's own ``<noscript>``
  (``?txn_id=<pixel>&p_id=Twitter``) carries none of ``trackPid``'s parameters and stays a page view.

Both copies decode (they are separate requests); ``params["endpoint_host"]`` tells them apart.

Server-side, the Conversions API takes ``POST ads-api.x.com/<version>/measurement/conversions/<pixel id>``
(also on the older ``ads-api.twitter.com``; OAuth 1.0a ``Authorization`` header) with ``{"conversions":
[{conversion_time, event_id, identifiers: [{twclid} | {hashed_email} | {hashed_phone_number} | {ip_address,
user_agent}], value, price_currency, number_items, conversion_id, description, contents}]}`` (X's Ads API
reference; RudderStack's twitter_ads and Stape's X tag send exactly that). ``event_id`` is the event tag,
sent either short (``o87ne``) or in full (``tw-<pixel>-<event>``), both accepted: it names the event in full,
as the pixel's event tags are named, so both sides of one conversion compare. ``conversion_id`` is what X
deduplicates pixel and Conversions API events on, hence ``event_id``. The answer is ``200`` with
``{"request": {...}, "data": {"conversions_processed": N, "debug_id": ".."}}``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    json_body,
    json_safe,
    loads_json,
    number_keeping_raw,
    query_value,
    request_params_dict,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_HOSTS = ("analytics.twitter.com", "analytics.x.com", "t.co")
_PATHS = (
    "/i/adsct",
    "/1/i/adsct",
    "/i/adsct/",
    "/1/i/adsct/",
    "/i/adsctp",
    "/1/i/adsctp",
    "/i/adsctp/",
    "/1/i/adsctp/",
)
_EVENT_TAG = re.compile(r"^tw-[0-9a-z]+-[0-9a-z]+$", re.IGNORECASE)
_USER = {"email_address": "em", "phone_number": "ph"}
# twq('config', <pixel>, {email_address}) sends the identifier beside txn_id, not in ``event`` (a live
# uwt.js 2.3.34 hit on bookmap.com): read from either place, and never copied into params.
_KNOWN = {"txn_id", "events", "event", "event_id", "tw_document_href", "twclid", "tw_sale_amount", *_USER}
# The conversion parameters of oct.js' trackPid, which a single-event tag's <noscript> image repeats.
_TRACK_PID_PARAMS = ("tw_sale_amount", "tw_order_quantity", "tw_product_id", "tw_country_code")
_CAPI_HOSTS = ("ads-api.x.com", "ads-api.twitter.com")
_CAPI_PATH = re.compile(r"^/(?P<version>\d+)/measurement/conversions/(?P<pixel>[^/]+)/?$")
_SHORT_EVENT_TAG = re.compile(r"^[0-9a-z]+$", re.IGNORECASE)
# identifiers[] keys -> user_data keys (the click ID goes to click_ids).
_CAPI_USER = {"hashed_email": "em", "hashed_phone_number": "ph"}
# Decoded into typed fields, or identifiers (whose values are never copied into params).
_CAPI_KNOWN = {
    "event_id",
    "identifiers",
    "value",
    "price_currency",
    "conversion_id",
    "ip_address",
    "user_agent",
}


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return loads_json(raw)
    except (ValueError, RecursionError):
        return None


def _named_events(params: dict[str, str]) -> list[tuple[str, dict[str, Any]]] | None:
    """The events a hit carries as (name, data): legacy ``events`` list, else the current single event.
    None when ``events`` is present but unreadable."""
    raw_events = params.get("events")
    event_data = _json(params.get("event"))
    data = event_data if isinstance(event_data, dict) else {}
    if raw_events:
        parsed = _json(raw_events)
        if not isinstance(parsed, list):
            return None
        named = []
        for entry in parsed:
            if isinstance(entry, list) and entry and text_or_none(entry[0]):
                entry_data = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
                named.append((str(entry[0]), {**data, **entry_data}))
        return named or None
    tag = text_or_none(params.get("event_id"))
    if tag and _EVENT_TAG.match(tag):
        return [(tag, data)]
    pixel = text_or_none(params.get("txn_id"))
    if pixel and "event" not in params and any(name in params for name in _TRACK_PID_PARAMS):
        return [(pixel, data)]  # a single-event tag: txn_id is the conversion tag (module docstring)
    return [("pageview", data)]


def _click_ids(params: dict[str, str], page_url: str | None) -> dict[str, str]:
    click = text_or_none(params.get("twclid"))
    if not click and page_url:
        click = query_value(page_url, "twclid") or None
    return {"twclid": click} if click else {}


def _user_data(data: dict[str, Any]) -> dict[str, UserDataForm]:
    found: dict[str, UserDataForm] = {}
    for wire_name, kind in _USER.items():
        text = text_or_none(data.get(wire_name))
        if text:
            found[kind] = user_data_form(text)
    return found


@register
class XDecoder(Decoder):
    vendor = "x"
    profile = VendorProfile(
        tag_name="X Pixel",
        platform_name="X",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("twclid",),
        hit_click_ids=(),  # uwt.js keeps it in a cookie; not sourced on every conversion hit
        without_click_id="X: the Conversions API with hashed email or phone",
    )
    claim_hosts = (*_HOSTS, *_CAPI_HOSTS)
    volatile_params = frozenset({"pl_id", "tpx_cb", "twpid", "event_id", "conversion_time"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host in _CAPI_HOSTS:
            return method == "POST" and bool(_CAPI_PATH.match(path))
        return host in _HOSTS and path in _PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host in _CAPI_HOSTS:
            return _capi_reply(request)
        if request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host in _CAPI_HOSTS:
            return self._decode_capi(request)
        params = request_params_dict(request)
        pixel = text_or_none(params.get("txn_id"))
        if not pixel:
            return [self.malformed(request, "no pixel id (txn_id)")]
        named = _named_events(params)
        if named is None:
            return [self.malformed(request, "events parameter is not a JSON list of [name, data]")]
        page_url = text_or_none(params.get("tw_document_href")) or request.header("referer")
        # uwt.js sends tw_sale_amount=0 by default, so 0 means "not set" rather than a free sale.
        sale_amount = to_number(params.get("tw_sale_amount")) or None
        common: dict[str, Any] = {k: v for k, v in params.items() if k not in _KNOWN}
        common["endpoint_host"] = request.host
        if params.get("event_id"):
            common["event_id"] = params["event_id"]
        if "tw_sale_amount" in params:
            common["tw_sale_amount"] = params["tw_sale_amount"]
        events = []
        for name, data in named:
            value = to_number(data.get("value"))
            conversion_id = text_or_none(data.get("conversion_id"))
            hit_event_id = text_or_none(params.get("event_id"))
            event_extra = {
                f"event.{k}": v
                for k, v in data.items()
                if k not in ("value", "currency", "conversion_id", *_USER)
            }
            events.append(
                new_event(
                    vendor=self.vendor,
                    event=name,
                    account_id=pixel,
                    value=value if value is not None else sale_amount,
                    currency=text_or_none(data.get("currency")),
                    # conversion_id is what X deduplicates pixel and Conversions API events on.
                    event_id=conversion_id
                    or (hit_event_id if not _EVENT_TAG.match(hit_event_id or "") else None),
                    click_ids=_click_ids(params, page_url),
                    user_data=_user_data({**params, **data}),
                    page_url=page_url,
                    source=self.source,
                    params=json_safe({**common, **event_extra}),
                )
            )
        return events

    def _capi_malformed(self, request: CapturedRequest, reason: str) -> DecodedEvent:
        """The one event of an unreadable Conversions API call: a server event, wherever it was sent from."""
        event = self.malformed(request, reason)
        event.source = "server"
        return event

    def _decode_capi(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _CAPI_PATH.match(request.path)
        pixel = match["pixel"] if match else None
        body = json_body(request)
        items = body.get("conversions") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return [self._capi_malformed(request, "Conversions API body has no conversions list")]
        shared: dict[str, Any] = {"endpoint_host": request.host}
        if match:
            shared["api_version"] = match["version"]
        if request.header("authorization"):
            shared["authorization_present"] = True  # OAuth 1.0a: recorded as present, never copied
        return [self._capi_event(request, pixel, item, shared) for item in items]

    def _capi_event(
        self, request: CapturedRequest, pixel: str | None, item: Any, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(item, dict):
            return self._capi_malformed(request, "Conversions API conversion is not an object")
        tag = text_or_none(item.get("event_id"))
        if not tag:
            return self._capi_malformed(request, "Conversions API conversion without event_id (its event tag)")
        click_ids, user_data, hashed_emails = _capi_identifiers(item)
        params: dict[str, Any] = {**shared, "event_id": tag}
        params.update({k: v for k, v in item.items() if k not in _CAPI_KNOWN})
        if hashed_emails:
            params["hashed_emails"] = hashed_emails  # SHA-256 digests only, for attribution.py
        value = number_keeping_raw(item.get("value"), params)
        return new_event(
            vendor=self.vendor,
            event=_full_event_tag(tag, pixel),
            account_id=pixel,
            value=value,
            currency=text_or_none(item.get("price_currency")),
            event_id=text_or_none(item.get("conversion_id")),
            click_ids=click_ids,
            user_data=user_data,
            source="server",
            params=params,  # from json_body: safe already (parse_json)
        )


def _full_event_tag(tag: str, pixel: str | None) -> str:
    """``o87ne`` sent for pixel ``o8z6j`` as ``tw-o8z6j-o87ne``, the name the pixel's hits give it."""
    if pixel and _SHORT_EVENT_TAG.match(tag) and _SHORT_EVENT_TAG.match(pixel):
        return f"tw-{pixel}-{tag}"
    return tag


def _capi_identifiers(item: dict[str, Any]) -> tuple[dict[str, str], dict[str, UserDataForm], list[str]]:
    """``identifiers`` (and a conversion-level ``ip_address``/``user_agent``, as some clients send them):
    the twclid, each identifier's form (never its value) and the SHA-256 email digests."""
    click_ids: dict[str, str] = {}
    forms: dict[str, UserDataForm] = {}
    hashed: list[str] = []
    identifiers = item.get("identifiers")
    entries: list[dict[str, Any]] = []
    if isinstance(identifiers, list):
        entries.extend(entry for entry in identifiers if isinstance(entry, dict))
    entries.append({k: item[k] for k in ("ip_address", "user_agent") if k in item})
    for entry in entries:
        for name, raw in entry.items():
            text = text_or_none(raw)
            if not text:
                continue
            if name == "twclid":
                click_ids.setdefault("twclid", text)
                continue
            key: str = _CAPI_USER.get(name, name)
            form = user_data_form(text)
            forms[key] = "raw" if forms.get(key) == "raw" else form  # one raw value makes the key raw
            if key == "em" and form == "sha256":
                hashed.append(text.lower())
    return click_ids, forms, hashed


def _capi_reply(request: CapturedRequest) -> SinkholeReply:
    """The Conversions API's 200: how many conversions it took, and a debug ID (stable per request here)."""
    body = json_body(request)
    items = body.get("conversions") if isinstance(body, dict) else None
    count = len(items) if isinstance(items, list) else 0
    debug_id = hashlib.sha1(request.body + request.url.encode()).hexdigest()[:32]
    reply = {"request": {"params": {}}, "data": {"conversions_processed": count, "debug_id": debug_id}}
    return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
