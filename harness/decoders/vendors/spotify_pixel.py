"""Spotify Pixel (Spotify Ad Analytics, formerly Podsights) hits.

The pixel script (``pixel.byspotify.com/ping.min.js``, before it ``cdn.pdst.fm/ping.min.js``; never a hit) is
queued with ``spdt('conf', {key: <pixel key>})`` then ``spdt('view')``, ``spdt('purchase', {value, currency,
order_id, discount_code, is_new_customer, quantity, line_items})``, ``spdt('alias', {id|email|phone_number})``
(``pdst(...)`` under Podsights) and posts JSON:

- today ``POST pixels.spotify.com/v1/ingest`` with ``{"batch": [{"pid": <pixel ID>, "events": [{"action":
  <event>, "body": {"url": <page>, ...}}]}]}`` (Omnibug's Spotify Pixel provider reads ``pid`` as the pixel
  ID and ``events[].action`` as the hit type; a captured hit in the Pixel & Tag Tracer tests);
- under Podsights ``POST us-central1-adaptive-growth.cloudfunctions.net/pdst-events-prod-sink`` with a JSON
  array of ``{"pid": <random page ID>, "key": <pixel key>, "uid", "sid", "time", "events": [{"action",
  "time", "group", "body": {"url", "referrer", "inIframe", "windowWidth", ..., <the call's properties>}}]}``
  (Cloudflare's Podsights managed component, which rebuilds ping.min.js's request).

One event per ``events`` item: the event is its ``action``, the call's properties ride in its ``body``:
``value`` (major units), ``currency``, ``order_id`` (the transaction), ``event_id`` (the deduplication ID
Stape's Spotify Pixel tag template adds for the Conversions API), the page in ``url``; an ``alias`` call's
``id``/``email``/``phone_number`` are user identifiers (the script hashes email and phone itself, per the
same template). The property names are RudderStack's Podsights/Spotify Pixel integrations'. Spotify Ad
Analytics attributes by IP and device, so the hits carry no click ID.

Not hits: ``pixels.spotify.com/v1/config`` (the pixel's configuration), ``api-partner.spotify.com/ads/v1``
(the server Conversions API).
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, register
from harness.decoders.wire import json_body, number_keeping_raw, text_or_none, user_data_form
from harness.models import CapturedRequest, DecodedEvent, UserDataForm

_INGEST_HOST = "pixels.spotify.com"
_INGEST_PATH = "/v1/ingest"
_PODSIGHTS_HOST = "us-central1-adaptive-growth.cloudfunctions.net"
_PODSIGHTS_PATH = "/pdst-events-prod-sink"
_HITS = frozenset({(_INGEST_HOST, _INGEST_PATH), (_PODSIGHTS_HOST, _PODSIGHTS_PATH)})
_PATHS = frozenset({_INGEST_PATH, _PODSIGHTS_PATH})
# body fields that become typed DecodedEvent fields; the rest stays in params under its own name.
_TYPED_BODY = frozenset({"url", "value", "currency", "order_id", "event_id"})
# alias identifiers (Stape's Spotify Pixel template, RudderStack's alias call).
_IDENTIFIERS = ("id", "email", "phone_number")


def _requests(body: Any) -> list[Any] | None:
    """The request objects of a body: the ingest ``batch``, the Podsights array, or one bare request."""
    if isinstance(body, dict) and isinstance(body.get("batch"), list):
        return list(body["batch"])
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "events" in body:
        return [body]
    return None


def _identifier_forms(action: str, body: dict[str, Any]) -> dict[str, UserDataForm]:
    if action.lower() != "alias":
        return {}
    return {key: user_data_form(text) for key in _IDENTIFIERS if (text := text_or_none(body.get(key)))}


@register
class SpotifyPixelDecoder(Decoder):
    vendor = "spotify_pixel"
    profile = VendorProfile(
        tag_name="Spotify Pixel",
        platform_name="Spotify Ad Analytics",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
    claim_hosts = (_INGEST_HOST, _PODSIGHTS_HOST)
    # uid/sid: the visitor and session cookies' IDs; pid on the Podsights sink: a new ID per request.
    volatile_params = frozenset({"uid", "sid", "time", "pid", "event.time"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return (host, path) in _HITS

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        items = _requests(json_body(request))
        if items is None:
            return [self.malformed(request, "Spotify Pixel body is not a JSON batch of events")]
        # The ingest endpoint names the pixel in pid; on the Podsights sink pid is a per-request ID and the
        # pixel is the key.
        pid_is_pixel = request.host == _INGEST_HOST
        events: list[DecodedEvent] = []
        for item in items:
            events.extend(self._decode_request(request, item, pid_is_pixel))
        return events or [self.malformed(request, "Spotify Pixel batch without events")]

    def _decode_request(self, request: CapturedRequest, item: Any, pid_is_pixel: bool) -> list[DecodedEvent]:
        if not isinstance(item, dict) or not isinstance(item.get("events"), list):
            return [self.malformed(request, "Spotify Pixel request without an events list")]
        pixel_field = "pid" if pid_is_pixel and text_or_none(item.get("pid")) else "key"
        pixel = text_or_none(item.get(pixel_field))
        shared = {k: v for k, v in item.items() if k not in ("events", pixel_field)}
        return [self._decode_event(request, event, pixel, shared) for event in item["events"]]

    def _decode_event(
        self, request: CapturedRequest, event: Any, pixel: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        action = text_or_none(event.get("action")) if isinstance(event, dict) else None
        if not action:
            return self.malformed(request, "Spotify Pixel event without an action")
        body = event.get("body") if isinstance(event.get("body"), dict) else {}
        user_data = _identifier_forms(action, body)
        params: dict[str, Any] = dict(shared)
        params.update({f"event.{k}": v for k, v in event.items() if k not in ("action", "body")})
        params.update({k: v for k, v in body.items() if k not in _TYPED_BODY and k not in user_data})
        return new_event(
            vendor=self.vendor,
            event=action,
            account_id=pixel,
            value=number_keeping_raw(body.get("value"), params),
            currency=text_or_none(body.get("currency")),
            event_id=text_or_none(body.get("event_id")),
            transaction_id=text_or_none(body.get("order_id")),
            user_data=user_data,
            page_url=text_or_none(body.get("url")) or request.header("referer"),
            source=self.source,
            params=params,
        )
