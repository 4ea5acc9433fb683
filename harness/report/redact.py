"""Redaction: a copy of a suite's results without cookie values, typed personal data or secrets.

What goes:

- **cookie values**: ``CookieRecord.value``, and the values (never the names or attributes) of ``Cookie``
  request headers and ``Set-Cookie`` response headers;
- **typed personal data**: every value a journey step typed (``StepRecord.typed``), wherever it occurs
  (URLs, headers, bodies, decoded params, check texts), matched case-insensitively in raw, URL-encoded
  (``%40`` and ``+`` styles), lowercased and JSON-escaped forms;
- **secrets hits carry**: ``access_token`` (Meta CAPI, query, form, JSON or multipart body), ``api_secret``
  (GA4 Measurement Protocol), the ``Access-Token`` header (TikTok Events API) and ``Authorization`` /
  ``Proxy-Authorization`` headers. The header is blanked, and the secret's value is replaced wherever
  else it appears.

The input is never mutated: redaction works on a dump of the suite and validates a new ``SuiteResult``.
Compressed bodies (gzip) cannot be searched; their typed values stay, which is why gzip bodies are rare in
the hits eventpath decodes (LinkedIn ``wa`` only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from harness.results import SuiteResult

PII_MARK = "[redacted-pii]"
SECRET_MARK = "[redacted-secret]"
COOKIE_MARK = "[redacted-cookie]"

SECRET_PARAMS: tuple[str, ...] = ("access_token", "api_secret")
SECRET_HEADERS: frozenset[str] = frozenset({"authorization", "proxy-authorization", "access-token"})
# Shorter typed values ("DE", "1") are selections, not personal data; replacing them everywhere would
# shred every URL in the report.
MIN_TYPED_LENGTH = 3
MIN_SECRET_LENGTH = 4


def redact_suite(suite: SuiteResult) -> SuiteResult:
    """A redacted copy of ``suite``; ``suite`` itself is left as it was."""
    data = suite.model_dump(round_trip=True)  # round_trip drops computed fields, so it validates back
    requests = list(_all_requests(data))
    replacements = _replacement_patterns(_typed_values(data), _secret_values(requests))
    for request in requests:
        request["request_headers"] = [_redact_request_header(k, v) for k, v in request["request_headers"]]
        request["response_headers"] = [_redact_response_header(k, v) for k, v in request["response_headers"]]
    for run in data["runs"]:
        for cookie in run["result"]["capture"]["cookies"]:
            cookie["value"] = COOKIE_MARK
    return SuiteResult.model_validate(replace_everywhere(data, replacements))


# --- what to look for ------------------------------------------------------------------------------


def _all_requests(data: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for run in data["runs"]:
        yield from run["result"]["capture"]["requests"]
        yield from run["result"]["capture"].get("blocked", [])  # aborted in the browser, same headers
    yield from data["unattributed"]


def _typed_values(data: dict[str, Any]) -> set[str]:
    return {
        step["typed"].strip()
        for run in data["runs"]
        for step in run["result"]["capture"]["steps"]
        if step.get("typed") and len(step["typed"].strip()) >= MIN_TYPED_LENGTH
    }


_SECRET_VALUE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    pattern
    for name in SECRET_PARAMS
    for pattern in (
        re.compile(rf"(?:^|[?&;]){name}=([^&\s#]+)", re.IGNORECASE),  # query string or form body
        re.compile(rf'"{name}"\s*:\s*"([^"]+)"', re.IGNORECASE),  # JSON body
        re.compile(rf'name="{name}"\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]+)', re.IGNORECASE),  # multipart
    )
)


def _secret_values(requests: Iterable[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for request in requests:
        texts = [request["url"], request["body"].decode("utf-8", errors="replace")]
        for pattern in _SECRET_VALUE_PATTERNS:
            for text in texts:
                found.update(match.group(1) for match in pattern.finditer(text))
        for name, value in request["request_headers"]:
            if name.lower() in SECRET_HEADERS:
                found.add(value)
                found.update(value.split()[1:])  # "Bearer <token>": the token alone too
    decoded = {unquote_plus(v) for v in found} | {unquote(v) for v in found}
    return {v.strip() for v in found | decoded if len(v.strip()) >= MIN_SECRET_LENGTH}


def _spellings(value: str) -> set[str]:
    """The ways a value shows up in hits: as typed, lowercased, URL-encoded in both styles, JSON-escaped."""
    forms = {value, value.lower()}
    for form in list(forms):
        forms.update({quote(form, safe=""), quote_plus(form, safe=""), quote(form, safe="@"), quote(form)})
        forms.add(json.dumps(form)[1:-1])
    return {f for f in forms if f}


Replacement = tuple[re.Pattern[str], re.Pattern[bytes], str]


def _replacement_patterns(typed: set[str], secrets: set[str]) -> list[Replacement]:
    """Case-insensitive patterns, longest first so a longer spelling is replaced before its prefix."""
    marks = {form: PII_MARK for value in typed for form in _spellings(value)}
    marks.update({form: SECRET_MARK for value in secrets for form in _spellings(value)})
    ordered = sorted(marks, key=len, reverse=True)
    return [
        (
            re.compile(re.escape(form), re.IGNORECASE),
            re.compile(re.escape(form.encode("utf-8", errors="surrogatepass")), re.IGNORECASE),
            marks[form],
        )
        for form in ordered
    ]


# --- replacing -------------------------------------------------------------------------------------


def replace_everywhere(node: Any, replacements: list[Replacement]) -> Any:
    if not replacements:
        return node
    if isinstance(node, str):
        for text_pattern, _, mark in replacements:
            node = text_pattern.sub(mark, node)
        return node
    if isinstance(node, bytes):
        for _, bytes_pattern, mark in replacements:
            node = bytes_pattern.sub(mark.encode(), node)
        return node
    if isinstance(node, dict):
        return {
            replace_everywhere(k, replacements): replace_everywhere(v, replacements)
            for k, v in node.items()
        }
    if isinstance(node, list | tuple):
        return type(node)(replace_everywhere(item, replacements) for item in node)
    return node


def _redact_request_header(name: str, value: str) -> tuple[str, str]:
    lname = name.lower()
    if lname in SECRET_HEADERS:
        return name, SECRET_MARK
    if lname == "cookie":
        return name, "; ".join(_cookie_pair(pair) for pair in value.split(";") if pair.strip())
    return name, value


def _redact_response_header(name: str, value: str) -> tuple[str, str]:
    if name.lower() == "set-cookie":
        pair, _, attributes = value.partition(";")
        return name, _cookie_pair(pair) + (f";{attributes}" if attributes else "")
    return _redact_request_header(name, value)


def _cookie_pair(pair: str) -> str:
    cookie_name, has_value, _ = pair.strip().partition("=")
    return f"{cookie_name}={COOKIE_MARK}" if has_value else COOKIE_MARK
