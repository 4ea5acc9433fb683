"""Nextdoor Pixel hits.

The pixel (``ads.nextdoor.com/public/pixel/ndp.js?id=<pixel ID>``, never a hit) is queued with
``ndp('init', <pixel ID>, {})`` and ``ndp('track', 'PAGE_VIEW'|'CONVERSION'|'LEAD'|'PURCHASE'|...)`` and
reports to ``flask.nextdoor.com/pixel``: its noscript image is ``GET /pixel?pid=<pixel ID>&ev=<event>
&noscript=1``, and the script's hits carry the same ``pid`` and ``ev`` in the query (a GTM audit's network
capture: ``flask.nextdoor.com/pixel?...&ev=PAGE_VIEW``). The first ndp.js instead posted JSON
``{"referer": document.referrer, "custom_events": {<event>: <body>}}`` to the same URL (one event per
entry, answered 204). What the script's hits add beyond ``pid``/``ev`` is not public, so it stays in params
as sent (a JSON body under ``body``).

Nextdoor's click ID ``ndclid`` rides on the landing URL (MetaRouter, Freshpaint and Tealium name it as
Nextdoor's click ID); a pixel hit reports its page only through the Referer, so the click ID is read from
there.

Sources: Nextdoor's pixel snippet and noscript image as deployed on several sites, the early ndp.js
(``path = 'https://flask.nextdoor.com/pixel'``), a published GTM container audit. ``flask.nextdoor.com/
events/...`` (Nextdoor's own site analytics) and ``ads.nextdoor.com/v2/api/conversions/track`` (the server
Conversions API) are not decoded here.
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import PIXEL_GIF, EndpointDecoder, VendorProfile, new_event, register
from harness.decoders.wire import json_body, query_dict, query_value, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "flask.nextdoor.com"
_PATH = "/pixel"
_KNOWN = frozenset({"pid", "ev"})
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
_NO_CONTENT = SinkholeReply(status=204)  # what the early ndp.js waited for before clearing its queue


@register
class NextdoorDecoder(EndpointDecoder):
    vendor = "nextdoor"
    profile = VendorProfile(
        tag_name="Nextdoor Pixel",
        platform_name="Nextdoor",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("ndclid",),
        hit_click_ids=(),  # read from the landing page's URL only: a later page's hits do not carry it
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = frozenset({_PATH, _PATH + "/"})

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return _GIF_REPLY if request.method == "GET" else _NO_CONTENT

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        query = query_dict(request.url)
        body = json_body(request)
        if not text_or_none(query.get("ev")) and isinstance(body, dict) and "custom_events" in body:
            return self._custom_events(request, body)
        event = text_or_none(query.get("ev"))
        if not event:
            return [self.malformed(request, "no event name (ev)")]
        params: dict[str, Any] = {k: v for k, v in query.items() if k not in _KNOWN}
        if body is not None:
            params["body"] = body
        return [self._event(request, event, text_or_none(query.get("pid")), params)]

    def _custom_events(self, request: CapturedRequest, body: dict[str, Any]) -> list[DecodedEvent]:
        """The early ndp.js: every tracked event in one JSON post, with no pixel ID."""
        events = body.get("custom_events")
        if not isinstance(events, dict) or not events:
            return [self.malformed(request, "Nextdoor pixel post without custom_events")]
        shared = {k: v for k, v in body.items() if k != "custom_events"}
        return [
            self._event(request, name, None, {**shared, "event_body": event_body})
            if (name := text_or_none(key))
            else self.malformed(request, "Nextdoor custom event without a name")
            for key, event_body in events.items()
        ]

    def _event(
        self, request: CapturedRequest, name: str, pixel: str | None, params: dict[str, Any]
    ) -> DecodedEvent:
        page_url = request.header("referer")
        click = query_value(page_url, "ndclid") if page_url else None
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=pixel,
            click_ids={"ndclid": click} if click else {},
            page_url=page_url,
            source=self.source,
            params=params,
        )
