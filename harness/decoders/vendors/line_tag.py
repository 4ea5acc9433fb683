"""LINE Tag hits (LINE Ads / LINE Official Account conversion tag).

The base code loads ``d.line-scdn.net/n/line_tag/public/release/v1/lt.js`` (never a hit) and calls
``_lt('init', {customerType: 'lap', tagId: <tag UUID>})`` then ``_lt('send', 'pv', [tagId])``; conversions
are ``_lt('send', 'cv', {type: 'Conversion'}, [tagId])``. The hits go to ``GET tr.line.me/tag.gif?c_t=
<customer type>&t_id=<tag UUID>&e=<pv|cv|...>``; the base code's noscript image is exactly
``tag.gif?c_t=lap&t_id=<tag UUID>&e=pv&noscript=1``.

The tag UUID (``t_id``) is the account. ``e=pv`` decodes as ``PageView``; any other ``e`` keeps its wire
code as the event name (``cv``...), since which parameter carries a conversion's ``type``, value or
currency is not documented; such parameters stay in params untyped. The hits carry no click ID.

Sources: the LINE Tag base and conversion codes as LINE Ads Manager issues them (deployed on many sites,
e.g. the noscript image captured from a site build script), LINE Official Account help ("LINE Tag").
``conversion-api.tr.line.me`` (the Conversion API) is not decoded here.
"""

from __future__ import annotations

from harness.decoders.base import EndpointDecoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import request_params_dict, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "tr.line.me"
_PATHS = frozenset({"/tag.gif"})
_EVENTS = {"pv": "PageView"}
_KNOWN = frozenset({"t_id"})


@register
class LineTagDecoder(EndpointDecoder):
    vendor = "line_tag"
    profile = VendorProfile(
        tag_name="LINE Tag",
        platform_name="LINE",
        consent="ad_tag",
        purchase_events=frozenset({"cv"}),
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = _PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        code = text_or_none(params.get("e"))
        if not code:
            return [self.malformed(request, "no event type (e)")]
        event = _EVENTS.get(code, code)
        tag = text_or_none(params.get("t_id"))
        if not tag:
            return [self.malformed(request, "no tag ID (t_id)", event)]
        return [
            new_event(
                vendor=self.vendor,
                event=event,
                account_id=tag,
                page_url=request.header("referer"),
                source=self.source,
                params={k: v for k, v in params.items() if k not in _KNOWN and v != ""},
            )
        ]
