"""The fast paths of decoding give exactly what the plain library calls they replace give.

``harness.urls`` parses query strings and percent-escapes without ``urllib.parse`` (and caches per URL),
``wire.parse_json`` makes numbers safe while parsing instead of walking the value afterwards, and the
registry asks only the decoders whose host/path hints allow a claim. Each is checked here against the
straightforward version, on tricky input and on what hypothesis invents.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit
from urllib.parse import unquote as urllib_unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.decoders import wire
from harness.decoders.base import Decoder
from harness.decoders.google_consent import consent_from_params
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, DecodedEvent
from harness.urls import parse_query, unquote, unquote_component, url_parts, url_query
from tests.decoders.fixture_loader import fixture_files, fixture_request, load_fixture

SETTINGS = settings(max_examples=400, derandomize=True, deadline=None, database=None)

# Pieces that exercise every branch: delimiters, escaped delimiters, "+", invalid and partial escapes,
# UTF-8 split across escapes, raw non-ASCII, backslashes (the fast unquote uses a backslash codec) and the
# control characters the parser may join parts with.
PIECES = [
    *"&=;+% aZ09fF\\x",
    *["%2B", "%2b", "%20", "%26", "%3D", "%3d", "%25", "%5C", "%zz", "%2", "%", "%%41"],
    *["%C3%A9", "%C3", "%A9", "%e9", "%F0%9F%98", "%F0%9F%98%80", "%ED%A0%80", "%80", "%ff", "%7f", "%00"],
    *["%01", "%02", "%03", "\x00", "\x01", "\x02", "\x03", "\n", "\\x41", "\\u0041", "\\N{DASH}"],
    *["é", "💩", "\udcff"],
]
tricky = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


@pytest.mark.parametrize(
    "query",
    [
        "a=1+2&b=%2B&c=",  # "+" is a space, "%2B" a plus, an empty value stays
        "a=1&a=2",  # repeated names, in order
        "flag&=v&&x=",  # no "=", an empty name, an empty field
        "a=1;b=2",  # ";" is not a separator
        "a=%zz&b=%4&c=100%",  # invalid escapes stay as sent
        "a=%ff%fe&b=%C3%A9%C3",  # invalid UTF-8 becomes U+FFFD
        "dl=https%3A%2F%2Fshop%2F%3Fa%3D1%26b%3D2&en=page_view",  # escaped delimiters inside a value
        "a=%00\x00&b=%01\x01&c=%02\x02&d=%03\x03&e=%26",  # every join character is taken
        "caf\u00e9=%C3%A9&b=\\x41%41",  # raw non-ASCII, backslashes
    ],
)
def test_parse_query_is_parse_qsl(query: str) -> None:
    assert parse_query(query) == parse_qsl(query, keep_blank_values=True)


@SETTINGS
@given(st.one_of(tricky, st.text()))
def test_parse_query_agrees_with_parse_qsl(query: str) -> None:
    assert parse_query(query) == parse_qsl(query, keep_blank_values=True)


@SETTINGS
@given(st.one_of(tricky, st.text()))
def test_unquote_agrees_with_urllib(text: str) -> None:
    assert unquote(text) == urllib_unquote(text)
    assert unquote_component(text) == unquote_plus(text)


URLS = st.one_of(
    st.builds(
        lambda host, path, query: f"https://{host}/{path}?{query}",
        st.sampled_from(["Example.COM", "a.b.example.", "[::1]:8080", "user:pw@host:1", "xn--e1a.xn--p1ai"]),
        st.text(alphabet="abc/%.;é", max_size=10),
        tricky,
    ),
    st.sampled_from(["", "no scheme", "http://[::1/x?a=1", "http://[not-ip]/", "https://h", "//h/p?q#f"]),
    st.text(max_size=30),
)


def _split_then(url: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """Host, path and query pairs as the models read them before ``url_parts``."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    return host, parts.path or "/", parse_qsl(parts.query, keep_blank_values=True)


@SETTINGS
@given(URLS)
def test_url_parts_and_request_properties_agree_with_urlsplit(url: str) -> None:
    expected = _split_then(url)
    request = CapturedRequest(id="r", method="GET", url=url)
    if expected is None:
        assert url_parts(url) is None
        assert (request.host, request.path, request.query) == ("", "/", [])
    else:
        assert (request.host, request.path, request.query) == expected
    assert url_query(url) == (expected[2] if expected else [])
    assert wire.query_params(url) == (expected[2] if expected else [])


def test_the_url_cache_follows_a_changed_url_and_never_shows_in_the_model() -> None:
    request = CapturedRequest(id="r", method="GET", url="https://a.example/one?x=1")
    dumped, dumped_json = request.model_dump(), request.model_dump_json()
    assert (request.host, request.path, request.query) == ("a.example", "/one", [("x", "1")])
    assert request.model_dump() == dumped and request.model_dump_json() == dumped_json
    assert request == CapturedRequest(id="r", method="GET", url="https://a.example/one?x=1")

    copied = request.model_copy(update={"url": "https://b.example/two?y=2"})
    assert (copied.host, copied.path, copied.query) == ("b.example", "/two", [("y", "2")])
    request.url = "https://c.example/three?z=3"
    assert (request.host, request.path, request.query) == ("c.example", "/three", [("z", "3")])
    # A caller may change the list it gets: the cached pairs stay as parsed.
    request.query.append(("mutated", "yes"))
    assert request.query == [("z", "3")]


# --- JSON ----------------------------------------------------------------------------------------


def _reference_json_safe(value: Any, depth: int = 0) -> Any:
    """``json_safe`` as written before it had fast paths."""
    if depth >= wire.MAX_JSON_DEPTH and isinstance(value, dict | list):
        return "(nested too deep)"
    if isinstance(value, dict):
        return {str(key): _reference_json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reference_json_safe(item, depth + 1) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
        return str(value)
    return value


def _reference_parse_json(text: str | bytes) -> Any:
    try:
        return _reference_json_safe(json.loads(text))
    except (ValueError, RecursionError, TypeError):
        return None


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 == 1.0 == True would hide a change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
)
json_values = st.recursive(
    leaves, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=10
)


def _nest(value: Any, levels: int) -> Any:
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow])
@given(
    json_values,
    st.integers(0, 40),
    st.sampled_from(["", " \n\t", "\ufeff", "x"]),
    st.sampled_from(["", " \r\n", "x", " 1"]),
)
def test_parse_json_agrees_with_loads_then_json_safe(value: Any, levels: int, before: str, after: str) -> None:
    text = before + json.dumps(_nest(value, levels)) + after
    assert _same(wire.parse_json(text), _reference_parse_json(text))
    assert _same(wire.parse_json(text.encode()), _reference_parse_json(text.encode()))


@pytest.mark.parametrize(
    "text",
    ["1e999", "[-1e999, NaN, Infinity]", "123456789012345678901234567890", "-9223372036854775809", "9" * 5000]
    + ["[" * 40 + "]" * 40, '{"a":' * 33 + "1" + "}" * 33, '"' + "{[" * 40 + '"', "", "  ", "{} {}", "nul"],
)
def test_parse_json_on_edge_cases(text: str) -> None:
    assert _same(wire.parse_json(text), _reference_parse_json(text))


class _Str(str):
    pass


@SETTINGS
@given(
    st.recursive(
        leaves | st.builds(_Str, st.text(max_size=3)),
        lambda c: st.lists(c, max_size=3)
        | st.lists(c, max_size=3).map(tuple)
        | st.dictionaries(st.integers(0, 3) | st.text(max_size=2), c, max_size=3),
        max_leaves=12,
    ).map(lambda v: _nest(v, 30))
)
def test_json_safe_agrees_with_its_plain_version(value: Any) -> None:
    assert _same(wire.json_safe(value), _reference_json_safe(value))


# --- wire helpers ----------------------------------------------------------------------------------

_FORM_BODY = re.compile(r"^[^=&\s{\[<]+=[^\s]*$", re.DOTALL)


@SETTINGS
@given(st.lists(st.sampled_from([*"a=&{[<%+ \t\n", "\u00a0", "\u2028", "\x1c", "é", "a=b"]), max_size=12).map("".join))
def test_form_params_takes_the_same_bodies(text: str) -> None:
    stripped = text.strip()
    shaped = bool(stripped and _FORM_BODY.match(stripped))
    assert wire.form_params(text) == (parse_qsl(stripped, keep_blank_values=True) if shaped else [])


def test_params_dict_keeps_the_first_value_in_first_seen_order() -> None:
    assert list(wire.params_dict([("b", "1"), ("a", "2"), ("b", "3")]).items()) == [("b", "1"), ("a", "2")]
    assert wire.params_dict(iter([("x", "1")])) == {"x": "1"}  # type: ignore[arg-type]


def test_user_data_form_and_scalars() -> None:
    digest = "A" * 64
    assert wire.user_data_form(f" {digest}\n") == "sha256"
    assert wire.user_data_form(digest[:-1]) == wire.user_data_form(digest + "0") == "raw"
    assert wire.text_or_none(" x ") == "x" and wire.text_or_none(_Str(" y ")) == "y"
    assert wire.text_or_none(1.5) == "1.5" and wire.text_or_none({}) is None and wire.text_or_none(" ") is None
    assert wire.to_number(" 12.5 ") == 12.5 and wire.to_number(_Str("2")) == 2.0 and wire.to_number("inf") is None


def test_consent_is_decoded_once_but_never_shared() -> None:
    params = {"gcs": "G111", "gcd": "13r3r3r3r5l1", "npa": "0"}
    first = consent_from_params(params)
    first.other["npa"] = "changed"
    second = consent_from_params(params)
    assert second.other["npa"] == "0" and second is not first and second.other is not first.other
    assert second.ad_storage == "granted" and second.other["ad_storage.default"] == "denied"


# --- the registry's hints --------------------------------------------------------------------------

REGISTRY = DecoderRegistry.default()
FIXTURE_REQUESTS = [fixture_request(load_fixture(path), path.stem) for path in fixture_files()]
HOSTS = sorted({r.host for r in FIXTURE_REQUESTS} | {"shop.example", "www.google.co.uk", "7.fls.doubleclick.net"})
PATHS = sorted({r.path for r in FIXTURE_REQUESTS} | {"/", "/v1/t", "/i", "/g/collect", "/x/g/collect"})


def _first_claimant(decoders: list[Decoder], request: CapturedRequest) -> Decoder | None:
    """The registry's answer before it had hints: every decoder asked, in order."""
    for decoder in decoders:
        try:
            if decoder.claims(request):
                return decoder
        except Exception:  # noqa: BLE001
            continue
    return None


def _moved(request: CapturedRequest, host: str, path: str, method: str) -> CapturedRequest:
    parts = urlsplit(request.url)
    url = parts._replace(netloc=host, path=path).geturl()
    return request.model_copy(update={"url": url, "method": method})


@settings(SETTINGS, max_examples=600)
@given(
    st.sampled_from(FIXTURE_REQUESTS),
    st.sampled_from(HOSTS),
    st.sampled_from(PATHS),
    st.sampled_from(["GET", "POST", "PUT"]),
)
def test_hints_never_hide_a_claim(request: CapturedRequest, host: str, path: str, method: str) -> None:
    for candidate in (request, _moved(request, host, path, method)):
        for decoder in REGISTRY.decoders:
            if decoder.claims(candidate):
                assert decoder.may_claim_host(candidate.host), (decoder.vendor, candidate.url)
                assert decoder.may_claim_path(candidate.method, candidate.path), (decoder.vendor, candidate.url)
        assert REGISTRY.claimant(candidate) is _first_claimant(REGISTRY.decoders, candidate)


def test_every_fixture_keeps_its_claimant() -> None:
    for request in FIXTURE_REQUESTS:
        assert REGISTRY.claimant(request) is _first_claimant(REGISTRY.decoders, request), request.id


class _Everything(Decoder):
    """A plug-in without hints that claims every request."""

    vendor = "everything"

    def claims(self, request: CapturedRequest) -> bool:
        return True

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        return [DecodedEvent(vendor=self.vendor, event="hit")]


def test_changing_the_decoder_list_resets_the_memos() -> None:
    registry = DecoderRegistry(DecoderRegistry.default().decoders)
    request = CapturedRequest(id="r", method="GET", url="https://nobody.example/page")
    assert registry.claimant(request) is None
    registry.decoders.append(_Everything())
    assert registry.claimant(request) is registry.decoders[-1]


def test_events_are_stamped_as_setattr_would() -> None:
    # A plug-in's events (params made safe, as before) and every built-in decoder's.
    request = CapturedRequest(id="req-1", run_id="run-1", method="GET", url="https://x.example/", source="server")
    [event] = DecoderRegistry([_Everything()]).decode(request)
    expected = DecodedEvent(vendor="everything", event="hit")
    expected.params = {}
    expected.request_id, expected.run_id, expected.position, expected.source = "req-1", "run-1", 0, "server"
    assert event == expected and event.model_fields_set == expected.model_fields_set

    for fixture in FIXTURE_REQUESTS:
        request = fixture.model_copy(update={"run_id": "run-2", "source": "server"})
        decoder = REGISTRY.claimant(request)
        if decoder is None:
            continue
        stamped = decoder.decode(request)
        for position, plain in enumerate(stamped):
            plain.request_id, plain.run_id, plain.position = request.id, request.run_id, position
            if plain.source != "server":
                plain.source = "server"
        events = REGISTRY.decode(request)
        assert [e.model_dump_json() for e in events] == [e.model_dump_json() for e in stamped], request.id
        assert [e.model_fields_set for e in events] == [e.model_fields_set for e in stamped], request.id
