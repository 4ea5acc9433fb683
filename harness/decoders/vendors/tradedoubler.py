"""Tradedoubler conversion tracking (sales and leads).

A conversion reaches Tradedoubler as ``GET tbs.tradedoubler.com/report`` (sales) or ``GET
tbl.tradedoubler.com/report`` (leads), from an ``<img>`` / ``<iframe>`` on the confirmation page, an app SDK
or a server, in one of two query shapes:

* name=value pairs: ``organization=<organization>&event=<event ID>&orderNumber=<order>&orderValue=<amount>
  &currency=<ISO>&tduid=<click ID>`` (a lead: ``leadNumber``), with ``program``, ``voucher``, ``checksum``
  (``v04`` + MD5 of secret, order number and value), ``reportInfo`` (``f1=<id>&f2=<name>&f3=<price>&f4=<qty>``
  per product, ``|``-separated, URL-encoded), ``extid`` / ``exttype`` (a user identifier, 1 = email, 0 =
  other, SHA-256 by Tradedoubler's guidance) and ``deviceid``. Clients spell the names in either case
  (``orderNumber`` on pages, ``ordernumber`` in Stape's and Tradedoubler's own ``tdconv`` script);
* Product Level Tracking: ``report?o(<organization>)event(<event>)ordnum(<order>)curr(<ISO>)tduid(..)
  chksum(..)enc(3)basket(pr(i(<id>)n(<name>)gr(<group>)v(<price>)q(<qty>))pr(..))``, name(value) pairs with
  the short names ``o``, ``p``, ``ordnum``, ``curr``, ``chksum`` (Tradedoubler's iOS SDK, Stape's template,
  the Plumrocket Magento extension).

``tbs.tradedoubler.com/user`` (Stape's user-data call: a hashed identifier, no conversion) and the click
redirects are not decoded.

Decoded: one event per hit, ``conversion`` for an order (``orderNumber`` / ``ordnum``), ``lead`` for a lead
(``leadNumber``; without either number, ``tbl`` means a lead). ``account_id`` is the organization ID, the
Tradedoubler ``event`` ID (which sale or lead event) stays in params. ``value`` is ``orderValue``, the order
value in major units (Tradedoubler computes commission from it; R Advertising's template sends the value
less tax and shipping); without it, the PLT basket's ``v`` x ``q`` summed (``v`` is the unit price:
Stape maps GA4's item ``price`` to it). ``transaction_id`` is the order (or lead) number; the click ID
``tduid``, which Tradedoubler appends to landing URLs (the cashback ``tdclid`` stays in params). A raw
``extid`` is personal data: its form is recorded in ``user_data`` (``em`` for ``exttype=1``, else
``external_id``) and its value dropped from params.

Consent: an ad tag, like the other affiliate networks.

Sources: Tradedoubler's advertiser tracking docs as cited by Commanders Act's Tradedoubler destination
(CommandersAct/Platform-Documentation), Stape's Tradedoubler server GTM template (stape-io/tradedoubler-tag),
Addingwell's R Advertising template (a Tradedoubler-based network, addingwell/r-advertising-tag),
Tradedoubler's iOS SDK (sale, lead and PLT URLs), the Plumrocket Magento affiliate extension, CubeCart's
Tradedoubler module, and deployed pages and scripts that build the pixels (``tdconv`` conversion script).
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import (
    PIXEL_GIF,
    Decoder,
    VendorProfile,
    host_matches,
    new_event,
    register,
)
from harness.decoders.wire import number_keeping_raw, text_or_none, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query, unquote, url_parts

SALE_HOST = "tbs.tradedoubler.com"
LEAD_HOST = "tbl.tradedoubler.com"
TRACKING_HOSTS = (SALE_HOST, LEAD_HOST)
_REPORT_PATH = "/report"
# PLT short names -> the name=value ones.
_PLT_NAMES = {
    "o": "organization",
    "p": "program",
    "ordnum": "ordernumber",
    "curr": "currency",
    "chksum": "checksum",
}
# Lower-cased names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset({"organization", "ordervalue", "currency", "ordernumber", "leadnumber", "tduid"})
# A PLT query opens with name( before any "=".
_PLT_START = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\(")

_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_FRAME_REPLY = SinkholeReply(status=200, content_type="text/html", body=b"")


def raw_query(url: str) -> str:
    parts = url_parts(url)
    return parts.query if parts else ""


def paren_pairs(text: str) -> list[tuple[str, str]]:
    """``a(1)b(x(2)y(3))`` as [("a", "1"), ("b", "x(2)y(3)")]: top-level name(value) pairs, nesting kept in
    the value. Text outside a pair is skipped; an unclosed pair runs to the end."""
    pairs: list[tuple[str, str]] = []
    index, length = 0, len(text)
    while index < length:
        open_at = text.find("(", index)
        if open_at < 0:
            break
        name = text[index:open_at].lstrip("&/")
        depth, end = 1, open_at + 1
        while end < length and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        value = text[open_at + 1 : end - 1] if depth == 0 else text[open_at + 1 :]
        pairs.append((name, value))
        index = end
    return pairs


def plt_params(query: str) -> dict[str, str]:
    """A PLT query's pairs under the name=value names, values URL-decoded (the basket kept as sent)."""
    out: dict[str, str] = {}
    for name, value in paren_pairs(query):
        key = _PLT_NAMES.get(name.lower(), name)
        out.setdefault(key, value if key.lower() == "basket" else unquote(value))
    return out


def basket_lines(basket: str) -> list[dict[str, str]]:
    """The PLT basket's ``pr(...)`` products, each as its i/n/gr/v/q fields (URL-decoded)."""
    return [
        {field: unquote(value) for field, value in paren_pairs(product)}
        for name, product in paren_pairs(basket)
        if name.lower() == "pr"
    ]


def basket_value(lines: list[dict[str, str]]) -> float | None:
    """Sum of ``v`` x ``q``; None without products or when a price or quantity is no number."""
    if not lines:
        return None
    total = 0.0
    for line in lines:
        price, quantity = to_number(line.get("v")), to_number(line.get("q"))
        if price is None or quantity is None:
            return None
        total += price * quantity
    return round(total, 6)


def report_params(url: str) -> dict[str, str]:
    """The hit's parameters, from either query shape (first spelling of a name wins)."""
    query = raw_query(url)
    if _PLT_START.match(query):
        return plt_params(query)
    out: dict[str, str] = {}
    for key, value in parse_query(query):
        out.setdefault(key, value)
    return out


def identifier_form(lower: dict[str, str]) -> dict[str, UserDataForm]:
    text = text_or_none(lower.get("extid"))
    if text is None:
        return {}
    key = "em" if lower.get("exttype", "").strip() == "1" else "external_id"
    return {key: user_data_form(text)}


def number_or_lead(lower: dict[str, str]) -> str | None:
    """The order number, else the lead number."""
    return text_or_none(lower.get("ordernumber")) or text_or_none(lower.get("leadnumber"))


def event_name(lower: dict[str, str], host: str) -> str:
    if text_or_none(lower.get("ordernumber")):
        return "conversion"
    if text_or_none(lower.get("leadnumber")) or host == LEAD_HOST:
        return "lead"
    return "conversion"


@register
class TradedoublerDecoder(Decoder):
    vendor = "tradedoubler"
    profile = VendorProfile(
        tag_name="Tradedoubler conversion pixel",
        platform_name="Tradedoubler",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
        click_ids=("tduid",),
    )
    claim_hosts = TRACKING_HOSTS

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path == _REPORT_PATH

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path == _REPORT_PATH and host_matches(host, TRACKING_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = report_params(request.url)
        lower = {key.lower(): value for key, value in reversed(params.items())}
        event = event_name(lower, request.host)
        organization = text_or_none(lower.get("organization"))
        if not organization:
            return [self.malformed(request, "no organization ID (organization / o)", event)]
        user_data = identifier_form(lower)
        # A raw identifier is personal data: its form is recorded, never its value.
        hide_extid = "raw" in user_data.values()
        extra: dict[str, Any] = {
            k: v
            for k, v in params.items()
            if k.lower() not in _TYPED and v != "" and not (hide_extid and k.lower() == "extid")
        }
        lines = basket_lines(lower.get("basket", ""))
        if lines:
            extra["basket"] = lines
        if "ordervalue" in lower:
            value = number_keeping_raw(lower["ordervalue"], extra)
        else:
            value = basket_value(lines)
        tduid = text_or_none(lower.get("tduid"))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=organization,
                value=value,
                currency=text_or_none(lower.get("currency")),
                transaction_id=number_or_lead(lower),
                click_ids={"tduid": tduid} if tduid else {},
                user_data=user_data,
                page_url=request.header("referer"),
                source=self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest == "iframe":
            return _FRAME_REPLY  # some carts load the report URL in an <iframe>
        return _GIF_REPLY


__all__ = [
    "TradedoublerDecoder",
    "basket_lines",
    "basket_value",
    "paren_pairs",
    "plt_params",
    "report_params",
]
