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

The input is never mutated: redaction works on a dump of each run and validates a new one.
Compressed bodies (gzip) cannot be searched; their typed values stay, which is why gzip bodies are rare in
the hits eventpath decodes (LinkedIn ``wa`` only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import chain
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from harness.models import CapturedRequest
from harness.results import ScenarioRun, SuiteResult

PII_MARK = "[redacted-pii]"
SECRET_MARK = "[redacted-secret]"
COOKIE_MARK = "[redacted-cookie]"

SECRET_PARAMS: tuple[str, ...] = ("access_token", "api_secret")
SECRET_HEADERS: frozenset[str] = frozenset({"authorization", "proxy-authorization", "access-token"})
# Shorter typed values ("DE", "1") are selections, not personal data; replacing them everywhere would
# shred every URL in the report.
MIN_TYPED_LENGTH = 3
MIN_SECRET_LENGTH = 4


class Redactor:
    """Redaction of one suite, one run at a time. What to look for is gathered from every run first: a
    value typed in one run, or a secret one run's hits carry, is replaced in every run. A report writer
    redacts each run as it writes it, so a long suite is never held twice (a copy per run, then dropped)."""

    def __init__(self, suite: SuiteResult) -> None:
        # One pass, one run at a time: a suite's runs are not all held at once (``RunList``).
        typed: set[str] = set()
        secrets: set[str] = _secret_values(suite.unattributed)
        for run in suite.runs:
            capture = run.result.capture
            typed.update(step.typed.strip() for step in capture.steps if step.typed)
            secrets |= _secret_values(chain(capture.requests, capture.blocked))
        typed = {value for value in typed if len(value) >= MIN_TYPED_LENGTH}
        self.replacements = Replacements(typed, secrets)

    def run(self, run: ScenarioRun) -> ScenarioRun:
        """A redacted copy of ``run``; ``run`` itself is left as it was."""
        data = run.model_dump(round_trip=True)  # round_trip drops computed fields, so it validates back
        capture = data["result"]["capture"]
        _redact_headers([*capture["requests"], *capture.get("blocked", [])])
        for cookie in capture["cookies"]:
            cookie["value"] = COOKIE_MARK
        return ScenarioRun.model_validate(replace_everywhere(data, self.replacements))

    def without_runs(self, suite: SuiteResult) -> SuiteResult:
        """A redacted copy of ``suite`` with no runs (its unattributed requests redacted): the frame a
        writer puts the runs it redacted one by one into."""
        data = suite.model_copy(update={"runs": []}).model_dump(round_trip=True)
        _redact_headers(data["unattributed"])
        return SuiteResult.model_validate(replace_everywhere(data, self.replacements))


def redact_suite(suite: SuiteResult) -> SuiteResult:
    """A redacted copy of ``suite``; ``suite`` itself is left as it was."""
    redactor = Redactor(suite)
    return redactor.without_runs(suite).model_copy(update={"runs": [redactor.run(run) for run in suite.runs]})


def _redact_headers(requests: Iterable[dict[str, Any]]) -> None:
    for request in requests:
        request["request_headers"] = [_redact_request_header(k, v) for k, v in request["request_headers"]]
        request["response_headers"] = [_redact_response_header(k, v) for k, v in request["response_headers"]]


# --- what to look for ------------------------------------------------------------------------------


_SECRET_VALUE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    pattern
    for name in SECRET_PARAMS
    for pattern in (
        re.compile(rf"(?:^|[?&;]){name}=([^&\s#]+)", re.IGNORECASE),  # query string or form body
        re.compile(rf'"{name}"\s*:\s*"([^"]+)"', re.IGNORECASE),  # JSON body
        re.compile(rf'name="{name}"\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]+)', re.IGNORECASE),  # multipart
    )
)


def _secret_values(requests: Iterable[CapturedRequest]) -> set[str]:
    found: set[str] = set()
    for request in requests:
        texts = [request.url, request.body.decode("utf-8", errors="replace")]
        for pattern in _SECRET_VALUE_PATTERNS:
            for text in texts:
                found.update(match.group(1) for match in pattern.finditer(text))
        for name, value in request.request_headers:
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


class Replacements:
    """Every spelling of every typed value and secret, found in one pass per string: one pattern per mark
    built as a trie of the spellings (a suite of N runs types N emails; a pattern per spelling made the
    report's redaction grow with N squared). Case-insensitive; at any position the longest spelling wins."""

    def __init__(self, typed: set[str], secrets: set[str]) -> None:
        pii = {form for value in typed for form in _spellings(value)}
        secret = {form for value in secrets for form in _spellings(value)}
        # Secrets first: a spelling that is both (a typed API key) is marked as the secret it is.
        marked = [(forms, mark) for forms, mark in ((secret, SECRET_MARK), (pii, PII_MARK)) if forms]
        self.empty = not marked
        self._text = [(re.compile(_trie_source(forms), re.IGNORECASE), mark) for forms, mark in marked]
        # Bytes through latin-1, one character per byte: the same trie, and the pattern's bytes are the forms'.
        self._bytes = [
            (
                re.compile(_trie_source({_as_latin1(f) for f in forms}).encode("latin-1"), re.IGNORECASE),
                mark.encode(),
            )
            for forms, mark in marked
        ]

    def text(self, value: str) -> str:
        for pattern, mark in self._text:
            value = pattern.sub(mark, value)
        return value

    def bytes(self, value: bytes) -> bytes:
        for pattern, mark in self._bytes:
            value = pattern.sub(mark, value)
        return value


def _as_latin1(form: str) -> str:
    return form.encode("utf-8", errors="surrogatepass").decode("latin-1")


def _trie_source(forms: set[str]) -> str:
    """A pattern matching any of ``forms``; where several start at one place, the longest (greedy)."""
    trie: dict[str, Any] = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}  # a form ends here

    def build(node: dict[str, Any]) -> str:
        branches = []
        for char, child in node.items():
            if char == "":
                continue
            run = re.escape(char)
            while len(child) == 1 and "" not in child:  # a stretch without branches: one literal
                ((char, child),) = child.items()
                run += re.escape(char)
            branches.append(run + build(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


# --- replacing -------------------------------------------------------------------------------------


def replace_everywhere(node: Any, replacements: Replacements) -> Any:
    if replacements.empty:
        return node
    if isinstance(node, str):
        return replacements.text(node)
    if isinstance(node, bytes):
        return replacements.bytes(node)
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
