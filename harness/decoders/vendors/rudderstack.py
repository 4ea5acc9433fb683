"""RudderStack: the JavaScript SDK (``@rudderstack/analytics-js`` v3, and v1.1) on a data plane.

The SDK posts one message per request to ``<dataPlaneUrl>/v1/<call>`` (``track``, ``page``, ``identify``,
``group``, ``alias``, ``screen``) or, when batching, ``{"batch": [...], "sentAt": ...}`` to ``/v1/batch``.
Messages follow the Segment spec (type, event, properties, traits, messageId, anonymousId, context) and
name the SDK in ``context.library.name`` ("RudderLabs JavaScript SDK"); the write key travels only as
``Authorization: Basic base64(writeKey:)``.

Claims: RudderStack's hosted data planes (``*.dataplane.rudderstack.com``) by host and path; any other
host (a self-hosted or first-party proxied data plane) only with the path *and* a JSON body whose
``context.library.name`` is the SDK's, so a site's own ``/v1/track`` API is never taken. The message
shape is Segment's too: ``segment`` leaves bodies naming a RudderStack library alone.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import Decoder, host_matches, new_event, register
from harness.decoders.wire import (
    BodyHandoff,
    json_body,
    query_named,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CLICK_ID_PARAMS, CapturedRequest, DecodedEvent, SinkholeReply

# RudderStack-hosted data planes: https://<workspace>.dataplane.rudderstack.com
RUDDERSTACK_HOSTS = (".dataplane.rudderstack.com",)
# context.library.name of RudderStack's browser SDKs (v1.1 and v3 alike).
LIBRARY_NAMES = frozenset({"RudderLabs JavaScript SDK"})
CALLS = frozenset({"track", "page", "identify", "group", "alias", "screen"})
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
_PROMOTED = frozenset({"event", "messageId"})
_CLICK_ID_NAMES = frozenset(CLICK_ID_PARAMS)


@lru_cache(maxsize=1024)  # asked by claims and decode of every POST: a site sends to few paths
def _call_from_path(path: str) -> str | None:
    """"track" for ``/v1/track``, "batch" for ``/v1/batch``, None for any other path."""
    match = _PATH.search(path)
    if not match:
        return None
    name = match.group(1)
    return name if name in CALLS or name == "batch" else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _library_name(message: Any) -> str | None:
    library = _dict(_dict(_dict(message).get("context")).get("library"))
    name = library.get("name")
    return name if isinstance(name, str) else None


def _is_rudderstack_body(body: Any) -> bool:
    """A message, or a batch whose first message, names RudderStack's SDK as its library."""
    if not isinstance(body, dict):
        return False
    batch = body.get("batch")
    if isinstance(batch, list):
        return bool(batch) and _library_name(batch[0]) in LIBRARY_NAMES
    return _library_name(body) in LIBRARY_NAMES


def _basic_auth_user(request: CapturedRequest) -> str | None:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    return text_or_none(decoded.partition(":")[0])


@register
class RudderstackDecoder(Decoder):
    vendor = "rudderstack"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"messageId", "anonymousId", "timestamp", "originalTimestamp", "sentAt", "receivedAt", "rudderId"}
    )

    # A custom host's body, parsed by claims, is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or _call_from_path(request.path) is None:
            return False
        if host_matches(request.host, RUDDERSTACK_HOSTS):
            return True
        # Any other host: the path alone could be a site's own API, so the body must name the SDK.
        body = json_body(request)
        if not _is_rudderstack_body(body):
            return False
        self._parsed.give(request, body)
        return True

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and _call_from_path(path) is not None

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # RudderStack's own data planes; on any other host the body decides.
        return method == "POST" and _call_from_path(path) is not None and host_matches(host, RUDDERSTACK_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="text/plain", body=b"OK")

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = self._parsed.take(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "body is not a JSON object")]
        call = _call_from_path(request.path)
        write_key = _basic_auth_user(request)
        if "batch" in body or call == "batch":
            batch = body.get("batch")
            if not isinstance(batch, list) or not batch:
                return [self.malformed(request, "batch is missing, empty or not a list")]
            return [
                self._message(request, item, None, write_key)
                if isinstance(item, dict)
                else self.malformed(request, f"batch entry {index} is not an object")
                for index, item in enumerate(batch)
            ]
        return [self._message(request, body, call, write_key)]

    def _message(
        self, request: CapturedRequest, message: dict[str, Any], path_call: str | None, write_key: str | None
    ) -> DecodedEvent:
        get = message.get
        call = text_or_none(get("type")) or path_call
        if call is None:
            return self.malformed(request, "message has no type")
        if call == "track":
            event = text_or_none(get("event"))
            if event is None:
                return self.malformed(request, "track call without an event name", event="track")
        else:
            event = call
        context = _dict(get("context"))
        properties = _dict(get("properties"))
        page = _dict(context.get("page"))
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
        params = {name: item for name, item in message.items() if name not in _PROMOTED}
        params["type"] = call
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=write_key,
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
            for name, value in query_named(url, _CLICK_ID_NAMES) if url else ():
                if value:
                    found.setdefault(name, value)
        return found

    @staticmethod
    def _user_data(message: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        # identify sends its traits in context.traits (v3) or traits (v1.1); the SDK keeps them in the
        # context of every later message.
        found: dict[str, Any] = {}
        for traits in (_dict(message.get("traits")), _dict(context.get("traits"))):
            for field, short in TRAIT_IDENTIFIERS.items():
                if field in traits and short not in found and (value := text_or_none(traits[field])):
                    found[short] = user_data_form(value)
        return found
