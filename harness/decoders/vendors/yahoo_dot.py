"""Yahoo (Verizon Media, Oath, Gemini) Dot tag hits.

The tag (``s.yimg.com/wi/ytc.js``, never a hit) is queued with ``dotq.push({projectId, properties:
{pixelId, qstrings: {...}}})`` and sends ``GET sp.analytics.yahoo.com/sp.pl?a=<project id>&.yp=<pixel id>
&f=<page URL>&e=<referrer>&b=<page title>&enc=UTF-8&d=<send date>&n=..&yv=<tag version>&tagmgr=..`` plus
every ``qstrings`` entry under its own name: ``et=custom``, ``ea`` (the action, e.g. ``ViewProduct``),
``ec``/``el``/``ev`` (category, label, event value), ``gv`` (goal value, a conversion's money value, USD by
default per Tealium's Yahoo guides) and the advertiser's own keys (``product_id``...).
Older tags add ``jsonp=YAHOO.ywa.I13N.handleJSONResponse`` and load it as a script; newer ones (``yv``
1.13+) load it as an image and send ``ec=PageView&et=PageView`` on the base hit. The image pixel (the
noscript and tag-manager fallback) is ``GET sp.analytics.yahoo.com/spp.pl?a=..&.yp=..`` with the same
optional ``ec``/``ea``/... keys. Online Enhanced Matching adds ``he`` (the SHA-256 of the email).

The event is the ``ea`` action, else the ``ec`` category (an image pixel often names its conversion by
``ec`` alone), else ``PageView``. There is no currency or order-ID parameter, and the hits carry no click
ID (``yclid`` is Yahoo! JAPAN's; Yahoo DSP's ``vmcid`` goes to its conversions API, not to Dot).

Sources: Yahoo's "Installing Dot Tags" and Enhanced Matching guides, Tealium's Yahoo Dot tag guide (ec, ea,
el, ev, gv), and captured hits (a Shopify store's custom event, LoadRunner/NetStorm recordings, wired.com).
``ups.analytics.yahoo.com`` (user sync) is never a hit.
"""

from __future__ import annotations

from harness.decoders.base import PIXEL_GIF, EndpointDecoder, VendorProfile, new_event, register
from harness.decoders.wire import request_params_dict, text_or_none, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "sp.analytics.yahoo.com"
_PATHS = frozenset({"/sp.pl", "/spp.pl"})
# Typed fields of the event; everything else (the project ID ``a``, ``ec``, ``el``, ``ev``, ``et``...) stays
# in params under its wire name.
_KNOWN = frozenset({".yp", "ea", "gv", "f", "he"})
_SCRIPT_REPLY = SinkholeReply(status=200, content_type="application/javascript", body=b"")
_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)


@register
class YahooDotDecoder(EndpointDecoder):
    vendor = "yahoo_dot"
    profile = VendorProfile(
        tag_name="Yahoo Dot tag",
        platform_name="Yahoo",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = _PATHS
    # ``d`` is the send date; ``gtmcb`` the cache buster GTM's image tags append.
    volatile_params = frozenset({"d", "gtmcb"})

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # The jsonp tag loads sp.pl with a <script>; everything else loads it as an image.
        dest = (request.header("sec-fetch-dest") or "").lower()
        if dest == "script" or (not dest and "jsonp" in request_params_dict(request)):
            return _SCRIPT_REPLY
        return _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        name = text_or_none(params.get("ea")) or text_or_none(params.get("ec")) or "PageView"
        pixel = text_or_none(params.get(".yp"))
        if not pixel:
            return [self.malformed(request, "no pixel ID (.yp)", name)]
        hashed_email = text_or_none(params.get("he"))
        value = to_number(params.get("gv"))
        extra = {k: v for k, v in params.items() if k not in _KNOWN and v != ""}
        if value is None and params.get("gv"):
            extra["gv"] = params["gv"]  # not a number: shown as sent
        return [
            new_event(
                vendor=self.vendor,
                event=name,
                account_id=pixel,
                value=value,
                user_data={"em": user_data_form(hashed_email)} if hashed_email else {},
                page_url=text_or_none(params.get("f")) or request.header("referer"),
                source=self.source,
                params=extra,
            )
        ]
