"""Meta Conversions API Gateway: the copy of each Pixel event that fbevents.js posts to the gateway.

When a pixel is connected to a Conversions API Gateway (Meta's internal name: OpenBridge), its signals
config (``connect.facebook.net/signals/config/<pixel id>``) carries ``config.set(<pixel>, "openbridge",
{"endpoints": [{"endpoint": "https://..."}], "eventsFilter": {...}})``, ``fbq.loadPlugin("openbridge3")``
and ``instance.optIn(<pixel>, "OpenBridge", true)``. From then on every event the pixel sends to
``facebook.com/tr`` is also POSTed to the gateway, which forwards it to the Conversions API as a server
event. The gateway's host is the advertiser's (``capig.<site>``, a partner's such as ``capig.stape.*``,
a Cloud Run ``mpc2-prod-*.a.run.app`` or AWS ``*.on.aws`` instance), so hits are known by path and
payload, never by host:

    POST https://<gateway>/events?cee=no          (also seen: /events/<hex>)
    content-type: text/plain;charset=UTF-8
    {"event_name": "PageView", "custom_data": {...}, "event_id": "ob3_plugin-set_<sha256>",
     "fb.pixel_id": "<pixel id>", "fb.advanced_matching": {...}, "fb.dynamic_product_ads": {...},
     "conversion_value": {"value": 10, "currency": "USD"},
     "website_context": {"location": <page URL>, "referrer": ..., "isInIFrame": false},
     "fb.fbp": "fb.1.<ms>.<random>", "event_meta_info": {...}, "smart_setup": {...}, ...}

``custom_data`` is the fbq call's custom data (``value``, ``currency``, ``content_ids``...); the plugin
sets the pixel event's ``eid`` to the same ``event_id``, which is how Meta deduplicates the pair.
``fb.advanced_matching`` carries the pixel's advanced-matching keys (SHA-256 ``em``/``ph``...) and also
client hints (``chpv``, ``chfv``), which are no identifiers: only Meta's customer-information keys count
as user data. Any other key stays in params as sent.

Sources: a k6 browser-recorder script of talent-dev.dealls.com (two real PageView posts to
``mpc2-prod-25-is5qnl632q-wl.a.run.app/events?cee=no``, headers included); crawler API catalogues of
cargurus.com (``capi-ata.cargurus.com/events/:hex``), cal.com (``md-<hex>.ecs.us-east-2.on.aws/events``)
and others, listing the body keys (a murdochs.com crawl also saw a POST to ``/events/{hash}`` on an AWS App
Runner host, the deployment Meta's gateway guide describes); a CAPI Gateway load-test tool and test page posting the same body
(``conversion_value``, ``custom_data`` with value/currency, hashed ``em``/``ph`` in
``fb.advanced_matching``); the Pixel Manager for WooCommerce's signals-config scan (the openbridge
config block); Meta's Conversions API Gateway docs (the Pixel "sends events to Gateway").
Not sourced, so not decoded: the Signals Gateway Pixel (``cbq``, a client the gateway itself serves)
and what the gateway answers (a 200 with no body stands in for it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import Decoder, TwinOf, VendorProfile, new_event, register
from harness.decoders.wire import (
    BodyHandoff,
    json_body,
    number_keeping_raw,
    query_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

# Nothing else sends this key: the signature that tells a gateway post from a site's own /events API.
_SIGNATURE = b'"fb.pixel_id"'
# Meta's customer-information parameters (advanced matching); other keys there are client hints.
MATCH_KEYS = frozenset({"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id"})
_TYPED_KEYS = frozenset({"event_name", "event_id", "fb.pixel_id", "fb.advanced_matching", "website_context"})
_TYPED_CUSTOM = ("value", "currency", "order_id")


def is_gateway_path(path: str) -> bool:
    """``/events``, ``/events/`` or ``/events/<one segment>`` (cargurus.com's gateway adds a hex key)."""
    if path in ("/events", "/events/"):
        return True
    rest = path[len("/events/") :] if path.startswith("/events/") else ""
    return bool(rest) and "/" not in rest.rstrip("/")


def _is_gateway_body(body: Any) -> bool:
    return isinstance(body, dict) and "fb.pixel_id" in body


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@register
class MetaCapiGatewayDecoder(Decoder):
    vendor = "meta_capi_gateway"
    profile = VendorProfile(
        tag_name="Meta Conversions API Gateway (Pixel plugin)",
        platform_name="Meta Conversions API Gateway",
        # fbevents sends it with the pixel's own hits, so consent governs it as it governs the pixel.
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        # Meta receives each action twice, from the pixel and from the gateway, and counts it once by the
        # event name and the event ID fbevents gives both hits.
        twin_of=TwinOf(
            "meta_pixel",
            ("event", "event_id"),
            "Meta deduplicates a Pixel event and its Conversions API Gateway copy only when event name and "
            "event ID are equal",
        ),
        event_id_reason="Meta cannot deduplicate the Pixel and its gateway copy without event_id",
    )
    volatile_params: ClassVar[frozenset[str]] = frozenset({"fb.fbp", "event_meta_info"})

    # The body claims had to parse is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or not is_gateway_path(request.path):
            return False
        if _SIGNATURE not in request.body:  # cheap: most posts to an /events path are a site's own
            return False
        return self._parsed.hand_on_if(request, json_body(request), _is_gateway_body)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and is_gateway_path(path)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="text/plain", body=b"")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = self._parsed.take(request)
        if not _is_gateway_body(body):
            return [self.malformed(request, "gateway post without a JSON body naming fb.pixel_id")]
        fields: dict[str, Any] = body  # type: ignore[assignment]  # checked by _is_gateway_body
        name = text_or_none(fields.get("event_name"))
        pixel = text_or_none(fields.get("fb.pixel_id"))
        if not name or not pixel:
            missing = " and ".join(n for n, v in (("event_name", name), ("fb.pixel_id", pixel)) if not v)
            return [self.malformed(request, f"gateway post without {missing}")]
        return [self._event(request, fields, name, pixel)]

    def _event(self, request: CapturedRequest, fields: dict[str, Any], name: str, pixel: str) -> DecodedEvent:
        custom = dict(_object(fields.get("custom_data")))
        conversion = _object(fields.get("conversion_value"))
        context = dict(_object(fields.get("website_context")))
        page_url = text_or_none(context.pop("location", None)) or request.header("referer")
        params: dict[str, Any] = dict(query_dict(request.url))  # cee=no: meaning not sourced, kept as sent
        params.update({k: v for k, v in fields.items() if k not in _TYPED_KEYS})
        params.pop("custom_data", None)
        if context:
            params["website_context"] = context
        # The fbq call's own value and currency; conversion_value carries the same pair (read when
        # custom_data has none).
        raw_value = custom.get("value", conversion.get("value"))
        value = number_keeping_raw(raw_value, params)
        currency = text_or_none(custom.get("currency")) or text_or_none(conversion.get("currency"))
        order_id = text_or_none(custom.get("order_id"))
        rest = {k: v for k, v in custom.items() if k not in _TYPED_CUSTOM}
        if rest:
            params["custom_data"] = rest
        matching = _object(fields.get("fb.advanced_matching"))
        hints = {k: v for k, v in matching.items() if k not in MATCH_KEYS}
        if hints:
            params["fb.advanced_matching"] = hints
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=pixel,
            value=value,
            currency=currency,
            event_id=text_or_none(fields.get("event_id")),
            transaction_id=order_id,
            user_data=_match_keys(matching),
            page_url=page_url,
            source=self.source,
            params=params,
        )


def _match_keys(matching: dict[str, Any]) -> dict[str, UserDataForm]:
    """The form of each customer-information key sent (SHA-256 or raw); empty values say nothing."""
    found: dict[str, UserDataForm] = {}
    for key, raw in matching.items():
        if key not in MATCH_KEYS:
            continue
        values = raw if isinstance(raw, list) else [raw]
        texts = [t for v in values if (t := text_or_none(v))]
        if texts:
            found[key] = "sha256" if all(user_data_form(t) == "sha256" for t in texts) else "raw"
    return found
