"""CJ Affiliate (Commission Junction) conversion tags.

CJ's conversion calls all go to ``www.emjcd.com`` with one set of query parameters:

* the image pixel: ``GET /u?CID=<enterprise ID>&TYPE=<action tracker ID>&METHOD=IMG&OID=<order ID>
  &AMOUNT=<amount>&CURRENCY=..&CJEVENT=<click ID>`` (hand-written pages, Tealium's "CJ Affiliate: Conversion
  Tag");
* the container (iframe) tag: ``GET /tags/c?containerTagId=<tag>&CID=..&TYPE=..&OID=..&CURRENCY=..``;
* server to server: ``GET /u?CID=..&TYPE=..&METHOD=S2S&CJEVENT=<cje cookie>&eventTime=<ISO 8601>&OID=..``
  (CJ's S2S implementation guide, Addingwell's server GTM template).

Simple actions send ``AMOUNT``; item-based ones send ``ITEM<n>`` (SKU), ``AMT<n>`` (unit price),
``QTY<n>``, ``DCNT<n>`` (item discount) instead, with ``DISCOUNT`` (whole-order discount) and ``COUPON``.
Clients spell the names in either case (``currency``, ``item1``/``amt1``), so they are read
case-insensitively and kept in params as sent.

Decoded: one ``conversion`` per hit (``s2s_conversion`` for ``METHOD=S2S``, which CJ wants beside the tag,
so each is counted on its own), ``account_id`` the enterprise ID (``CID``), ``TYPE`` (which action)
in params as sent. ``value`` is ``AMOUNT``, the sale amount (never the commission) in the currency's major
unit; without it, the items' ``AMT`` x ``QTY`` less their ``DCNT`` and the order's ``DISCOUNT`` (each
``DCNT`` taken as its line's discount; CJ's docs give it as "item discount" without saying per unit).
``transaction_id`` is ``OID``; the click ID is ``CJEVENT`` (the ``cjevent`` CJ appends to landing URLs,
kept in the ``cje`` cookie). CJ's newer Universal Tag (``www.mczbf.com/tags/<tag>/tag.js``, a script, never
a hit, configured through ``window.cj``) is not decoded: what it sends is not publicly documented.
Consent: an ad tag, as CJ's troubleshooting guide has it (in opt-in regions the tag waits for consent).

Sources: CJ developer docs (S2S implementation, Universal Tag / GTM / Tealium implementation, click event
troubleshooting), CJ's GTM
template (cj-support/CJ-Affiliate-Universal), Tealium's CJ conversion tag guide, PriceRunner's CJ pixel
instructions, and deployed pages and cart modules (Magento, WooCommerce, PHP pages) that build the
``/u`` and ``/tags/c`` URLs.
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, pixel_reply, register
from harness.decoders.wire import number_keeping_raw, request_params_dict, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

CONVERSION_HOSTS = ("www.emjcd.com", "emjcd.com")
_PIXEL_PATH = "/u"
_CONTAINER_PATH = "/tags/c"
_PATHS = frozenset({_PIXEL_PATH, _CONTAINER_PATH})
_ITEM_FIELD = re.compile(r"^(ITEM|AMT|QTY|DCNT)(\d{1,4})$")
# Upper-cased names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset({"CID", "AMOUNT", "CURRENCY", "OID", "CJEVENT"})
_CONTAINER_REPLY = SinkholeReply(status=200, content_type="text/html", body=b"")


def upper_keys(params: dict[str, str]) -> dict[str, str]:
    """The parameters under upper-case names, the first spelling of a name winning."""
    out: dict[str, str] = {}
    for key, value in params.items():
        out.setdefault(key.upper(), value)
    return out


def item_lines(upper: dict[str, str]) -> dict[int, dict[str, str]]:
    """``ITEM<n>``/``AMT<n>``/``QTY<n>``/``DCNT<n>`` grouped by ``n``."""
    lines: dict[int, dict[str, str]] = {}
    for key, value in upper.items():
        match = _ITEM_FIELD.match(key)
        if match:
            lines.setdefault(int(match[2]), {})[match[1]] = value
    return lines


def items_value(upper: dict[str, str]) -> float | None:
    """What item-based hits sell: sum of ``AMT`` x ``QTY`` less every ``DCNT`` and ``DISCOUNT``; None
    without items, or when a price, quantity or discount is no number."""
    lines = [line for line in item_lines(upper).values() if "AMT" in line]
    if not lines:
        return None
    total = 0.0
    for line in lines:
        price, quantity = to_number(line["AMT"]), to_number(line.get("QTY"))
        discount = to_number(line["DCNT"]) if line.get("DCNT") else 0.0
        if price is None or quantity is None or discount is None:
            return None
        total += price * quantity - discount
    order_discount = to_number(upper["DISCOUNT"]) if upper.get("DISCOUNT") else 0.0
    return None if order_discount is None else round(total - order_discount, 6)


@register
class CjDecoder(Decoder):
    vendor = "cj"
    profile = VendorProfile(
        tag_name="CJ Affiliate conversion tag",
        platform_name="CJ Affiliate",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
        click_ids=("cjevent",),
        click_id_cookies={"cjevent": "cje"},
    )
    claim_hosts = CONVERSION_HOSTS
    volatile_params = frozenset({"eventTime", "EVENTTIME", "eventtime"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path in _PATHS and host_matches(host, CONVERSION_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        upper = upper_keys(params)
        server = upper.get("METHOD", "").strip().upper() == "S2S"
        event = "s2s_conversion" if server else "conversion"
        enterprise = text_or_none(upper.get("CID"))
        if not enterprise:
            return [self.malformed(request, "no enterprise ID (CID)", event)]
        extra: dict[str, Any] = {k: v for k, v in params.items() if k.upper() not in _TYPED and v != ""}
        if "AMOUNT" in upper:
            value = number_keeping_raw(upper["AMOUNT"], extra)
        else:
            value = items_value(upper)
        cjevent = text_or_none(upper.get("CJEVENT"))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=enterprise,
                value=value,
                currency=text_or_none(upper.get("CURRENCY")),
                transaction_id=text_or_none(upper.get("OID")),
                click_ids={"cjevent": cjevent} if cjevent else {},
                page_url=request.header("referer"),
                source="server" if server else self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path == _CONTAINER_PATH:
            return _CONTAINER_REPLY  # the container tag is an <iframe>
        return pixel_reply(request)


__all__ = ["CjDecoder", "item_lines", "items_value", "upper_keys"]
