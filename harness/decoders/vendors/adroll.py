"""AdRoll (NextRoll) pixel hits: everything ``roundtrip.js`` sends to ``d.adroll.com``.

The pixel is loaded from ``s.adroll.com/j/roundtrip.js`` (v1) or ``s.adroll.com/j/<adv id>/roundtrip.js``
(v2, ``adroll_version = "2.0"``); scripts on ``s.adroll.com`` are never hits. Every URL it builds goes
through its ``_srv``, which adds ``arrfrr`` (the page URL, card numbers redacted), ``pv`` (a random page-view
number), ``adroll_fpc`` (the ``__adroll_fpc`` first-party cookie), ``adroll_tpc`` (a partner ID) and
``_arc`` (the ``arconsent`` string of AdRoll's own consent banner). The hits, per path:

- ``/pixel/<adv>/<pix>`` (v1, loaded as a ``<script>``) and ``/segment/<adv>/<pix>`` (v2, an XHR; the
  Shopify web pixel's fetch): the page view, or the user recorded into a segment. ``name`` is the segment
  (``adroll_segments`` / ``segment_name``, lower-cased by the tag), ``conv_value`` and ``adroll_currency``
  the conversion value (``adroll_conversion_value`` and ``adroll_currency``; ``adroll_conversion_value_in_dollars``
  goes as US cents with ``adroll_currency=USC``, which AdRoll's own Facebook relay in roundtrip.js divides
  by 100 as USD), ``adroll_external_data`` the ``adroll_custom_data`` / event attributes as an escaped query
  string (``ORDER_ID``, ``USER_ID``...), ``hashed_email`` the MD5 of ``adroll_email``, ``user_identifier``,
  ``adct`` the click ID (v1 sends it when the page URL carries it), ``cookie`` the ``__ar_v4`` segment
  counters. The event is the segment name, else ``pageView`` (``adroll.track("pageView")`` in v2).
  ``/px4/<adv>/<pix>`` on ``ipv4.d.adroll.com`` repeats ``/pixel`` for IPv6 visitors.
- ``/uev/<adv>/<pix>/?event_name=<name>&event_attributes=<JSON>``: ``adroll.track(name, attributes)``;
  v2 adds ``conv_value`` and ``adroll_currency`` read from the attributes (``conv_value`` or
  ``conversion_value``, ``adroll_currency`` or ``currency``), which are read the same way here when the
  query has none (v1). The order ID is the attributes' ``order_id`` (``ORDER_ID`` in AdRoll's examples).
- ``/p/<adv>/``: a product event; ``adroll_product_action`` (none for ``productView``) and
  ``adroll_products`` (JSON, v2) or ``adroll_product_id`` (v1). v2 sends the same action to ``/uev/``
  right after, so a v2 product hit repeats it.
- ``/ipixel/<adv>/<pix>?name=<segment>`` and its Facebook twin ``/fb/ipixel/...`` (repeats it): the image
  pixel of AdRoll's noscript snippet and of sites that cannot run the script; deployed ones add
  ``conversion_value`` and ``currency``.
- ``/id/<adv>/`` and ``/idp/<adv>/`` (``identify({email, userId})``, ``record_adroll_email``): one
  ``epq`` parameter, the query string ``email``, ``hashed_email`` (MD5), ``sha256_email``, ``email_domain``,
  ``user_identifier``, ``idsource`` base64-encoded, reversed and letter-rotated by ``_reg_lpq``; decoded
  here so the raw email shows in ``user_data``. ``/uat/<adv>/<pix>/?user_attributes=<JSON>`` carries the
  other identify traits. Both are ``identify`` events.
- ``POST /form/<adv>?pv=..`` (JSON ``{data, kind, contact}``): the values of the form fields the advertiser
  lets AdRoll capture, typed as ``email``, ``first_name``, ``phone_number``... (AdRoll's names for its
  HubSpot, Mailchimp and Marketo field maps); a ``form`` event whose ``user_data`` names the typed kinds.

Never hits: ``/consent/check`` and ``/consent/write`` (scripts whose answer drives the tag: left to AdRoll),
``/cm/*`` cookie syncs, ``/pex``, ``/onp``, ``/cla`` and ``/pxl/cat`` (AdRoll's own telemetry), ``/lex``.
AdRoll's click ID is ``adct`` on the landing page URL (AdRoll help center); it rides on the hit's page URL.

Sources: roundtrip.js as served (v1 ``s.adroll.com/j/roundtrip.js`` and a v2 ``j/<adv>/roundtrip.js``,
saved in public repositories), AdRoll's Shopify web pixel extension (``checkout_completed`` to ``/uev``,
``/p`` and ``/segment``), AdRoll's PrestaShop module and Tealium's AdRoll tag guide (``adroll_segments``,
``adroll_conversion_value``, ``adroll_currency``, ``adroll_custom_data.ORDER_ID``), AdRoll's help center
(``adct``), and deployed pages with the pixel (alumacraft.com, sofiasalud.com, ultimatesoftware.com) and
image pixels (``ipixel``/``fb/ipixel`` pairs, ``ipixel?name=..&conversion_value=..&currency=USD``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from harness.decoders.base import (
    Decoder,
    VendorProfile,
    new_consent,
    new_event,
    pixel_reply,
    register,
)
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    params_dict,
    parse_json,
    query_value,
    request_params_dict,
    text_or_none,
    user_data_form,
)
from harness.models import CapturedRequest, ConsentState, DecodedEvent, SinkholeReply, UserDataForm
from harness.urls import parse_query

_HOSTS = ("d.adroll.com", "ipv4.d.adroll.com")
# Hits naming the advertiser and the pixel, then those naming the advertiser only.
_PATH = re.compile(
    r"^/(?:(?P<two>segment|pixel|px4|uev|ipixel|fb/ipixel|uat)/(?P<adv>[^/]+)/(?P<pix>[^/]+)"
    r"|(?P<one>p|id|idp|form)/(?P<adv_only>[^/]+))/?$"
)
_PREFIXES = tuple(
    f"/{kind}/"
    for kind in ("segment", "pixel", "px4", "uev", "ipixel", "fb", "uat", "p", "id", "idp", "form")
)
# Kinds that only repeat another hit of the same action (see the module docstring).
_TWINS = frozenset({"px4", "fb/ipixel"})
# Parameters that become typed fields; everything else stays in params under its wire name.
_COMMON = frozenset({"arrfrr", "_arc", "arconsent", "adct"})
_MONEY = ("conv_value", "conversion_value")
_CURRENCY = ("adroll_currency", "currency")
_SEGMENT_KNOWN = _COMMON | frozenset({"name", *_MONEY, *_CURRENCY, "user_identifier"})
_EVENT_KNOWN = _COMMON | frozenset({"event_name", *_MONEY, *_CURRENCY})
_PRODUCT_KNOWN = _COMMON | frozenset({"adroll_product_action"})
_IDENTITY_KNOWN = _COMMON | frozenset({"epq"})
# Form-field kinds that hold a person's data (AdRoll's own names in roundtrip.js's third-party form maps).
_PERSONAL_KINDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "phone_number",
        "address_1",
        "address_2",
        "city",
        "state",
        "zip_code",
    }
)
# _reg_lpq's substitution undone: letters rotate by 13, and "+", "/" were sent as "-", "_".
_EPQ_UNMAP = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm+/",
)
_SCRIPT_REPLY = SinkholeReply(status=200, content_type="application/javascript", body=b"")


class Route(NamedTuple):
    kind: str  # "segment", "uev", "fb/ipixel", ...
    advertiser: str
    pixel: str | None


@lru_cache(maxsize=1024)  # asked of every request to d.adroll.com: a handful of paths per advertiser
def route(path: str) -> Route | None:
    """What kind of hit a ``d.adroll.com`` path is, and the IDs it names; None for any other path."""
    match = _PATH.match(path)
    if match is None:
        return None
    if match["two"]:
        return Route(match["two"], match["adv"], match["pix"])
    return Route(match["one"], match["adv_only"], None)


def decode_epq(text: str) -> list[tuple[str, str]] | None:
    """The query string ``_reg_lpq`` encoded into ``epq`` (base64, reversed, rotated), or None."""
    encoded = text.strip().translate(_EPQ_UNMAP)[::-1]
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        return parse_query(raw.decode("utf-8"))
    except (binascii.Error, ValueError):  # not base64, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None


def _first_present(fields: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    """The value of the first name present, as roundtrip.js's ``parse_conversion_attrs`` picks it."""
    return next((fields[name] for name in names if name in fields), None)


def _money(fields: Mapping[str, Any], extra: dict[str, Any]) -> tuple[float | None, str | None]:
    """Value and currency; ``USC`` (US cents, from ``adroll_conversion_value_in_dollars``) as dollars."""
    value = number_keeping_raw(_first_present(fields, _MONEY), extra)
    currency = text_or_none(_first_present(fields, _CURRENCY))
    if currency and currency.upper() == "USC":
        extra["adroll_currency"] = currency  # shown as sent
        return (value / 100 if value is not None else None), "USD"
    return value, currency


def _order_id(fields: Mapping[str, Any]) -> str | None:
    """``order_id`` whatever its case (``ORDER_ID`` in AdRoll's snippets, ``order_id`` in its v2 examples)."""
    for key, value in fields.items():
        if key.lower() == "order_id" and (text := text_or_none(value)):
            return text
    return None


def _external_data(params: Mapping[str, str]) -> dict[str, str]:
    """``adroll_external_data``: ``adroll_custom_data`` or the event attributes as an escaped query string."""
    raw = params.get("adroll_external_data")
    if not raw:
        return {}
    data: dict[str, str] = {}
    for key, value in parse_query(raw):
        data.setdefault(key, value)
    return data


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json_object(raw: str | None) -> dict[str, Any]:
    return _dict(parse_json(raw) if raw else None)


def _consent(params: Mapping[str, str]) -> ConsentState:
    """``_arc`` (roundtrip.js) or ``arconsent`` (the Shopify web pixel): AdRoll's own consent string."""
    arconsent = text_or_none(params.get("_arc")) or text_or_none(params.get("arconsent"))
    return new_consent(other={"arconsent": arconsent} if arconsent else {})


def _click_ids(params: Mapping[str, str], page_url: str | None) -> dict[str, str]:
    click = text_or_none(params.get("adct")) or (query_value(page_url, "adct") if page_url else None)
    return {"adct": click} if click else {}


def _rest(params: Mapping[str, str], known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in known and v != ""}


@register
class AdRollDecoder(Decoder):
    vendor = "adroll"
    profile = VendorProfile(
        tag_name="AdRoll Pixel",
        platform_name="AdRoll",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        # AdRoll's click ID (help.adroll.com, "Future-proofing attribution"): followed through the redirects;
        # a conversion on a later page does not carry it.
        click_ids=("adct",),
        hit_click_ids=(),
    )
    claim_hosts = _HOSTS
    # The page-view number, the tag's cookies as it sends them, and its timing measure.
    volatile_params = frozenset({"pv", "cookie", "adroll_fpc", "adroll_tpc", "p0"})

    def encoded_texts(self, request: CapturedRequest) -> list[tuple[str, str]]:
        encoded = text_or_none(request_params_dict(request).get("epq"))
        pairs = decode_epq(encoded) if encoded else None
        return [("AdRoll epq, decoded", "&".join(f"{k}={v}" for k, v in pairs))] if pairs else []

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return path.startswith(_PREFIXES)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return host in _HOSTS and route(path) is not None

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        routed = route(request.path)
        if routed is not None and routed.kind == "pixel":
            return _SCRIPT_REPLY  # v1 loads /pixel as a <script>; its live answer only adds cookie syncs
        return pixel_reply(request)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        routed = route(request.path)
        if routed is None:
            return [self.malformed(request, "not an AdRoll hit path")]
        if routed.kind == "form":
            return [self._form(request, routed)]
        params = request_params_dict(request)
        if routed.kind in ("id", "idp"):
            return [self._identity(request, routed, params)]
        if routed.kind == "uat":
            return [self._attributes(request, routed, params)]
        if routed.kind == "uev":
            return [self._user_event(request, routed, params)]
        if routed.kind == "p":
            return [self._product(request, routed, params)]
        return [self._segment(request, routed, params)]

    def _event(
        self,
        request: CapturedRequest,
        routed: Route,
        name: str,
        params: Mapping[str, str],
        extra: dict[str, Any],
        **fields: Any,
    ) -> DecodedEvent:
        """One event with what every AdRoll hit carries: IDs, page, click ID and consent."""
        page_url = text_or_none(params.get("arrfrr")) or request.header("referer")
        if routed.pixel:
            extra["adroll_pix_id"] = routed.pixel
        return new_event(
            vendor=self.vendor,
            event=name,
            account_id=routed.advertiser,
            click_ids=_click_ids(params, page_url),
            consent=_consent(params),
            page_url=page_url,
            source=self.source,
            params=extra,
            **fields,
        )

    def _segment(self, request: CapturedRequest, routed: Route, params: Mapping[str, str]) -> DecodedEvent:
        """``/segment``, ``/pixel``, ``/px4``, ``/ipixel``, ``/fb/ipixel``: a page view or a segment."""
        extra = _rest(params, _SEGMENT_KNOWN)
        value, currency = _money(params, extra)
        external = _external_data(params)
        if external:
            extra["adroll_external_data"] = external
        identifier = text_or_none(params.get("user_identifier"))
        return self._event(
            request,
            routed,
            text_or_none(params.get("name")) or "pageView",
            params,
            extra,
            value=value,
            currency=currency,
            transaction_id=_order_id(external),
            user_data={"user_identifier": user_data_form(identifier)} if identifier else {},
            repeats=routed.kind in _TWINS,
        )

    def _user_event(self, request: CapturedRequest, routed: Route, params: Mapping[str, str]) -> DecodedEvent:
        """``/uev``: ``adroll.track(event_name, event_attributes)``."""
        name = text_or_none(params.get("event_name"))
        if not name:
            return self.malformed(request, "no event name (event_name)")
        extra = _rest(params, _EVENT_KNOWN)
        attributes = _json_object(params.get("event_attributes"))
        if attributes:
            extra["event_attributes"] = attributes
        # v2 copies the value into the query; v1 leaves it in the attributes, read the same way.
        value_in_query = any(key in params for key in _MONEY)
        value, currency = _money(params if value_in_query else attributes, extra)
        return self._event(
            request,
            routed,
            name,
            params,
            extra,
            value=value,
            currency=currency,
            transaction_id=_order_id(attributes),
        )

    def _product(self, request: CapturedRequest, routed: Route, params: Mapping[str, str]) -> DecodedEvent:
        """``/p``: a product event; v2's (``adroll_products``) is followed by the same action on ``/uev``."""
        extra = _rest(params, _PRODUCT_KNOWN)
        products = parse_json(params["adroll_products"]) if params.get("adroll_products") else None
        if isinstance(products, list):
            extra["adroll_products"] = products
        external = _external_data(params)
        if external:
            extra["adroll_external_data"] = external
        return self._event(
            request,
            routed,
            text_or_none(params.get("adroll_product_action")) or "productView",
            params,
            extra,
            transaction_id=_order_id(external),
            repeats="adroll_products" in params,
        )

    def _identity(self, request: CapturedRequest, routed: Route, params: Mapping[str, str]) -> DecodedEvent:
        """``/id``, ``/idp``: the identifiers ``identify`` sends, encoded in ``epq``."""
        encoded = text_or_none(params.get("epq"))
        if not encoded:
            return self.malformed(request, "no identifiers (epq)", "identify")
        pairs = decode_epq(encoded)
        if pairs is None:
            return self.malformed(request, "epq does not decode", "identify")
        fields = params_dict(pairs)
        extra = _rest(params, _IDENTITY_KNOWN)
        # The raw email and its SHA-256 become user_data forms, never params; the rest is shown as sent.
        extra.update({k: v for k, v in fields.items() if k not in ("email", "sha256_email") and v})
        return self._event(request, routed, "identify", params, extra, user_data=_identity_forms(fields))

    def _attributes(self, request: CapturedRequest, routed: Route, params: Mapping[str, str]) -> DecodedEvent:
        """``/uat``: the identify traits other than email and user ID, as JSON."""
        extra = _rest(params, _COMMON)
        attributes = _json_object(params.get("user_attributes"))
        if attributes:
            extra["user_attributes"] = attributes
        return self._event(request, routed, "identify", params, extra)

    def _form(self, request: CapturedRequest, routed: Route) -> DecodedEvent:
        """``POST /form``: captured form fields; ``user_data`` names the personal kinds sent."""
        body = json_body(request)
        if not isinstance(body, dict):
            return self.malformed(request, "form body is not a JSON object", "form")
        params = request_params_dict(request)
        kinds = _dict(body.get("kind"))
        data = _dict(body.get("data"))
        extra = _rest(params, _COMMON)
        extra.update({"fields": sorted(kinds), "forms": sorted(data)})
        return self._event(request, routed, "form", params, extra, user_data=_form_forms(kinds))


def _identity_forms(fields: Mapping[str, str]) -> dict[str, UserDataForm]:
    forms: dict[str, UserDataForm] = {}
    email = text_or_none(fields.get("email"))
    hashed = text_or_none(fields.get("sha256_email"))
    if email:
        forms["em"] = user_data_form(email)
    elif hashed:
        forms["em"] = user_data_form(hashed)
    identifier = text_or_none(fields.get("user_identifier"))
    if identifier:
        forms["user_identifier"] = user_data_form(identifier)
    return forms


def _form_forms(kinds: Mapping[str, Any]) -> dict[str, UserDataForm]:
    """Each personal kind with a value, in the form it was typed (``{"val": .., "auth": ..}``)."""
    forms: dict[str, UserDataForm] = {}
    for kind, field in kinds.items():
        value = text_or_none(field.get("val")) if isinstance(field, dict) else None
        if kind in _PERSONAL_KINDS and value:
            forms[kind] = user_data_form(value)
    return forms
