"""Pinterest tag hits.

The tag (``s.pinimg.com/ct/core.js``, never a hit) sends ``GET ct.pinterest.com/v3/?event=..&tid=..``
with JSON-valued parameters: ``ed`` (event data: value, order_quantity, currency, order_id, line_items,
event_id, ...), ``pd`` (partner data: ``em`` hashed email, ...), ``ad`` (page context: ``loc``, ``ref``,
screen size) and the cache buster ``cb``. The ``<noscript>`` image spells the same data as bracketed
names (``pd[em]=..``, ``ed[value]=..``, line items as ``ed[line_items][0][product_id]=..``); the base code's
own image, as the official WooCommerce plugin prints it, is ``?tid=..&noscript=1`` with no event at all.
``ct.pinterest.com/user/`` is a cookie sync, not an event.

Server-side, the Conversions API takes ``POST api.pinterest.com/v5/ad_accounts/<id>/events`` with
``{"data": [{event_name, event_id, event_source_url, user_data, custom_data}, ...]}``; ``?test=true`` on that
URL marks test events. Its ``user_data`` also carries ``client_ip_address`` and ``client_user_agent`` unhashed
(Pinterest asks for them plain; reported as raw match keys, as meta_capi reports them), ``click_id`` (the epik)
and ``partner_id``, kept in params as sent (seen in Segment's pinterest-conversions destination,
segmentio/action-destinations reportConversionEvent/__tests__/__snapshots__/index.test.ts.snap).
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    json_body,
    json_safe,
    loads_json,
    params_dict,
    query_value,
    request_params,
    server_event_extra,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

_TAG_HOST = "ct.pinterest.com"
_TAG_PATHS = ("/v3", "/v3/")
_CAPI_HOST = "api.pinterest.com"
_CAPI_PATH = re.compile(r"^/v5/ad_accounts/(?P<account>[^/]+)/events/?$")
# ``ed[value]``, and the image tag's list form ``ed[line_items][0][product_id]`` (Pinterest tag docs, image-tag
# event code), which is the ``line_items`` list the script sends inside its ``ed`` JSON.
_BRACKETED = re.compile(
    r"^(?P<group>ed|pd|ad)\[(?P<key>[^\]]+)\](?:\[(?P<index>\d{1,4})\]\[(?P<field>[^\]]+)\])?$"
)
# Partner-data keys that identify a person; everything else in ``pd`` is context.
_IDENTIFIERS = (
    "em",
    "ph",
    "hashed_maids",
    "external_id",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
)


def _json_object(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = loads_json(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _grouped(pairs: list[tuple[str, str]], group: str, raw: str | None) -> dict[str, Any]:
    """``ed``/``pd``/``ad`` as one object: the JSON form merged with any bracketed ``group[key]`` form."""
    merged: dict[str, Any] = {}
    listed: dict[str, dict[int, dict[str, str]]] = {}  # key -> index -> field -> value
    for name, value in pairs:
        match = _BRACKETED.match(name) if "[" in name else None
        if not match or match["group"] != group:
            continue
        if match["index"] is None:
            merged.setdefault(match["key"], value)
        else:
            item = listed.setdefault(match["key"], {}).setdefault(int(match["index"]), {})
            item.setdefault(match["field"], value)
    for key, items in listed.items():
        # In index order, as the script's JSON list would be; a flat ``ed[key]`` sent too wins.
        merged.setdefault(key, [items[index] for index in sorted(items)])
    merged.update(_json_object(raw))
    return merged


def _user_data(identifiers: dict[str, Any]) -> dict[str, UserDataForm]:
    found: dict[str, UserDataForm] = {}
    for key in _IDENTIFIERS:
        value = identifiers.get(key)
        first = value[0] if isinstance(value, list) and value else value
        text = text_or_none(first)
        if text:
            found[key] = user_data_form(text)
    return found


# Conversions API match keys Pinterest takes unhashed: raw by nature, never a digest.
_CAPI_RAW_KEYS = ("client_ip_address", "client_user_agent")


def _capi_user(user: dict[str, Any]) -> tuple[dict[str, UserDataForm], dict[str, Any]]:
    """A Conversions API ``user_data``: its identifier forms, and its other fields (as params) but click_id."""
    forms = _user_data(user)
    forms.update({key: "raw" for key in _CAPI_RAW_KEYS if text_or_none(user.get(key))})
    known = {*_IDENTIFIERS, *_CAPI_RAW_KEYS, "click_id"}
    rest = {f"user_data.{key}": value for key, value in user.items() if key not in known}
    return forms, rest


def _click_id(params: dict[str, str], page_url: str | None) -> dict[str, str]:
    epik = params.get("epik") or (query_value(page_url, "epik") if page_url else None)
    return {"epik": epik} if epik else {}


@register
class PinterestDecoder(Decoder):
    vendor = "pinterest"
    profile = VendorProfile(
        tag_name="Pinterest Tag",
        platform_name="Pinterest",
        consent="ad_tag",
        purchase_events=frozenset({"checkout"}),
    )
    claim_hosts = (_TAG_HOST, _CAPI_HOST)
    volatile_params = frozenset({"cb", "event_time"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _TAG_HOST:
            return path in _TAG_PATHS
        return host == _CAPI_HOST and method == "POST" and bool(_CAPI_PATH.match(path))

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.host == _TAG_HOST and request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        if request.host == _CAPI_HOST:
            # The API's ConversionApiResponse: one status per event, in order. Pinterest's own SDK reads the
            # reply into that model and raises on a field missing.
            body = json_body(request)
            items = body.get("data") if isinstance(body, dict) else None
            count = len(items) if isinstance(items, list) else 0
            reply = {
                "num_events_received": count,
                "num_events_processed": count,
                "events": [{"status": "processed", "error_message": None, "warning_message": None}] * count,
            }
            return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
        return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.host == _CAPI_HOST:
            return self._decode_capi(request)
        return self._decode_tag(request)

    def _decode_tag(self, request: CapturedRequest) -> list[DecodedEvent]:
        pairs = request_params(request)
        params = params_dict(pairs)
        event = text_or_none(params.get("event"))
        if not event and "noscript" in params and text_or_none(params.get("tid")):
            # The base code's <noscript> image without an event (``?tid=..&noscript=1``) is the page load that
            # Pinterest's own base-code image spells ``?event=init&tid=..&noscript=1`` and core.js's
            # pintrk('load') sends as event=init: named so, it is the same hit. A script hit that lost its
            # event (no noscript) stays malformed.
            event = "init"
        if not event:
            return [self.malformed(request, "no event parameter")]
        event_data = _grouped(pairs, "ed", params.get("ed"))
        partner_data = _grouped(pairs, "pd", params.get("pd"))
        page_data = _grouped(pairs, "ad", params.get("ad"))
        page_url = text_or_none(page_data.get("loc")) or request.header("referer")
        extra: dict[str, Any] = {
            k: v
            for k, v in params.items()
            if k not in ("event", "tid", "ed", "pd", "ad") and not ("[" in k and _BRACKETED.match(k))
        }
        extra.update(
            {
                f"ed.{k}": v
                for k, v in event_data.items()
                if k not in ("value", "currency", "order_id", "event_id")
            }
        )
        extra.update({f"ad.{k}": v for k, v in page_data.items() if k != "loc"})
        extra.update({f"pd.{k}": v for k, v in partner_data.items() if k not in _IDENTIFIERS})
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=text_or_none(params.get("tid")),
                value=to_number(event_data.get("value")),
                currency=text_or_none(event_data.get("currency")),
                event_id=text_or_none(event_data.get("event_id")) or text_or_none(params.get("event_id")),
                transaction_id=text_or_none(event_data.get("order_id")),
                click_ids=_click_id(params, page_url),
                user_data=_user_data(partner_data),
                page_url=page_url,
                source=self.source,
                params=json_safe(extra),
            )
        ]

    def _decode_capi(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _CAPI_PATH.match(request.path)
        account = match["account"] if match else None
        body = json_body(request)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return [self.malformed(request, "Conversions API body has no data list")]
        # ``?test=true`` marks test events (Pinterest's Conversions docs): kept as sent, under its wire name, as
        # meta_capi and tiktok_events_api keep test_event_code.
        test = query_value(request.url, "test")
        shared: dict[str, Any] = {"test": test} if test else {}
        events = []
        for item in items:
            if not isinstance(item, dict) or not text_or_none(item.get("event_name")):
                events.append(self.malformed(request, "Conversions API event without event_name"))
                continue
            custom: dict[str, Any] = item["custom_data"] if isinstance(item.get("custom_data"), dict) else {}
            user: dict[str, Any] = item["user_data"] if isinstance(item.get("user_data"), dict) else {}
            page_url = text_or_none(item.get("event_source_url"))
            # From ``json_body``, so safe already (``parse_json``), and no deeper here than in the body.
            user_forms, user_rest = _capi_user(user)
            extra = {**shared, **server_event_extra(item, custom), **user_rest}
            events.append(
                new_event(
                    vendor=self.vendor,
                    event=str(item["event_name"]),
                    account_id=account,
                    value=to_number(custom.get("value")),
                    currency=text_or_none(custom.get("currency")),
                    event_id=text_or_none(item.get("event_id")),
                    transaction_id=text_or_none(custom.get("order_id")),
                    click_ids={"epik": str(user["click_id"])} if text_or_none(user.get("click_id")) else {},
                    user_data=user_forms,
                    page_url=page_url,
                    source="server",
                    params=extra,
                )
            )
        return events
