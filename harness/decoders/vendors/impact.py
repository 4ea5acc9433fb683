"""impact.com (Impact Radius) conversions, as sent to its Conversions API.

A brand's server reports a conversion with ``POST api.impact.com/Advertisers/<AccountSID>/Conversions``
(HTTP Basic auth), a form-urlencoded body of the conversion object: ``CampaignId`` (the program),
``EventTypeId`` / ``ActionTrackerId`` or ``EventTypeCode`` (which event type), ``EventDate`` (ISO 8601 or
``NOW``), ``OrderId`` (or ``Oid``), ``ClickId`` (the ``irclickid`` impact.com appends to landing URLs),
``CustomerId``, ``CustomerEmail`` (a SHA-1 of the address), ``CurrencyCode`` (or ``Currency``), ``Amount``,
``OrderDiscount``, ``OrderPromoCode``, ``OrderShipping``, ``OrderTax`` and indexed items (``ItemSku1``,
``ItemPrice1``, ``ItemQuantity1``, ``ItemSubTotal1``, ``ItemCategory1``, ``ItemName1``...). Some clients send
the same fields as a JSON object.

Decoded: one ``conversion`` per request, ``account_id`` the ``CampaignId`` (else the AccountSID of the path),
the event type in params as sent. ``value`` is the sale amount, never the payout, in the currency's major
unit: ``Amount`` (pre-tax, pre-shipping, post-discount), else the items' ``ItemSubTotal`` (or ``ItemPrice``
x ``ItemQuantity``) less ``OrderDiscount``, which impact.com subtracts from the order on processing.
``transaction_id`` is the order ID, the click ID ``ClickId``. A 64-hex ``CustomerEmail`` is a SHA-256, an
address as typed is raw personal data; a 40-hex one is the SHA-1 impact.com asks for and stays in params
(``user_data`` has no SHA-1 form). The browser Universal Tracking Tag (``utt.impactcdn.com/<id>.js`` or
``d.impactradius-event.com/<id>.js``, scripts; its ``ire('trackConversion', ...)`` calls go to the
brand's tracking domain, ``<brand>.sjv.io`` / ``<brand>.pxf.io``, in a form not publicly documented) and
the tracking links on those domains (``/c/<partner>/<ad>/<campaign>``, redirects of a click) are not
decoded.

Sources: impact.com Brand API reference (Submit a conversion, the conversion object, order-level and
item-level data, API tracking integration), RudderStack's Impact destination (rudder-transformer, its
``Conversions`` request bodies in the integration tests), Freshpaint's Impact destination code.
"""

from __future__ import annotations

import re
from typing import Any

from harness.decoders.base import Decoder, VendorProfile, new_event, register
from harness.decoders.wire import (
    json_body,
    number_keeping_raw,
    request_params_dict,
    text_or_none,
    to_number,
)
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

API_HOST = "api.impact.com"
_CONVERSIONS_PATH = re.compile(r"^/Advertisers/(?P<sid>[^/]+)/Conversions/?$")
_ITEM_FIELD = re.compile(r"^(ITEMSUBTOTAL|ITEMPRICE|ITEMQUANTITY)(\d{1,4})$")
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
# Upper-cased names decoded into typed fields; the rest stay in params as sent.
_TYPED = frozenset(
    {"CAMPAIGNID", "AMOUNT", "CURRENCYCODE", "CURRENCY", "ORDERID", "OID", "CLICKID", "PAGEURL"}
)
# user_data key -> the upper-cased field that carries it.
_IDENTIFIERS = {"em": "CUSTOMEREMAIL", "ph": "PHONENUMBER"}
_OK_REPLY = SinkholeReply(status=200, content_type="application/json", body=b"{}")


def conversion_fields(request: CapturedRequest) -> dict[str, Any]:
    """The query and the form body, or the query and a JSON object body, as one dict (first name wins)."""
    params: dict[str, Any] = dict(request_params_dict(request))
    body = json_body(request)
    if isinstance(body, dict):
        for key, value in body.items():
            params.setdefault(str(key), value)
    return params


def upper_keys(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        out.setdefault(key.upper(), value)
    return out


def items_value(upper: dict[str, Any]) -> float | None:
    """Sum of the items' ``ItemSubTotal`` (else ``ItemPrice`` x ``ItemQuantity``) less ``OrderDiscount``;
    None without items or when one of those is no number."""
    lines: dict[int, dict[str, Any]] = {}
    for key, value in upper.items():
        match = _ITEM_FIELD.match(key)
        if match:
            lines.setdefault(int(match[2]), {})[match[1]] = value
    priced = [line for line in lines.values() if "ITEMSUBTOTAL" in line or "ITEMPRICE" in line]
    if not priced:
        return None
    total = 0.0
    for line in priced:
        if "ITEMSUBTOTAL" in line:
            amount = to_number(line["ITEMSUBTOTAL"])
        else:
            price, quantity = to_number(line["ITEMPRICE"]), to_number(line.get("ITEMQUANTITY", 1))
            amount = None if price is None or quantity is None else price * quantity
        if amount is None:
            return None
        total += amount
    discount = to_number(upper["ORDERDISCOUNT"]) if upper.get("ORDERDISCOUNT") not in (None, "") else 0.0
    return None if discount is None else round(total - discount, 6)


def email_form(value: Any) -> UserDataForm | None:
    """``sha256`` for a SHA-256 digest, ``raw`` for anything but a digest, None for the SHA-1 impact.com
    asks for (hashed, but not a form ``user_data`` knows) or no value."""
    text = text_or_none(value)
    if text is None or _HEX40.match(text):
        return None
    return "sha256" if _HEX64.match(text) else "raw"


def identifier_forms(upper: dict[str, Any]) -> dict[str, UserDataForm]:
    """``em`` (``CustomerEmail``) and ``ph`` (``PhoneNumber``, RudderStack's field) and their forms."""
    forms: dict[str, UserDataForm] = {}
    for key, field in _IDENTIFIERS.items():
        text = text_or_none(upper.get(field))
        if text is None:
            continue
        form = email_form(text) if key == "em" else ("sha256" if _HEX64.match(text) else "raw")
        if form is not None:
            forms[key] = form
    return forms


@register
class ImpactDecoder(Decoder):
    vendor = "impact"
    source = "server"
    profile = VendorProfile(
        tag_name="impact.com Conversions API",
        platform_name="impact.com",
        consent="not_judged",
        purchase_events=frozenset({"conversion"}),
        click_ids=("irclickid",),
    )
    claim_hosts = (API_HOST,)
    volatile_params = frozenset({"EventDate"})

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def may_claim_path(self, method: str, path: str) -> bool:
        return method == "POST" and path.startswith("/Advertisers/")

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # Only a POST submits a conversion; a GET on the same path reads them back.
        return host == API_HOST and method == "POST" and _CONVERSIONS_PATH.match(path) is not None

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        match = _CONVERSIONS_PATH.match(request.path)
        fields = conversion_fields(request)
        upper = upper_keys(fields)
        if not fields:
            return [self.malformed(request, "conversion without fields", "conversion")]
        account = text_or_none(upper.get("CAMPAIGNID")) or (match["sid"] if match else None)
        if not account:
            return [self.malformed(request, "no CampaignId and no AccountSID", "conversion")]
        extra: dict[str, Any] = {k: v for k, v in fields.items() if k.upper() not in _TYPED and v != ""}
        if match:
            extra["account_sid"] = match["sid"]
        user_data = identifier_forms(upper)
        # Raw identifiers are personal data: their form is recorded, never their value.
        raw = {_IDENTIFIERS[key] for key, form in user_data.items() if form == "raw"}
        extra = {k: v for k, v in extra.items() if k.upper() not in raw}
        if "AMOUNT" in upper:
            value = number_keeping_raw(upper["AMOUNT"], extra)
        else:
            value = items_value(upper)
        click = text_or_none(upper.get("CLICKID"))
        return [
            new_event(
                vendor=self.vendor,
                event="conversion",
                account_id=account,
                value=value,
                currency=text_or_none(upper.get("CURRENCYCODE")) or text_or_none(upper.get("CURRENCY")),
                transaction_id=text_or_none(upper.get("ORDERID")) or text_or_none(upper.get("OID")),
                click_ids={"irclickid": click} if click else {},
                user_data=user_data,
                page_url=text_or_none(upper.get("PAGEURL")),
                source=self.source,
                params=extra,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return _OK_REPLY


__all__ = ["ImpactDecoder", "conversion_fields", "email_form", "identifier_forms", "items_value"]
