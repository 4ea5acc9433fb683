"""Google Analytics 4 browser hits: ``/g/collect`` (gtag.js / GTM), on Google's hosts or first-party.

Wire shape (Omnibug's GoogleAnalytics4 provider; captured hits in public tag debuggers' tests):
the query carries the shared parameters (``v=2``, ``tid``, ``cid``, ``sid``, ``gcs``/``gcd``, ``dl``...);
a POST body, when present, holds one event per line (``en=scroll&epn.percent_scrolled=90``) whose
parameters override and extend the query's. ``ep.``/``epn.`` are event parameters (text/number),
``up.``/``upn.`` user properties, ``pr1``..``prN`` items in the tilde format ``idSKU~nmName~pr12.5~qt1``.

Hosts: ``*.google-analytics.com`` (www, region1, ...) and ``*.analytics.google.com``; any other host
(server-side GTM, Google tag gateway) counts only with the payload signature ``v=2`` and a ``G-`` tid,
there also on the tag gateway's short collect paths ``<prefix>/ag/g/c`` and ``<prefix>/ga/g/c`` (one site
uses both: shopvivaliz.com.br's ``/0fb1/ag/g/c`` scroll and ``/0fb1/ga/g/c`` view_cart).
``stats.g.doubleclick.net/g/collect`` is the Google Signals side-ping (no ``en``), not claimed.

Stape's "custom loader" (server-side GTM) hides the whole hit on an obfuscated one-segment path: a single
query value holds base64 of ``/g/collect?v=2&...`` (``data.europart.net/6ifbjhkjas?de5cc8ea=L2cv...``).
Claimed only when that value decodes to a hit with the same ``v=2`` and ``G-`` signature; its events say
``params["custom_loader"] = True``.
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.google_consent import consent_from_params, consumed_consent_params
from harness.decoders.vendors.google_ads import google_click_ids, user_data_from_em
from harness.decoders.wire import number_keeping_raw, params_dict, query_dict, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query

GOOGLE_HOSTS: tuple[str, ...] = (".google-analytics.com", ".analytics.google.com")
COLLECT_PATH = "/g/collect"
GATEWAY_COLLECT_PATHS = ("/ag/g/c", "/ga/g/c")  # Google tag gateway's short forms, first-party hosts only
# Every path a hit may end in (``str.endswith`` takes the tuple).
_COLLECT_PATHS = (COLLECT_PATH, *GATEWAY_COLLECT_PATHS)

# Item fields of the pr<N> tilde format, as the GA4 item schema names them.
ITEM_FIELDS: dict[str, str] = {
    "id": "item_id",
    "nm": "item_name",
    "af": "affiliation",
    "cp": "coupon",
    "ds": "discount",
    "lp": "index",
    "br": "item_brand",
    "ca": "item_category",
    "c2": "item_category2",
    "c3": "item_category3",
    "c4": "item_category4",
    "c5": "item_category5",
    "li": "item_list_id",
    "ln": "item_list_name",
    "va": "item_variant",
    "lo": "location_id",
    "pr": "price",
    "qt": "quantity",
    "cn": "creative_name",
    "cs": "creative_slot",
    "pi": "promotion_id",
    "pn": "promotion_name",
}
NUMERIC_ITEM_FIELDS = frozenset({"discount", "index", "price", "quantity"})
FLAG_PARAMS = frozenset({"_c", "_fv", "_ss", "_nsi", "_ee", "_dbg", "ir"})
NUMERIC_PARAMS = frozenset({"_et", "_s", "sct", "seg", "tfd"})
_ITEM_PARAM = re.compile(r"^pr(\d+)$")
_CUSTOM_ITEM_KEY = re.compile(r"^k(\d+)$")
_LINE_BREAKS = re.compile(r"[\r\n]+")
# Stape's custom loader: one short obfuscated path segment, and base64 of "/g/collect?v=2&" (the first 15
# bytes encode to these 20 characters whatever follows) opening one query value.
_CUSTOM_LOADER_PATH = re.compile(r"^/[A-Za-z0-9]{4,32}$")
_CUSTOM_LOADER_MARK = "=L2cvY29sbGVjdD92PTIm"

_CONSUMED = (
    frozenset({"en", "tid", "cu", "dl", "em", "epn.value", "ep.value", "ep.currency"})
    | consumed_consent_params()
)


def _is_first_party_hit(request: CapturedRequest) -> bool:
    params = query_dict(request.url)
    return params.get("v") == "2" and params.get("tid", "").startswith("G-")


def _custom_loader_url(request: CapturedRequest) -> str | None:
    """The ``/g/collect`` URL a Stape custom-loader hit carries base64-encoded in its query (on the request's
    own host), None for anything else."""
    url = request.url
    if _CUSTOM_LOADER_MARK not in url or not _CUSTOM_LOADER_PATH.match(request.path):
        return None
    for _name, value in query_dict(url).items():
        if not value.startswith(_CUSTOM_LOADER_MARK[1:]):
            continue
        cleaned = value.strip().replace("-", "+").replace("_", "/")
        try:
            inner = binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4), strict_mode=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        return f"https://{request.host}{inner}"
    return None


def _is_custom_loader_hit(request: CapturedRequest) -> bool:
    inner = _custom_loader_url(request)
    if inner is None:
        return False
    params = query_dict(inner)
    return params.get("v") == "2" and params.get("tid", "").startswith("G-")


def parse_item(text: str) -> dict[str, Any]:
    """One ``prN`` value as an item dict; custom ``kN``/``vN`` pairs become ``name: value``."""
    item: dict[str, Any] = {}
    custom_names: dict[str, str] = {}
    custom_values: dict[str, str] = {}
    for token in text.split("~"):
        if len(token) < 2:
            continue
        key, value = token[:2], token[2:]
        if match := _CUSTOM_ITEM_KEY.match(key):
            custom_names[match.group(1)] = value
        elif key[0] == "v" and key[1].isdigit():
            custom_values[key[1]] = value
        else:
            field = ITEM_FIELDS.get(key, key)
            number = to_number(value) if field in NUMERIC_ITEM_FIELDS else None
            item[field] = number if number is not None else value
    for index, name in custom_names.items():
        item[name] = custom_values.get(index, "")
    return item


def body_lines(text: str) -> list[list[tuple[str, str]]] | None:
    """The per-event parameter lines of a batch body; None when the body is not made of pairs."""
    lines: list[list[tuple[str, str]]] = []
    # Without a "\r", splitting on each "\n" gives the same non-empty lines as the regex, sooner.
    for line in text.split("\n") if "\r" not in text else _LINE_BREAKS.split(text):
        line = line.strip()
        if not line:
            continue
        if line[0] in "{[<" or "=" not in line:
            return None
        lines.append(parse_query(line))
    return lines


@register
class GA4Decoder(Decoder):
    vendor = "ga4"
    profile = VendorProfile(
        tag_name="GA4",
        platform_name="GA4",
        consent="consent_mode_tag",
        purchase_events=frozenset({"purchase"}),
    )
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {
            "_p",
            "_s",
            "_et",
            "tfd",
            "sid",
            "cid",
            "_z",
            "seg",
            "tag_exp",
            "ptag_exp",
            "rcb",
            "ecid",
            "ecsid",
            "_gaz",
            "_eu",
            "_tu",
            "are",
            "ngs",
            "rnd",
        }
    )

    def claims(self, request: CapturedRequest) -> bool:
        path = request.path
        if not path.endswith(_COLLECT_PATHS):
            # A custom loader's hit is a GET or a POST, as gtag sends it (and as may_claim_path promises).
            return (
                request.method in ("GET", "POST")
                and _is_custom_loader_hit(request)
                and not host_matches(request.host, GOOGLE_HOSTS)
            )
        host = request.host
        if host_matches(host, GOOGLE_HOSTS):
            return path == COLLECT_PATH
        if host_matches(host, (".doubleclick.net",)):
            return False  # Google Signals side-ping, carries no event
        return _is_first_party_hit(request)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.endswith(_COLLECT_PATHS) or (
            method in ("GET", "POST") and bool(_CUSTOM_LOADER_PATH.match(path))
        )

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path == COLLECT_PATH and host_matches(host, GOOGLE_HOSTS)  # elsewhere the query decides

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        path = request.path
        inner = None
        if not path.endswith(_COLLECT_PATHS):
            inner = _custom_loader_url(request)
        shared = query_dict(inner or request.url)
        lines = body_lines(request.text) if request.body else []
        if lines is None:
            return [self.malformed(request, "body is not GA4 event lines")]
        hits = [{**shared, **params_dict(line)} for line in lines] or [shared]
        events = [self._event(request, hit) for hit in hits]
        if inner is not None:
            for event in events:
                event.params["custom_loader"] = True
        return events

    def _event(self, request: CapturedRequest, hit: dict[str, str]) -> DecodedEvent:
        if not hit.get("tid"):
            return self.malformed(request, "missing tid")
        if not hit.get("en"):
            bad = self.malformed(request, "missing en (event name)")
            bad.account_id = hit["tid"]
            return bad
        page_url = hit.get("dl") or request.header("referer")
        user_data, em_status = user_data_from_em(hit.get("em"))
        params = _params(hit)
        if em_status:
            params["em_status"] = em_status
        event_params = params.get("event_params", {})
        for key, kind in _user_data_params(event_params).items():
            user_data.setdefault(key, kind)
        raw_value = hit.get("epn.value", hit.get("ep.value"))
        value = number_keeping_raw(raw_value, params)
        event_id = _text(event_params.pop("event_id", None))
        transaction_id = _text(event_params.pop("transaction_id", None))
        if "event_params" in params and not event_params:
            del params["event_params"]
        return new_event(
            vendor=self.vendor,
            event=hit["en"],
            account_id=hit["tid"],
            value=value,
            currency=hit.get("cu") or hit.get("ep.currency") or None,
            event_id=event_id,
            transaction_id=transaction_id,
            click_ids=google_click_ids(hit, page_url),
            consent=consent_from_params(hit),
            user_data=user_data,
            page_url=page_url,
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=204)


# gtag's user-provided data as a hit to a server container carries it (``ep.user_data.email`` ...,
# ``ep.user_data.address.0.first_name`` ..., with ``ec_mode``): the container hashes it for Google Ads. The
# identifiers, by the short names the other decoders use; the values stay in params as sent.
_USER_DATA_PARAMS = {
    "email": "em",
    "email_address": "em",
    "sha256_email_address": "em",
    "phone_number": "ph",
    "sha256_phone_number": "ph",
    "first_name": "fn",
    "sha256_first_name": "fn",
    "last_name": "ln",
    "sha256_last_name": "ln",
    "street": "street",
    "sha256_street": "street",
    "city": "ct",
    "region": "st",
    "postal_code": "zp",
    "country": "country",
}


def _user_data_params(event_params: dict[str, Any]) -> dict[str, UserDataForm]:
    """The identifiers among ``ep.user_data.*`` (address fields under ``address[.N]``), by their form."""
    found: dict[str, UserDataForm] = {}
    for name, value in event_params.items():
        if not name.startswith("user_data."):
            continue
        field_name = name.rpartition(".")[2]
        key = _USER_DATA_PARAMS.get(field_name)
        text = _text(value)
        if key and text and key not in found:
            found[key] = user_data_form(text)
    return found


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) or None


def _params(hit: dict[str, str]) -> dict[str, Any]:
    """Everything the typed fields did not take, decoded: event params, user properties, items, flags."""
    params: dict[str, Any] = {}
    event_params: dict[str, Any] = {}
    user_properties: dict[str, Any] = {}
    items: list[tuple[int, dict[str, Any]]] = []
    for key, value in hit.items():
        kind, name = _key_kind(key)
        if kind is _PLAIN:
            params[key] = value
        elif kind is _SKIP:
            continue
        elif kind is _EVENT_PARAM or kind is _USER_PROPERTY:
            (event_params if kind is _EVENT_PARAM else user_properties)[name] = value
        elif kind is _EVENT_NUMBER or kind is _USER_NUMBER:
            number = to_number(value)
            (event_params if kind is _EVENT_NUMBER else user_properties)[name] = (
                number if number is not None else value
            )
        elif kind is _ITEM:
            items.append((int(name), parse_item(value)))
        elif kind is _FLAG:
            params[key] = value == "1"
        elif (number := to_number(value)) is not None:  # _NUMERIC
            params[key] = int(number) if number.is_integer() else number
        else:
            params[key] = value
    if event_params:
        params["event_params"] = event_params
    if user_properties:
        params["user_properties"] = user_properties
    if items:
        params["items"] = [item for _, item in sorted(items, key=lambda pair: pair[0])]
    return params


_PLAIN, _SKIP, _FLAG, _NUMERIC, _ITEM = "plain", "skip", "flag", "numeric", "item"
_EVENT_PARAM, _EVENT_NUMBER, _USER_PROPERTY, _USER_NUMBER = "ep", "epn", "up", "upn"
# The constants themselves (``_params`` compares kinds by identity), by the prefix that names them.
_PREFIX_KINDS = {kind: kind for kind in (_EVENT_PARAM, _EVENT_NUMBER, _USER_PROPERTY, _USER_NUMBER)}


@lru_cache(maxsize=4096)  # a tag sends the same few dozen parameter names on every hit
def _key_kind(key: str) -> tuple[str, str]:
    """How ``_params`` reads a parameter: its kind, and the name (or item index) it goes under."""
    if key in _CONSUMED:
        return _SKIP, key
    prefix, dot, name = key.partition(".")
    if dot and prefix in _PREFIX_KINDS:
        return _PREFIX_KINDS[prefix], name
    if key[:2] == "pr" and (match := _ITEM_PARAM.match(key)):
        return _ITEM, match.group(1)
    if key in FLAG_PARAMS:
        return _FLAG, key
    if key in NUMERIC_PARAMS:
        return _NUMERIC, key
    return _PLAIN, key
