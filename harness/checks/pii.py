"""No raw personal data in tag hits: what the journey typed, in any form a tag may send it, and any
email-shaped string.

Where: every tag hit's URL, its body (gzip undone) and its Referer header (a GET form puts the email in
the page URL, and every hit's Referer then carries it), and what its vendor's decoder decodes of an
encoding of the vendor's own (``Decoder.encoded_texts``: AdRoll's scrambled ``epq``). Which values: what fill steps typed, except
fields whose selector says search/coupon/quantity (a search term on a GA4 ``search`` event is not
personal data) and select steps (option values). Forms looked for, case-insensitively where case means
nothing: as typed and trimmed, URL-encoded (``%40``, ``+`` for spaces, twice), for phones the digits
only and E.164 (``0151 1234 5678`` on a ``.de`` page -> ``+4915112345678``), and base64 (standard and
url-safe) of the value and its lowercase. A match must stand on its own (no letter or digit right
before or after), so digits inside an order ID, a timestamp or a hash never count. SHA-256 of the
normalised value is what the platforms ask for and is fine.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from harness.checks.base import CheckContext, check
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.meta_pixel import multipart_params
from harness.models import CapturedRequest, CheckFailure, DecodedEvent, Evidence

Kind = Literal["email", "phone", "text"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
_EMAIL_SHAPE = re.compile(r"(?<![A-Za-z0-9._%+-])" + _EMAIL.pattern + r"(?![A-Za-z0-9-])")
# "logo@2x.png" is an asset name, not an address.
_FILE_TLDS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "js", "css", "html", "json", "ico"}
)
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,24}")
# Fields whose typed value is not about the person.
_NOT_PERSONAL_FIELD = re.compile(
    r"search|query|coupon|voucher|promo|discount|gift|qty|quantity|name=[\"']?q[\"']?\]", re.IGNORECASE
)
_PERCENT_ESCAPE_END = re.compile(r"%[0-9A-Fa-f]{2}$")

# Calling codes for the page's country, guessed from its top-level domain.
CALLING_CODES: dict[str, str] = {
    "de": "49", "at": "43", "ch": "41", "fr": "33", "uk": "44", "gb": "44", "nl": "31", "be": "32",
    "it": "39", "es": "34", "pt": "351", "pl": "48", "se": "46", "dk": "45", "no": "47", "fi": "358",
    "ie": "353", "cz": "420", "us": "1", "ca": "1", "au": "61", "nz": "64", "in": "91", "br": "55",
    "mx": "52", "jp": "81",
}  # fmt: skip


@dataclass(frozen=True)
class TypedValue:
    text: str  # trimmed
    kind: Kind
    step: str  # the step that typed it


@dataclass(frozen=True)
class Form:
    text: str
    name: str  # "as typed", "E.164", "base64 of lowercase", ...
    case_sensitive: bool = False


@dataclass(frozen=True)
class Match:
    value: str  # the personal value found (typed, or the email-shaped string)
    kind: Kind
    form: str
    where: str  # "URL", "body", "Referer header"
    param: str | None
    step: str | None = None  # the step that typed it; None for an email nobody typed


# --- what to look for ------------------------------------------------------------------------------


def classify(text: str) -> Kind:
    if _EMAIL.fullmatch(text):
        return "email"
    digits = re.sub(r"\D", "", text)
    if _PHONE.fullmatch(text) and 7 <= len(digits) <= 15:
        return "phone"
    return "text"


def typed_personal_values(ctx: CheckContext) -> list[TypedValue]:
    """What fill steps typed into fields that may hold personal data, long enough to search for."""
    found: list[TypedValue] = []
    for step in ctx.steps:
        if not step.typed or step.action == "select" or _NOT_PERSONAL_FIELD.search(step.target or ""):
            continue
        text = step.typed.strip()
        kind = classify(text)
        # Two letters or a short number (a quantity, a house number) would match half the internet.
        if len(text) < 3 or (kind == "text" and text.isdigit() and len(text) < 5):
            continue
        if all(v.text != text for v in found):
            found.append(TypedValue(text, kind, step.label))
    return found


def guess_calling_code(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    return CALLING_CODES.get(host.rsplit(".", 1)[-1]) if "." in host else None


def phone_forms(text: str, calling_code: str | None) -> list[Form]:
    """E.164 first (the most specific form: ``+4915112345678`` also contains the bare digits)."""
    digits = re.sub(r"\D", "", text)
    international: str | None = None
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0") and calling_code:
        international = calling_code + digits[1:]
    elif len(digits) == 10 and calling_code in (None, "1"):
        international = "1" + digits  # North American numbers are typed without a trunk prefix
    forms: list[Form] = []
    if international:
        forms += [Form("+" + international, "E.164"), Form(international, "E.164 without +")]
    forms.append(Form(digits, "digits only"))
    if international and not digits.startswith("0"):
        code = next(
            (c for c in sorted(set(CALLING_CODES.values()), key=len) if international.startswith(c)), None
        )
        if code:
            forms.append(Form("0" + international[len(code) :], "national digits"))
    unique: dict[str, Form] = {}
    for form in forms:
        unique.setdefault(form.text, form)
    return list(unique.values())


def _base64_forms(text: str) -> list[Form]:
    forms: list[Form] = []
    for variant, label in ((text, "base64"), (text.lower(), "base64 of lowercase")):
        raw = variant.encode("utf-8")
        standard = base64.b64encode(raw).decode().rstrip("=")
        urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        forms.append(Form(standard, label, case_sensitive=True))
        if urlsafe != standard:
            forms.append(Form(urlsafe, f"{label} (url-safe)", case_sensitive=True))
    return list(dict.fromkeys(forms))


def value_forms(value: TypedValue, calling_code: str | None) -> list[Form]:
    """Every form of a typed value a tag may send, most literal first."""
    forms = [Form(value.text, "as typed")]
    collapsed = re.sub(r"\s+", " ", value.text)
    if collapsed != value.text:
        forms.append(Form(collapsed, "spaces collapsed"))
    if value.kind == "phone":
        forms += phone_forms(value.text, calling_code)
    forms += _base64_forms(value.text)
    e164 = next((f.text for f in forms if f.name == "E.164"), None)
    if e164:
        # The lowercase of a phone number is itself, so only base64 and its url-safe twin.
        forms += [
            Form(f.text, f"{f.name} of E.164", True) for f in _base64_forms(e164) if "lowercase" not in f.name
        ]
    return forms


# --- where to look ---------------------------------------------------------------------------------


def body_text(request: CapturedRequest) -> str:
    body = request.body
    if body[:2] == b"\x1f\x8b":  # gzip'd beacons (LinkedIn, some sGTM clients)
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            pass
    return body.decode("utf-8", errors="replace")


def haystacks(request: CapturedRequest) -> list[tuple[str, str]]:
    places = [("URL", request.url), ("body", body_text(request))]
    referer = request.header("referer")
    if referer:
        places.append(("Referer header", referer))
    places += _vendor_encoded(request)
    return [(where, text) for where, text in places if text]


def _vendor_encoded(request: CapturedRequest) -> list[tuple[str, str]]:
    """What the hit's vendor says it carries encoded its own way (AdRoll's scrambled epq), decoded."""
    decoder = DecoderRegistry.default().claimant(request)
    try:
        return list(decoder.encoded_texts(request)) if decoder is not None else []
    except Exception:  # noqa: BLE001 - a faulty plug-in hides nothing from the scan of the URL and body
        return []


def decoded_variants(text: str) -> list[tuple[str, str]]:
    """The text as sent and percent-decoded (once, with + as space, twice): labels say which form matched."""
    once = unquote(text)
    variants = [("", text), ("URL-encoded", once), ("URL-encoded, + for spaces", unquote_plus(text))]
    variants.append(("URL-encoded twice", unquote_plus(once)))
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for label, variant in variants:
        if variant not in seen:
            seen.add(variant)
            out.append((label, variant))
    return out


def _inside_identifier(needle: str, haystack: str, start: int, end: int) -> bool:
    """A bare number glued by - . _ to more characters is part of an ID (``UA-12345-1``, ``v1.12345``)."""
    if not needle.lstrip("+").isdigit():
        return False
    glued_before = start > 0 and haystack[start - 1] in "-._"
    glued_after = end + 1 < len(haystack) and haystack[end] in "-._" and haystack[end + 1].isalnum()
    return glued_before or glued_after


def occurs(needle: str, haystack: str, case_sensitive: bool = False) -> str | None:
    """The occurrence of ``needle`` that stands on its own (no letter/digit glued to it), or None."""
    flags = 0 if case_sensitive else re.IGNORECASE
    for match in re.finditer(re.escape(needle), haystack, flags):
        start, end = match.span()
        left_ok = (
            start == 0
            or not needle[0].isalnum()
            or not haystack[start - 1].isalnum()
            or _PERCENT_ESCAPE_END.search(haystack[:start]) is not None
        )
        right_ok = end == len(haystack) or not needle[-1].isalnum() or not haystack[end].isalnum()
        if left_ok and right_ok and not _inside_identifier(needle, haystack, start, end):
            return match.group(0)
    return None


# --- naming the parameter --------------------------------------------------------------------------


def _pairs(request: CapturedRequest, where: str, text: str) -> list[tuple[str, str]]:
    if where in ("URL", "Referer header"):
        return parse_qsl(urlsplit(text).query, keep_blank_values=True)
    pairs = multipart_params(request)
    if pairs:
        return pairs
    return [pair for line in text.splitlines() for pair in parse_qsl(line, keep_blank_values=True)]


def _json_path(data: Any, needle: str, case_sensitive: bool, path: str = "") -> str | None:
    if isinstance(data, dict):
        items: list[tuple[str, Any]] = [(f"{path}.{k}" if path else str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(data)]
    else:
        text = str(data) if data is not None else ""
        return path if any(occurs(needle, t, case_sensitive) for _, t in decoded_variants(text)) else None
    for sub_path, value in items:
        found = _json_path(value, needle, case_sensitive, sub_path)
        if found:
            return found
    return None


def locate_param(request: CapturedRequest, where: str, text: str, form: Form) -> str | None:
    """The parameter (``ud[em]``, ``context.user.email``, ``dl`` -> ``email``) that carries the form."""
    if where == "body":
        try:
            return _json_path(json.loads(text), form.text, form.case_sensitive)
        except ValueError:
            pass
    for key, value in _pairs(request, where, text):
        if any(occurs(form.text, v, form.case_sensitive) for _, v in decoded_variants(value)):
            nested = [
                k for k, v in parse_qsl(urlsplit(value).query) if occurs(form.text, v, form.case_sensitive)
            ]
            return f"{key} (its {nested[0]}= parameter)" if nested and "://" in value else key
    return None


# --- finding ---------------------------------------------------------------------------------------


def find_typed(request: CapturedRequest, value: TypedValue, calling_code: str | None) -> list[Match]:
    """Where in this hit a typed value appears, at most once per place."""
    matches: list[Match] = []
    forms = value_forms(value, calling_code)
    for where, text in haystacks(request):
        match = _first_form(request, where, text, value, forms)
        if match is not None:
            matches.append(match)
    return matches


def _first_form(
    request: CapturedRequest, where: str, text: str, value: TypedValue, forms: list[Form]
) -> Match | None:
    for encoding, variant in decoded_variants(text):
        for form in forms:
            found = occurs(form.text, variant, form.case_sensitive)
            if found is None:
                continue
            name = form.name
            if not form.case_sensitive and found != form.text:
                name += ", lowercased" if found == form.text.lower() else ", case changed"
            if encoding:
                name = encoding if name == "as typed" else f"{name}, {encoding}"
            param = locate_param(request, where, text, form)
            return Match(value.text, value.kind, name, where, param, value.step)
    return None


def find_email_shapes(request: CapturedRequest, skip: set[str]) -> list[Match]:
    """Email addresses the journey did not type (a CRM value, a prefilled field, a logged-in user)."""
    matches: list[Match] = []
    reported = set(skip)
    for where, text in haystacks(request):
        for _, variant in decoded_variants(text):
            for email in _EMAIL_SHAPE.findall(variant):
                lowered = email.lower()
                # "qa+1@x.test" read with + as space leaves "1@x.test": the same address, not another.
                if any(r.endswith(lowered) for r in reported) or lowered.rsplit(".", 1)[-1] in _FILE_TLDS:
                    continue
                reported.add(lowered)
                form = Form(email, "email-shaped")
                matches.append(
                    Match(email, "email", "email-shaped", where, locate_param(request, where, text, form))
                )
    return matches


# --- reporting -------------------------------------------------------------------------------------


def mask(value: str, kind: Kind) -> str:
    """``q***@example.test``, ``***78``, ``A***``: enough for QA to recognise, not to leak again."""
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "phone":
        return "***" + re.sub(r"\D", "", value)[-2:]
    return value[:1] + "***"


def _hit_label(request: CapturedRequest, events: list[DecodedEvent]) -> tuple[str, str]:
    if not events:
        return request.host, ""
    names = ", ".join(dict.fromkeys(e.event for e in events))
    return events[0].vendor, names


def _fix(match: Match) -> str | None:
    # In the Referer, or inside a page-URL parameter (dl, url, p, page.url): the page URL itself carries it.
    if match.where == "Referer header" or "(its " in (match.param or ""):
        return (
            "The page URL carries the personal data (a GET form, a prefilled link): submit forms with POST or "
            "strip it from the URL before tags read it; Referrer-Policy: strict-origin keeps it off Referer"
        )
    return None


@check("no_pii")
def no_pii(ctx: CheckContext) -> Iterator[CheckFailure]:
    """No raw personal data (typed values in any form, email addresses) in any tag hit."""
    name = "no_pii"
    if not ctx.scenario.expect.no_pii:
        return
    typed = typed_personal_values(ctx)
    calling_code = guess_calling_code(ctx.result.capture.final_url or ctx.ad_url)
    typed_emails = {v.text.lower() for v in typed if v.kind == "email"}
    events_by_request: dict[str, list[DecodedEvent]] = {}
    for event in ctx.events:
        events_by_request.setdefault(event.request_id or "", []).append(event)
    grouped: dict[str, tuple[Match, str, str, list[Evidence]]] = {}
    for request in ctx.result.capture.tag_hits:
        vendor, event_names = _hit_label(request, events_by_request.get(request.id, []))
        matches = [m for v in typed for m in find_typed(request, v, calling_code)]
        matches += find_email_shapes(request, typed_emails)
        for match in matches:
            key = f"{name}:{vendor}:{match.value.lower()}:{match.where}:{match.param}"
            grouped.setdefault(key, (match, vendor, event_names, []))[3].append(
                _hit_evidence(request, vendor, event_names)
            )
    for key, (match, vendor, event_names, hits) in grouped.items():
        yield _failure(ctx, name, key, match, vendor, event_names, hits)


def _hit_evidence(request: CapturedRequest, vendor: str, event_names: str) -> Evidence:
    # The URL without its query: the query may be exactly where the personal data sits.
    endpoint = request.url.split("?", 1)[0]
    summary = " ".join(p for p in (vendor, event_names, request.method, endpoint) if p)
    return Evidence(request_id=request.id, summary=summary, url=endpoint)


def _failure(
    ctx: CheckContext,
    name: str,
    key: str,
    match: Match,
    vendor: str,
    event_names: str,
    evidence: list[Evidence],
) -> CheckFailure:
    masked = mask(match.value, match.kind)
    if match.step is None:
        what = "an email-shaped string"
    elif match.kind == "text":
        what = f"the text typed in {match.step!r}"
    else:
        what = f"the typed {match.kind}"
    if match.where == "Referer header" and match.param:
        place = f"the page URL's {match.param}= parameter (Referer header)"
    else:
        place = f"{match.param} ({match.where})" if match.param else f"the {match.where}"
    hits = f" in {len(evidence)} hits" if len(evidence) > 1 else ""
    return ctx.failure(
        name,
        f"{vendor} {event_names} sends {what} {masked} ({match.form}) in {place}{hits}".replace("  ", " "),
        "PII in hit",
        expected=f"no raw {match.kind} in {vendor} hits; identifiers only as SHA-256 of the normalised value",
        seen=f"{place} of {evidence[0].summary} carries {masked} ({match.form})",
        evidence=evidence,
        key=key,
        fix=_fix(match),
    )
