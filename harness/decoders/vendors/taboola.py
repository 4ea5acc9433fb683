"""Taboola pixel hits.

The pixel (``cdn.taboola.com/libtrc/unip/<account>/tfa.js``, never a hit) sends each
``_tfa.push({notify: 'event', name, id, revenue, currency, orderid, quantity})`` as
``GET trc.taboola.com/<account>/log/3/unip?en=<event>&revenue=..&currency=..&orderid=..&quantity=..
&item-url=<page>&it=<install type>&tim=..&ui=<user id>&tblci=<click id>`` (also on
``trc-events.taboola.com``; server-side postbacks send ``click-id``/``click_id`` and ``orderId``); the
``<noscript>`` image sends ``unip?en=page_view`` alone. ``en=pre_d_eng_tb``
and similar are Taboola's own engagement signals, decoded as sent. ``tblci`` is the click ID Taboola
appends to landing URLs.

S2S postback (Taboola's documented server-to-server conversion): ``GET trc.taboola.com/actions-handler/log/3/
s2s-action?click-id=<tblci>&name=<event>&revenue=..&currency=..&orderid=..&quantity=..``. It names no
account (the click ID ties it to one) and is sent by the advertiser's server, so its ``source`` is the
request's own (``server`` when captured from a backend). The bulk ``POST /<account>/log/3/bulk-s2s-action``
is not decoded.

Not decoded: the current tfa.js sends ``page_view`` as ``trc.taboola.com/<account>/trc/3/json?...`` with the
event in ``data.mpvd``, the same endpoint publishers' recommendation widgets call, so it is not claimed
(answering it locally would break widgets). ``/log/3/click`` and widget loaders are never hits.
"""

from __future__ import annotations

from harness.decoders.base import Decoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import (
    number_keeping_raw,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOSTS = ("trc.taboola.com", "trc-events.taboola.com")
_SUFFIXES = ("/log/3/unip", "/log/3/unip/")
_POSTBACK_HOST = "trc.taboola.com"
_POSTBACK_PATHS = ("/actions-handler/log/3/s2s-action", "/actions-handler/log/3/s2s-action/")
_KNOWN = frozenset(
    {"en", "id", "revenue", "currency", "orderid", "item-url", "tblci", "click-id", "click_id", "orderId"}
)
_POSTBACK_KNOWN = _KNOWN | {"name"}
# Server-side (sGTM) postbacks name the click ID ``click-id``/``click_id`` and the order ``orderId``.
_CLICK_NAMES = ("tblci", "click-id", "click_id")


def _account(path: str) -> str | None:
    """``<account>`` of ``/<account>/log/3/unip``; None for any other path."""
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            account = path[1 : -len(suffix)]
            return account if path[:1] == "/" and account and "/" not in account else None
    return None


@register
class TaboolaDecoder(Decoder):
    vendor = "taboola"
    profile = VendorProfile(
        tag_name="Taboola pixel",
        platform_name="Taboola",
        consent="ad_tag",
        purchase_events=frozenset({"make_purchase"}),
    )
    claim_hosts = _HOSTS
    volatile_params = frozenset({"tim", "ui"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if path in _POSTBACK_PATHS:
            return host == _POSTBACK_HOST
        return host in _HOSTS and _account(path) is not None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        postback = request.path in _POSTBACK_PATHS
        name = text_or_none(params.get("name" if postback else "en"))
        if not name:
            reason = "postback without an event name (name)" if postback else "no event name (en)"
            return [self.malformed(request, reason)]
        page_url = text_or_none(params.get("item-url")) or request.header("referer")
        referer = request.header("referer")
        click = next((text_or_none(params.get(n)) for n in _CLICK_NAMES if text_or_none(params.get(n))), None)
        if not click and referer:
            click = query_value(referer, "tblci") or None
        extra = {k: v for k, v in params.items() if k not in (_POSTBACK_KNOWN if postback else _KNOWN)}
        hit_id = text_or_none(params.get("id"))
        account = _account(request.path)
        if hit_id and hit_id != account:
            extra["id"] = hit_id  # the pushed id disagrees with the path's account: keep both visible
        value = number_keeping_raw(params.get("revenue"), extra)
        # unified_id is the SHA-256 of the visitor's lower-cased email (Taboola's first-party data docs): an
        # identifier, so a raw address there is seen. It stays in params as sent.
        unified = text_or_none(params.get("unified_id"))
        return [
            new_event(
                vendor=self.vendor,
                event=name,
                account_id=account,
                value=value,
                currency=text_or_none(params.get("currency")),
                transaction_id=text_or_none(params.get("orderid")) or text_or_none(params.get("orderId")),
                click_ids={"tblci": click} if click else {},
                user_data={"em": user_data_form(unified)} if unified else {},
                page_url=page_url,
                # A postback comes from the advertiser's server: as captured, never forced either way.
                source=request.source if postback else self.source,
                params=extra,
            )
        ]
