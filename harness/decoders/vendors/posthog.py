"""PostHog: ``posthog-js`` and the capture API.

posthog-js posts its events to ``<api_host>/e/`` (``/i/v0/e/`` when the project's remote config names that
endpoint; ``us.i.posthog.com``, ``eu.i.posthog.com``, or a first-party reverse proxy, often under a prefix
such as ``/ingest``); the capture API also takes ``/capture/``, ``/batch/`` and ``/i/v0/e/``. 1.449's body
is ``{"api_key", "batch": [...], "sent_at"}``; older clients sent one event or an array. The body is
gzip (``compression=gzip-js``, the default; 1.449 no longer says so in the URL and sends it as
``text/plain``), a form ``data=<base64 JSON>`` (``compression=base64``, and beacons), or plain JSON
(``disable_compression``). Each event: ``{"uuid", "event", "properties": {"token", "distinct_id",
"$current_url", ...}, "timestamp"}``; ``uuid`` identifies the event (PostHog dedupes on it).

The client copies the landing URL's click IDs (gclid, fbclid, msclkid, ...) into properties beside
``$current_url``. ``identify`` sends ``$identify`` with ``$set`` person properties (an ``email`` or
``phone`` there is personal data sent raw); ``$groupidentify``, ``$create_alias``, ``$pageview`` are its
own events. PostHog defines no revenue fields: revenue analytics reads event and property names each
project configures, "usually in their minor unit" (posthog.com/docs/revenue-analytics/capture-revenue-events),
so a site's ``revenue``/``currency``/``order_id`` stay in params.

Not hits: ``/flags/`` and ``/decide/`` (feature flags; they send person properties, not events), ``/s/``
(session recordings), ``/array/<token>/config(.js)`` (remote config) and the scripts (``/static/*.js``).

Sources: posthog-js 1.449.2 ``lib/src/request.js`` (encodings, capture body), ``posthog-core.js``
(``analyticsDefaultEndpoint``, remote config ``analytics.endpoint``), ``utils/request-router.js`` (hosts,
``/s/``, ``/e/``, ``/i/``), PostHog's capture API docs, and the hits 1.449.2 really sent, recorded by
``tests/decoders/npm_clients/record.py`` (fixtures ``npm-*``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.vendors.amplitude import MAX_GUNZIPPED, as_dict, click_ids_from, personal_data
from harness.decoders.wire import (
    BodyHandoff,
    form_params,
    gunzipped,
    params_dict,
    parse_json,
    query_params,
    text_or_none,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

POSTHOG_HOSTS = ("us.i.posthog.com", "eu.i.posthog.com", "app.posthog.com", "eu.posthog.com", "us.posthog.com")
# Capture endpoints, matched at the end of the path (a reverse proxy may put them under a prefix).
_CAPTURE_PATH = re.compile(r"/(?:e|i/v0/e|capture|batch)/?$")
_PROMOTED = frozenset({"token", "$current_url"})


def is_capture_path(path: str) -> bool:
    return _CAPTURE_PATH.search(path) is not None


def _base64_json(text: str) -> Any | None:
    try:
        raw = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        return None
    return parse_json(raw.decode("utf-8", "replace"))


def body_payload(request: CapturedRequest) -> Any | None:
    """The capture body, whatever the encoding: gzip, form ``data=`` (base64 or JSON), base64, or JSON."""
    body = request.body
    if body[:2] == b"\x1f\x8b":
        inflated = gunzipped(body, MAX_GUNZIPPED)
        return parse_json(inflated.decode("utf-8", "replace")) if inflated is not None else None
    text = request.text.strip()
    if text[:1] in ("{", "["):
        return parse_json(text)
    data = params_dict(form_params(text)).get("data") if text.startswith("data=") else None
    if data is not None:
        return parse_json(data) if data.strip()[:1] in ("{", "[") else _base64_json(data)
    if params_dict(query_params(request.url)).get("compression") == "base64" and text:
        return _base64_json(text)
    return None


def _events(payload: Any) -> tuple[list[Any], str | None] | None:
    """The events a capture payload carries and the project token sent beside them."""
    if isinstance(payload, list):
        return (payload, None) if payload else None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("batch"), list):
        return (payload["batch"], text_or_none(payload.get("api_key"))) if payload["batch"] else None
    if isinstance(payload.get("event"), str):
        return [payload], text_or_none(payload.get("api_key"))
    return None


def _is_posthog_payload(payload: Any) -> bool:
    found = _events(payload)
    if found is None:
        return False
    events, token = found
    first = events[0]
    if not isinstance(first, dict) or not isinstance(first.get("event"), str):
        return False
    properties = as_dict(first.get("properties"))
    return bool(token or properties.get("token") or first.get("api_key")) and (
        "uuid" in first or "$lib" in properties or "distinct_id" in properties or "distinct_id" in first
    )


@register
class PosthogDecoder(Decoder):
    vendor = "posthog"
    profile = VendorProfile(tag_name="PostHog", platform_name="PostHog")
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"uuid", "timestamp", "offset", "distinct_id", "$session_id", "$window_id", "$device_id", "$time",
         "$anon_distinct_id", "$pageview_id", "$sent_at", "$insert_id"}
    )
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or not is_capture_path(request.path):
            return False
        if host_matches(request.host, POSTHOG_HOSTS):
            return True
        # A reverse proxy on the site's domain: the path alone could be its own API, so the body decides.
        return self._parsed.hand_on_if(request, body_payload(request), _is_posthog_payload)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and is_capture_path(path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method == "POST" and is_capture_path(path) and host_matches(host, POSTHOG_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="application/json", body=b'{"status": "Ok"}')

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        held = self._parsed.take(request)
        payload = held if _is_posthog_payload(held) else body_payload(request)
        found = _events(payload)
        if found is None:
            return [self.malformed(request, "no readable events (gzip, base64 or JSON)")]
        events, token = found
        return [
            self._event(request, item, token) if isinstance(item, dict) else self.malformed(request, f"event {i} is not an object")
            for i, item in enumerate(events)
        ]

    def _event(self, request: CapturedRequest, item: dict[str, Any], token: str | None) -> DecodedEvent:
        name = text_or_none(item.get("event"))
        if name is None:
            return self.malformed(request, "event without a name")
        properties = as_dict(item.get("properties"))
        page_url = text_or_none(properties.get("$current_url")) or request.header("referer")
        params = {k: v for k, v in item.items() if k not in ("event", "uuid", "properties", "api_key")}
        params.update({k: v for k, v in properties.items() if k not in _PROMOTED})
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=token or text_or_none(properties.get("token")) or text_or_none(item.get("api_key")),
            event_id=text_or_none(item.get("uuid")),
            click_ids=click_ids_from([page_url], properties),
            user_data=personal_data(as_dict(properties.get("$set")), as_dict(properties.get("$set_once"))),
            page_url=page_url,
            source=self.source,
            params=params,
        )
