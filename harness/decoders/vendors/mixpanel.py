"""Mixpanel: ``mixpanel-browser`` and the ingestion API (``/track``, ``/engage``, ``/groups``).

The browser client posts a form ``data=<payload>`` to ``<api_host>/track/?verbose=1&ip=1&_=<ms>`` (events),
``/engage/`` (people profile updates) and ``/groups/`` (group profiles); its default host is
``api-js.mixpanel.com`` (``api-eu.mixpanel.com`` for EU residency, or a first-party proxy). The payload is
JSON, base64-encoded unless ``api_payload_format`` is ``json``, which the client picks itself for
``*.mixpanel.com`` hosts (so proxies get base64). The batcher (on by default) sends a JSON array; with
batching off, one object per request. Older clients also sent ``GET /track/?data=...&img=1`` images.

A ``/track`` event is ``{"event", "properties": {"token", "distinct_id", "$insert_id", "$current_url",
"time", ...}}``; ``$insert_id`` is the ID Mixpanel dedupes on. The client copies the landing URL's UTMs and
click IDs (gclid, fbclid, ...) into properties. Mixpanel defines no revenue or order fields for events:
a site's ``revenue``/``order_id`` properties stay in params. An ``/engage`` update (``$set``,
``$set_once``, ``$append``, ...) names ``$token`` and ``$distinct_id``; ``$email`` and ``$phone`` are
Mixpanel's reserved profile properties (personal data, sent raw); the deprecated ``people.track_charge``
sent revenue as ``$append: {"$transactions": {"$amount", "$time"}}``, read as the value.

Not hits: ``/decide``, ``/flags/``, ``/settings/`` (configuration) and ``/record/`` (session replay), and
the scripts (``cdn.mxpnl.com/libs/mixpanel-*.js``).

Sources: ``mixpanel-browser`` 2.83.0 ``dist/mixpanel.cjs.js`` (DEFAULT_API_ROUTES, ``_send_request``,
``_encode_data_for_request``, the api_payload_format rule), mixpanel-browser 2.x ``track_charge`` (``$append
$transactions``), docs.mixpanel.com ingestion API (``/track``, ``/engage``, verbose answer), and the hits
2.83.0 really sent, recorded by ``tests/decoders/npm_clients/record.py`` (fixtures ``npm-*``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.vendors.amplitude import as_dict, click_ids_from, personal_data
from harness.decoders.wire import form_params, params_dict, parse_json, query_params, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

MIXPANEL_HOSTS = ("api-js.mixpanel.com", "api.mixpanel.com", "api-eu.mixpanel.com")
ENDPOINTS = {"track": "track", "engage": "engage", "groups": "groups"}
PROFILE_OPERATIONS = ("$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete")
_PROMOTED = frozenset({"token", "$insert_id", "$current_url"})


def endpoint_of(path: str) -> str | None:
    """"track", "engage" or "groups" for a path ending so (with or without the slash; a proxy may prefix it)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return ENDPOINTS.get(last)


def _data_param(request: CapturedRequest) -> str | None:
    pairs = query_params(request.url)
    if request.body:
        pairs = form_params(request.text) + pairs  # the body's data wins over the query's
    return params_dict(pairs).get("data")


def decode_payload(data: str) -> Any | None:
    """The ``data`` payload: JSON as sent, or base64 (standard or URL-safe) of JSON."""
    text = data.strip()
    if text[:1] in ("{", "["):
        return parse_json(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return parse_json(raw.decode("utf-8", "replace"))


def payload_of(request: CapturedRequest) -> Any | None:
    data = _data_param(request)
    if data is not None:
        return decode_payload(data)
    text = request.text.strip()  # a JSON body (the ingestion API as servers call it)
    return parse_json(text) if text[:1] in ("{", "[") else None


def _items(payload: Any) -> list[Any] | None:
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and payload:
        return payload
    return None


def _is_mixpanel_item(item: Any, endpoint: str) -> bool:
    if not isinstance(item, dict):
        return False
    if endpoint == "track":
        properties = item.get("properties")
        return isinstance(item.get("event"), str) and isinstance(properties, dict) and "token" in properties
    return "$token" in item


@register
class MixpanelDecoder(Decoder):
    vendor = "mixpanel"
    profile = VendorProfile(tag_name="Mixpanel", platform_name="Mixpanel")
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"time", "distinct_id", "$device_id", "$distinct_id", "$time", "_", "mp_sent_by_lib_version"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        endpoint = endpoint_of(request.path)
        if endpoint is None or request.method not in ("POST", "GET"):
            return False
        if host_matches(request.host, MIXPANEL_HOSTS):
            return True
        # A first-party api_host: /track/ could be a site's own, so the payload must be Mixpanel's.
        items = _items(payload_of(request))
        return items is not None and _is_mixpanel_item(items[0], endpoint)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method in ("POST", "GET") and endpoint_of(path) is not None

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method in ("POST", "GET") and endpoint_of(path) is not None and host_matches(host, MIXPANEL_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # "1" accepted; verbose=1 asks for the JSON form, which the client's callback reads.
        if dict(query_params(request.url)).get("verbose") == "1":
            return SinkholeReply(status=200, content_type="application/json", body=b'{"status": 1, "error": null}')
        return SinkholeReply(status=200, content_type="text/plain", body=b"1")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        endpoint = endpoint_of(request.path) or "track"
        items = _items(payload_of(request))
        if items is None:
            return [self.malformed(request, "no readable data payload (JSON or base64 JSON)")]
        decode_item = self._track if endpoint == "track" else self._profile_update
        return [
            decode_item(request, item, endpoint) if isinstance(item, dict) else self.malformed(request, f"item {i} is not an object")
            for i, item in enumerate(items)
        ]

    def _track(self, request: CapturedRequest, item: dict[str, Any], endpoint: str) -> DecodedEvent:
        event = text_or_none(item.get("event"))
        if event is None:
            return self.malformed(request, "track item without an event name")
        properties = as_dict(item.get("properties"))
        page_url = text_or_none(properties.get("$current_url")) or request.header("referer")
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=text_or_none(properties.get("token")),
            event_id=text_or_none(properties.get("$insert_id")),
            click_ids=click_ids_from([page_url], properties),
            user_data=personal_data(properties),
            page_url=page_url,
            source=self.source,
            params={k: v for k, v in properties.items() if k not in _PROMOTED},
        )

    def _profile_update(self, request: CapturedRequest, item: dict[str, Any], endpoint: str) -> DecodedEvent:
        operations = [name for name in PROFILE_OPERATIONS if name in item]
        transaction = as_dict(as_dict(item.get("$append")).get("$transactions"))
        raw_amount = transaction.get("$amount")
        params = {k: v for k, v in item.items() if k != "$token"}
        value = to_number(raw_amount)
        if value is None and raw_amount is not None:
            params["value_raw"] = raw_amount
        return new_event(
            vendor=self.vendor,
            event=endpoint,  # "engage" (a people profile) or "groups"; the operations are in params
            account_id=text_or_none(item.get("$token")),
            value=value,
            user_data=personal_data(*(as_dict(item.get(name)) for name in operations)),
            page_url=request.header("referer"),
            source=self.source,
            params=params,
        )
