"""TikTok Events API: server-to-server events to ``business-api.tiktok.com/open_api/v1.x/...``.

Two generations share the host. v1.3 ``event/track/`` takes ``{event_source, event_source_id,
data: [{event, event_time, event_id, user, properties, page}]}``; the older ``pixel/track/`` and
``pixel/batch/`` (v1.2, still served under v1.3 and what TikTok's Python SDK sends) take the
pixel's own shape ``{pixel_code, event, event_id, timestamp, context, properties}``, one event or a
``batch`` list. The ``Access-Token`` header is a credential: recorded as present, never copied.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, ClassVar

from harness.decoders.base import Decoder, TwinOf, VendorProfile, host_matches, new_event, register
from harness.decoders.vendors.tiktok_pixel import identifier_forms, split_context, split_properties
from harness.decoders.wire import json_body, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

API_HOSTS = ("business-api.tiktok.com",)
_TRACK_PATH = re.compile(r"^/open_api/v1\.\d+/(event/track|pixel/track|pixel/batch)/?$")

# Match keys sent plain by nature; TikTok asks for the rest SHA-256 hashed.
RAW_USER_KEYS = frozenset({"ip", "user_agent", "ttclid", "ttp", "locale", "lead_id"})
REQUEST_FIELDS = ("event_source", "test_event_code", "partner_name")


@register
class TikTokEventsApiDecoder(Decoder):
    vendor = "tiktok_events_api"
    profile = VendorProfile(
        tag_name="TikTok Events API",
        platform_name="TikTok Events API",
        purchase_events=frozenset({"completepayment", "placeanorder", "purchase"}),
        click_ids=("ttclid",),
        click_id_cookies={"ttclid": "ttclid"},
        twin_of=TwinOf(
            "tiktok_pixel",
            ("event", "event_id"),
            "TikTok deduplicates Pixel and Events API events only when event name and event_id are equal",
        ),
        event_id_reason="TikTok cannot deduplicate Pixel and Events API without event_id",
    )
    claim_hosts = API_HOSTS
    source = "server"
    volatile_params: ClassVar[frozenset[str]] = frozenset({"event_time", "timestamp", "event_id", "ttp"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method == "POST" and host_matches(host, API_HOSTS) and bool(_TRACK_PATH.match(path))

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = json_body(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "TikTok Events API request without a JSON object body")]
        shared: dict[str, Any] = {key: body[key] for key in REQUEST_FIELDS if body.get(key) not in (None, "")}
        if request.header("access-token"):
            shared["access_token_present"] = True
        if request.source == "browser":
            # A page calling the Events API itself exposes its access token to every visitor.
            shared["sent_from_browser"] = True

        if isinstance(body.get("data"), list):  # v1.3 event/track
            account = text_or_none(body.get("event_source_id"))
            items, decode_item = body["data"], self._decode_v13
        elif isinstance(body.get("batch"), list):  # pixel/batch
            account = text_or_none(body.get("pixel_code"))
            items, decode_item = body["batch"], self._decode_v12
        else:  # pixel/track: the body is the event
            account = text_or_none(body.get("pixel_code"))
            items, decode_item = [body], self._decode_v12
        if not items:
            return [self.malformed(request, "TikTok Events API request with no events")]
        return [decode_item(request, item, account, shared) for item in items]

    def _decode_v13(
        self, request: CapturedRequest, item: Any, account: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(item, dict) or not text_or_none(item.get("event")):
            return self.malformed(request, "TikTok Events API data entry without an event name")
        item = dict(item)
        event_name = str(item.pop("event")).strip()
        user = item.pop("user", None)
        user = user if isinstance(user, dict) else {}
        page = item.pop("page", None)
        page = dict(page) if isinstance(page, dict) else {}
        value, currency, order_id, props = split_properties(item.pop("properties", None))
        ttclid = text_or_none(user.get("ttclid"))

        params: dict[str, Any] = dict(shared)
        ttp = text_or_none(user.get("ttp"))
        if ttp:
            params["ttp"] = ttp
        event_id = text_or_none(item.pop("event_id", None))
        params.update(item)  # event_time, limited_data_use, lead...
        page_url = text_or_none(page.pop("url", None))
        if page:
            params["page"] = page
        if props:
            params["properties"] = props

        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=account,
            value=value,
            currency=currency,
            event_id=event_id,
            transaction_id=order_id,
            click_ids={"ttclid": ttclid} if ttclid else {},
            user_data=identifier_forms(user, RAW_USER_KEYS),
            page_url=page_url,
            source=self.source,
            params=params,
        )

    def _decode_v12(
        self, request: CapturedRequest, item: Any, account: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(item, dict) or not text_or_none(item.get("event")):
            return self.malformed(request, "TikTok Events API event without an event name")
        item = dict(item)
        event_name = str(item.pop("event")).strip()
        item.pop("pixel_code", None)
        raw_context = item.pop("context", None)
        context = split_context(raw_context if isinstance(raw_context, dict) else {})
        value, currency, order_id, props = split_properties(item.pop("properties", None))

        user = dict(context["user"])
        # In this shape the cookie ID and the match keys live in context, not in one user object.
        user.update(context["cookies"])
        for key in ("ip", "user_agent"):
            if context[key]:
                user[key] = context[key]

        params: dict[str, Any] = dict(shared)
        params.update(context["cookies"])
        event_id = text_or_none(item.pop("event_id", None))
        params.update(item)  # timestamp, type, limited_data_use...
        if context["rest"]:
            params["context"] = context["rest"]
        if props:
            params["properties"] = props

        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=context["pixel_code"] or account,
            value=value,
            currency=currency,
            event_id=event_id,
            transaction_id=order_id,
            click_ids={"ttclid": context["ttclid"]} if context["ttclid"] else {},
            user_data=identifier_forms(user, RAW_USER_KEYS),
            page_url=context["page_url"],
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        reply = {"code": 0, "message": "OK", "request_id": uuid.uuid4().hex, "data": {}}
        return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
