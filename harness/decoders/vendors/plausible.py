"""Plausible Analytics events.

The script (``plausible.io/js/script*.js``, the npm ``plausible-tracker`` and ``@plausible-analytics/tracker``;
never a hit) sends every event as ``POST <endpoint>`` with a JSON body as ``text/plain``. The endpoint is
``https://plausible.io/api/event`` or, behind a first-party proxy or on a self-hosted server, ``/api/event``
under the script's origin or wherever ``data-api`` points (``/proxy/api/event``...): on plausible.io the path
decides, elsewhere the body's signature does too (``n`` and ``u``, or the long names ``name``, ``url`` and
``domain``).

The body (``tracker/src/track.js``, the older ``plausible.js`` and the npm trackers): ``n`` the event name
(``pageview``, ``engagement``, ``Outbound Link: Click``, ``File Download`` or the site's own, e.g.
``Purchase``), ``u`` the page URL, ``d`` the site's domain as registered in Plausible (several,
comma-separated, roll up to several sites), ``r`` the referrer, ``p`` (``m`` in older trackers) the custom
properties, as an object or a JSON string, ``$`` (the server also reads ``revenue``) the revenue,
``{"amount": .., "currency": "EUR"}`` (an object or a JSON string), ``h=1`` hash routing, ``i=false`` a
non-interactive event, ``v`` the tracker version, ``w`` the window width (older trackers), ``sd``/``e``
scroll depth and engagement time on ``engagement`` events. The server reads each long name too (``name``,
``url``, ``domain``, ``referrer``, ``props``/``meta``, ``hashMode``).

So: the event is ``n``, the account ``d``, the page ``u`` (click IDs are read from it), the value the revenue
amount in major units, the currency as sent (Plausible accepts upper-case ISO codes only). There is no event
ID, order ID or consent signal (the script sets no cookie). Plausible counts revenue on a goal's events, so
a purchase is an event with revenue (``reports_sale``), whatever its name (``Purchase`` in Plausible's revenue docs).

Sources: plausible/analytics ``tracker/src/track.js``, ``networking.js``, ``config.js``, ``plausible.js``,
``lib/plausible/ingestion/request.ex``, ``extra/lib/plausible/ingestion/request/revenue.ex``; captured hits
(fixtures): a pageview copied from the browser to plausible.io (mpcabete.xyz), Hugging Face's proxied
``/api/event``, shroud.email's ``Purchase`` payload with revenue, arbeitnow.com's self-hosted stats host.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, new_event, register
from harness.decoders.registry import click_id_names
from harness.decoders.wire import (
    BodyHandoff,
    json_body,
    number_keeping_raw,
    parse_json,
    query_named,
    text_or_none,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

_HOST = "plausible.io"
_PATH_END = "/api/event"
_ACCEPTED = SinkholeReply(status=202, content_type="text/plain", body=b"ok")
# Each field under its short name and the long name the server also reads, short first (as the server does).
_NAME, _URL, _DOMAIN = ("n", "name"), ("u", "url"), ("d", "domain")
_PROPS = ("m", "meta", "p", "props")
_REVENUE = ("revenue", "$")
_TYPED = frozenset({*_NAME, *_URL, *_DOMAIN, *_PROPS, *_REVENUE})


def _first(body: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` the body has a truthy value for, as the server's ``a || b`` reads them."""
    for key in keys:
        value = body.get(key)
        if value:
            return value
    return None


def _is_event_body(body: Any) -> bool:
    """The tracker's payload: the short keys ``n`` and ``u``, or the long ``name``, ``url`` and ``domain``."""
    if not isinstance(body, dict):
        return False
    if "n" in body and "u" in body:
        return True
    return "name" in body and "url" in body and "domain" in body


def _as_object(value: Any) -> dict[str, Any] | None:
    """An object sent as one or as JSON text (the server's ``decode_or_fallback``)."""
    if isinstance(value, str):
        value = parse_json(value)
    return value if isinstance(value, dict) else None


@register
class PlausibleDecoder(Decoder):
    vendor = "plausible"
    profile = VendorProfile(
        tag_name="Plausible script",
        platform_name="Plausible",
        purchase_events=frozenset({"purchase"}),
        reports_sale=lambda event: "revenue" in event.params,  # revenue rides on whichever goal the site names
    )
    platform_hosts = (_HOST,)
    volatile_params = frozenset({"e", "sd"})  # engagement time and scroll depth vary with the run's pace

    # A proxied path's body, parsed by claims, is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or not request.path.endswith(_PATH_END):
            return False
        if request.host == _HOST and request.path == _PATH_END:
            return True
        return self._parsed.hand_on_if(request, json_body(request), _is_event_body)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith(_PATH_END)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host == _HOST and method == "POST" and path == _PATH_END

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return _ACCEPTED  # Plausible's event endpoint answers 202 "ok"

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        body = self._parsed.take(request)
        if not isinstance(body, dict):
            return [self.malformed(request, "body is not a JSON object")]
        name = text_or_none(_first(body, _NAME))
        if not name or not isinstance(_first(body, _NAME), str):
            return [self.malformed(request, "no event name (n)")]
        return [self._event(request, body, name)]

    def _event(self, request: CapturedRequest, body: dict[str, Any], name: str) -> DecodedEvent:
        extra: dict[str, Any] = {k: v for k, v in body.items() if k not in _TYPED}
        raw_props = _first(body, _PROPS)
        if raw_props is not None:
            props = _as_object(raw_props)
            extra["props"] = props if props is not None else raw_props  # unreadable: as sent
        revenue = _as_object(_first(body, _REVENUE))
        value, currency = None, None
        if revenue is not None:
            value = number_keeping_raw(revenue.get("amount"), extra)
            currency = text_or_none(revenue.get("currency"))
            extra["revenue"] = revenue
        elif _first(body, _REVENUE) is not None:
            extra["revenue"] = _first(body, _REVENUE)  # not an object: shown as sent
        url = _first(body, _URL)
        page_url = text_or_none(url) if isinstance(url, str) else None
        page_url = page_url or request.header("referer")
        domain = _first(body, _DOMAIN)
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=text_or_none(domain) if isinstance(domain, str) else None,
            value=value,
            currency=currency,
            click_ids={k: v for k, v in query_named(page_url, click_id_names()) if v} if page_url else {},
            page_url=page_url,
            source=self.source,
            params=extra,
        )
