"""Segment: analytics.js / analytics-next and the HTTP Tracking API.

One message per request (``/v1/t``, ``/v1/track``, ...) or a batch (``/v1/b``, ``/v1/batch``). The body
is JSON whatever the content type (analytics-next sends ``text/plain`` to avoid a CORS preflight). The
write key travels in the body, or as ``Authorization: Basic base64(writeKey:)``.

Real hits checked against it (fixtures ``capture-*``): Omnibug's provider test (analytics.js 3.6.0 classic
``/v1/p`` on segment.com), claude.ai's analytics-next 1.69.0 ``/v1/p`` to its first-party host (2025, with
``context.consent.categoryPreferences``, kept in params) and analytics-go's own ``/v1/batch`` test fixture
(library context at batch level, key only in Basic auth).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.registry import click_id_names
from harness.decoders.wire import (
    BodyHandoff,
    json_body,
    query_named,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

SEGMENT_HOSTS = (
    "api.segment.io",
    "api.segment.com",
    "events.eu1.segmentapis.com",  # analytics.js in EU workspaces
    "eu1.api.segmentapis.com",  # HTTP API in EU workspaces
)
# Both spellings of each call: analytics.js uses the one-letter paths, the HTTP API the long ones.
CALL_PATHS = {
    "t": "track",
    "p": "page",
    "i": "identify",
    "g": "group",
    "a": "alias",
    "s": "screen",
    "track": "track",
    "page": "page",
    "identify": "identify",
    "group": "group",
    "alias": "alias",
    "screen": "screen",
}
BATCH_PATHS = ("b", "batch", "import")
_PATH = re.compile(r"/v1/([a-z]+)/?$")

# Identifiers a trait may carry, by the short names user_data uses.
TRAIT_IDENTIFIERS = {
    "email": "em",
    "phone": "ph",
    "firstName": "fn",
    "first_name": "fn",
    "firstname": "fn",
    "lastName": "ln",
    "last_name": "ln",
    "lastname": "ln",
}
# Fields promoted to DecodedEvent fields; the rest of a message goes to params.
PROMOTED = ("event", "messageId", "writeKey")
_PROMOTED_SET = frozenset(PROMOTED)


@lru_cache(maxsize=1024)  # asked by claims and decode of every POST: a site sends to few paths
def call_from_path(path: str) -> str | None:
    """"track" for ``/v1/t``, "batch" for ``/v1/b``, None for any other path (metrics, settings...)."""
    match = _PATH.search(path)
    if not match:
        return None
    name = match.group(1)
    if name in BATCH_PATHS:
        return "batch"
    return CALL_PATHS.get(name)


def _basic_auth_user(request: CapturedRequest) -> str | None:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip() + "=" * (-len(token.strip()) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    return text_or_none(decoded.partition(":")[0])


def _is_preflight_probe(request: CapturedRequest) -> bool:
    """The proxy asks about a CORS preflight as the method it announces, with no body. analytics-next's
    Authorization header forces a preflight; unless it is answered the hit itself is never sent."""
    wanted = (request.header("access-control-request-headers") or "").lower()
    return not request.body and "authorization" in wanted


# RudderStack's hosted data planes speak Segment's protocol too; their hits are rudderstack's (rudderstack.py).
# hosted.rudderlabs.com is the default data plane of RudderStack's Node, mobile, .NET and Rust SDKs;
# api.rudderstack.com is where its Python SDK posts when no host is set.
RUDDERSTACK_HOSTS = (".dataplane.rudderstack.com", "hosted.rudderlabs.com", "api.rudderstack.com")


def library_name(message: Any) -> str | None:
    """``context.library.name`` of a message: which SDK sent it."""
    context = message.get("context") if isinstance(message, dict) else None
    library = context.get("library") if isinstance(context, dict) else None
    name = library.get("name") if isinstance(library, dict) else None
    return name if isinstance(name, str) else None


def is_rudderstack_library(message: Any) -> bool:
    """The message names one of RudderStack's SDKs as its library ("RudderLabs JavaScript SDK",
    "com.rudderstack.android.sdk.core", "rudder-ios-library"...): RudderStack speaks Segment's protocol
    but is not Segment. (Its Python and Node server SDKs, forks of Segment's, say "analytics-python" and
    "analytics-node": only their data plane's host tells them apart.)"""
    name = library_name(message)
    return name is not None and "rudder" in name.lower()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_segment_body(request: CapturedRequest, call: str, body: Any) -> bool:
    """Whether a POST to a Segment path on a custom host carries a Segment message or batch."""
    if not isinstance(body, dict):
        return False
    if not (text_or_none(body.get("writeKey")) or _basic_auth_user(request)):
        return False
    batch = body.get("batch")
    first = batch[0] if isinstance(batch, list) and batch and isinstance(batch[0], dict) else {}
    if is_rudderstack_library(body) or is_rudderstack_library(first):
        return False
    if isinstance(batch, list):
        return True
    if isinstance(body.get("type"), str) and body["type"] in CALL_PATHS.values():
        return True
    # The HTTP API's long paths imply the type; every Segment message names a user.
    return call != "batch" and bool(body.get("userId") or body.get("anonymousId"))


@register
class SegmentDecoder(Decoder):
    vendor = "segment"
    profile = VendorProfile(
        tag_name="Segment",
        platform_name="Segment",
        purchase_events=frozenset({"order completed"}),
    )
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"messageId", "anonymousId", "timestamp", "originalTimestamp", "sentAt", "receivedAt", "_metadata"}
    )

    # A custom host's body, parsed by claims, is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST":
            return False
        call = call_from_path(request.path)
        if call is None:
            return False
        if host_matches(request.host, SEGMENT_HOSTS):
            return True
        if host_matches(request.host, RUDDERSTACK_HOSTS):
            return False  # the same protocol on RudderStack's own data planes
        # A custom (proxied) host: the path alone could be a site's own API, so the body must be Segment's.
        if _is_preflight_probe(request):
            return True
        return self._parsed.hand_on_if(request, json_body(request), lambda body: _is_segment_body(request, call, body))

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and call_from_path(path) is not None

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # Segment's own hosts; on any other the body decides.
        return method == "POST" and call_from_path(path) is not None and host_matches(host, SEGMENT_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="application/json", body=b'{"success": true}')

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = self._parsed.take(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "body is not a JSON object")]
        call = call_from_path(request.path)
        # The Authorization header's key only stands in for a missing writeKey: read it only then.
        body_key = text_or_none(body.get("writeKey"))
        if "batch" in body or call == "batch":
            batch = body.get("batch")
            if not isinstance(batch, list) or not batch:
                return [self.malformed(request, "batch is missing, empty or not a list")]
            shared_context = _dict(body.get("context"))
            write_key = body_key or _basic_auth_user(request)
            return [
                self._message(request, item, None, write_key, shared_context)
                if isinstance(item, dict)
                else self.malformed(request, f"batch entry {index} is not an object")
                for index, item in enumerate(batch)
            ]
        return [self._message(request, body, call, None if body_key else _basic_auth_user(request), {})]

    def _message(
        self,
        request: CapturedRequest,
        message: dict[str, Any],
        path_call: str | None,
        fallback_key: str | None,
        shared_context: dict[str, Any],
    ) -> DecodedEvent:
        get = message.get
        call = text_or_none(get("type")) or text_or_none(get("action")) or path_call
        if call is None:
            return self.malformed(request, "message has no type")
        if call == "track":
            event = text_or_none(get("event"))
            if event is None:
                return self.malformed(request, "track call without an event name", event="track")
        else:
            event = call
        # The sub-objects below are only read, so the message's own serve as they are.
        own_context = get("context")
        own_context = own_context if isinstance(own_context, dict) else {}
        context = {**shared_context, **own_context} if shared_context else own_context
        properties = get("properties")
        properties = properties if isinstance(properties, dict) else {}
        page = context.get("page")
        page = page if isinstance(page, dict) else {}
        page_url = (
            text_or_none(page.get("url"))
            or text_or_none(properties.get("url"))  # page calls repeat the page fields as properties
            or request.header("referer")
        )
        value = None
        for name in ("revenue", "value", "total"):
            value = to_number(properties.get(name))
            if value is not None:
                break
        params = dict(message)
        for name in _PROMOTED_SET & params.keys():
            del params[name]
        params["type"] = call
        if shared_context and "context" not in message:
            params["context"] = context
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=text_or_none(get("writeKey")) or fallback_key,
            value=value,
            currency=text_or_none(properties.get("currency")),
            event_id=text_or_none(get("messageId")),
            transaction_id=text_or_none(properties.get("order_id")) or text_or_none(properties.get("orderId")),
            click_ids=self._click_ids(page, properties, page_url),
            user_data=self._user_data(message, context),
            page_url=page_url,
            source=self.source,
            params=params,
        )

    @staticmethod
    def _click_ids(page: dict[str, Any], properties: dict[str, Any], page_url: str | None) -> dict[str, str]:
        search = text_or_none(page.get("search")) or text_or_none(properties.get("search"))
        found: dict[str, str] = {}
        for url in ("https://x/" + search if search else None, page_url):
            for name, value in query_named(url, click_id_names()) if url else ():
                if value:
                    found.setdefault(name, value)
        return found

    @staticmethod
    def _user_data(message: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for traits in (_dict(message.get("traits")), _dict(context.get("traits")), message):
            if traits.keys().isdisjoint(TRAIT_IDENTIFIERS):
                continue  # the usual case for the message itself, in one call
            for field, short in TRAIT_IDENTIFIERS.items():
                if field in traits and short not in found and (value := text_or_none(traits[field])):
                    found[short] = user_data_form(value)
        return found
