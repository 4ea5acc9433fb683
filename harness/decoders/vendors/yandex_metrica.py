"""Yandex Metrica (Metrika) tag hits, and Yandex Direct's click ID ``yclid``.

The tag (``mc.yandex.ru/metrika/tag.js``, ``watch.js``, ``mc.webvisor.org/metrika/tag_ww.js``; never hits) sends
every hit to ``/watch/<counter ID>`` on one of Metrica's hosts (``mc.yandex.ru``, ``mc.yandex.com`` and the
regional ``mc.yandex.<tld>``, ``mc.webvisor.org``/``.com``: the list Yandex's CSP guide gives), with:

- ``page-url`` (the page), ``page-ref`` (its referrer), ``charset``, ``ut=noindex`` (a deprecated flag that
  link clicks and some counters set), ``wmode`` (the answer tag.js wants: ``7`` JSON, ``5`` JSONP with
  ``callback``, none for an image), ``t`` (tag.js's own telemetry, ``gdpr(14)clc(0-0-0)...``: kept as sent);
- ``browser-info``: ``key:value`` pairs joined by ``:``, the page title ``t`` always last (its value may hold
  ``:``). Flags name the hit: ``pv:1`` a page view, ``ar:1`` an artificial (API-made) hit, ``pa:1`` a
  parameters hit, ``nb:1`` the accurate-bounce timer, ``ln:1`` an external-link click, ``dl:1`` a file
  download (``ym(...,'file')`` sets both), ``wh:1`` a hash change; ``u`` is the visitor's ClientID;
- ``site-info``: JSON parameters. On a page view it is in the query; every other hit with parameters (a
  goal's, ``ym(...,'params')``, e-commerce) is a POST to ``/watch/<id>/1`` whose urlencoded body is
  ``site-info=<JSON>``, or, sent with ``sendBeacon``, the same in the query with ``force-urlencoded=1``.
  tag.js's own data rides under ``__ym``.

Events: a goal (``reachGoal``) is a hit whose ``page-url`` is ``goal://<host>/<goal name>``, the page in
``page-ref``; the event is the goal name, and the goal's ``order_price``/``currency`` parameters (Metrica's
"revenue by goal") are its value and currency. tag.js builds goal URLs of other types the same way
(``<type>://<host>/<target>``): a captured ``form://votegd.com/?i=w0&p=...`` (Metrica's automatic form goal)
decodes as an event named by its type, ``form``, its target kept in ``page-url``. E-commerce: tag.js reads
the dataLayer (UA-style ``{ecommerce: {currencyCode, purchase: {actionField, products}}}``, and GA4 pushes
mapped to that shape: ``transaction_id`` -> ``actionField.id``, ``value`` -> ``actionField.revenue``) and
sends it as a parameters hit, ``site-info={"__ym":{"ecommerce":[{"purchase":{...},"currencyCode":"EUR"}]}}``;
each action (``purchase``, ``add``, ``remove``, ``delete``, ``detail``, ``checkout``) is an event,
``actionField.revenue`` its value, ``currencyCode`` its currency and, for a purchase, ``actionField.id`` the
order ID (``revenue`` is optional: without it the hit carries no total, and the event no value). Other hits
are ``pageview`` (``pv:1``, or no flag at all: the noscript image ``/watch/<id>`` and minimal clients),
``init`` (``pv:1`` with ``nohit=1``: a counter initialised with ``defer: true``, which Metrica does not count
as a page view), ``notBounce``, ``extLink``, ``file`` (their ``page-url`` is the link, the page is
``page-ref``) and ``params``. ``firstPartyParams`` sends contact data hashed by tag.js (base64 SHA-256) as
``__ym.fpp``, ``firstPartyParamsHashed`` the site's own SHA-256 hex digests as ``__ym.fpmh``: both become
``user_data``.

``yclid`` (Yandex Direct's click ID) rides on the landing page URL: the page view's ``page-url``. Metrica has
no consent mode: its hits carry nothing about consent (``gdpr`` in ``browser-info`` and the telemetry is
undocumented and left as sent), so it is judged as an ad tag; its goals also feed Yandex Direct.
``/webvisor/<id>`` (session-replay chunks) and ``/clmap/<id>`` (click-map coordinates) are claimed, so they are
answered locally and searched for personal data, but decode to no event.

The Measurement Protocol: a GET, or a POST with an urlencoded body, to ``mc.yandex.ru/collect`` (``/collect/``
too), from the site's server (or its page) with ``tid`` (the counter), ``cid`` (the visitor's ClientID), ``ms``
(the counter's Measurement Protocol secret: left out of params), ``t`` (``pageview`` or ``event``), ``dl``
(the page), ``dr``, ``dt``, ``ea`` (the goal), and for e-commerce ``pa`` (``detail``, ``add``, ``remove``,
``purchase``), ``ti`` (transaction), ``tr`` (transaction revenue), ``tcc`` and ``pr<N>id``/``nm``/``pr``/``qt``...
A ``pageview`` is one ``pageview`` event; an ``event`` is one event named by its goal ``ea`` and one named by
its ``pa``, the purchase's value ``tr`` and order ID ``ti``. Other parameters (``ev``, ``cu``, ``params``...,
which Yandex's table does not name or real clients copy from Google's protocol) stay in params as sent.

Sources: Yandex's open-source tag.js (github.com/yandex/metrica-tag: ``src/api/watch``, ``src/api/common``,
``src/providers/goal``, ``params``, ``ecommerce`` and its spec, ``clicks``, ``firstPartyMethod``,
``src/middleware/params``, ``senderWatchInfo``, ``src/sender/default``, ``src/transport``); Yandex docs
(e-commerce data, revenue by goal, firstPartyParams(Hashed), CSP hosts, Direct URL parameters); captured
hits (Gatling recordings of shtab.opmoscow.ru, a Chrome "copy as fetch" of bcs-express.ru, LoadRunner
recordings of passport.yandex.ru, a k6 recording of rusagro.live, a WebInspector HAR of zafontan.ru) and
amphtml's Metrica vendor config; for the Measurement Protocol, Yandex's "Uploading data" page
(yandex.com/dev/metrika/en/data-import/measurement-upload) and public server code sending it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    number_keeping_raw,
    parse_json,
    query_dict,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

# Yandex's CSP guide for the tag (yandex.ru/support/metrica/code/install-counter-csp), plus mc.yandex.ua
# from its earlier lists.
METRICA_HOSTS = (
    "mc.yandex.ru", "mc.yandex.az", "mc.yandex.by", "mc.yandex.co.il", "mc.yandex.com", "mc.yandex.com.am",
    "mc.yandex.com.ge", "mc.yandex.com.tr", "mc.yandex.ee", "mc.yandex.fr", "mc.yandex.kg", "mc.yandex.kz",
    "mc.yandex.lt", "mc.yandex.lv", "mc.yandex.md", "mc.yandex.tj", "mc.yandex.tm", "mc.yandex.ua",
    "mc.yandex.uz", "mc.webvisor.com", "mc.webvisor.org",
)  # fmt: skip
_HOST_SET = frozenset(METRICA_HOSTS)
_WATCH = "/watch/"
# The collection endpoints; /metrika/* (the scripts, metrika_match.html), /cc, /informer are not.
_HIT_PREFIXES = (_WATCH, "/webvisor/", "/clmap/")
# The Measurement Protocol's endpoint (server clients send both spellings).
_COLLECT_PATHS = frozenset({"/collect", "/collect/"})
# Measurement Protocol fields the typed fields hold, and its secret, which no report may carry.
_MP_TYPED = frozenset({"tid", "dl", "ms"})
_MP_PURCHASE_TYPED = frozenset({"tr", "ti"})
# /watch/<counter>, and /watch/<counter>/1 (tag.js's path for POSTs, which must not be redirected).
_WATCH_PATH = re.compile(r"^/watch/(?P<counter>[^/]*)(?:/[^/]*)?/?$")
_GOAL_SCHEME = "goal"
# "<type>://<host>/<target>": tag.js's goal URL (src/providers/goal); a page is http(s) (or a local file).
_TYPED_URL = re.compile(r"^(?P<type>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/]*)/?(?P<target>.*)$", re.DOTALL)
_PAGE_SCHEMES = frozenset({"http", "https", "file"})
# browser-info's title: always last, and its value may hold the ":" that separates the pairs.
_TITLE_KEY = "t"
# Parameters named by the hit's kind rather than kept (page-url becomes page_url where it is the page).
_DECODED = ("page-url", "browser-info", "site-info")
_INTERNAL = "__ym"
# Link clicks: their page-url is the link, the page is page-ref.
_LINK_KINDS = frozenset({"file", "extLink"})
_ECOMMERCE_ACTIONS = frozenset({"add", "delete", "remove", "purchase", "checkout", "detail"})
_CURRENCY_CODE = "currencyCode"
_ACTION_FIELD = "actionField"
# __ym keys of firstPartyParams (hashed by tag.js) and firstPartyParamsHashed (hashed by the site).
_FIRST_PARTY_KEYS = ("fpp", "fpmh")
# firstPartyParams keys tag.js sends unhashed: IDs, not personal data.
_UNHASHED_KEYS = frozenset({"yandex_cid", "yandex_public_id"})
_SHA256_BYTES = 32
_JSONP_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]{0,63}$")

_GIF_REPLY = SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)
# What the page-view hit's JSON answer holds at least (tag.js stores it as the counter's settings). Empty: a
# counter that takes its e-commerce dataLayer from these settings (src/providers/ecommerce, ``settings.ecommerce``)
# rather than from its init options sends no e-commerce while sinkholed, as with the option off.
_JSON_REPLY = SinkholeReply(status=200, content_type="application/json", body=b'{"settings":{}}')


@register
class YandexMetricaDecoder(Decoder):
    vendor = "yandex_metrica"
    profile = VendorProfile(
        tag_name="Yandex Metrica tag",
        platform_name="Yandex Metrica",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("yclid",),
        hit_click_ids=(),  # Metrica ties the click to the visit by its landing page view; later goals lack it
    )
    claim_hosts = METRICA_HOSTS
    # Send times, random numbers and per-hit IDs (top level and inside browser-info).
    volatile_params = frozenset({"hittoken", "rn", "hid", "i", "et", "st", "ns", "ls", "rqn", "cl", "wv-hit"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.startswith(_HIT_PREFIXES) or path in _COLLECT_PATHS

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return (path.startswith(_HIT_PREFIXES) or path in _COLLECT_PATHS) and host.rstrip(".") in _HOST_SET

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # tag.js asks for JSON (wmode=7, fetch/XHR) or JSONP (wmode=5); an image (the noscript pixel, the
        # image transport) and a beacon take the GIF Metrica answers them with.
        if request.path.startswith(_WATCH):
            query = query_dict(request.url)
            mode = query.get("wmode")
            if mode == "7":
                return _JSON_REPLY
            callback = query.get("callback", "")
            if mode == "5" and _JSONP_CALLBACK.match(callback):
                script = f'{callback}({{"settings":{{}}}});'.encode()
                return SinkholeReply(status=200, content_type="application/javascript", body=script)
        return _GIF_REPLY

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        if request.path in _COLLECT_PATHS:
            return measurement_protocol_events(self, request)
        if not request.path.startswith(_WATCH):
            return []  # session replay and click-map data: no event
        match = _WATCH_PATH.match(request.path)
        counter = match["counter"] if match else ""
        if not counter.isdigit():
            return [self.malformed(request, "no numeric counter ID in the path (/watch/<counter ID>)")]
        return _WatchHit(self, request, counter).events()


class _WatchHit:
    """One ``/watch/`` request read once: its kind, page, parameters and the events they make."""

    def __init__(self, decoder: YandexMetricaDecoder, request: CapturedRequest, counter: str) -> None:
        self.decoder = decoder
        self.request = request
        self.counter = counter
        fields = request_params_dict(request)  # the query, then a urlencoded body (POST to /watch/<id>/1)
        self.page_url_sent = text_or_none(fields.get("page-url"))
        self.browser_info = browser_info(fields.get("browser-info"))
        self.common: dict[str, Any] = {k: v for k, v in fields.items() if k not in _DECODED and v != ""}
        if self.browser_info:
            self.common["browser-info"] = self.browser_info
        site_info = fields.get("site-info")
        parsed = parse_json(site_info) if site_info else None
        if site_info and not isinstance(parsed, dict):
            self.common["site-info"] = site_info  # not a JSON object: shown as sent
        self.site_info: dict[str, Any] = dict(parsed) if isinstance(parsed, dict) else {}
        internal = self.site_info.pop(_INTERNAL, None)
        self.internal: dict[str, Any] = dict(internal) if isinstance(internal, dict) else {}
        if internal is not None and not isinstance(internal, dict):
            self.site_info[_INTERNAL] = internal
        self.ecommerce = self.internal.pop("ecommerce", None)
        self.user_data: dict[str, UserDataForm] = {}
        for key in _FIRST_PARTY_KEYS:
            if isinstance(self.internal.get(key), list):  # anything else stays in params as sent
                forms, unhashed = first_party_identifiers(self.internal.pop(key))
                self.user_data.update(forms)
                self.common.update(unhashed)
        if self.internal:
            self.site_info[_INTERNAL] = self.internal
        typed = _TYPED_URL.match(self.page_url_sent or "")
        goal_type = typed["type"].lower() if typed else ""
        # A goal of another type than "goal" (form://<host>/?i=..., Metrica's automatic form goals) is named
        # by its type: only goal:// targets are names the site chose.
        self.goal_type = goal_type if goal_type and goal_type not in _PAGE_SCHEMES else ""
        self.goal_target = typed["target"] if typed and self.goal_type else ""
        self.kind = self.hit_kind()
        self.page = self.page_url()
        click = query_value(self.page, "yclid") if self.page else None
        self.click_ids = {"yclid": click} if click else {}

    # --- what the hit is ---

    def hit_kind(self) -> str:
        """The hit's event name, from its goal URL and its browser-info flags (tag.js ``src/api/watch``)."""
        flags = self.browser_info
        if self.goal_type:
            return "goal"
        if flags.get("dl") == "1":
            return "file"
        if flags.get("ln") == "1":
            return "extLink"
        if flags.get("nb") == "1":
            return "notBounce"
        if self.common.get("nohit") == "1":
            return "init"
        if flags.get("pa") == "1":
            return "params"
        return "pageview"

    def page_url(self) -> str | None:
        """The page the hit is about: ``page-ref`` for goals and link clicks, whose ``page-url`` is the goal
        or the link; ``page-url`` otherwise; the Referer when the hit names none (the noscript image)."""
        on_ref = self.kind == "goal" or self.kind in _LINK_KINDS
        page = self.common.get("page-ref") if on_ref else self.page_url_sent
        return text_or_none(page) or self.request.header("referer")

    # --- events ---

    def events(self) -> list[DecodedEvent]:
        kind = self.kind
        commerce = self.ecommerce_events() if self.ecommerce is not None else []
        if kind == "goal":
            return [self.goal_event(), *commerce]
        if kind == "params" and commerce:
            return commerce  # tag.js sends the dataLayer's e-commerce as a parameters hit of its own
        params = dict(self.common)
        if kind in _LINK_KINDS and self.page_url_sent:
            params["page-url"] = self.page_url_sent  # the link clicked
        if self.site_info:
            params["site-info"] = self.site_info
        return [self.event(kind, params), *commerce]

    def goal_event(self) -> DecodedEvent:
        # goal://<host>/<goal name>: tag.js refuses goal names holding / & = ? #, so the name is the rest.
        name = self.goal_target if self.goal_type == _GOAL_SCHEME else self.goal_type
        if not name:
            return self.decoder.malformed(self.request, "goal hit without a goal name (goal://<host>/<name>)")
        goal_params = dict(self.site_info)
        params: dict[str, Any] = {**self.common, "page-url": self.page_url_sent}
        value = number_keeping_raw(goal_params.pop("order_price", None), params)
        currency = text_or_none(goal_params.pop("currency", None))
        if goal_params:
            params["site-info"] = goal_params
        return self.event(name, params, value=value, currency=currency)

    def ecommerce_events(self) -> list[DecodedEvent]:
        items = self.ecommerce
        if not isinstance(items, list) or not items:
            return [self.decoder.malformed(self.request, "__ym.ecommerce is not a list of objects")]
        events: list[DecodedEvent] = []
        for item in items:
            events.extend(self.ecommerce_item(item))
        return events

    def ecommerce_item(self, item: Any) -> list[DecodedEvent]:
        """One dataLayer e-commerce object: an event per action it holds (``purchase``, ``add``...)."""
        if not isinstance(item, dict):
            return [self.decoder.malformed(self.request, "e-commerce entry is not an object")]
        actions = [k for k, v in item.items() if k in _ECOMMERCE_ACTIONS and isinstance(v, dict)]
        if not actions:
            return [self.decoder.malformed(self.request, "e-commerce entry names no action (purchase...)")]
        currency = text_or_none(item.get(_CURRENCY_CODE))
        shared = {k: v for k, v in item.items() if k not in actions and k != _CURRENCY_CODE}
        return [self.ecommerce_event(action, item[action], currency, shared) for action in actions]

    def ecommerce_event(
        self, action: str, data: dict[str, Any], currency: str | None, shared: dict[str, Any]
    ) -> DecodedEvent:
        data = dict(data)
        field = data.pop(_ACTION_FIELD, None)
        action_field = dict(field) if isinstance(field, dict) else {}
        params: dict[str, Any] = {**self.common, **shared}
        value = number_keeping_raw(action_field.pop("revenue", None), params)
        order_id = text_or_none(action_field.pop("id", None)) if action == "purchase" else None
        if action_field:
            data[_ACTION_FIELD] = action_field
        elif field is not None and not isinstance(field, dict):
            data[_ACTION_FIELD] = field  # not an object: shown as sent
        params.update(data)
        if self.site_info:
            params["site-info"] = self.site_info
        return self.event(action, params, value=value, currency=currency, transaction_id=order_id)

    def event(self, name: str, params: dict[str, Any], **typed: Any) -> DecodedEvent:
        return new_event(
            vendor=self.decoder.vendor,
            event=name,
            account_id=self.counter,
            click_ids=self.click_ids,
            user_data=self.user_data,
            page_url=self.page,
            source=self.decoder.source,
            params=params,
            **typed,
        )


def measurement_protocol_events(
    decoder: YandexMetricaDecoder, request: CapturedRequest
) -> list[DecodedEvent]:
    """A Measurement Protocol hit (``/collect``): a page view, or a goal and/or an e-commerce action."""
    fields = request_params_dict(request)  # the query, then an urlencoded body
    counter = text_or_none(fields.get("tid"))
    if not counter:
        return [decoder.malformed(request, "Measurement Protocol hit without a tag ID (tid)")]
    page = text_or_none(fields.get("dl"))
    click = query_value(page, "yclid") if page else None
    params = {k: v for k, v in fields.items() if k not in _MP_TYPED and v != ""}

    def event(name: str, own: dict[str, Any], **typed: Any) -> DecodedEvent:
        return new_event(
            vendor=decoder.vendor,
            event=name,
            account_id=counter,
            click_ids={"yclid": click} if click else {},
            page_url=page,
            source=request.source,  # a server's, mostly; the protocol also takes a page's
            params=own,
            **typed,
        )

    kind = fields.get("t")
    if kind == "pageview":
        return [event("pageview", params)]
    if kind != "event":
        return [decoder.malformed(request, f"Measurement Protocol hit of unknown type t={kind!r}")]
    events = []
    goal = text_or_none(fields.get("ea"))
    if goal:
        events.append(event(goal, dict(params)))
    action = text_or_none(fields.get("pa"))
    if action == "purchase":
        own = {k: v for k, v in params.items() if k not in _MP_PURCHASE_TYPED}
        value = number_keeping_raw(fields.get("tr"), own)
        events.append(event(action, own, value=value, transaction_id=text_or_none(fields.get("ti"))))
    elif action:
        events.append(event(action, dict(params)))
    if not events:
        return [
            decoder.malformed(request, "Measurement Protocol event without a goal (ea) or an action (pa)")
        ]
    return events


def browser_info(value: str | None) -> dict[str, str]:
    """``browser-info``'s ``key:value`` pairs; the title ``t`` (last) keeps every ``:`` after it. A key that
    repeats keeps its first value."""
    if not value:
        return {}
    parts = value.split(":")
    pairs: dict[str, str] = {}
    for index in range(0, len(parts), 2):
        key = parts[index]
        if key == _TITLE_KEY:
            pairs.setdefault(key, ":".join(parts[index + 1 :]))
            break
        if key:
            pairs.setdefault(key, parts[index + 1] if index + 1 < len(parts) else "")
    return pairs


def first_party_identifiers(pairs: Any, prefix: str = "") -> tuple[dict[str, UserDataForm], dict[str, str]]:
    """The forms of the identifiers in ``__ym.fpp``/``__ym.fpmh`` (``[[key, value], ...]``, a nested object
    as ``[key, [[key, value], ...]]``), and the IDs tag.js leaves unhashed (``yandex_cid``)."""
    forms: dict[str, UserDataForm] = {}
    unhashed: dict[str, str] = {}
    if not isinstance(pairs, list):
        return forms, unhashed
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            continue
        key, value = pair
        if isinstance(value, list):
            nested_forms, nested_ids = first_party_identifiers(value, f"{prefix}{key}.")
            forms.update(nested_forms)
            unhashed.update(nested_ids)
            continue
        text = text_or_none(value)
        if text is None:
            continue
        if not prefix and key in _UNHASHED_KEYS:
            unhashed[key] = text
        else:
            forms[prefix + key] = identifier_form(text)
    return forms, unhashed


def identifier_form(value: str) -> UserDataForm:
    """SHA-256 as hex (what ``firstPartyParamsHashed`` asks for) or as base64 (what tag.js's own hashing
    sends, ``FileReader.readAsDataURL`` of the digest); anything else is raw."""
    if user_data_form(value) == "sha256":
        return "sha256"
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "raw"
    return "sha256" if len(digest) == _SHA256_BYTES else "raw"
