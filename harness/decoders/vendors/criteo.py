"""Criteo OneTag hits.

The tag (``static.criteo.net/js/ld/ld.js``, never a hit) turns one ``criteo_q.push(...)`` batch into one
``GET sslwidget.criteo.com/event?a=<partner id>&v=<tag version>&p0=..&p1=..`` (loaded as a ``<script>``;
old tags used ``widget.criteo.com``). Each ``pN`` is a urlencoded sub-query naming its OneTag call in
``e``:

- ``exd`` (extra data: ``site_type`` d/m/t, ``ref``, ``ci`` customer id, ...), ``ce`` (``setEmail``:
  ``m=[<email or hash>,...]`` and ``h=sha256|md5|none``) and ``dis`` (display sync) are context, never
  events of their own; so is any other ``set*`` call, which the tag passes on under its own name: every
  OneTag ``set*`` call sets something for the whole batch. ``setcurrency`` (``c=<currency>``, seen on a
  live site; Criteo documents ``currency`` on the calls themselves) gives its currency to the batch's
  events that send none;
- every other ``e`` is an event, in the order sent: ``vh`` viewHome, ``vl`` viewList, ``vp`` viewItem
  (``p=<id>``, ``pr=<price>``), ``vb`` viewBasket, ``ac`` addToCart, ``vc`` trackTransaction
  (``id=<order id>``), ``vs`` viewSearch, ``trackleads``... Unknown codes are kept as sent.

Products travel as ``p=[i=<id>&pr=<price>&q=<qty>,...]``, each item escaped once more than the
sub-query it sits in. Criteo sends no order total: an event's ``value`` is the sum of price × quantity
over its items (a viewItem's own ``pr``), None when any price is missing. The page is ``fu`` (escaped
twice by current tags), ``pu`` the previous page; ``cs`` (US privacy), ``gpp``/``gpp_sid`` and
``gdpr``/``gdpr_consent`` are consent strings.

``gum.criteo.com`` (identity syncs), ``dis.criteo.com`` and ``static.criteo.net`` are never hits.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_consent, new_event, register
from harness.decoders.wire import request_params, text_or_none, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query, unquote

# widget.us.criteo.com: the same OneTag calls, seen in a 2021 recording of linio.cl beside sslwidget ones.
_HOSTS = ("sslwidget.criteo.com", "widget.criteo.com", "widget.us.criteo.com")
_PATHS = ("/event", "/event/")
_CONTEXT = frozenset({"exd", "ce", "dis"})
# The OneTag call each event code comes from (what sites push to criteo_q), for people reading params.
_CALLS = {
    "vh": "viewHome",
    "vl": "viewList",
    "vp": "viewItem",
    "vb": "viewBasket",
    "ac": "addToCart",
    "vc": "trackTransaction",
    "vs": "viewSearch",
    "trackleads": "trackLeads",
}
_ITEM_LISTS = frozenset({"vb", "vc", "ac"})
_CONSENT = {
    "cs": "us_privacy",
    "gpp": "gpp",
    "gpp_sid": "gpp_sid",
    "gdpr": "gdpr",
    "gdpr_consent": "gdpr_consent",
}
_TOP_KNOWN = frozenset({"a", "fu", *_CONSENT})
_MAX_ITEMS = 200  # a batch never carries more products than this; beyond it is garbage


def _is_context(code: str) -> bool:
    """A call that sets the batch's context rather than reporting an event (module docstring)."""
    return code in _CONTEXT or code[:3].lower() == "set"


def _slots(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The ``pN`` sub-queries in N order, each as a dict (first value wins), only those naming ``e``."""
    numbered: list[tuple[int, dict[str, str]]] = []
    for name, value in pairs:
        if len(name) < 2 or name[0] != "p" or not name[1:].isdigit() or len(name) > 4:
            continue
        fields: dict[str, str] = {}
        for key, item in parse_query(value):
            fields.setdefault(key, item)
        if text_or_none(fields.get("e")):
            numbered.append((int(name[1:]), fields))
    numbered.sort(key=lambda pair: pair[0])
    return [fields for _, fields in numbered]


def _items(raw: str | None) -> list[dict[str, str]] | None:
    """``[i=..&pr=..&q=..,...]`` (or a bare id, or ``[id,id]``) as items; None when there is nothing."""
    text = (raw or "").strip()
    if not text:
        return None
    if text.startswith("[") and text.endswith("]"):
        parts = text[1:-1].split(",")
    else:
        parts = [text]
    items: list[dict[str, str]] = []
    for part in parts[:_MAX_ITEMS]:
        piece = unquote(part).strip()
        if not piece:
            continue
        if "=" in piece:
            fields: dict[str, str] = {}
            for key, value in parse_query(piece):
                fields.setdefault(key, value)
            items.append(fields)
        else:
            items.append({"i": piece.strip('"')})  # old tags quoted bare ids: p="pp5007570110"
    return items or None


def _items_value(items: list[dict[str, str]] | None) -> float | None:
    """Sum of price × quantity (quantity 1 when absent); None without items or with any unreadable price."""
    if not items:
        return None
    total = 0.0
    for item in items:
        price = to_number(item.get("pr"))
        quantity = to_number(item["q"]) if "q" in item else 1.0
        if price is None or quantity is None:
            return None
        total += price * quantity
    return round(total, 6) if abs(total) < 1e300 else None


def _page(raw: str | None) -> str | None:
    """``fu``/``pu``: current tags escape the URL twice, older ones once."""
    text = text_or_none(raw)
    if text and text[:8].lower() in ("http%3a%", "https%3a"):
        return unquote(text)
    return text


def _email(fields: dict[str, str]) -> tuple[dict[str, UserDataForm], dict[str, Any]]:
    """``ce``'s first address as a user-data form, plus what params keep (the hash method)."""
    items = _items(fields.get("m"))
    method = (text_or_none(fields.get("h")) or "").lower()
    extra: dict[str, Any] = {"ce.h": method} if method else {}
    value = next((text_or_none(item.get("i")) for item in items or [] if text_or_none(item.get("i"))), None)
    if value is None:
        return {}, extra
    if method == "md5" and len(value) == 32:
        return {}, extra  # hashed, but not the SHA-256 eventpath's forms name: shown in params only
    return {"em": user_data_form(value)}, extra


@register
class CriteoDecoder(Decoder):
    vendor = "criteo"
    profile = VendorProfile(
        tag_name="Criteo OneTag",
        platform_name="Criteo",
        consent="ad_tag",
        purchase_events=frozenset({"vc"}),
    )
    claim_hosts = _HOSTS
    volatile_params = frozenset({"dtycbr", "ceid", "bundle", "sc", "lwid"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host in _HOSTS and path in _PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # The tag loads the hit as a script; an empty one lets the page carry on (no syncs follow).
        return SinkholeReply(status=200, content_type="application/javascript", body=b"")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        pairs = request_params(request)
        top: dict[str, str] = {}
        for name, value in pairs:
            top.setdefault(name, value)
        account = text_or_none(top.get("a"))
        if not account:
            return [self.malformed(request, "no partner id (a)")]
        slots = _slots(pairs)
        if not slots:
            return [self.malformed(request, "no OneTag calls (p0, p1, ... with e=)")]
        page_url = _page(top.get("fu")) or request.header("referer")
        common: dict[str, Any] = {
            k: v for k, v in top.items() if k not in _TOP_KNOWN and not (k[:1] == "p" and k[1:].isdigit())
        }
        if "pu" in common:
            common["pu"] = _page(common["pu"])
        user_data: dict[str, UserDataForm] = {}
        batch_currency: str | None = None
        for fields in slots:
            code = fields["e"]
            if code == "ce":
                found, extra = _email(fields)
                user_data.update(found)
                common.update(extra)
            elif code == "exd":
                common.update({f"exd.{k}": v for k, v in fields.items() if k != "e"})
            elif code[:3].lower() == "set":
                common.update({f"{code}.{k}": v for k, v in fields.items() if k != "e"})
                if code.lower() == "setcurrency":
                    batch_currency = batch_currency or text_or_none(fields.get("c"))
        consent = {name: top[wire] for wire, name in _CONSENT.items() if wire in top}
        primary = [fields for fields in slots if not _is_context(fields["e"])]
        # A batch of nothing but context (a setEmail on its own) still reached Criteo: its first call.
        return [
            self._event(request, account, fields, page_url, user_data, consent, common, batch_currency)
            for fields in primary or slots[:1]
        ]

    def _event(
        self,
        request: CapturedRequest,
        account: str,
        fields: dict[str, str],
        page_url: str | None,
        user_data: dict[str, UserDataForm],
        consent: dict[str, str],
        common: dict[str, Any],
        batch_currency: str | None = None,
    ) -> DecodedEvent:
        code = fields["e"].strip()
        items = _items(fields.get("p"))
        value = to_number(fields.get("pr")) if code == "vp" else None
        if value is None and code in _ITEM_LISTS:
            value = _items_value(items)
        params: dict[str, Any] = dict(common)
        if code in _CALLS:
            params["onetag_call"] = _CALLS[code]
        typed = ("e", "c", "p", "id") if code == "vc" else ("e", "c", "p")
        params.update({k: v for k, v in fields.items() if k not in typed})
        if items is not None:
            params["items"] = items
        return new_event(
            vendor=self.vendor,
            event=code,
            account_id=account,
            value=value,
            currency=text_or_none(fields.get("c")) or batch_currency,
            transaction_id=text_or_none(fields.get("id")) if code == "vc" else None,
            user_data=dict(user_data),
            consent=new_consent(other=dict(consent)),
            page_url=page_url,
            source=self.source,
            params=params,
        )
