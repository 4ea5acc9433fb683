"""Redaction: no cookie value, typed personal data or secret survives, and the input is left alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from harness.models import CapturedRequest
from harness.report import redact_suite, write_report
from harness.report.redact import COOKIE_MARK, PII_MARK, SECRET_MARK, Replacements
from harness.results import SuiteResult
from tests.report.conftest import (
    BEARER,
    CAPI_TOKEN,
    FBP_COOKIE,
    MP_SECRET,
    SESSION_COOKIE,
    T0,
    TIKTOK_TOKEN,
    TYPED_EMAIL,
    read,
)

SECRETS = (CAPI_TOKEN, MP_SECRET, TIKTOK_TOKEN, BEARER)
# The session cookie only travels in Cookie headers; _fbp's value also rides in Meta hits as ``fbp``, a
# hit parameter the report shows, so only its cookie record and header copies must go.
COOKIES = (SESSION_COOKIE,)
EMAIL_SPELLINGS = (
    TYPED_EMAIL,
    TYPED_EMAIL.lower(),
    quote(TYPED_EMAIL, safe=""),
    quote_plus(TYPED_EMAIL.lower(), safe=""),
    quote(TYPED_EMAIL.lower(), safe="@"),
)


def everything_said(suite: SuiteResult) -> str:
    """Every string and (decoded) body of a suite, so base64 in JSON cannot hide a secret from the test."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, bytes):
            parts.append(node.decode("utf-8", errors="replace"))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(suite.model_dump())
    return "\n".join(parts)


ALL_SENSITIVE = {*SECRETS, *COOKIES, *EMAIL_SPELLINGS}


def leaks(text: str) -> set[str]:
    lowered = text.lower()
    return {s for s in ALL_SENSITIVE if s.lower() in lowered}


def test_the_unredacted_suite_really_carries_every_secret(suite: SuiteResult) -> None:
    # Without this, the redaction tests below could pass on a suite that never held the values.
    assert leaks(everything_said(suite)) == ALL_SENSITIVE


def test_redaction_removes_secrets_cookies_and_typed_pii(suite: SuiteResult) -> None:
    redacted = redact_suite(suite)
    assert leaks(everything_said(redacted)) == set()
    said = everything_said(redacted)
    assert PII_MARK in said and SECRET_MARK in said and COOKIE_MARK in said


def test_redaction_keeps_what_the_report_needs(suite: SuiteResult) -> None:
    redacted = redact_suite(suite)
    run = redacted.runs[0]
    assert [c.name for c in run.result.capture.cookies] == ["_fbp", "sid"]
    assert {c.value for c in run.result.capture.cookies} == {COOKIE_MARK}
    assert all(FBP_COOKIE not in value for r in run.result.capture.requests for _, value in r.request_headers)
    pixel = next(r for r in run.result.capture.requests if r.id == "req-4")
    assert pixel.header("cookie") == f"_fbp={COOKIE_MARK}; sid={COOKIE_MARK}"
    assert "ev=Purchase" in pixel.url and "eid=ord-1" in pixel.url
    capi = next(r for r in run.result.capture.requests if r.id == "req-6")
    assert capi.url.endswith(f"access_token={SECRET_MARK}")
    assert capi.header("authorization") == SECRET_MARK
    assert run.result.capture.steps[1].typed == PII_MARK
    assert [e.event for e in run.result.events] == [e.event for e in suite.runs[0].result.events]


def test_redaction_never_mutates_its_input(suite: SuiteResult) -> None:
    before = suite.model_dump()
    redact_suite(suite)
    assert suite.model_dump() == before


def test_secrets_in_form_and_multipart_bodies_and_set_cookie_headers() -> None:
    form = CapturedRequest(
        id="f",
        method="POST",
        url="https://graph.facebook.com/v18.0/1/events",
        request_headers=[("content-type", "application/x-www-form-urlencoded")],
        body=b"data=%5B%5D&access_token=formSecret123",
    )
    multipart = CapturedRequest(
        id="m",
        method="POST",
        url="https://graph.facebook.com/v18.0/1/events",
        body=b'--b\r\nContent-Disposition: form-data; name="access_token"\r\n\r\nmultiSecret456\r\n--b--\r\n',
        response_headers=[("set-cookie", "fr=cookieValue789; Path=/; Secure; HttpOnly")],
    )
    suite = SuiteResult(started_at=T0, finished_at=T0 + 1, unattributed=[form, multipart])
    said = everything_said(redact_suite(suite))
    for secret in ("formSecret123", "multiSecret456", "cookieValue789"):
        assert secret not in said
    assert f"fr={COOKIE_MARK}; Path=/; Secure; HttpOnly" in said


def test_both_outputs_are_redacted_by_default(suite: SuiteResult, tmp_path: Path) -> None:
    paths = write_report(suite, tmp_path)
    assert leaks(read(paths.html)) == set()
    assert leaks(read(paths.json)) == set()  # the JSON text, bodies in base64 ...
    assert (
        leaks(everything_said(SuiteResult.model_validate_json(read(paths.json)))) == set()
    )  # ... and decoded


def test_redact_false_keeps_everything(suite: SuiteResult, tmp_path: Path) -> None:
    paths = write_report(suite, tmp_path, redact=False)
    stored = SuiteResult.model_validate_json(read(paths.json))
    assert leaks(everything_said(stored)) == ALL_SENSITIVE
    html = read(paths.html)
    assert CAPI_TOKEN in html and SESSION_COOKIE in html and TYPED_EMAIL in html
    assert "not redacted" in html
    assert json.loads(read(paths.json))["schema_version"] == 1


def test_one_pass_finds_every_spelling_of_hundreds_of_typed_values() -> None:
    # A suite of N runs types N different emails: all of them, in every spelling, in text and in bytes.
    emails = {f"QA+{n}@Example.test" for n in range(300)}
    replacements = Replacements(emails, set())
    for email in ("QA+7@Example.test", "QA+299@Example.test"):
        text = f"em={quote(email, safe='')}&e2={quote_plus(email.lower(), safe='')}&raw={email.lower()}"
        body = json.dumps({"email": email, "note": "ok"}).encode()
        assert replacements.text(text) == f"em={PII_MARK}&e2={PII_MARK}&raw={PII_MARK}"
        assert replacements.bytes(body) == json.dumps({"email": PII_MARK, "note": "ok"}).encode()
    assert replacements.text("QA+3000@Example.test") == "QA+3000@Example.test", "never typed: left alone"
    assert replacements.text("nothing typed here") == "nothing typed here"


def test_the_longest_spelling_wins_and_secrets_before_typed_values() -> None:
    replacements = Replacements({"Berlin", "Berlin Mitte 5"}, {"tok_Berlin_123"})
    assert replacements.text("Berlin Mitte 5, 10115 Berlin") == f"{PII_MARK}, 10115 {PII_MARK}"
    assert replacements.text("key=tok_Berlin_123") == f"key={SECRET_MARK}"


def test_non_ascii_typed_values_in_utf8_bytes_urls_and_json() -> None:
    replacements = Replacements({"Jürgen Müller"}, set())
    assert replacements.bytes("name=Jürgen Müller;".encode()) == f"name={PII_MARK};".encode()
    assert replacements.text(f"n={quote('Jürgen Müller', safe='')}") == f"n={PII_MARK}"
    assert replacements.bytes(json.dumps({"n": "jürgen müller"}).encode()) == json.dumps({"n": PII_MARK}).encode()
    assert replacements.text("JÜRGEN MÜLLER") == PII_MARK
