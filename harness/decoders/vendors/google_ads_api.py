"""Google Ads API server-side conversions: a backend uploading conversions the tag also reports.

Two REST methods of the Google Ads API (``googleads.googleapis.com``), JSON bodies in proto3 JSON
(lowerCamelCase; the snake_case proto names are accepted too, as the JSON parser does):

* ``POST /v{N}/customers/{customer_id}:uploadClickConversions`` with ``conversions[]`` (ClickConversion:
  gclid/gbraid/wbraid, conversionAction, conversionDateTime, conversionValue, currencyCode, orderId,
  userIdentifiers, consent) -> one ``conversion`` event per entry;
* ``POST /v{N}/customers/{customer_id}:uploadConversionAdjustments`` with ``conversionAdjustments[]``
  (orderId or gclidDateTimePair, adjustmentType ENHANCEMENT|RETRACTION|RESTATEMENT, restatementValue,
  userIdentifiers) -> one ``conversion_adjustment`` event per entry;
* ``POST /v{N}/customers/{customer_id}:uploadCallConversions`` with ``conversions[]`` (CallConversion:
  callerId, the caller's phone number in E.164, callStartDateTime, conversionAction, conversionDateTime,
  conversionValue, currencyCode) -> one ``call_conversion`` event per entry, the caller ID in ``user_data``
  as ``ph`` (a raw phone number: Google's field is not hashed). Seen from Segment's Google Enhanced
  Conversions destination (segmentio/action-destinations google-enhanced-conversions
  __tests__/uploadCallConversion.test.ts, v11/v12; canary-v25.test.ts, v22 and v25); fields per
  developers.google.com/google-ads/api/reference/rpc/v25/CallConversionResult. Over gRPC it is not read.

Google's own client libraries (``google-ads`` for Python, and those for Java, .NET, PHP, Ruby, Perl) speak
gRPC instead: ``POST /google.ads.googleads.v{N}.services.ConversionUploadService/UploadClickConversions``
(and ``ConversionAdjustmentUploadService/UploadConversionAdjustments``), ``content-type:
application/grpc``, the same request as a framed protobuf message. It is read by field number into the
JSON shape above (``harness.decoders.protobuf``) and decoded the same way; the sinkhole answers in gRPC.

The ``developer-token`` and ``Authorization`` headers are credentials: recorded as present, never copied.
The hashed email VALUES are kept in ``params["hashed_emails"]`` so a backend hit can be attributed to the
run whose journey typed that email (``harness.attribution``).
"""

from __future__ import annotations

import json
import re
import zlib
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

from harness.decoders.base import (
    Decoder,
    TwinOf,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    register,
)
from harness.decoders.protobuf import ProtoField, grpc_frame, grpc_messages, message_dict
from harness.decoders.wire import json_body, number_keeping_raw, text_or_none, user_data_form
from harness.models import CapturedRequest, ConsentState, DecodedEvent, SinkholeReply, UserDataForm

API_HOSTS = ("googleads.googleapis.com",)
# The ':' before the method may arrive percent-encoded from some HTTP clients.
_UPLOAD_PATH = re.compile(
    r"^/(v\d+)/customers/([\d-]+)(?::|%3[aA])"
    r"(uploadClickConversions|uploadConversionAdjustments|uploadCallConversions)/?$"
)
# The same two methods as Google's client libraries call them over gRPC.
_GRPC_PATH = re.compile(
    r"^/google\.ads\.googleads\.(v\d+)\.services\."
    r"(?:ConversionUploadService/(UploadClickConversions)|ConversionAdjustmentUploadService/(UploadConversionAdjustments))$"
)
# method -> (list field, its snake_case spelling, event name)
_METHODS: dict[str, tuple[str, str, str]] = {
    "uploadClickConversions": ("conversions", "conversions", "conversion"),
    "uploadConversionAdjustments": (
        "conversionAdjustments",
        "conversion_adjustments",
        "conversion_adjustment",
    ),
    "uploadCallConversions": ("conversions", "conversions", "call_conversion"),
}
REQUEST_FIELDS = {
    "partialFailure": "partial_failure",
    "validateOnly": "validate_only",
    "debugEnabled": "debug_enabled",
    "jobId": "job_id",
}
# UserIdentifier fields -> the identifier names the other decoders use.
_IDENTIFIERS = {
    "hashedEmail": "em",
    "hashedPhoneNumber": "ph",
    "thirdPartyUserId": "external_id",
    "mobileId": "mobile_id",
}
_ADDRESS = {
    "hashedFirstName": "fn",
    "hashedLastName": "ln",
    "hashedStreetAddress": "street",
    "city": "ct",
    "state": "st",
    "postalCode": "zp",
    "countryCode": "country",
}
_CONSENT = {"GRANTED": "granted", "DENIED": "denied"}


_UPPER = re.compile(r"([A-Z])")


@lru_cache(maxsize=1024)  # field names: a small set, looked up for every entry
def _snake(name: str) -> str:
    return _UPPER.sub(lambda m: "_" + m.group(1).lower(), name)


def field(entry: dict[str, Any], name: str) -> Any:
    """``entry[name]`` in lowerCamelCase, else in its snake_case proto spelling."""
    return entry[name] if name in entry else entry.get(_snake(name))


def _identifiers(entry: dict[str, Any]) -> tuple[dict[str, UserDataForm], list[str]]:
    """The identifier forms of ``userIdentifiers[]``, and the SHA-256 hex email hashes among them."""
    forms: dict[str, UserDataForm] = {}
    hashed_emails: list[str] = []
    raw = field(entry, "userIdentifiers")
    for identifier in raw if isinstance(raw, list) else []:
        if not isinstance(identifier, dict):
            continue
        values: dict[str, Any] = {key: field(identifier, wire) for wire, key in _IDENTIFIERS.items()}
        address = field(identifier, "addressInfo")
        if isinstance(address, dict):
            values.update({key: field(address, wire) for wire, key in _ADDRESS.items()})
        for key, value in values.items():
            text = text_or_none(value)
            if not text:
                continue
            # Address city/state/zip/country are sent unhashed by design; the rest should be digests.
            forms[key] = "raw" if key in ("ct", "st", "zp", "country") else user_data_form(text)
            if key == "em" and forms[key] == "sha256":
                hashed_emails.append(text.lower())
    return forms, hashed_emails


def _consent(entry: dict[str, Any]) -> ConsentState:
    consent = field(entry, "consent")
    if not isinstance(consent, dict):
        return new_consent()
    return new_consent(
        ad_user_data=_CONSENT.get(str(field(consent, "adUserData")).upper()),  # type: ignore[arg-type]
        ad_personalization=_CONSENT.get(str(field(consent, "adPersonalization")).upper()),  # type: ignore[arg-type]
    )


class _Upload(NamedTuple):
    version: str  # the API version, "v17"
    customer: str  # the customer ID, digits only
    method: str  # "uploadClickConversions", "uploadConversionAdjustments" or "uploadCallConversions"
    body: dict[str, Any]  # the request in its JSON shape
    entries: list[Any] | None  # the list of conversions or adjustments; None when unreadable
    problem: str | None = None  # why the body could not be read (a gRPC body that is no such message)


def _upload(request: CapturedRequest) -> _Upload | None:
    """The upload a request carries, over REST or gRPC; None off the endpoints."""
    match = _UPLOAD_PATH.match(request.path)
    if match:
        version, customer, method = match.groups()
        body = json_body(request)
        body = body if isinstance(body, dict) else {}
        problem = None
    elif grpc := _GRPC_PATH.match(request.path):
        version, click, adjustment = grpc.groups()
        method = "uploadClickConversions" if click else "uploadConversionAdjustments"
        try:
            messages = grpc_messages(request.body, request.header("grpc-encoding"))
            if len(messages) != 1:
                raise ValueError(f"{len(messages)} messages in a unary call")
            body, problem = message_dict(messages[0], _GRPC_REQUESTS[method]), None
            body.setdefault(_METHODS[method][0], [])  # protobuf sends no empty list: absent is empty
        except (ValueError, EOFError, OSError, zlib.error) as exc:  # gzip raises EOFError / OSError
            body, problem = {}, f"gRPC body is no {method} request: {exc}"
        customer = text_or_none(body.get("customerId")) or ""
    else:
        return None
    camel, snake, _event = _METHODS[method]
    entries = body.get(camel, body.get(snake))
    return _Upload(
        version, customer.replace("-", ""), method, body, entries if isinstance(entries, list) else None, problem
    )


def _is_grpc(request: CapturedRequest) -> bool:
    return bool(_GRPC_PATH.match(request.path))


@register
class GoogleAdsApiDecoder(Decoder):
    vendor = "google_ads_api"
    profile = VendorProfile(
        tag_name="Google Ads API upload",
        platform_name="Google Ads API",
        purchase_events=frozenset({"conversion"}),
        # The tag's conversion hit (oid) and an uploadClickConversions entry (orderId). Adjustments share the
        # order ID on purpose (enhancements, retractions), so only "conversion" is paired; the tag's
        # 1p-conversion redirect hop repeats its conversion hit and is left out.
        twin_of=TwinOf(
            "google_ads",
            ("transaction_id",),
            "Google Ads deduplicates a tag conversion and an API-uploaded conversion of one action only by an "
            "equal order ID (oid / orderId)",
            frozenset({"conversion"}),
        ),
    )
    claim_hosts = API_HOSTS
    source = "server"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"conversion_date_time", "adjustment_date_time", "call_start_date_time", "job_id"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # Only a POST uploads; the same host serves GAQL searches and mutates that are no conversion.
        return (
            method == "POST"
            and host_matches(host, API_HOSTS)
            and bool(_UPLOAD_PATH.match(path) or _GRPC_PATH.match(path))
        )

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        found = _upload(request)
        if found is None:
            return [self.malformed(request, "not a Google Ads API conversion upload")]
        version, customer, method, body, entries, problem = found
        list_name = _METHODS[method][0]
        if problem is not None:
            return [self.malformed(request, problem)]
        if entries is None:
            return [self.malformed(request, f"{method} without a readable {list_name} list")]
        if not entries:
            return [self.malformed(request, f"{method} with an empty {list_name} list")]
        shared = self._shared_params(request, version, method, body)
        return [self._event(request, method, customer, entry, shared) for entry in entries]

    def _shared_params(
        self, request: CapturedRequest, version: str, method: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        shared: dict[str, Any] = {"api_version": version, "method": method}
        if _is_grpc(request):
            shared["transport"] = "grpc"
        for camel, snake in REQUEST_FIELDS.items():
            value = body.get(camel, body.get(snake))
            if value is not None:
                shared[snake] = value
        for header in ("developer-token", "authorization"):
            if request.header(header):
                shared[f"{header.replace('-', '_')}_present"] = True
        if login := text_or_none(request.header("login-customer-id")):
            shared["login_customer_id"] = login  # the manager account: an ID, not a secret
        if request.source == "browser":
            shared["sent_from_browser"] = True  # a page holding a developer token and OAuth token
        return shared

    def _event(
        self, request: CapturedRequest, method: str, customer: str, entry: Any, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(entry, dict):
            return self.malformed(request, f"{method} entry is not an object", _METHODS[method][2])
        user_data, hashed_emails = _identifiers(entry)
        params: dict[str, Any] = dict(shared)
        if hashed_emails:
            params["hashed_emails"] = hashed_emails
        if method == "uploadClickConversions":
            click_source: dict[str, Any] = entry
            raw_value, currency = field(entry, "conversionValue"), field(entry, "currencyCode")
            params.update(_rest(entry, ("gclid", "gbraid", "wbraid", "conversionValue", "currencyCode")))
        elif method == "uploadCallConversions":
            click_source = {}  # a call conversion is matched by the caller's number, not a click ID
            raw_value, currency = field(entry, "conversionValue"), field(entry, "currencyCode")
            if caller := text_or_none(field(entry, "callerId")):
                user_data["ph"] = user_data_form(caller)
            params.update(_rest(entry, ("callerId", "conversionValue", "currencyCode")))
        else:
            pair = field(entry, "gclidDateTimePair")
            click_source = pair if isinstance(pair, dict) else {}
            if pair_time := text_or_none(field(click_source, "conversionDateTime")):
                params["conversion_date_time"] = pair_time
            restatement = field(entry, "restatementValue")
            restatement = restatement if isinstance(restatement, dict) else {}
            raw_value, currency = field(restatement, "adjustedValue"), field(restatement, "currencyCode")
            params.update(_rest(entry, ("gclidDateTimePair", "restatementValue")))
        value = number_keeping_raw(raw_value, params)
        click_ids = {
            name: text
            for name in ("gclid", "gbraid", "wbraid")
            if (text := text_or_none(field(click_source, name)))
        }
        return new_event(
            vendor=self.vendor,
            event=_METHODS[method][2],
            account_id=customer,
            value=value,
            currency=text_or_none(currency),
            transaction_id=text_or_none(field(entry, "orderId")),
            click_ids=click_ids,
            consent=_consent(entry),
            user_data=user_data,
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        found = _upload(request)
        count = len(found.entries) if found and found.entries else 1
        if _is_grpc(request):
            # The response message with one empty result per entry (field 2, repeated, of both responses),
            # and the call's status in the trailers, where a gRPC client reads it.
            return SinkholeReply(
                status=200,
                content_type="application/grpc",
                body=grpc_frame(b"\x12\x00" * count),
                trailers=[("grpc-status", "0"), ("grpc-message", "")],
            )
        reply: dict[str, Any] = {"results": [{} for _ in range(count)], "partialFailureError": None}
        return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())


def _rest(entry: dict[str, Any], typed: tuple[str, ...]) -> dict[str, Any]:
    """The entry's other fields under snake_case names (conversion_action, adjustment_type, ...)."""
    consumed = _consumed(typed)
    return {_snake(key): value for key, value in entry.items() if key not in consumed}


@lru_cache(maxsize=16)  # called with one of three constant tuples
def _consumed(typed: tuple[str, ...]) -> frozenset[str]:
    """The fields ``_rest`` leaves out, in both spellings."""
    consumed = {*typed, "orderId", "userIdentifiers", "consent"}
    return frozenset(consumed | {_snake(name) for name in consumed})


# --- the gRPC messages, by field number (google/ads/googleads/v*/services/conversion_upload_service.proto,
# conversion_adjustment_upload_service.proto, common/offline_user_data.proto, common/consent.proto; the
# numbers are the same in every API version since v14) -----------------------------------------------

_CONSENT_STATUS = {0: "UNSPECIFIED", 1: "UNKNOWN", 2: "GRANTED", 3: "DENIED"}
_GRPC_CONSENT = {1: ProtoField("adUserData", "enum", enum=_CONSENT_STATUS),
                 2: ProtoField("adPersonalization", "enum", enum=_CONSENT_STATUS)}  # fmt: skip
_GRPC_ADDRESS = {
    7: ProtoField("hashedFirstName", "string"),
    8: ProtoField("hashedLastName", "string"),
    9: ProtoField("city", "string"),
    10: ProtoField("state", "string"),
    11: ProtoField("countryCode", "string"),
    12: ProtoField("postalCode", "string"),
    13: ProtoField("hashedStreetAddress", "string"),
}
_GRPC_USER_IDENTIFIER = {
    6: ProtoField("userIdentifierSource", "enum", enum={0: "UNSPECIFIED", 1: "UNKNOWN", 2: "FIRST_PARTY", 3: "THIRD_PARTY"}),
    7: ProtoField("hashedEmail", "string"),
    8: ProtoField("hashedPhoneNumber", "string"),
    9: ProtoField("mobileId", "string"),
    10: ProtoField("thirdPartyUserId", "string"),
    5: ProtoField("addressInfo", "message", message=_GRPC_ADDRESS),
}
_GRPC_CLICK_CONVERSION = {
    9: ProtoField("gclid", "string"),
    18: ProtoField("gbraid", "string"),
    19: ProtoField("wbraid", "string"),
    10: ProtoField("conversionAction", "string"),
    11: ProtoField("conversionDateTime", "string"),
    12: ProtoField("conversionValue", "double"),
    13: ProtoField("currencyCode", "string"),
    14: ProtoField("orderId", "string"),
    7: ProtoField("externalAttributionData", "message", message={
        3: ProtoField("externalAttributionCredit", "double"),
        4: ProtoField("externalAttributionModel", "string"),
    }),
    15: ProtoField("customVariables", "message", repeated=True, message={
        1: ProtoField("conversionCustomVariable", "string"),
        2: ProtoField("value", "string"),
    }),
    16: ProtoField("cartData", "message", message={
        6: ProtoField("merchantId", "int"),
        2: ProtoField("feedCountryCode", "string"),
        3: ProtoField("feedLanguageCode", "string"),
        4: ProtoField("localTransactionCost", "double"),
        5: ProtoField("items", "message", repeated=True, message={
            1: ProtoField("productId", "string"),
            2: ProtoField("quantity", "int"),
            3: ProtoField("unitPrice", "double"),
        }),
    }),
    17: ProtoField("userIdentifiers", "message", repeated=True, message=_GRPC_USER_IDENTIFIER),
    20: ProtoField("conversionEnvironment", "enum", enum={0: "UNSPECIFIED", 1: "UNKNOWN", 2: "APP", 3: "WEB"}),
    23: ProtoField("consent", "message", message=_GRPC_CONSENT),
    26: ProtoField("customerType", "enum", enum={0: "UNSPECIFIED", 1: "UNKNOWN", 2: "NEW", 3: "RETURNING"}),
    27: ProtoField("userIpAddress", "string"),
    24: ProtoField("sessionAttributesEncoded", "bytes"),
}  # fmt: skip
_GRPC_ADJUSTMENT = {
    12: ProtoField("gclidDateTimePair", "message", message={
        3: ProtoField("gclid", "string"),
        4: ProtoField("conversionDateTime", "string"),
    }),
    13: ProtoField("orderId", "string"),
    8: ProtoField("conversionAction", "string"),
    9: ProtoField("adjustmentDateTime", "string"),
    5: ProtoField("adjustmentType", "enum", enum={
        0: "UNSPECIFIED", 1: "UNKNOWN", 2: "RETRACTION", 3: "RESTATEMENT", 4: "ENHANCEMENT",
    }),
    6: ProtoField("restatementValue", "message", message={
        3: ProtoField("adjustedValue", "double"),
        4: ProtoField("currencyCode", "string"),
    }),
    10: ProtoField("userIdentifiers", "message", repeated=True, message=_GRPC_USER_IDENTIFIER),
    11: ProtoField("userAgent", "string"),
}  # fmt: skip
_GRPC_REQUESTS = {
    "uploadClickConversions": {
        1: ProtoField("customerId", "string"),
        2: ProtoField("conversions", "message", repeated=True, message=_GRPC_CLICK_CONVERSION),
        3: ProtoField("partialFailure", "bool"),
        4: ProtoField("validateOnly", "bool"),
        6: ProtoField("jobId", "int"),
    },
    "uploadConversionAdjustments": {
        1: ProtoField("customerId", "string"),
        2: ProtoField("conversionAdjustments", "message", repeated=True, message=_GRPC_ADJUSTMENT),
        3: ProtoField("partialFailure", "bool"),
        4: ProtoField("validateOnly", "bool"),
        5: ProtoField("jobId", "int"),
    },
}
