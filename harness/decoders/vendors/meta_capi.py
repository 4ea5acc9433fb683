"""Meta Conversions API: ``POST graph.facebook.com/[v<NN>.0/]<PIXEL_ID>/events`` from a backend.

Three body shapes reach the same edge: JSON ``{"data": [...]}`` (most hand-written clients and
server-side GTM), urlencoded ``data=<json>&access_token=...`` (Meta's own SDKs; facebook-business
even sends each event as a JSON *string* inside the list) and multipart (``curl -F`` as Meta's docs
show). Each entry of ``data`` is one event.

A Conversions API Gateway (v1.6.0 on) takes the same JSON from a server at ``POST https://<gateway
host>/capi/<PIXEL_ID>/events``, ``{"accessKey": <key from the gateway's admin UI>, "data": [...]}`` (Meta's
"Non-Web Server Events" guide; the older guide's example sends no accessKey). The gateway's host is the
advertiser's, so that path is claimed on any host, and only with a JSON body holding a ``data`` list.
"""

from __future__ import annotations

import hashlib
import json
import re
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
from harness.decoders.vendors.meta_pixel import fbclid_from_fbc, multipart_params
from harness.decoders.wire import (
    json_body,
    params_dict,
    parse_json,
    request_params,
    text_or_none,
    to_number,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

GRAPH_HOSTS = ("graph.facebook.com",)
_EVENTS_PATH = re.compile(r"^/(?:(v\d+(?:\.\d+)?)/)?(\d+)/events/?$")
# A Conversions API Gateway's server endpoint, on whatever host the advertiser runs it.
_GATEWAY_PATH = re.compile(r"^/capi/(\d+)/events/?$")

# Match keys that are plain by nature (Meta asks for them unhashed).
RAW_USER_KEYS = frozenset({"client_ip_address", "client_user_agent", "fbc", "fbp", "fb_login_id", "lead_id"})
# Request-level fields that are credentials: recorded as present, never copied.
SECRET_FIELDS = ("access_token", "appsecret_proof", "accessKey")
REQUEST_FIELDS = (
    "test_event_code",
    "partner_agent",
    "upload_tag",
    "namespace_id",
    "upload_id",
    "upload_source",
)


def _parse_json_text(value: Any) -> Any:
    # Anything not a string came out of ``json_body`` (``parse_json``), safe already.
    if isinstance(value, str):
        return parse_json(value)
    return value


def _identifier_form(key: str, value: Any) -> UserDataForm | None:
    """The form of one ``user_data`` entry (a string or a list of strings), None when it is empty."""
    values = [v for v in (value if isinstance(value, list) else [value]) if text_or_none(v)]
    if not values:
        return None
    if key in RAW_USER_KEYS:
        return "raw"
    forms = {user_data_form(str(v)) for v in values}
    return "sha256" if forms == {"sha256"} else "raw"


def _is_gateway_request(request: CapturedRequest) -> bool:
    """A POST to a gateway's ``/capi/<pixel>/events`` whose JSON body holds a ``data`` list."""
    if request.method != "POST" or not _GATEWAY_PATH.match(request.path):
        return False
    body = json_body(request)
    return isinstance(body, dict) and isinstance(body.get("data"), list)


@register
class MetaCapiDecoder(Decoder):
    vendor = "meta_capi"
    profile = VendorProfile(
        tag_name="Meta Conversions API",
        platform_name="Meta Conversions API",
        purchase_events=frozenset({"purchase"}),
        click_ids=("fbclid",),
        click_id_cookies={"fbclid": "_fbc"},
        twin_of=TwinOf(
            "meta_pixel",
            ("event", "event_id"),
            "Meta deduplicates a Pixel and a CAPI event only when event name and event ID (eid / event_id) are equal",
        ),
        event_id_reason="Meta cannot deduplicate Pixel and CAPI without event_id",
    )
    platform_hosts = GRAPH_HOSTS  # it claims a gateway's path on any host, so it names no claim_hosts
    source = "server"
    volatile_params: ClassVar[frozenset[str]] = frozenset({"event_time", "event_id", "fbp", "fbc"})

    def claims(self, request: CapturedRequest) -> bool:
        if not host_matches(request.host, GRAPH_HOSTS):
            return _is_gateway_request(request)
        if not _EVENTS_PATH.match(request.path):
            return False
        # A GET of the edge reads it; only a POST (or Graph's ?method=post override) sends events.
        return request.method == "POST" or any(
            key == "method" and value.lower() == "post" for key, value in request.query
        )

    def may_claim_path(self, method: str, path: str) -> bool:
        return bool(_EVENTS_PATH.match(path)) or (method == "POST" and bool(_GATEWAY_PATH.match(path)))

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method == "POST" and host_matches(host, GRAPH_HOSTS) and bool(_EVENTS_PATH.match(path))

    def _request_fields(self, request: CapturedRequest) -> tuple[dict[str, Any], list[Any] | None]:
        """Request-level fields and the raw ``data`` list, from whichever body shape was sent."""
        body = json_body(request)
        fields: dict[str, Any] = {}
        if isinstance(body, dict):
            fields.update(body)
        pairs = request_params(request)
        if request.content_type == "multipart/form-data":
            pairs += multipart_params(request)
        for key, value in params_dict(pairs).items():
            fields.setdefault(key, value)
        data = _parse_json_text(fields.get("data"))
        if isinstance(data, dict):  # a single event object instead of a list
            data = [data]
        return fields, data if isinstance(data, list) else None

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _EVENTS_PATH.match(request.path) if host_matches(request.host, GRAPH_HOSTS) else None
        gateway = None if match else _GATEWAY_PATH.match(request.path)
        pixel_id = match.group(2) if match else gateway.group(1) if gateway else None
        fields, data = self._request_fields(request)
        if data is None:
            return [self.malformed(request, "Conversions API request without a readable data list")]
        if not data:
            return [self.malformed(request, "Conversions API request with an empty data list")]

        shared: dict[str, Any] = {f"{key}_present": True for key in SECRET_FIELDS if fields.get(key)}
        shared.update({key: fields[key] for key in REQUEST_FIELDS if fields.get(key) not in (None, "")})
        if match and match.group(1):
            shared["api_version"] = match.group(1)
        if gateway:
            shared["via_gateway"] = True
        if request.header("authorization"):
            shared["access_token_present"] = True
        if request.source == "browser":
            # A page calling the Conversions API itself exposes its access token to every visitor.
            shared["sent_from_browser"] = True

        events = []
        for entry in data:
            events.append(self._decode_entry(request, _parse_json_text(entry), pixel_id, shared))
        return events

    def _decode_entry(
        self, request: CapturedRequest, entry: Any, pixel_id: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        if not isinstance(entry, dict):
            return self.malformed(request, "Conversions API data entry is not an object")
        event_name = text_or_none(entry.get("event_name"))
        if not event_name:
            return self.malformed(request, "Conversions API event without event_name")
        entry = dict(entry)
        entry.pop("event_name")

        user = entry.pop("user_data", None)
        user = user if isinstance(user, dict) else {}
        user_data: dict[str, UserDataForm] = {}
        for key, value in user.items():
            form = _identifier_form(key, value)
            if form:
                user_data[key] = form

        click_ids: dict[str, str] = {}
        fbc = text_or_none(user.get("fbc"))
        if fbc:
            click_ids["fbc"] = fbc
            fbclid = fbclid_from_fbc(fbc)
            if fbclid:
                click_ids["fbclid"] = fbclid

        custom = entry.pop("custom_data", None)
        custom = dict(custom) if isinstance(custom, dict) else {}
        value = to_number(custom.get("value"))
        if value is not None or custom.get("value") in (None, ""):
            custom.pop("value", None)  # a non-numeric value stays visible in params["custom_data"]
        currency = text_or_none(custom.pop("currency", None))
        order_id = text_or_none(custom.pop("order_id", None))

        consent_other = {}
        for key in (
            "data_processing_options",
            "data_processing_options_country",
            "data_processing_options_state",
        ):
            if key in entry:
                raw = entry.pop(key)
                consent_other[key] = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw)

        params: dict[str, Any] = dict(shared)
        event_id = text_or_none(entry.pop("event_id", None))
        page_url = text_or_none(entry.pop("event_source_url", None))
        fbp = text_or_none(user.get("fbp"))
        if fbp:
            params["fbp"] = fbp
        params.update(entry)  # event_time, action_source, opt_out, app_data, referrer_url...
        if custom:
            params["custom_data"] = custom
        # SHA-256 email digests (never raw values): the harness attributes backend hits by them.
        emails = user.get("em")
        hashed = [
            str(v)
            for v in (emails if isinstance(emails, list) else [emails])
            if v and user_data_form(str(v)) == "sha256"
        ]
        if hashed:
            params["hashed_emails"] = hashed

        return new_event(
            vendor=self.vendor,
            event=event_name,
            account_id=pixel_id,
            value=value,
            currency=currency,
            event_id=event_id,
            transaction_id=order_id,
            click_ids=click_ids,
            consent=new_consent(other=consent_other),
            user_data=user_data,
            page_url=page_url,
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        _fields, data = self._request_fields(request)
        trace = "A" + hashlib.sha1(request.body + request.url.encode()).hexdigest()[:20]
        if data is None:
            # What the Graph API answers when the data parameter is missing or not JSON.
            error = {
                "message": "(#100) The parameter data is required",
                "type": "OAuthException",
                "code": 100,
                "fbtrace_id": trace,
            }
            return SinkholeReply(
                status=400, content_type="application/json", body=json.dumps({"error": error}).encode()
            )
        reply = {"events_received": len(data), "messages": [], "fbtrace_id": trace}
        return SinkholeReply(status=200, content_type="application/json", body=json.dumps(reply).encode())
