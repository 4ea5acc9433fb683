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

Server-side, Criteo's S2S Events API (guides.criteotilt.com/onetag/s2s) takes
``POST widget.criteo.com/m/event?version=s2s_v0`` with a JSON body, or the same JSON urlencoded in a GET's
``data``: ``{account, version, site_type, full_url, previous_url, ip, user_agent, retailer_visitor_id,
id: {mapping_key, mapped_user_id | email: {raw|md5|sha256} | idfa | gaid}, events: [{event: viewHome|
viewItem|addToCart|viewBasket|trackTransaction|..., item: [{id, price, quantity}] | id, id (order),
currency, timestamp}]}``; regional hosts ``widget.{eu,us,as,cn}.criteo.com`` serve it too (walkerOS's and
Commanders Act's Criteo destinations, a public Python sender, Criteo's app SDKs and app-tracker postback
templates). Each event is named by the OneTag code of its call (``trackTransaction`` is ``vc``) so tag and
server events compare; calls with no code keep their name, and ``set*`` events (``setHashedEmail``) are
context as on the tag.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_consent, new_event, register
from harness.decoders.wire import (
    json_body,
    json_safe,
    loads_json,
    query_value,
    request_params,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query, unquote

# widget.us.criteo.com: the same OneTag calls, seen in a 2021 recording of linio.cl beside sslwidget ones.
_HOSTS = ("sslwidget.criteo.com", "widget.criteo.com", "widget.us.criteo.com")
_PATHS = ("/event", "/event/")
# S2S Events API hosts: widget.criteo.com answers 307 to the regional eu/us/as ones; cn and as are the ones
# public app integrations call directly (module docstring).
_S2S_HOSTS = (
    "widget.criteo.com",
    "widget.eu.criteo.com",
    "widget.us.criteo.com",
    "widget.as.criteo.com",
    "widget.cn.criteo.com",
)
_S2S_PATHS = ("/m/event", "/m/event/")
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
_CODES = {call: code for code, call in _CALLS.items()}  # an S2S event's name -> the tag's code
_ITEM_LISTS = frozenset({"vb", "vc", "ac"})
# S2S body fields read into typed fields (the rest stays in params as sent).
_S2S_TOP_TYPED = frozenset({"account", "id", "events", "full_url", "ip", "user_agent", "useragent"})
_S2S_EVENT_TYPED = frozenset({"event", "item", "product", "currency"})
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
    claim_hosts = tuple(dict.fromkeys(_HOSTS + _S2S_HOSTS))
    volatile_params = frozenset({"dtycbr", "ceid", "bundle", "sc", "lwid"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if path in _S2S_PATHS:
            return host in _S2S_HOSTS
        return host in _HOSTS and path in _PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path in _S2S_PATHS:
            # The S2S API answers 200 with the errors and warnings it found (none here).
            return SinkholeReply(
                status=200, content_type="application/json", body=b'{"errors":[],"warnings":[]}'
            )
        # The tag loads the hit as a script; an empty one lets the page carry on (no syncs follow).
        return SinkholeReply(status=200, content_type="application/javascript", body=b"")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.path in _S2S_PATHS:
            return self._decode_s2s(request)
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

    def _decode_s2s(self, request: CapturedRequest) -> list[DecodedEvent]:
        payload = _s2s_payload(request)
        if not isinstance(payload, dict):
            return [self.malformed(request, "no S2S JSON (POST body or data=)")]
        account = _s2s_account(payload.get("account"))
        if not account:
            return [self.malformed(request, "no account")]
        calls = [
            ev for ev in payload.get("events") or [] if isinstance(ev, dict) and text_or_none(ev.get("event"))
        ]
        if not isinstance(payload.get("events"), list) or not calls:
            return [self.malformed(request, "no events with an event name")]
        user_data, common = _s2s_identity(payload)
        for call in calls:
            if str(call["event"])[:3].lower() == "set":  # setHashedEmail, setEmail: context, as on the tag
                user_data.update(_email_forms(call.get("email"), str(call["event"])))
        page_url = text_or_none(payload.get("full_url"))
        primary = [call for call in calls if str(call["event"])[:3].lower() != "set"] or calls[:1]
        return [self._s2s_event(account, call, page_url, user_data, common) for call in primary]

    def _s2s_event(
        self,
        account: str,
        call: dict[str, Any],
        page_url: str | None,
        user_data: dict[str, UserDataForm],
        common: dict[str, Any],
    ) -> DecodedEvent:
        name = str(call["event"]).strip()
        code = _CODES.get(name, name)
        items = call.get("item", call.get("product"))
        params: dict[str, Any] = {**common, "onetag_call": name}
        params.update({k: json_safe(v) for k, v in call.items() if k not in _S2S_EVENT_TYPED})
        if items is not None:
            params["items"] = json_safe(items)
        transaction_id = text_or_none(call.get("id")) if code == "vc" else None
        if code == "vc":
            params.pop("id", None)
        return new_event(
            vendor=self.vendor,
            event=code,
            account_id=account,
            value=_s2s_value(code, items),
            currency=text_or_none(call.get("currency")),
            transaction_id=transaction_id,
            user_data=dict(user_data),
            page_url=page_url,
            source="server",
            params=params,
        )


def _s2s_payload(request: CapturedRequest) -> Any:
    """The S2S JSON: a POST's body, else a GET's urlencoded ``data``; None when neither reads."""
    body = json_body(request)
    if body is not None:
        return body
    raw = query_value(request.url, "data")
    if not raw:
        return None
    try:
        return json_safe(loads_json(raw))
    except (ValueError, RecursionError):
        return None


def _s2s_account(raw: Any) -> str | None:
    """The partner ID; Criteo's app SDKs send ``{an: <app id>, cn, ln}`` instead, named by the app."""
    if isinstance(raw, dict):
        raw = raw.get("an")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    return text_or_none(str(raw))


def _email_forms(raw: Any, how: str = "") -> dict[str, UserDataForm]:
    """An S2S email: ``{raw|sha256|md5: ..}`` or a bare string. MD5 only is no form eventpath names."""
    if isinstance(raw, dict):
        for key in ("raw", "sha256"):
            if text_or_none(raw.get(key)):
                return {"em": user_data_form(str(raw[key]))}
        return {}
    text = text_or_none(raw) if isinstance(raw, str) else None
    if text is None or (len(text) == 32 and "hash" in how.lower()):
        return {}
    return {"em": user_data_form(text)}


def _s2s_identity(payload: dict[str, Any]) -> tuple[dict[str, UserDataForm], dict[str, Any]]:
    """User data from ``id`` (and the top-level ``ip``/``user_agent``), and the params everything else gives."""
    raw_identity = payload.get("id")
    identity: dict[str, Any] = raw_identity if isinstance(raw_identity, dict) else {}
    user_data = _email_forms(identity.get("email"))
    for key in ("idfa", "gaid"):
        if text_or_none(identity.get(key)):
            user_data[key] = "raw"
    for key in ("ip", "user_agent", "useragent"):
        if text_or_none(payload.get(key)):
            user_data[key] = "raw"
    common = {f"id.{k}": json_safe(v) for k, v in identity.items() if k not in ("email", "idfa", "gaid")}
    common.update({k: json_safe(v) for k, v in payload.items() if k not in _S2S_TOP_TYPED})
    if isinstance(payload.get("account"), dict):  # an app's {an, cn, ln}: country and language kept
        common["account"] = json_safe(payload["account"])
    return user_data, common


def _s2s_value(code: str, items: Any) -> float | None:
    """As on the tag: a viewItem's price, or the sum of price × quantity of a basket or order's items."""
    listed = items if isinstance(items, list) else [items]
    wire = [
        {"pr": item.get("price"), **({"q": item["quantity"]} if "quantity" in item else {})}
        for item in listed[:_MAX_ITEMS]
        if isinstance(item, dict)
    ]
    if code == "vp":
        return to_number(wire[0]["pr"]) if len(wire) == 1 else None
    if code not in _ITEM_LISTS or len(wire) != len(listed[:_MAX_ITEMS]):
        return None
    return _items_value(wire)  # type: ignore[arg-type]
