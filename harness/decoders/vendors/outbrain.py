"""Outbrain pixel hits.

The pixel (``amplify.outbrain.com/cp/obtp.js``, never a hit) sends each ``obApi('track', name, {...})`` as
``GET tr.outbrain.com/unifiedPixel?marketerId=<id[,id...]>&obApiVersion=..&obtpVersion=..&name=<event>
&dl=<page URL>&referrer=..&pRef=..&cht=gtm&optOut=false&bust=<cache buster>`` plus ``orderValue``,
``currency`` and ``orderId`` on conversions. The event name is the advertiser's own (``PAGE_VIEW``,
``Purchase``, ...). Server-side postbacks (an sGTM tag) send ``unifiedPixel?ob_click_id=<click>&name=..``
with the order fields and no marketerId: the click ID ties them to the account.

The legacy endpoint ``tr.outbrain.com/pixel`` takes the same parameters and is still fired: a browser
extension's XHR (``/pixel?marketerId=..&obApiVersion=1.0.11&name=..&dl=..&optOut=false&bust=..``, public
GitHub file, stored-index id 45082930022) and S2S postbacks configured in click trackers
(``/pixel?ob_click_id={CLICK_ID}&name=Lead&orderValue={PAYOUT}``, stored-index ids 32934979078, 16477624202).

``sync.outbrain.com`` (cookie sync) and Outbrain's widget hosts are never hits.
"""

from __future__ import annotations

from harness.decoders.base import EndpointDecoder, VendorProfile, new_event, pixel_reply, register
from harness.decoders.wire import request_params_dict, text_or_none, to_number
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "tr.outbrain.com"
# /pixel is the pre-unifiedPixel endpoint, same parameters (sources in the docstring).
_PATHS = ("/unifiedPixel", "/unifiedPixel/", "/pixel")
_KNOWN = frozenset({"marketerId", "name", "dl", "orderValue", "currency", "orderId", "ob_click_id"})


@register
class OutbrainDecoder(EndpointDecoder):
    vendor = "outbrain"
    profile = VendorProfile(
        tag_name="Outbrain pixel",
        platform_name="Outbrain",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = frozenset(_PATHS)
    volatile_params = frozenset({"bust"})

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params = request_params_dict(request)
        name = text_or_none(params.get("name"))
        if not name:
            return [self.malformed(request, "no event name (name)")]
        marketer = text_or_none(params.get("marketerId"))
        click = text_or_none(params.get("ob_click_id"))
        if not marketer and not click:
            return [
                self.malformed(
                    request, "neither a marketer id (marketerId) nor a click id (ob_click_id)", name
                )
            ]
        extra: dict[str, object] = {k: v for k, v in params.items() if k not in _KNOWN}
        if marketer and "," in marketer:
            extra["marketer_ids"] = [part.strip() for part in marketer.split(",") if part.strip()]
        return [
            new_event(
                vendor=self.vendor,
                event=name,
                account_id=marketer,
                value=to_number(params.get("orderValue")),
                currency=text_or_none(params.get("currency")),
                transaction_id=text_or_none(params.get("orderId")),
                click_ids={"ob_click_id": click} if click else {},
                page_url=text_or_none(params.get("dl")) or request.header("referer"),
                source=self.source,
                params=extra,
            )
        ]
