"""Quora Pixel hits.

The pixel (``a.quora.com/qevents.js``, never a hit) turns ``qp('init', <pixel id>)`` and ``qp('track',
<event>, {value})`` into an image ``GET q.quora.com/_/ad/<pixel id>/pixel?j=1&u=<page URL>&tag=<event>
&ts=<ms>`` plus ``v=<value>`` when the call passes one (and ``fbia=1`` inside Facebook Instant Articles);
one hit per initialised pixel. Events are Quora's (``ViewContent``, the page view, ``Generic``,
``Purchase``, ``AddToCart``, ``CompleteRegistration``, ...) or any name the advertiser tracks. The
noscript image is ``pixel?tag=ViewContent&noscript=1``; Quora's GTM template sends its events as images
``pixel?tag=<event>&i=gtm&u=<page URL>``. There is no currency or order ID. Quora's click ID ``qclid`` rides on the landing page URL (``u``, else the Referer).

Sources: qevents.js (webpack build of ``shared/qevents/pixel.js``), Quora's pixel snippet and GTM template
as deployed, Quora Ads help ("How Quora counts conversions"). ``api.quora.com/ads/v0/conversion`` (the
Conversion API) is not decoded here.
"""

from __future__ import annotations

import re

from harness.decoders.base import Decoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import query_value, request_params_dict, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "q.quora.com"
_PATH = re.compile(r"^/_/ad/(?P<pixel>[^/]+)/pixel/?$")
_KNOWN = frozenset({"tag", "u", "v"})


@register
class QuoraDecoder(Decoder):
    vendor = "quora"
    profile = VendorProfile(
        tag_name="Quora Pixel",
        platform_name="Quora",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
    claim_hosts = (_HOST,)
    volatile_params = frozenset({"ts"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.startswith("/_/ad/")

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host == _HOST and _PATH.match(path) is not None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)  # qevents.js fires an Image

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _PATH.match(request.path)
        params = request_params_dict(request)
        event = text_or_none(params.get("tag"))
        if not event:
            return [self.malformed(request, "no event name (tag)")]
        page_url = text_or_none(params.get("u")) or request.header("referer")
        click = (query_value(page_url, "qclid") or None) if page_url else None
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=match["pixel"] if match else None,
                value=to_number(params.get("v")),
                click_ids={"qclid": click} if click else {},
                page_url=page_url,
                source=self.source,
                params={k: v for k, v in params.items() if k not in _KNOWN and v != ""},
            )
        ]
