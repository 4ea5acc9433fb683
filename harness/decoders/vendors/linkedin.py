"""LinkedIn Insight Tag hits.

Wire shapes (px., px4. and dc.ads.linkedin.com all carry them; px4 mirrors px and adds ``e_ipv6``):

- ``GET /collect/?pid=..&fmt=gif|js&url=..&time=..[&conversionId=..][&eventId=..]``: a page view, or a
  conversion when ``conversionId`` is present. ``pid`` may join several partner IDs with commas.
- ``POST /wa/?medium=fetch&fmt=g``: a "website signal" (PAGE_VISIT, CLICK, ...) as JSON
  ``{pids, scriptVersion, time, domain, url, pageTitle, websiteSignalRequestId, liFatId, hem, signalType}``;
  newer tag versions send that JSON gzipped and base64-encoded.
- ``GET /attribution_trigger?pid=..&time=..&url=..``: the tag's attribution ping.

``snap.licdn.com/li.lms-analytics/insight.min.js`` is the script, never a hit.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.wire import (
    json_body,
    json_safe,
    loads_json,
    query_dict,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOSTS = (".ads.linkedin.com",)
_COLLECT_PATHS = ("/collect", "/collect/")
_SIGNAL_PATHS = ("/wa", "/wa/")
_ATTRIBUTION_PATHS = ("/attribution_trigger", "/attribution_trigger/")
_HIT_PATHS = frozenset(_COLLECT_PATHS + _SIGNAL_PATHS + _ATTRIBUTION_PATHS)
# A gzipped /wa/ body is a few KB; refuse to inflate past this so a hostile body cannot balloon.
_MAX_INFLATED = 1 << 20


def _partner_ids(raw: Any) -> list[str]:
    """``pid=15939,543`` (one beacon for several tags) or a JSON ``pids`` list, as separate IDs."""
    if isinstance(raw, list):
        items = [text_or_none(item) for item in raw]
    else:
        items = [part.strip() for part in (text_or_none(raw) or "").split(",")]
    return [item for item in items if item]


def _click_id_from_url(url: str | None) -> str | None:
    if not url:
        return None
    return query_value(url, "li_fat_id") or None


def _signal_payload(request: CapturedRequest) -> dict[str, Any] | None:
    """The /wa/ JSON, whether sent plain or as base64(gzip(JSON))."""
    body = json_body(request)
    if isinstance(body, dict):
        return body
    text = request.text.strip()
    if not text:
        return None
    try:
        packed = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip framing
        inflated = inflater.decompress(packed, _MAX_INFLATED)
    except (binascii.Error, ValueError, zlib.error):
        return None
    try:
        decoded = loads_json(inflated.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


@register
class LinkedInDecoder(Decoder):
    vendor = "linkedin"
    profile = VendorProfile(
        tag_name="LinkedIn Insight Tag",
        platform_name="LinkedIn",
        consent="ad_tag",
        purchase_events=frozenset({"conversion"}),
    )
    claim_hosts = _HOSTS
    volatile_params = frozenset({"time", "e_ipv6", "websiteSignalRequestId", "liGiant", "scriptVersion"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host_matches(host, _HOSTS) and path in _HIT_PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # /collect is loaded as an image (fmt=gif, and the tag's fmt=js beacon is an Image() too).
        if request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.path in _SIGNAL_PATHS:
            return self._decode_signal(request)
        return self._decode_collect(request)

    def _decode_collect(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        pids = _partner_ids(params.get("pid"))
        if not pids:
            return [self.malformed(request, "no partner id (pid)")]
        conversion_id = text_or_none(params.get("conversionId"))
        if request.path in _ATTRIBUTION_PATHS:
            event = "attribution_trigger"
        else:
            event = "conversion" if conversion_id else "pageview"
        page_url = text_or_none(params.get("url")) or request.header("referer")
        click_id = text_or_none(params.get("li_fat_id")) or _click_id_from_url(page_url)
        event_id = text_or_none(params.get("eventId")) or text_or_none(params.get("event_id"))
        extra = {k: v for k, v in params.items() if k not in ("pid", "url", "li_fat_id")}
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=pid,
                event_id=event_id,
                click_ids={"li_fat_id": click_id} if click_id else {},
                page_url=page_url,
                source=self.source,
                params=json_safe(extra),
            )
            for pid in pids
        ]

    def _decode_signal(self, request: CapturedRequest) -> list[DecodedEvent]:
        payload = _signal_payload(request)
        if payload is None:
            return [self.malformed(request, "website-signal body is neither JSON nor base64(gzip(JSON))")]
        pids = _partner_ids(payload.get("pids"))
        if not pids:
            return [self.malformed(request, "website signal without partner ids (pids)")]
        event = text_or_none(payload.get("signalType")) or "PAGE_VISIT"
        page_url = (
            text_or_none(payload.get("url"))
            or text_or_none(payload.get("pageUrl"))
            or request.header("referer")
        )
        click_id = text_or_none(payload.get("liFatId")) or _click_id_from_url(page_url)
        hashed_email = text_or_none(payload.get("hem"))
        conversion_id = text_or_none(payload.get("conversionId"))
        if conversion_id and event == "PAGE_VISIT":
            event = "conversion"
        event_id = text_or_none(payload.get("eventId")) or text_or_none(payload.get("event_id"))
        extra = {k: v for k, v in payload.items() if k not in ("pids", "url", "pageUrl", "liFatId", "hem")}
        extra.update(query_dict(request.url))
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=pid,
                event_id=event_id,
                click_ids={"li_fat_id": click_id} if click_id else {},
                user_data={"em": user_data_form(hashed_email)} if hashed_email else {},
                page_url=page_url,
                source=self.source,
                params=json_safe(extra),
            )
            for pid in pids
        ]
