"""Awin (formerly Affiliate Window, and zanox) conversion tracking.

One sale reaches Awin by several requests, which Awin joins by advertiser and order reference:

* the MasterTag (``www.dwin1.com/<advertiser>.js``, a script, never a hit) reads the Conversion Tag
  (``AWIN.Tracking.Sale = {amount, channel, orderRef, parts, currency, voucher, test, custom}``) and sends
  ``GET www.awin1.com/sread.js?a=<advertiser>&b=<amount>&cr=<currency>&c=<order ref>&d=<parts>&vc=<voucher>
  &t=<test>&ch=<channel>&cks=<awc>&l=<page URL>&tv=2&tt=js&p1=..`` (a script) together with the same
  parameters to ``sread.php`` with ``tt=ia``;
* the Fall-back Conversion Pixel, an ``<img>`` Awin's implementation guide places beside the Conversion
  Tag: ``GET www.awin1.com/sread.img?tt=ns&tv=2&merchant=<advertiser>&amount=..&ch=..&parts=..&ref=..&cr=..
  &vc=..&testmode=..`` (long names; Awin processes it when JavaScript fails and no longer supports it alone);
* server to server: ``GET www.awin1.com/sread.php?tt=ss`` with the fall-back pixel's parameters plus
  ``cks=<awc>`` (and ``customeracquisition``, ``p1``.., ``bd[<i>]=AW:P|..`` product rows from GTM
  templates), or the Conversion API, ``POST api.awin.com/s2s/advertiser/<advertiser>/orders`` with
  ``{"orders": [{orderReference, amount, currency, channel, commissionGroups, voucher, awc, basket,
  custom, isTest, customerAcquisition, ...}]}`` and an ``x-api-key`` header.

Decoded: the MasterTag's ``tt=js`` hit is the ``conversion``; its ``tt=ia`` twin and the fall-back pixel
(``tt=ns``) repeat that sale (``repeats``: shown, not counted again; a run with the image and no
MasterTag hit for that order counts the image, as Awin processes it when the script fails); the two server forms are an
``s2s_conversion`` (Awin requires both MasterTag and S2S, so each is counted on its own). ``value`` is the
sale amount (the subtotal after discounts, without tax and shipping, in major units; for a lead programme
the number of leads), never the commission; ``parts`` (``<commission group>:<amount>|..``) splits that amount
by commission group and stays as sent. ``transaction_id`` is the order reference, ``account_id`` the
advertiser (merchant) ID, the click ID is ``cks`` (the ``awc`` Awin appends to the landing URL). A hit on
``www.awinblackfriday.com`` mirrors the awin1.com one (seen beside it with the same advertiser and order
in a capture) and is a repeat too.

Consent: judged as an ad tag. Awin makes the advertiser responsible for consent; its Consent Signals
Framework only tells the MasterTag whether to set and read its cookies (``AWIN.Tracking.AdvertiserConsent``),
and no public capture shows that choice on the sale hits, so a hit cannot say it was sent without consent.

Sources: Awin developer docs (Fall-back Conversion Pixel, Conversion Tag, Direct S2S, Channel Parameter,
Implementing Awin Consent), Awin wiki (Conversion Pixel Only Tracking / S2S; Zanox Tracking Plugin, which
lists the MasterTag's ``sread.js``/``sread.php`` requests of one Conversion Tag), captured hits on
atomkraftwerke24.de (a public debugger's tests: ``sread.img`` + ``sread.php`` + ``sread.js`` + the
awinblackfriday.com mirror of one sale), Stape's Awin server GTM templates (``sread.php?tt=ss``,
``api.awin.com/s2s/advertiser/<id>/orders``), the Awin Magento 2 module (``awin1.com/sread.php``),
RudderStack's Awin device-mode integration.
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
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    request_params_dict,
    text_or_none,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

TRACKING_HOSTS = ("www.awin1.com", "awin1.com", "www.zenaps.com", "www.awinblackfriday.com")
_MIRROR_HOSTS = ("www.awinblackfriday.com",)
_API_HOST = "api.awin.com"
_SALE_PATHS = frozenset({"/sread.js", "/sread.img", "/sread.php"})
_API_PATH = re.compile(r"^/s2s/advertiser/(?P<advertiser>[^/]+)/orders/?$")

# The MasterTag's short names -> the fall-back pixel's long names (the Awin wiki's request listing).
_SHORT_NAMES = {"a": "merchant", "b": "amount", "c": "ref", "d": "parts", "t": "testmode", "l": "page_url"}
# Long names decoded into typed fields; every other parameter stays in params under its wire name.
_TYPED = frozenset({"merchant", "amount", "cr", "ref", "cks", "page_url"})
# tt values: the MasterTag's script hit, its twin, the fall-back pixel, server to server.
_REPEATING_TT = frozenset({"ia", "ns"})
_SERVER_TT = "ss"
# A Conversion API order's fields decoded into typed ones.
_ORDER_TYPED = frozenset({"orderReference", "amount", "currency", "awc"})

_SCRIPT_REPLY = SinkholeReply(status=200, content_type="application/javascript", body=b"")
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_EMPTY_REPLY = SinkholeReply(status=200, content_type="text/plain", body=b"")
_API_REPLY = SinkholeReply(status=200, content_type="application/json", body=b"{}")


def long_names(params: dict[str, str]) -> dict[str, str]:
    """The MasterTag's short names (``a``, ``b``, ``c``, ``d``, ``t``, ``l``) under the long ones, when the
    hit uses them (it has ``a`` and no ``merchant``); a long-named hit as it is."""
    if "merchant" in params or "a" not in params:
        return params
    return {_SHORT_NAMES.get(key, key): value for key, value in params.items()}


@register
class AwinDecoder(Decoder):
    vendor = "awin"
    profile = VendorProfile(
        tag_name="Awin MasterTag / conversion tag",
        platform_name="Awin",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
        click_ids=("awc",),
    )
    claim_hosts = (*TRACKING_HOSTS, _API_HOST)

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _SALE_PATHS or path.startswith("/s2s/advertiser/")

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _API_HOST:
            return _API_PATH.match(path) is not None
        return path in _SALE_PATHS and host_matches(host, TRACKING_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == _API_HOST:
            return self._decode_api(request)
        return [self._decode_sale(request)]

    def _decode_sale(self, request: CapturedRequest) -> DecodedEvent:
        params = long_names(request_params_dict(request))
        tt = params.get("tt", "").strip().lower()
        server = tt == _SERVER_TT
        event = "s2s_conversion" if server else "conversion"
        advertiser = text_or_none(params.get("merchant"))
        if not advertiser:
            return self.malformed(request, "no advertiser ID (merchant / a)", event)
        extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _TYPED and v != ""}
        awc = text_or_none(params.get("cks"))
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=advertiser,
            value=number_keeping_raw(params.get("amount"), extra),
            currency=text_or_none(params.get("cr")),
            transaction_id=text_or_none(params.get("ref")),
            click_ids={"awc": awc} if awc else {},
            page_url=text_or_none(params.get("page_url")) or request.header("referer"),
            source="server" if server else self.source,
            params=extra,
            repeats=tt in _REPEATING_TT or host_matches(request.host, _MIRROR_HOSTS),
        )

    def _decode_api(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _API_PATH.match(request.path)
        advertiser = match["advertiser"] if match else None
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(orders := body.get("orders"), list) or not orders:
            return [self.malformed(request, "Conversion API body without orders", "s2s_conversion")]
        shared = {f"request.{k}": v for k, v in body.items() if k != "orders"}
        return [self._api_order(request, order, advertiser, shared) for order in orders]

    def _api_order(
        self, request: CapturedRequest, order: Any, advertiser: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(order, dict):
            return self.malformed(request, "Conversion API order is not an object", "s2s_conversion")
        extra: dict[str, Any] = {k: v for k, v in order.items() if k not in _ORDER_TYPED}
        extra.update(shared)
        awc = text_or_none(order.get("awc"))
        return new_event(
            vendor=self.vendor,
            event="s2s_conversion",
            account_id=advertiser,
            value=number_keeping_raw(order.get("amount"), extra),
            currency=text_or_none(order.get("currency")),
            transaction_id=text_or_none(order.get("orderReference")),
            click_ids={"awc": awc} if awc else {},
            page_url=None,
            source="server",
            params=extra,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == _API_HOST:
            return _API_REPLY
        dest = (request.header("sec-fetch-dest") or "").lower()
        if request.path == "/sread.js" or dest == "script":
            return _SCRIPT_REPLY  # the MasterTag appends sread.js as a <script>
        if request.path == "/sread.img" or dest == "image":
            return _GIF_REPLY
        return _EMPTY_REPLY


__all__ = ["AwinDecoder", "long_names"]
