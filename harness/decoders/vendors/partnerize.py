"""Partnerize (formerly Performance Horizon, PHG) conversion tracking.

Partnerize's conversion URL carries its parameters in the path, as ``name:value`` segments separated by
``/``, with each basket item in square brackets:

* the standard pixel, an ``<img>`` on the confirmation page: ``GET prf.hn/conversion/campaign:<campaign>
  /conversionref:<order>/currency:<ISO>/[category:<cat>/sku:<sku>/value:<price>/quantity:<qty>]..``
  (Partnerize's Standard Pixel guide, a Westfield Magento helper, Tealium's PHG tag, whose items may follow
  each other as ``[..][..]``);
* the first-party / server-to-server form: ``GET prf.hn/conversion/tracking_mode:api/campaign:..
  /clickref:<click ref>/conversionref:../currency:../country:../customertype:new|existing/voucher:..
  /conversion_time:<epoch>/[..]`` (Partnerize's S2S guide via Commanders Act's and Datafly's destinations,
  a server GTM template that also sends ``tmethod:2/tplatform:4`` and writes items as ``/[/sku:..]``), which
  Partnerize's Android SDK sends from apps with ``device:``, ``context:`` and ``app_*`` segments and only a
  ``clickref`` (the click names the campaign).

Click links (``prf.hn/click/camref:..``) are redirects, never conversions, and are not claimed. What the
Partnerize Tag (the JavaScript first-party tag) sends is not publicly documented and is not decoded.

Decoded: one ``conversion`` per hit. ``account_id`` is the ``campaign`` (the campaign reference); a hit with
neither a campaign nor a ``clickref`` cannot be attributed and is malformed. ``value`` is the basket's item
``value`` x ``quantity`` summed, in major units (an item's ``value`` is its unit price, after any voucher
discount: Commanders Act maps the item price to it, Partnerize wants vouchers reflected in it); a missing
or non-numeric price or quantity leaves ``value`` unknown. Partnerize computes commission from these values,
never sends it. ``currency`` is the basket ``currency``, ``transaction_id`` the ``conversionref``, the click
ID ``clickref`` (the ``clickref`` Partnerize appends to landing URLs). Basket segments beyond those stay in
params as sent, items under ``items``.

Consent: an ad tag, like the other affiliate networks (Partnerize leaves consent to the brand).

Sources: Partnerize help centre (Standard Pixel Integration, Vertical Specific Parameters, Partnerize Tag First
Party Integration, Clickref Pixel Integration), Commanders Act's Partnerize destination
(CommandersAct/Platform-Documentation), Datafly Signal's Partnerize integration, webmasterjunkie/
partnerize-gtm-s2s (server GTM template), Tealium's PHG tag, Branch's Performance Horizon postback
(its items as ``%5B..%5D``), Partnerize's Android SDK tests, FMTC's
Partnerize link structures, and deployed cart code that builds the pixel.
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from harness.urls import unquote

TRACKING_HOST = "prf.hn"
_PREFIX = "/conversion/"
# Basket names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset({"campaign", "currency", "conversionref", "clickref"})
_ENCODED_BRACKET = re.compile(r"%5[BbDd]")


def split_segments(path: str) -> tuple[list[str], list[str]]:
    """The part after ``/conversion/`` as basket segments and bracketed items (each item's inside),
    split on ``/`` outside brackets. An unclosed bracket runs to the end."""
    segments: list[str] = []
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in path:
        if char == "[" and depth == 0:
            if current:
                segments.append("".join(current))
                current = []
            depth = 1
        elif char == "]" and depth:
            items.append("".join(current))
            current, depth = [], 0
        elif char == "/" and depth == 0:
            if current:
                segments.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        (items if depth else segments).append("".join(current))
    return segments, items


def bracket_path(path: str) -> str:
    """The path with percent-encoded item brackets as brackets: Branch's postback (and any client that
    escapes ``[``/``]``) sends ``%5B..%5D``, which Partnerize reads as items."""
    return _ENCODED_BRACKET.sub(lambda match: "[" if match.group(0)[2] in "Bb" else "]", path)


def name_values(segments: list[str]) -> dict[str, str]:
    """``name:value`` segments as a dict (URL-decoded, the first of a name winning); a segment without
    ``:`` is kept under its own text with an empty value."""
    out: dict[str, str] = {}
    for segment in segments:
        name, _, value = segment.partition(":")
        out.setdefault(unquote(name), unquote(value))
    return out


def item_fields(item: str) -> dict[str, str]:
    return name_values([part for part in item.split("/") if part])


def basket_value(items: list[dict[str, str]]) -> float | None:
    """Sum of the items' ``value`` x ``quantity``; None without priced items or when one is no number."""
    priced = [item for item in items if "value" in item]
    if not priced:
        return None
    total = 0.0
    for item in priced:
        price, quantity = to_number(item["value"]), to_number(item.get("quantity"))
        if price is None or quantity is None:
            return None
        total += price * quantity
    return round(total, 6)


@register
class PartnerizeDecoder(Decoder):
    vendor = "partnerize"
    profile = VendorProfile(
        tag_name="Partnerize conversion pixel",
        platform_name="Partnerize",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
        click_ids=("clickref",),
    )
    claim_hosts = (TRACKING_HOST,)
    volatile_params = frozenset({"conversion_time"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.startswith(_PREFIX)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host == TRACKING_HOST and path.startswith(_PREFIX)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        segments, raw_items = split_segments(bracket_path(request.path[len(_PREFIX) :]))
        basket = name_values(segments)
        campaign = text_or_none(basket.get("campaign"))
        clickref = text_or_none(basket.get("clickref"))
        if not campaign and not clickref:
            return [self.malformed(request, "no campaign and no clickref", "conversion")]
        items = [item_fields(item) for item in raw_items]
        extra: dict[str, Any] = {k: v for k, v in basket.items() if k not in _TYPED and v != ""}
        if items:
            extra["items"] = items
        return [
            new_event(
                vendor=self.vendor,
                event="conversion",
                account_id=campaign,
                value=basket_value(items),
                currency=text_or_none(basket.get("currency")),
                transaction_id=text_or_none(basket.get("conversionref")),
                click_ids={"clickref": clickref} if clickref else {},
                page_url=request.header("referer"),
                source=self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)


__all__ = ["PartnerizeDecoder", "basket_value", "bracket_path", "item_fields", "name_values", "split_segments"]
