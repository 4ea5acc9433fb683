"""GA4 Measurement Protocol: server-to-server events, ``POST /mp/collect`` (and ``/debug/mp/collect``).

Per Google's Measurement Protocol reference: the query names the stream (``measurement_id=G-...`` for
web, ``firebase_app_id`` for apps) and the ``api_secret``; the JSON body holds ``client_id`` (or
``app_instance_id``), optional ``user_id``, ``timestamp_micros``, ``user_properties``, ``consent``,
``user_data`` and up to 25 ``events`` of ``{name, params}``. The api_secret is a credential: it is
never copied into an event, only whether it was present.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import (
    Decoder,
    TwinOf,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    register,
)
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    query_dict,
    text_or_none,
    user_data_form,
)
from harness.models import (
    CapturedRequest,
    ConsentValue,
    DecodedEvent,
    SinkholeReply,
    UserDataForm,
)

MP_HOSTS: tuple[str, ...] = (".google-analytics.com",)
MP_PATHS = frozenset({"/mp/collect", "/debug/mp/collect"})

# user_data keys, spelled the way the other decoders spell identifiers.
_USER_DATA_KEYS: dict[str, str] = {
    "sha256_email_address": "em",
    "sha256_phone_number": "ph",
    "sha256_first_name": "fn",
    "sha256_last_name": "ln",
    "sha256_street": "street",
    "city": "ct",
    "region": "st",
    "postal_code": "zp",
    "country": "country",
}
_TOP_LEVEL_PARAMS = (
    "client_id",
    "app_instance_id",
    "user_id",
    "timestamp_micros",
    "non_personalized_ads",
    "user_location",
    "device",
    "ip_override",
    "validation_behavior",
)
_EVENT_FIELDS = frozenset({"value", "currency", "transaction_id", "event_id", "page_location"})


@register
class GA4MeasurementProtocolDecoder(Decoder):
    vendor = "ga4_mp"
    profile = VendorProfile(
        tag_name="GA4 Measurement Protocol",
        platform_name="GA4 Measurement Protocol",
        purchase_events=frozenset({"purchase"}),
        # GA4 only deduplicates purchases, by transaction_id; other events sent twice are counted twice.
        twin_of=TwinOf(
            "ga4",
            ("transaction_id",),
            "GA4 deduplicates a purchase sent by gtag and by Measurement Protocol only by an equal transaction_id",
            frozenset({"purchase"}),
        ),
    )
    claim_hosts = MP_HOSTS
    source = "server"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"client_id", "app_instance_id", "timestamp_micros", "session_id", "engagement_time_msec"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path in MP_PATHS and host_matches(host, MP_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        query = query_dict(request.url)
        account = query.get("measurement_id") or query.get("firebase_app_id") or None
        body = json_body(request)
        if not account:
            return [self.malformed(request, "missing measurement_id / firebase_app_id")]
        if not isinstance(body, dict):
            return [self._malformed(request, account, "body is not a JSON object")]
        events = body.get("events")
        if not isinstance(events, list) or not events:
            return [self._malformed(request, account, "no events array")]
        shared = _shared_params(body, query, request.path)
        consent = _consent_fields(body)
        user_data = _user_data(body.get("user_data"))
        return [self._event(request, account, entry, shared, consent, user_data) for entry in events]

    def _malformed(self, request: CapturedRequest, account: str, reason: str) -> DecodedEvent:
        bad = self.malformed(request, reason)
        bad.account_id = account
        return bad

    def _event(
        self,
        request: CapturedRequest,
        account: str,
        entry: Any,
        shared: dict[str, Any],
        consent: dict[str, Any],
        user_data: dict[str, UserDataForm],
    ) -> DecodedEvent:
        if not isinstance(entry, dict) or not text_or_none(entry.get("name")):
            return self._malformed(request, account, "event without a name")
        raw_params = entry.get("params")
        event_params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        params = dict(shared)
        rest = {k: v for k, v in event_params.items() if k not in _EVENT_FIELDS}
        if rest:
            params["event_params"] = rest
        if "timestamp_micros" in entry:
            params["timestamp_micros"] = entry["timestamp_micros"]
        raw_value = event_params.get("value")
        value = number_keeping_raw(raw_value, params)
        return new_event(
            vendor=self.vendor,
            event=str(entry["name"]),
            account_id=account,
            value=value,
            currency=text_or_none(event_params.get("currency")),
            event_id=text_or_none(event_params.get("event_id")),
            transaction_id=text_or_none(event_params.get("transaction_id")),
            consent=new_consent(**consent),  # each event its own, validated from the same fields
            user_data=dict(user_data),
            page_url=text_or_none(event_params.get("page_location")),
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path.startswith("/debug/"):
            # The validation server answers 200 with its findings; empty means "valid".
            return SinkholeReply(
                status=200, content_type="application/json", body=b'{"validationMessages": []}'
            )
        return SinkholeReply(status=204)


def _shared_params(body: dict[str, Any], query: dict[str, str], path: str) -> dict[str, Any]:
    params: dict[str, Any] = {name: body[name] for name in _TOP_LEVEL_PARAMS if name in body}
    if isinstance(body.get("user_properties"), dict):
        params["user_properties"] = {
            name: prop.get("value") if isinstance(prop, dict) else prop
            for name, prop in body["user_properties"].items()
        }
    params["api_secret_present"] = bool(query.get("api_secret"))
    if path.startswith("/debug/"):
        params["debug"] = True
    return params


def _consent_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The ConsentState fields MP's ``consent: {ad_user_data, ad_personalization}`` ("GRANTED"/"DENIED")
    gives."""
    consent = body.get("consent")
    raw: dict[str, Any] = consent if isinstance(consent, dict) else {}
    states: dict[str, ConsentValue | None] = {}
    other: dict[str, str] = {}
    for signal in ("ad_user_data", "ad_personalization"):
        value = str(raw.get(signal, "")).strip().lower()
        if value == "granted":
            states[signal] = "granted"
        elif value == "denied":
            states[signal] = "denied"
        elif value:
            other[signal] = value
    if "non_personalized_ads" in body:
        other["non_personalized_ads"] = str(body["non_personalized_ads"]).lower()
    return {"other": other, **states}


def _user_data(raw: Any) -> dict[str, UserDataForm]:
    """Identifiers in MP ``user_data``; sha256_* values that are not hex digests count as raw."""
    if not isinstance(raw, dict):
        return {}
    found: dict[str, UserDataForm] = {}
    fields: list[tuple[str, Any]] = [(k, v) for k, v in raw.items() if k != "address"]
    addresses = raw.get("address")
    for address in addresses if isinstance(addresses, list) else [addresses]:
        if isinstance(address, dict):
            fields += list(address.items())
    for key, value in fields:
        values = value if isinstance(value, list) else [value]
        texts = [str(v) for v in values if text_or_none(v)]
        if not texts:
            continue
        name = _USER_DATA_KEYS.get(key, key)
        forms = {user_data_form(t) if key.startswith("sha256_") else "raw" for t in texts}
        found[name] = "raw" if "raw" in forms else "sha256"
    return found
