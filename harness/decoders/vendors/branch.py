"""Branch web SDK (``branch-sdk`` on npm) hits.

The SDK (``cdn.branch.io/branch-latest.min.js``, never a hit) sends every call as an XHR ``POST`` to
``api2.branch.io`` with an ``application/x-www-form-urlencoded`` body whose nested values are JSON strings;
each body carries the ``branch_key`` (``key_live_...``):

- ``/v1/open`` on init: ``browser_fingerprint_id``, ``current_url`` (the landing page), ``options``,
  ``screen_*``, and ``link_identifier``, the value of the ``_branch_match_id`` the Branch link appended to
  the landing URL (the click, matched by Branch to the link that was tapped); ``identity`` once
  ``setIdentity`` named the user.
- ``/v1/pageview``: ``event=pageview``, ``metadata`` (JSON: ``url``, user agent, language...), ``data``,
  ``session_id``/``identity_id``/``browser_fingerprint_id``, ``source=web-sdk``.
- ``/v2/event/standard`` and ``/v2/event/custom`` (``logEvent``): ``name`` (``PURCHASE``, ``ADD_TO_CART``...
  or the advertiser's own), ``user_data`` (JSON: ``http_origin`` the page, ``developer_identity``/``identity``,
  ``browser_fingerprint_id``...), ``event_data`` (JSON: ``revenue``, ``currency``, ``transaction_id``...),
  ``custom_data``, ``content_items``, ``customer_event_alias``.
- ``/v1/url`` (``link``): a deep link being created (``campaign``, ``channel``, ``feature``, ``data``...).

``setDMAParamsForEEA(eeaRegion, adPersonalizationConsent, adUserDataUsageConsent)`` adds ``dma_eea``,
``dma_ad_personalization`` and ``dma_ad_user_data`` to ``/v1/open`` and ``/v1/pageview`` bodies and into the
``user_data`` JSON of ``/v2/event/*``: read as the hit's consent. The SDK is not gated by a consent mode of
its own (``tracking_disabled`` only stops it), and no Branch source says when it may fire: ``not_judged``.

Sources: branch-sdk@2.89.2 ``dist/build.min.js`` (the resources table: endpoints and parameters,
``setDMAParams``, ``_branch_match_id`` to ``link_identifier``, the ``user_data`` builder) and the SDK's
recorded behaviour traces, ``BranchMetrics/web-branch-deep-linking-attribution``
``test/behavior/__recorded__/`` (``events/logEvent-standard-full.json``, ``events/logEvent-custom.json``,
``init/branch-match-id.json``, ``links/link-full.json``: exact request bodies and the session the SDK
stores from the open reply). Apps and servers POST the same
``/v2/event/*`` fields as one JSON object (Branch's v2 Events API; a replayed Android SDK 5.3.0 capture, whose
``developer_identity`` is ``bnc_no_value`` until one is set; a PHP server sending the JSON labelled as a
form): read alike. The ``app.link/_r`` JSONP lookup and the SDK's JSONP fallback (a ``GET`` with
the body base64-encoded) are not decoded. ``_branch_referrer`` is no longer read by the SDK (2.89.2).
"""

from __future__ import annotations

import json
from typing import Any

from harness.decoders.base import EndpointDecoder, VendorProfile, new_consent, new_event, register
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    parse_json,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, ConsentState, DecodedEvent, SinkholeReply

_HOST = "api2.branch.io"
_OPEN, _PAGEVIEW, _URL = "/v1/open", "/v1/pageview", "/v1/url"
_EVENTS = frozenset({"/v2/event/standard", "/v2/event/custom"})
_CLICK_ID = "_branch_match_id"
# Body fields read into typed fields or decoded below; the rest stays in params as sent.
_TYPED = frozenset({"branch_key", "name", "event", "link_identifier", "current_url", "identity", "user_data",
                    "event_data", "metadata", "dma_eea", "dma_ad_personalization", "dma_ad_user_data"})
_JSON_FIELDS = ("custom_data", "content_items", "data", "options", "session_referring_link_data", "instrumentation")
_USER_FIELDS = ("developer_identity", "identity")
_NO_VALUE = "bnc_no_value"

# What the SDK needs back from /v1/open to go on (it validates identity_id and session_id as 15-20 digit
# IDs): the session the recorded traces show it storing. Other endpoints answer JSON it barely reads.
_OPEN_REPLY = json.dumps({
    "identity_id": "98807509250212101",
    "session_id": "98807509250212102",
    "browser_fingerprint_id": "79336952217731267",
    "link": "https://bnc.lt/i/4LYQTXE0_k",
    "identity": None,
    "has_app": False,
    "data": json.dumps({"+clicked_branch_link": False, "+is_first_session": True}),
}).encode()
_URL_REPLY = json.dumps({"url": "https://bnc.lt/l/3HZMytU-BW"}).encode()


@register
class BranchDecoder(EndpointDecoder):
    vendor = "branch"
    profile = VendorProfile(
        tag_name="Branch web SDK",
        platform_name="Branch",
        consent="not_judged",
        purchase_events=frozenset({"purchase"}),
        click_ids=(_CLICK_ID,),
        # Only the open hit carries the click (as link_identifier); Branch ties later events to its session.
        hit_click_ids=(),
    )
    endpoint_hosts = frozenset({_HOST})
    endpoint_paths = frozenset({_OPEN, _PAGEVIEW, _URL, *_EVENTS})
    volatile_params = frozenset({"browser_fingerprint_id", "session_id", "identity_id", "instrumentation",
                                 "callback_string"})

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        if request.path == _OPEN:
            body = _OPEN_REPLY
        elif request.path == _URL:
            body = _URL_REPLY
        else:
            body = b"{}"
        return SinkholeReply(status=200, content_type="application/json", body=body)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        fields = body_fields(request)
        account = text_or_none(fields.get("branch_key"))
        if not account:
            return [self.malformed(request, "no branch_key")]
        if request.path in _EVENTS:
            return [self._logged_event(request, fields, account)]
        return [self._session_event(request, fields, account)]

    def _session_event(self, request: CapturedRequest, fields: dict[str, str], account: str) -> DecodedEvent:
        """/v1/open, /v1/pageview and /v1/url: the visit (with its click) and the links it makes."""
        metadata = _json_object(fields.get("metadata"))
        page = text_or_none(fields.get("current_url")) or text_or_none(metadata.get("url"))
        page = page or request.header("referer")
        click = text_or_none(fields.get("link_identifier")) or _click_in(page)
        identity = text_or_none(fields.get("identity"))
        name = "open" if request.path == _OPEN else "url" if request.path == _URL else None
        return new_event(
            vendor=self.vendor,
            event=name or text_or_none(fields.get("event")) or "pageview",
            account_id=account,
            click_ids={_CLICK_ID: click} if click else {},
            consent=_dma_consent(fields),
            user_data={"identity": user_data_form(identity)} if identity else {},
            page_url=page,
            source=self.source,
            params=_other_fields(fields, {"metadata": metadata} if metadata else {}),
        )

    def _logged_event(self, request: CapturedRequest, fields: dict[str, str], account: str) -> DecodedEvent:
        """/v2/event/standard and /v2/event/custom: ``logEvent``."""
        name = text_or_none(fields.get("name"))
        if not name:
            return self.malformed(request, "no event name (name)")
        user = _json_object(fields.get("user_data"))
        data = _json_object(fields.get("event_data"))
        extra: dict[str, Any] = {f"event_data.{k}": v for k, v in data.items()
                                 if k not in ("revenue", "currency", "transaction_id")}
        value = number_keeping_raw(data.get("revenue"), extra)
        page = text_or_none(user.get("http_origin")) or request.header("referer")
        click = _click_in(page)
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=account,
            value=value,
            currency=text_or_none(data.get("currency")),
            transaction_id=text_or_none(data.get("transaction_id")),
            click_ids={_CLICK_ID: click} if click else {},
            consent=_dma_consent(user),
            user_data={key: user_data_form(text) for key in _USER_FIELDS if (text := _identity(user.get(key)))},
            page_url=page,
            source=self.source,
            params=_other_fields(fields, extra),
        )


def body_fields(request: CapturedRequest) -> dict[str, str]:
    """The hit's fields as the web SDK's form sends them: nested values as JSON strings. The v2 Events API,
    the app SDKs and servers POST one JSON object instead (servers at times labelled as a form), whose
    nested objects are turned into the same JSON strings."""
    body = json_body(request)
    if not isinstance(body, dict):
        return request_params_dict(request)
    fields = request_params_dict(request) if request.query else {}
    for key, value in body.items():
        if value is not None:
            fields[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return fields


def _json_object(text: Any) -> dict[str, Any]:
    """A body field's JSON object, or {} when it is absent or no object."""
    value = parse_json(text) if isinstance(text, str) else None
    return value if isinstance(value, dict) else {}


def _identity(value: Any) -> str | None:
    """A user identity as sent; the Android SDK's ``bnc_no_value`` (sent before ``setIdentity``) is none."""
    text = text_or_none(value)
    return None if text == _NO_VALUE else text


def _click_in(page: str | None) -> str | None:
    return (query_value(page, _CLICK_ID) or None) if page else None


def _other_fields(fields: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
    """The body's untyped fields, JSON-valued ones parsed (kept as sent when they are not JSON)."""
    params: dict[str, Any] = {}
    for key, raw in fields.items():
        if key in _TYPED or raw == "":
            continue
        parsed = parse_json(raw) if key in _JSON_FIELDS else None
        params[key] = raw if parsed is None else parsed
    params.update(extra)
    return params


def _dma_consent(source: dict[str, Any]) -> ConsentState:
    """The Google DMA signals ``setDMAParamsForEEA`` adds: booleans (strings in a form body)."""
    return new_consent(
        ad_user_data=_granted(source.get("dma_ad_user_data")),
        ad_personalization=_granted(source.get("dma_ad_personalization")),
        other={"dma_eea": str(source["dma_eea"]).lower()} if source.get("dma_eea") is not None else {},
    )


def _granted(flag: Any) -> str | None:
    text = str(flag).lower() if flag is not None else ""
    return "granted" if text == "true" else "denied" if text == "false" else None
