"""X (Twitter) pixel hits.

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
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    json_safe,
    loads_json,
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
_KNOWN = {"txn_id", "events", "event", "event_id", "tw_document_href", "twclid", "tw_sale_amount"}
# The conversion parameters of oct.js' trackPid, which a single-event tag's <noscript> image repeats.
_TRACK_PID_PARAMS = ("tw_sale_amount", "tw_order_quantity", "tw_product_id", "tw_country_code")


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
    )
    claim_hosts = _HOSTS
    volatile_params = frozenset({"pl_id", "tpx_cb", "twpid", "event_id"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host in _HOSTS and path in _PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
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
                    user_data=_user_data(data),
                    page_url=page_url,
                    source=self.source,
                    params=json_safe({**common, **event_extra}),
                )
            )
        return events
