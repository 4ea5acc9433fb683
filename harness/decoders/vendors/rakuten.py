"""Rakuten Advertising (formerly LinkShare) conversion tracking.

A sale reaches Rakuten Advertising as ``GET track.linksynergy.com/ep?mid=<merchant>&ord=<order>&skulist=<sku>|..
&qlist=<qty>|..&amtlist=<line amount>|..&cur=<ISO>&namelist=<name>|..`` (``|``-separated, one entry per line),
an ``<img>`` built by hand-written pages and cart modules or by Rakuten's own tag: ``tag.rmp.rakuten.com/
<id>.ct.js`` (a script, never a hit) reads the page's ``DataLayer`` and appends the image with ``land``
(the click's arrival time, ``yyyymmdd_hhmm``) and ``tr`` (the ``ranSiteID``), ``img=1``, ``spi`` (its version),
order-level ``discount`` / ``disamt`` / ``coupon`` / ``custstatus`` / ``custid``, ``<field>list`` line data and
``trunc=true`` when it cut the URL. Its "mop" tracking method sends the same query to ``/eventnvppixel``, the
media-optimisation (non-commissionable) pixel, instead of ``/ep``; server-to-server clients (Commanders Act)
send either with ``tr`` and ``land`` read from the ``rmStore`` gateway cookie.

``amtlist`` entries are line totals (unit price x quantity, after any item-level discount share) in the
currency's minor units: the tag multiplies by 100 (its default ``centValues``), and so do deployed pages and
the Magento module (``price * qty * 100``). The tag rounds a "non-cent" currency (JPY) to whole units and then
still multiplies by 100, so every ``amtlist`` is read as hundredths (Commanders Act's destination, by contrast,
does not multiply JPY amounts; a tag configured with ``centValues=false`` sends major units: neither can be
told from the hit). Order-level discounts and removed tax arrive as their own negative lines (``DISCOUNT``,
``ORDERTAX``, quantity 0).

Decoded: one event per hit, ``conversion`` on ``/ep``, ``mop_conversion`` on ``/eventnvppixel``.
``account_id`` is ``mid`` (the advertiser's merchant ID); ``value`` the ``amtlist`` sum / 100, the sale
amount in major units (never the commission; an entry that is no number leaves it unknown and the list is
kept as sent); ``currency`` is ``cur`` as sent; ``transaction_id`` is ``ord``; the click ID is ``tr``
under the landing-URL name ``ranSiteID``. The line lists stay in params as sent. Click links
(``click.linksynergy.com``) and the display pixels (``tags.rd.linksynergy.com``) are not decoded.

Consent: an ad tag, like the other affiliate networks.

Sources: Rakuten Advertising's conversion tag (the ``ct.js`` RAN module, public copies of its code),
Commanders Act's Rakuten Events destination (CommandersAct/Platform-Documentation: ``mid``, ``land``, ``tr``,
``cur``, ``amtlist`` x 100, ``ep`` vs ``eventnvppixel``, the ``ranSiteID`` landing parameter and ``rmStore``),
a Magento LinkShare module, Tealium's LinkShare tag template, a Miva Merchant pixel snippet, and deployed
pages that render the pixel (thefreshdiet.com, a travel site's ``eventnvppixel``).
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, pixel_reply, register
from harness.decoders.wire import request_params_dict, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

TRACKING_HOSTS = ("track.linksynergy.com",)
_EVENTS = {"/ep": "conversion", "/eventnvppixel": "mop_conversion"}
# Names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset({"mid", "ord", "cur", "tr"})


def amtlist_value(amtlist: str | None) -> float | None:
    """The ``amtlist`` entries summed, in major units (hundredths / 100); None without a list or when an
    entry is no number."""
    if amtlist is None or not amtlist.strip():
        return None
    total = 0.0
    for entry in amtlist.split("|"):
        amount = to_number(entry)
        if amount is None:
            return None
        total += amount
    return round(total / 100, 6)


@register
class RakutenDecoder(Decoder):
    vendor = "rakuten"
    profile = VendorProfile(
        tag_name="Rakuten Advertising conversion tag",
        platform_name="Rakuten Advertising",
        consent="ad_tag",
        purchase_events=frozenset({"conversion", "mop_conversion"}),
        click_ids=("ranSiteID",),
    )
    claim_hosts = TRACKING_HOSTS

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _EVENTS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path in _EVENTS and host_matches(host, TRACKING_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        event = _EVENTS.get(request.path, "conversion")
        merchant = text_or_none(params.get("mid"))
        if not merchant:
            return [self.malformed(request, "no merchant ID (mid)", event)]
        extra: dict[str, Any] = {k: v for k, v in params.items() if k not in _TYPED and v != ""}
        value = amtlist_value(params.get("amtlist"))
        if value is None and "amtlist" in params:
            extra["value_raw"] = params["amtlist"]  # sent but unreadable: shown as sent
        site_id = text_or_none(params.get("tr"))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=merchant,
                value=value,
                currency=text_or_none(params.get("cur")),
                transaction_id=text_or_none(params.get("ord")),
                click_ids={"ranSiteID": site_id} if site_id else {},
                page_url=request.header("referer"),
                source=self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)


__all__ = ["RakutenDecoder", "amtlist_value"]
