"""Adjust hits: the web SDK (``@adjustcom/adjust-web-sdk``) and the server-to-server events API.

The web SDK sends XHRs to ``https://app.<domain>`` (``adjust.com`` by default; ``eu.adjust.com``,
``us.adjust.com``, ``tr.adjust.com``, ``adjust.net.in``, ``adjust.world`` under its data-residency and URL
strategies) and ``https://gdpr.<domain>/gdpr_forget_device``. ``/session``, ``/event``, ``/sdk_click``,
``/third_party_sharing``, ``/disable_third_party_sharing`` and ``/gdpr_forget_device`` are ``POST`` with a
form body; ``/attribution`` is a ``GET`` with the same fields in the query. Every request carries
``app_token`` and ``environment`` (plus ``default_tracker``, ``external_device_id`` when configured),
``created_at``/``sent_at``, ``web_uuid`` (the SDK's visitor ID), ``platform=web``, ``language``,
``country``, ``machine_type``, ``queue_size`` and the activity counters (``session_count``...).
``/event`` adds ``event_token`` (the event: Adjust names events by a dashboard token, not a name),
``deduplication_id``, ``revenue`` (``toFixed(5)``, major units) with ``currency`` (only together), and
``callback_params``/``partner_params`` as JSON objects. ``/sdk_click`` reports the click: the landing
URL's ``adjust_referrer`` parameter sent as ``referrer`` with ``source=web_referrer``. The app SDKs send the
same endpoints with a form body (Android SDK 5.0.1: ``Client-SDK: android5.0.1``, ``gps_adid``,
``event_callback_id``); their ``sdk_click`` with ``source=install_referrer`` carries the Play install referrer,
no landing parameter, and is no click ID.

The S2S API (``s2s.adjust.com/event``, by a server) takes ``s2s=1``, ``app_token``, ``event_token``,
``environment``, a device ID (``idfa``, ``gps_adid``, ``adid``, ``web_uuid``...), ``revenue``/``currency``,
``callback_params``/``partner_params`` (JSON), ``ip_address``, ``created_at_unix``, in the query or a form
body.

The SDKs are not consent-mode tags and no Adjust source says when the web SDK may run (it has a
``gdprForgetMe`` and third-party-sharing switches, not a consent gate): ``not_judged``.

Sources: @adjustcom/adjust-web-sdk@5.8.3 ``dist/adjust-latest.js`` (ENDPOINTS, ``getPreferredUrls``,
``_encodeParams``/``_encodeParam``, ``event_prepareParams``/``_getRevenue``, ``sdk_click_prepareParams``,
the default and base params); Adjust's "Server-to-server (S2S) events" guide (dev.adjust.com/en/api/s2s-api/
events); PostHog's Adjust destination test snapshots (public GitHub file, code-search id 56852643687); captured
Android SDK 5.0.1 requests (public GitHub file, code-search id 2108611382).
"""

from __future__ import annotations

from typing import Any

from harness.decoders.base import EndpointDecoder, VendorProfile, new_event, register
from harness.decoders.wire import number_keeping_raw, parse_json, request_params_dict, text_or_none
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

# ENDPOINTS of the web SDK: its requests go to app.<domain>, forget-device requests to gdpr.<domain>.
_DOMAINS = ("adjust.com", "eu.adjust.com", "us.adjust.com", "tr.adjust.com", "adjust.net.in", "adjust.world")
_SDK_HOSTS = frozenset(f"{sub}.{domain}" for sub in ("app", "gdpr") for domain in _DOMAINS)
_S2S_HOST = "s2s.adjust.com"
_SDK_PATHS = frozenset({"/session", "/event", "/sdk_click", "/attribution", "/third_party_sharing",
                        "/disable_third_party_sharing", "/gdpr_forget_device"})
_CLICK_ID = "adjust_referrer"
_TYPED = frozenset({"app_token", "event_token", "revenue", "currency", "deduplication_id", "referrer"})
_JSON_FIELDS = frozenset({"callback_params", "partner_params", "granular_third_party_sharing_options",
                          "partner_sharing_settings"})
# The SDK rejects a reply that is not JSON and retries; the S2S API answers {"status": "OK"}.
_SDK_REPLY = SinkholeReply(status=200, content_type="application/json", body=b"{}")
_S2S_REPLY = SinkholeReply(status=200, content_type="application/json", body=b'{"status":"OK"}')


@register
class AdjustDecoder(EndpointDecoder):
    vendor = "adjust"
    profile = VendorProfile(
        tag_name="Adjust SDK",
        platform_name="Adjust",
        consent="not_judged",
        click_ids=(_CLICK_ID,),
        # Only /sdk_click carries the click; sessions and events are tied to it by web_uuid.
        hit_click_ids=(),
    )
    endpoint_hosts = _SDK_HOSTS | {_S2S_HOST}
    endpoint_paths = _SDK_PATHS
    volatile_params = frozenset({"created_at", "sent_at", "web_uuid", "queue_size", "time_spent",
                                 "session_length", "last_interval", "click_time", "created_at_unix"})

    def may_claim_path(self, method: str, path: str) -> bool:
        return path in _SDK_PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        if host == _S2S_HOST:
            return path == "/event"
        return host in _SDK_HOSTS and path in _SDK_PATHS

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return _S2S_REPLY if request.host == _S2S_HOST else _SDK_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        fields = request_params_dict(request)
        server = request.host == _S2S_HOST
        app = text_or_none(fields.get("app_token"))
        if not app:
            return [self.malformed(request, "no app_token")]
        kind = request.path.lstrip("/")
        token = text_or_none(fields.get("event_token"))
        if kind == "event" and not token:
            return [self.malformed(request, "no event_token", "event")]
        params = _other_fields(fields)
        referrer = text_or_none(fields.get("referrer")) if _is_web_click(kind, fields) else None
        if referrer is None and fields.get("referrer"):
            params["referrer"] = fields["referrer"]
        return [
            new_event(
                vendor=self.vendor,
                event=token if kind == "event" else kind,
                account_id=app,
                value=number_keeping_raw(fields.get("revenue"), params),
                currency=text_or_none(fields.get("currency")),
                event_id=text_or_none(fields.get("deduplication_id")),
                click_ids={_CLICK_ID: referrer} if referrer else {},
                page_url=None if server else request.header("referer"),
                source="server" if server else self.source,
                params=params,
            )
        ]


def _is_web_click(kind: str, fields: dict[str, str]) -> bool:
    """An ``sdk_click`` whose ``referrer`` is the landing URL's ``adjust_referrer`` (``source=web_referrer``):
    the app SDKs' clicks carry other referrers (``install_referrer``: the Play store's, organic or not)."""
    return kind == "sdk_click" and fields.get("source", "web_referrer") == "web_referrer"


def _other_fields(fields: dict[str, str]) -> dict[str, Any]:
    """Untyped fields as sent, the JSON-object ones parsed (kept as sent when they are not JSON)."""
    params: dict[str, Any] = {}
    for key, raw in fields.items():
        if key in _TYPED or raw == "":
            continue
        parsed = parse_json(raw) if key in _JSON_FIELDS else None
        params[key] = raw if parsed is None else parsed
    return params
