"""ShareASale (now part of Awin) conversion tracking.

A sale or lead reaches ShareASale as:

* the conversion pixel, an ``<img>`` on the thank-you page: ``GET www.shareasale.com/sale.cfm?tracking=<order
  ID>&amount=<amount>&merchantID=<merchant>&transtype=sale&v=<version>`` plus, where sent, ``currency``,
  ``couponcode``, ``newcustomer`` (1 / 0), ``skulist`` / ``pricelist`` / ``quantitylist`` (comma-separated,
  product-level tracking), ``xtype``, ``storeid`` (StoresConnect) and the first-party click ID
  ``sscid`` with ``sscidmode=6``; a lead pixel sends ``transtype=lead``, ``amount=0.00`` and the customer ID
  as ``tracking``. The Awin MasterTag (``www.dwin1.com/<id>.js``) and ``shareasale-analytics.com/j.js``
  beside it are scripts, never hits;
* server to server: the same URL from the shop's server (Stape's server GTM template, which sends ``v=stape``),
  or the Merchant API's new-transaction call ``GET www.shareasale.com/w.cfm?merchantId=..&token=..&version=..
  &action=new&transtype=sale&amount=..&tracking=..&sscid=..&sscidmode=6`` with ``x-ShareASale-Date`` and
  ``x-ShareASale-Authentication`` headers. Its other actions (``void``, ``edit``, reports) are no
  conversion and are not claimed.

Parameter names are read case-insensitively (pages send ``merchantID``, the API ``merchantId``) and kept in
params as sent.

Decoded: one event per hit, ``conversion`` for a sale (and a hit without ``transtype``), ``lead`` for a
lead, ``s2s_conversion`` / ``s2s_lead`` for the Merchant API. ``value`` is ``amount``, the order subtotal
after discounts and before tax and shipping, in major units (never the commission); ``currency`` the ISO
code as sent; ``transaction_id`` the ``tracking`` order (or customer) ID; ``account_id`` the merchant ID;
the click ID ``sscid``, the ``sscid`` ShareASale appends to landing URLs. The API ``token`` is a credential
and never copied into params. Stape's template puts its ``__sscid`` cookie in ``tracking`` and sends no order
ID; that is decoded as sent (``transaction_id`` is then the click ID).

Consent: an ad tag, like the other affiliate networks (the advertiser is responsible for consent).

Sources: ShareASale's Custom Cart Tracking Setup and Lead Tracking Setup (shareasale.atlassian.net wiki) and
its ITP custom cart guide (shareasale.com/itp/custom.htm), AmeriCommerce's ShareASale setup guide, Stape's
ShareASale server GTM template (stape-io/shareasale-tag), Segment's analytics.js ShareASale integration tests,
a ShareASale transaction-decoding browser extension (which lists the parameters), a Ruby Merchant API client
and a Merchant API test page, and deployed pages that render the pixel (bookclubz.com, shop templates).
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, pixel_reply, register
from harness.decoders.wire import number_keeping_raw, request_params_dict, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

TRACKING_HOSTS = ("www.shareasale.com", "shareasale.com")
_PIXEL_PATH = "/sale.cfm"
_API_PATH = "/w.cfm"
_PATHS = frozenset({_PIXEL_PATH, _API_PATH})
# Lower-cased names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset({"merchantid", "amount", "currency", "tracking", "sscid"})
# Merchant API credentials: never copied into an event.
_SECRETS = frozenset({"token"})


def lower_keys(params: dict[str, str]) -> dict[str, str]:
    """The parameters under lower-case names, the first spelling of a name winning."""
    out: dict[str, str] = {}
    for key, value in params.items():
        out.setdefault(key.lower(), value)
    return out


def is_api_new_transaction(lower: dict[str, str]) -> bool:
    """A Merchant API call that creates a transaction (``action=new``), the only one that reports a conversion."""
    return lower.get("action", "").strip().lower() == "new"


def event_name(lower: dict[str, str], server: bool) -> str:
    lead = lower.get("transtype", "").strip().lower() == "lead"
    name = "lead" if lead else "conversion"
    return f"s2s_{name}" if server else name


@register
class ShareASaleDecoder(Decoder):
    vendor = "shareasale"
    profile = VendorProfile(
        tag_name="ShareASale conversion pixel",
        platform_name="ShareASale",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
        click_ids=("sscid",),
    )
    claim_hosts = TRACKING_HOSTS

    def claims(self, request: CapturedRequest) -> bool:
        if request.path == _API_PATH:
            return host_matches(request.host, TRACKING_HOSTS) and is_api_new_transaction(
                lower_keys(request_params_dict(request))
            )
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # w.cfm is the whole Merchant API: only its action=new calls are conversions, so it needs the query.
        return path == _PIXEL_PATH and host_matches(host, TRACKING_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        lower = lower_keys(params)
        server = request.path == _API_PATH
        event = event_name(lower, server)
        merchant = text_or_none(lower.get("merchantid"))
        if not merchant:
            return [self.malformed(request, "no merchant ID (merchantID)", event)]
        extra: dict[str, Any] = {
            k: v for k, v in params.items() if k.lower() not in _TYPED | _SECRETS and v != ""
        }
        sscid = text_or_none(lower.get("sscid"))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=merchant,
                value=number_keeping_raw(lower.get("amount"), extra),
                currency=text_or_none(lower.get("currency")),
                transaction_id=text_or_none(lower.get("tracking")),
                click_ids={"sscid": sscid} if sscid else {},
                page_url=request.header("referer"),
                source="server" if server else self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path == _API_PATH:
            return SinkholeReply(status=200, content_type="text/plain", body=b"")
        return pixel_reply(request)


__all__ = ["ShareASaleDecoder", "event_name", "is_api_new_transaction", "lower_keys"]
