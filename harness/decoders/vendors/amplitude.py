"""Amplitude: the Browser SDK 2 (``@amplitude/analytics-browser``) and the HTTP V2 / Batch Event Upload APIs.

The SDK posts ``{"api_key", "events": [...], "options", "client_upload_time", "request_metadata"}`` as JSON
to ``api2.amplitude.com/2/httpapi`` (``api.eu.amplitude.com`` for EU projects; ``/batch`` when ``useBatch``),
or to the ``serverUrl`` a site sets (a first-party proxy). To Amplitude's own hosts a body over 2 KB goes
gzip-compressed with ``Content-Encoding: gzip``, which the capture proxy decodes (a raw gzip body is
decoded here too). Each event names its ``event_type``; ``insert_id`` is the ID Amplitude dedupes on (7
days); ``event_id`` is only the SDK's counter and stays in params.

Revenue (Amplitude's "Track revenue" docs): the HTTP API's event fields ``price``, ``quantity``,
``revenue``, ``currency`` (and ``productId``, ``revenueType``), or the Revenue API's event
``revenue_amount`` with ``$price``, ``$quantity``, ``$revenue``, ``$currency`` event properties. Amplitude
counts ``price * quantity`` (quantity 1 when absent) when a price is sent, else ``revenue``, in the
currency's major unit. Amplitude defines no order ID field: a site's ``order_id`` stays in params.

The SDK's attribution plugin copies the landing URL's UTMs and click IDs (gclid, fbclid, ...) into every
event's ``event_properties`` and the identify's ``user_properties``; page views carry ``[Amplitude] Page
Location``. Those give ``page_url`` and ``click_ids``. Identify events (``$identify``) carry user
properties (``$set``/``$setOnce``); an ``email`` or ``phone`` there is personal data sent raw.

Sources: ``@amplitude/analytics-core`` 2.x ``plugins/destination.js`` (payload), ``types/constants.js``
(endpoints), ``revenue.js`` (Revenue API properties), ``analytics-browser`` ``transports/fetch.js`` (gzip);
amplitude.com/docs/apis/analytics/http-v2 and .../http-api-batching-retries (insert_id deduplication);
amplitude.com/docs/data/sources/instrument-track-revenue ($price * $quantity); the hits the SDK 2.48.1
really sent, recorded by ``tests/decoders/npm_clients/record.py`` (fixtures ``npm-*``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, register
from harness.decoders.registry import click_id_names
from harness.decoders.wire import (
    BodyHandoff,
    gunzipped,
    parse_json,
    query_named,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

AMPLITUDE_HOSTS = ("api2.amplitude.com", "api.eu.amplitude.com")
API_PATHS = ("/2/httpapi", "/batch")
PAGE_LOCATION = "[Amplitude] Page Location"
# User property names sites give personal data, by the short names user_data uses.
PERSONAL_PROPERTIES = {"email": "em", "$email": "em", "phone": "ph", "$phone": "ph"}
_PROMOTED = frozenset({"event_type", "insert_id"})
_GZIP_MAGIC = b"\x1f\x8b"
MAX_GUNZIPPED = 8 * 1024 * 1024  # a hit never inflates past this; a gzip bomb is cut here


def body_text(request: CapturedRequest) -> str:
    """The body as text, inflated first when it is still gzip (a capture that could not decode it)."""
    body = request.body
    if body[:2] == _GZIP_MAGIC:
        inflated = gunzipped(body, MAX_GUNZIPPED)
        return inflated.decode("utf-8", "replace") if inflated is not None else ""
    return request.text


def click_ids_from(urls: list[str | None], *property_sets: dict[str, Any]) -> dict[str, str]:
    """Click IDs in the query of ``urls`` (the page), then those a client copied into properties by name."""
    names = click_id_names()
    found: dict[str, str] = {}
    for url in urls:
        for name, value in query_named(url, names) if url else ():
            if value:
                found.setdefault(name, value)
    for properties in property_sets:
        for name in names & properties.keys():
            if text := text_or_none(properties[name]):
                found.setdefault(name, text)
    return found


def personal_data(*property_sets: Any) -> dict[str, Any]:
    """user_data for the email / phone user properties a hit sends."""
    found: dict[str, Any] = {}
    for properties in property_sets:
        if not isinstance(properties, dict) or properties.keys().isdisjoint(PERSONAL_PROPERTIES):
            continue
        for name, short in PERSONAL_PROPERTIES.items():
            if short not in found and (value := text_or_none(properties.get(name))):
                found[short] = user_data_form(value)
    return found


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_api_path(path: str) -> bool:
    return path.rstrip("/").endswith(API_PATHS)


def _is_amplitude_body(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("api_key"), str) and isinstance(body.get("events"), list)


def _value(event: dict[str, Any], properties: dict[str, Any]) -> tuple[float | None, Any]:
    """Amplitude's revenue for the event (price * quantity, else revenue) and the raw value it came from."""
    for price_key, quantity_key, revenue_key, fields in (
        ("price", "quantity", "revenue", event),
        ("$price", "$quantity", "$revenue", properties),
    ):
        price = to_number(fields.get(price_key))
        if price is not None:
            quantity = to_number(fields.get(quantity_key))
            return round(price * (1 if quantity is None else quantity), 10), None
        if fields.get(revenue_key) is not None:
            raw = fields[revenue_key]
            return to_number(raw), raw
    return None, None


@register
class AmplitudeDecoder(Decoder):
    vendor = "amplitude"
    profile = VendorProfile(tag_name="Amplitude", platform_name="Amplitude")
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"device_id", "session_id", "time", "event_id", "user_agent", "client_upload_time", "request_metadata"}
    )
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or not _is_api_path(request.path):
            return False
        if host_matches(request.host, AMPLITUDE_HOSTS):
            return True
        # A first-party serverUrl: the path alone could be a site's own API, so the body must be Amplitude's.
        return self._parsed.hand_on_if(request, parse_json(body_text(request).strip()), _is_amplitude_body)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and _is_api_path(path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method == "POST" and path in API_PATHS and host_matches(host, AMPLITUDE_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # The HTTP V2 API's success answer; the SDK reads its code.
        return SinkholeReply(
            status=200,
            content_type="application/json",
            body=b'{"code": 200, "events_ingested": 0, "payload_size_bytes": 0, "server_upload_time": 0}',
        )

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        held = self._parsed.take(request)
        body = held if _is_amplitude_body(held) else parse_json(body_text(request).strip())
        if not isinstance(body, dict):
            return [self.malformed(request, "body is not a JSON object")]
        events = body.get("events")
        if not isinstance(events, list) or not events:
            return [self.malformed(request, "events is missing, empty or not a list")]
        api_key = text_or_none(body.get("api_key"))
        return [
            self._event(request, item, api_key, position)
            if isinstance(item, dict)
            else self.malformed(request, f"event {position} is not an object")
            for position, item in enumerate(events)
        ]

    def _event(self, request: CapturedRequest, item: dict[str, Any], api_key: str | None, position: int) -> DecodedEvent:
        event_type = text_or_none(item.get("event_type"))
        if event_type is None:
            return self.malformed(request, f"event {position} has no event_type")
        properties = as_dict(item.get("event_properties"))
        user_properties = as_dict(item.get("user_properties"))
        page_url = text_or_none(properties.get(PAGE_LOCATION)) or request.header("referer")
        params = {k: v for k, v in item.items() if k not in _PROMOTED}
        value, raw = _value(item, properties)
        if value is None and raw is not None:
            params["value_raw"] = raw
        return new_event(
            vendor=self.vendor,
            event=event_type,
            account_id=api_key,
            value=value,
            currency=text_or_none(item.get("currency")) or text_or_none(properties.get("$currency")),
            event_id=text_or_none(item.get("insert_id")),
            click_ids=click_ids_from(
                [page_url], properties, as_dict(user_properties.get("$set")), as_dict(user_properties.get("$setOnce"))
            ),
            user_data=personal_data(
                as_dict(user_properties.get("$set")), as_dict(user_properties.get("$setOnce")), user_properties
            ),
            page_url=page_url,
            source=self.source,
            params=params,
        )
