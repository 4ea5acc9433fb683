"""TikTok Pixel: the JSON beacons ``events.js`` posts to ``analytics.tiktok.com/api/v2/pixel``.

``/api/v2/pixel`` carries ``ttq.track``/``ttq.page`` events, ``/api/v2/pixel/act`` the
auto-collected interactions (``action: "Click"`` with an empty ``event``), ``/api/v2/pixel/batch``
a ``{"batch": [...]}`` of events and the legacy ``/api/v1/track`` the 2020 pixel's events; a GET to
``/api/v2/pixel`` may carry the same JSON base64-encoded in ``analytics_message``. The Shopify
TikTok app's pixel (``i18n/pixel/shopify.js``) posts the same events to ``/api/v2/shopify_pixel``. Bodies
are sent with ``sendBeacon``/``fetch`` as text/plain or JSON. The shape of one event (``event``,
``event_id``, ``context.pixel.code``, ``context.ad.callback`` = ttclid, ``context.user``,
``properties``) is also the Events API v1.2 server shape, so ``tiktok_events_api`` reuses it.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import unquote

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.wire import (
    json_body,
    parse_json,
    query_dict,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

PIXEL_HOSTS = ("analytics.tiktok.com", "analytics.us.tiktok.com", "analytics-sg.tiktok.com")
# /api/v2/pixel[/act|/track|/batch], the Shopify app's /api/v2/shopify_pixel[/...] and the 2020 pixel's
# /api/v1/track; not /monitor, not scripts.
_HIT_PATH = re.compile(r"^/api/v\d+/(?:(?:shopify_)?pixel(?:/(?:act|track|batch))?|track)/?$")
_ENCODED_URL = re.compile(r"^https?%3A", re.IGNORECASE)

# context.user fields that are cookie IDs rather than match keys; they go to params.
COOKIE_USER_FIELDS = ("anonymous_id", "ttp")
OK_REPLY = b'{"code":0,"message":"OK"}'


@lru_cache(maxsize=1024)  # asked of every request to the pixel hosts: a few paths
def _is_hit_path(path: str) -> bool:
    return bool(_HIT_PATH.match(path))


def _text_values(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [text for v in values if (text := text_or_none(v))]


def identifier_forms(fields: dict[str, Any], raw_keys: frozenset[str] = frozenset()) -> dict[str, UserDataForm]:
    """Forms of the non-empty identifiers in a user object (strings or lists of strings)."""
    forms: dict[str, UserDataForm] = {}
    for key, value in fields.items():
        values = _text_values(value)
        if not values:
            continue
        if key in raw_keys:
            forms[key] = "raw"
        else:
            forms[key] = "sha256" if all(user_data_form(v) == "sha256" for v in values) else "raw"
    return forms


def page_url_of(url: Any) -> str | None:
    """The 2020 pixel sent ``context.page.url`` percent-encoded; later versions send it plain."""
    text = text_or_none(url)
    if text and _ENCODED_URL.match(text):
        return unquote(text)
    return text


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def split_context(context: dict[str, Any]) -> dict[str, Any]:
    """What one event's ``context`` says, split into the DecodedEvent fields and what is left over.

    Returns keys ``pixel_code``, ``ttclid``, ``page_url``, ``user`` (identifier fields only),
    ``cookies`` (anonymous_id/ttp), ``ip``, ``user_agent`` and ``rest`` (the context minus those).
    """
    rest = dict(context)
    pixel = _dict(rest.pop("pixel", None))
    ad = _dict(rest.pop("ad", None))
    page = _dict(rest.pop("page", None))
    user = _dict(rest.pop("user", None))
    cookies = {key: user.pop(key) for key in COOKIE_USER_FIELDS if text_or_none(user.get(key))}
    for key in COOKIE_USER_FIELDS:
        user.pop(key, None)
    # Only strings (or lists of them) are identifiers; flags such as email_is_hashed stay in params.
    flags = {k: v for k, v in user.items() if not isinstance(v, (str, list))}
    user = {k: v for k, v in user.items() if k not in flags}
    if flags:
        rest["user"] = flags
    split = {
        "pixel_code": text_or_none(pixel.pop("code", None)),
        "ttclid": text_or_none(ad.pop("callback", None)),
        "page_url": page_url_of(page.pop("url", None)),
        "user": user,
        "cookies": cookies,
        "ip": text_or_none(rest.pop("ip", None)),
        "user_agent": text_or_none(rest.pop("user_agent", None)),
        "rest": rest,
    }
    # Keep what is left of the sub-objects that still say something (pixel.runtime, ad.sdk_env...).
    for name, leftover in (("pixel", pixel), ("ad", ad), ("page", page)):
        leftover = {k: v for k, v in leftover.items() if v not in ("", None, {}, [])} if leftover else {}
        if leftover:
            rest[name] = leftover
    return split


def split_properties(properties: Any) -> tuple[float | None, str | None, str | None, dict[str, Any]]:
    """``value``, ``currency``, ``order_id`` and the remaining properties."""
    props = _dict(properties)
    value = to_number(props.pop("value", None))
    currency = text_or_none(props.pop("currency", None))
    order_id = text_or_none(props.pop("order_id", None))
    return value, currency, order_id, props


def _analytics_message(request: CapturedRequest) -> Any:
    """The event of the pixel's GET transport, ``/api/v2/pixel?analytics_message=<base64 of the JSON body>``
    (seen on Shopify stores, documented by public pixel debuggers); None when the hit has none."""
    encoded = query_dict(request.url).get("analytics_message")
    if not encoded:
        return None
    try:  # standard or URL-safe alphabet, padding optional
        raw = base64.b64decode(encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4))
    except ValueError:  # binascii.Error is one
        return None
    return parse_json(raw)


@register
class TikTokPixelDecoder(Decoder):
    vendor = "tiktok_pixel"
    profile = VendorProfile(
        tag_name="TikTok Pixel",
        platform_name="TikTok Pixel",
        consent="ad_tag",
        purchase_events=frozenset({"completepayment", "placeanorder", "purchase"}),
        click_ids=("ttclid",),
        click_id_cookies={"ttclid": "ttclid"},
        event_id_reason="TikTok cannot deduplicate Pixel and Events API without event_id",
    )
    claim_hosts = PIXEL_HOSTS
    source = "browser"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"message_id", "timestamp", "anonymous_id", "analytics_uniq_id", "session_id", "pageview_id", "index"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return _is_hit_path(path) and host_matches(host, PIXEL_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        if body is None:
            body = _analytics_message(request)
        if body is None:
            return [self._from_query(request)]
        if isinstance(body, list):
            items, shared_code = body, None
        elif isinstance(body, dict) and isinstance(body.get("batch"), list):
            items, shared_code = body["batch"], text_or_none(body.get("pixel_code"))
        else:
            items, shared_code = [body], None
        if not items:
            return [self.malformed(request, "TikTok pixel batch without events")]
        return [self._decode_item(request, item, shared_code) for item in items]

    def _from_query(self, request: CapturedRequest) -> DecodedEvent:
        """A body-less hit (an <img> fallback some sites hand-write): read the query string."""
        query = query_dict(request.url)
        event_name = query.pop("event", "") or query.pop("ev", "")
        code = query.pop("sdkid", "") or query.pop("pixel_code", "") or query.pop("id", "")
        if not event_name or not code:
            return self.malformed(request, "TikTok pixel hit without a JSON body or event/pixel code")
        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=code,
            page_url=request.header("referer"),
            source=self.source,
            params=dict(query),
        )

    def _decode_item(self, request: CapturedRequest, item: Any, shared_code: str | None) -> DecodedEvent:
        if not isinstance(item, dict):
            return self.malformed(request, "TikTok pixel event is not an object")
        item = dict(item)
        event_name = text_or_none(item.pop("event", None))
        action = text_or_none(item.get("action"))
        # /pixel/act hits send an empty event and name the auto-collected interaction in "action".
        event_name = event_name or action
        if not event_name:
            return self.malformed(request, "TikTok pixel event without an event name")

        context = split_context(_dict(item.pop("context", None)))
        value, currency, order_id, props = split_properties(item.pop("properties", None))
        account_id = context["pixel_code"] or text_or_none(item.pop("pixel_code", None)) or shared_code
        event_id = text_or_none(item.pop("event_id", None))

        params: dict[str, Any] = {k: v for k, v in item.items() if k != "_inspection" or v}
        params.update(context["cookies"])
        if context["user_agent"]:
            params["user_agent"] = context["user_agent"]
        if context["rest"]:
            params["context"] = context["rest"]
        if props:
            params["properties"] = props

        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=account_id,
            value=value,
            currency=currency,
            event_id=event_id,
            transaction_id=order_id,
            click_ids={"ttclid": context["ttclid"]} if context["ttclid"] else {},
            user_data=identifier_forms(context["user"]),
            page_url=context["page_url"] or request.header("referer"),
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="application/json", body=OK_REPLY)
