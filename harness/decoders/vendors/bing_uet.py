"""Microsoft Advertising UET: the hits ``bat.js`` sends to ``bat.bing.com/action/0``.

Page loads (``evt=pageLoad``) and custom events (``evt=custom`` with ``ea``/``ec``/``el``/``ev``
and revenue ``gv``/``gc``) go as image GETs to ``/action/0``; ``pageHide`` and consent updates
(``evt=consent&src=update``) go as text/plain beacons to ``/actionp/0``. ``bat.bing.net`` is the
newer host for both, ``bat.r.msn.com`` the legacy one. ``bat.js`` and ``/p/action/<ti>.js`` are
scripts, not hits. Enhanced conversions (``uetq.push('set', {pid: {em, ph}})``) send the identifiers
in ``pid`` as a urlencoded ``em=..&ph=..``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from harness.decoders.base import (
    PIXEL_GIF,
    Decoder,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    register,
)
from harness.decoders.wire import request_params_dict, text_or_none, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query

UET_HOSTS = ("bat.bing.com", "bat.bing.net", "bat.r.msn.com")
_HIT_PATH = re.compile(r"^/actionp?/\d+/?$")

# asc is UET's own ad-storage consent flag (G granted, D denied), set by uetq.push('consent', ...).
_ASC_STATES = {"G": "granted", "D": "denied"}
# The no-click placeholder bat.js sends when it has no msclkid.
_NO_CLICK_ID = {"", "N"}
NUMERIC_PARAMS = frozenset({"ev", "sw", "sh", "sc", "lt", "pi"})
# Enhanced-conversion identifiers inside ``pid``, already under the short names eventpath uses.
_PID_IDENTIFIERS = ("em", "ph")


def _pid_user_data(raw: Any) -> dict[str, UserDataForm]:
    """The forms of the identifiers ``pid`` carries (``em=<sha256>&ph=<sha256>``), so an address sent
    unhashed shows as raw. ``pid`` itself stays in params as sent."""
    text = text_or_none(raw)
    if not text or "=" not in text:
        return {}
    found: dict[str, UserDataForm] = {}
    for key, value in parse_query(text):
        identifier = text_or_none(value)
        if key in _PID_IDENTIFIERS and identifier and key not in found:
            found[key] = user_data_form(identifier)
    return found


@register
class BingUetDecoder(Decoder):
    vendor = "bing_uet"
    profile = VendorProfile(
        tag_name="Microsoft UET tag",
        platform_name="Microsoft UET",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("msclkid",),
        click_id_cookies={"msclkid": "_uetmsclkid"},
    )
    claim_hosts = UET_HOSTS
    source = "browser"
    volatile_params: ClassVar[frozenset[str]] = frozenset({"rn", "mid", "sid", "vid", "lt", "bo", "vids"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return bool(_HIT_PATH.match(path)) and host_matches(host, UET_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        params: dict[str, Any] = request_params_dict(request)
        tag_id = str(params.pop("ti", "")).strip()
        if not tag_id:
            return [self.malformed(request, "UET hit without ti (tag ID)")]
        evt = str(params.pop("evt", "")).strip()
        if not evt:
            # Microsoft's <noscript> tag is just ?ti=...&Ver=2 and counts as a page load.
            evt = "pageLoad"
            params["evt_implied"] = True
        else:
            params["evt"] = evt
        action = str(params.pop("ea", "")).strip()
        event_name = action if evt == "custom" and action else evt
        if action and event_name != action:
            params["ea"] = action

        value = to_number(params.pop("gv", None))
        currency = str(params.pop("gc", "")).strip() or None
        msclkid = str(params.pop("msclkid", "")).strip()
        asc = str(params.pop("asc", "")).strip()
        consent = new_consent(
            ad_storage=_ASC_STATES.get(asc),  # type: ignore[arg-type]
            other={"asc": asc} if asc else {},
        )
        page_url = str(params.pop("p", "")).strip() or request.header("referer")
        for key in NUMERIC_PARAMS & params.keys():
            number = to_number(params[key])
            if number is not None:
                params[key] = number

        return [
            new_event(
                vendor=self.vendor,
                event=event_name,
                account_id=tag_id,
                value=value,
                currency=currency,
                click_ids={} if msclkid in _NO_CLICK_ID else {"msclkid": msclkid},
                consent=consent,
                user_data=_pid_user_data(params.get("pid")),
                page_url=page_url or None,
                source=self.source,
                params=params,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # /action/0 is loaded as an image; /actionp/0 beacons get an empty answer.
        if request.method == "GET" and not request.path.startswith("/actionp"):
            return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
        return SinkholeReply(status=204)
