"""Snowplow tracker protocol: GET pixel hits (``/i``) and POST batches (``/com.snowplowanalytics.snowplow/tp2``).

A POST body is a self-describing ``payload_data`` JSON whose ``data`` is a list of events, each the same
flat name/value map a GET hit carries in its query string. Collectors run on the customer's own hosts, so
requests are recognised by path and protocol signature, never by host.

Real hits checked against it (fixtures ``capture-*``): Snowplow's enrich tests' CloudFront log lines
(js-2.0/2.4/2.7 GET ``/i``), pages' logged hits quoted in public code (jobs.adp.com via d.hodes.com,
urbanindo.com, TinyMCE Cloud's sp.tinymce.com), a k6 load test replaying js-3.2.3, the Snowplow Micro
README's Android ``andr-1.1.0`` tp2 body and HSBC PayMe's ``ios-0.8.0`` tp2 body (``co`` as plain JSON).
A pre-Iglu ``cx`` (``{"page": {...}}``, js-2.7 in 2014) is not a contexts JSON and stays malformed.
"""

from __future__ import annotations

import binascii
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.registry import click_id_names
from harness.decoders.wire import (
    BodyHandoff,
    json_body,
    parse_json,
    query_dict,
    query_named,
    text_or_none,
    to_number,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

TP2_PATH = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_SCHEMA_PREFIX = "iglu:com.snowplowanalytics.snowplow/payload_data/"
_PAYLOAD_SCHEMA_PREFIX_BYTES = PAYLOAD_SCHEMA_PREFIX.encode()
PIXEL_PATH_NAMES = ("i", "ice.png")  # ice.png: the old CloudFront collector's pixel
# Event type codes of the tracker protocol and the names we report them as; se and ue are named by content.
EVENT_NAMES = {
    "pv": "page_view",
    "pp": "page_ping",
    "tr": "transaction",
    "ti": "transaction_item",
    "se": "struct",
    "ue": "unstruct",
    "ad": "ad_impression",
    "ev": "event",
}
# The encoded fields that are replaced by their decoded JSON in params.
ENCODED_FIELDS = frozenset({"ue_pr", "ue_px", "co", "cx"})
_STR_ONLY = frozenset({str})


def _decode_b64_json(text: str) -> Any | None:
    """base64url (or plain base64, padded or not) of JSON, as trackers and docs both send it."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        # base64.b64decode(..., validate=True) is this call behind a Python wrapper (a non-ASCII str
        # raises ValueError either way).
        raw = binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4), strict_mode=True)
        return parse_json(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _load_json(text: str) -> Any | None:
    return parse_json(text)


def _schema_name(uri: Any) -> str | None:
    """``viewed_product`` from ``iglu:com.my_company/viewed_product/jsonschema/1-0-0``."""
    return _iglu_name(uri) if isinstance(uri, str) else None


@lru_cache(maxsize=1024)  # every event names its schemas, and a site uses a handful
def _iglu_name(uri: str) -> str | None:
    if not uri.startswith("iglu:"):
        return None
    parts = uri[len("iglu:") :].split("/")
    return parts[1] if len(parts) == 4 and parts[1] else None


def _is_payload_data(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("schema"), str)
        and body["schema"].startswith(PAYLOAD_SCHEMA_PREFIX)
        and isinstance(body.get("data"), list)
    )


def _as_text(raw: dict[str, Any]) -> dict[str, str]:
    """The event's fields as the strings the tracker protocol says they are (``raw`` itself, never
    changed, when they all are)."""
    if _STR_ONLY.issuperset(map(type, raw.values())):
        return raw  # the usual case
    return {k: v if isinstance(v, str) else str(v) for k, v in raw.items()}


def _first_text(*values: Any) -> str | None:
    """The first of ``values`` that ``text_or_none`` makes a text of."""
    for value in values:
        text = value.strip() if type(value) is str else text_or_none(value)  # most are str or None
        if text:
            return text
    return None


class _Unreadable(Exception):
    """An event whose encoded part cannot be read; becomes one malformed event (never leaves decode)."""


@register
class SnowplowDecoder(Decoder):
    vendor = "snowplow"
    profile = VendorProfile(
        tag_name="Snowplow tracker",
        platform_name="Snowplow",
        purchase_events=frozenset({"transaction"}),
    )
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"eid", "dtm", "stm", "ttm", "sid", "duid", "nuid", "tid", "cv"}
    )

    # A custom path's body, parsed by claims, is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        path = request.path
        if request.method == "GET":
            if path.rsplit("/", 1)[-1] not in PIXEL_PATH_NAMES:
                return False
            # The protocol signature: an event type code and a tracker version (pixel tags send no eid).
            params = query_dict(request.url)
            return params.get("e") in EVENT_NAMES and bool(params.get("tv"))
        if request.method != "POST":
            return False
        if path.endswith(TP2_PATH):
            return True
        # Custom POST paths: only when the body is a tracker protocol payload.
        if request.body.find(_PAYLOAD_SCHEMA_PREFIX_BYTES, 0, 512) < 0:  # not in body[:512], uncopied
            return False
        return self._parsed.hand_on_if(request, json_body(request), _is_payload_data)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return method == "POST" and path.endswith(TP2_PATH)  # elsewhere the query or the body decides

    def may_claim_path(self, method: str, path: str) -> bool:
        # A POST may carry a tracker payload to any path; a GET only to the pixel's.
        return method == "POST" or (method == "GET" and path.rsplit("/", 1)[-1] in PIXEL_PATH_NAMES)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.method == "GET":
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=200)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.method == "GET":
            return [self._event(request, query_dict(request.url))]
        body = self._parsed.take(request)
        if not _is_payload_data(body):
            return [self.malformed(request, "body is not a payload_data JSON with a data list")]
        events: list[Any] = body["data"]  # type: ignore[index]  # _is_payload_data checked the shape
        if not events:
            return [self.malformed(request, "payload_data has no events")]
        return [
            self._event(request, payload)
            if isinstance(payload, dict)
            else self.malformed(request, f"event {index} is not an object")
            for index, payload in enumerate(events)
        ]

    def _event(self, request: CapturedRequest, raw: dict[str, Any]) -> DecodedEvent:
        payload = _as_text(raw)
        code = payload.get("e")
        if not code:
            return self.malformed(request, "event has no e (event type)")
        try:
            unstruct = self._unstruct(payload)
            contexts = self._contexts(payload)
        except _Unreadable as exc:
            return self.malformed(request, str(exc), event=EVENT_NAMES.get(code, code))
        event = self._event_name(code, payload, unstruct)
        ue_data = unstruct.get("data") if isinstance(unstruct, dict) else None
        ue_data = ue_data if isinstance(ue_data, dict) else {}
        transaction = self._transaction_entity(contexts) if contexts else {}
        get = payload.get
        page_url = text_or_none(get("url")) or request.header("referer")
        params: dict[str, Any] = dict(payload)
        for name in ENCODED_FIELDS & params.keys():
            del params[name]
        if unstruct is not None:
            params["ue"] = unstruct
        if contexts:
            params["contexts"] = contexts
        return new_event(
            vendor=self.vendor,
            event=event,
            account_id=text_or_none(get("aid")),
            value=self._value(code, payload, ue_data, transaction),
            currency=_first_text(
                get("tr_cu"), get("ti_cu"), ue_data.get("currency"), transaction.get("currency")
            ),
            event_id=text_or_none(get("eid")),
            transaction_id=_first_text(
                get("tr_id"), get("ti_id"), ue_data.get("transaction_id"), transaction.get("transaction_id")
            ),
            click_ids={k: v for k, v in query_named(page_url, click_id_names()) if v} if page_url else {},
            user_data=self._user_data(payload),
            page_url=page_url,
            source=self.source,
            params=params,
        )

    @staticmethod
    def _event_name(code: str, payload: dict[str, str], unstruct: Any) -> str:
        if code == "se":
            # Real trackers send a category alone too (TinyMCE Cloud's js-2.6.1: se_ca=focus, no se_ac): a
            # readable event, its action null; only an action, when there is one, names it.
            return text_or_none(payload.get("se_ac")) or EVENT_NAMES["se"]
        if code == "ue":
            schema = unstruct.get("schema") if isinstance(unstruct, dict) else None
            return _schema_name(schema) or "unstruct"
        return EVENT_NAMES.get(code, code)

    @staticmethod
    def _unstruct(payload: dict[str, str]) -> Any | None:
        """The self-describing event, {"schema": <event schema>, "data": {...}}, or None when absent."""
        if payload.get("ue_pr"):
            wrapper = _load_json(payload["ue_pr"])
        elif payload.get("ue_px"):
            wrapper = _decode_b64_json(payload["ue_px"])
        elif payload.get("e") == "ue":
            raise _Unreadable("self-describing event without ue_pr or ue_px")
        else:
            return None
        if not isinstance(wrapper, dict) or not isinstance(wrapper.get("data"), dict):
            raise _Unreadable("ue_pr/ue_px is not a self-describing JSON")
        return wrapper["data"]

    @staticmethod
    def _contexts(payload: dict[str, str]) -> list[Any]:
        """The attached entities; an empty ``cx`` (as the docs' page ping sends) means none."""
        if payload.get("co"):
            wrapper = _load_json(payload["co"])
        elif payload.get("cx"):
            wrapper = _decode_b64_json(payload["cx"])
        else:
            return []
        if not isinstance(wrapper, dict) or not isinstance(wrapper.get("data"), list):
            raise _Unreadable("co/cx is not a contexts JSON")
        return wrapper["data"]

    @staticmethod
    def _transaction_entity(contexts: list[Any]) -> dict[str, Any]:
        # The snowplow-ecommerce plugin puts the order in a transaction entity beside its action event.
        for entity in contexts:
            if isinstance(entity, dict) and _schema_name(entity.get("schema")) == "transaction":
                data = entity.get("data")
                if isinstance(data, dict):
                    return data
        return {}

    @staticmethod
    def _value(
        code: str, payload: dict[str, str], ue_data: dict[str, Any], transaction: dict[str, Any]
    ) -> float | None:
        if code == "tr":
            return to_number(payload.get("tr_tt"))
        if code == "se":
            return to_number(payload.get("se_va"))
        for candidate in (ue_data.get("value"), ue_data.get("revenue"), transaction.get("revenue")):
            number = to_number(candidate)
            if number is not None:
                return number
        return None

    @staticmethod
    def _user_data(payload: dict[str, str]) -> dict[str, Any]:
        # uid is the site's own user ID; it only counts as an identifier when it is an email address.
        uid = payload.get("uid", "")
        return {"em": "raw"} if "@" in uid else {}
