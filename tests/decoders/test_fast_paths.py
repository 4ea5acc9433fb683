"""The fast paths of decoding give exactly what the plain library calls they replace give.

``harness.urls`` parses query strings and percent-escapes without ``urllib.parse`` (and caches per URL),
``wire.parse_json`` makes numbers safe while parsing instead of walking the value afterwards, and the
registry asks only the decoders whose host/path hints allow a claim (and takes, without asking, the one
whose ``surely_claims`` hint says so). Decoders build events through pydantic's validators directly, hand
a body their ``claims`` parsed to the ``decode`` that follows, and replace regexes and repeated work with
plain string calls and per-name caches. Each is checked here against the straightforward version, on
tricky input and on what hypothesis invents.
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
from harness.urls import _split_url, parse_query, unquote, unquote_component, url_parts, url_query
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
    # Plain http(s) URLs are split by hand: everything that could make that differ from urlsplit (a
    # fragment before the query, userinfo, ports, no path, "@" or ":" after the host, tabs and line breaks,
    # non-ASCII, IPv6 brackets, zone IDs, an upper-case scheme, an empty host).
    st.builds(
        lambda scheme, netloc, rest: scheme + netloc + rest,
        st.sampled_from(["https://", "http://", "HTTPS://", "Http://", "http:/", "https:", "ftp://", " https://"]),
        st.text(alphabet="aB.:@[]%9-\u00e9\t\n", max_size=12),
        st.text(alphabet="/?#&=@:aA\u00e9%\r\t.", max_size=16),
    ),
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


PLAIN_URLS = [
    "https://Shop.Example/p/a?gclid=1#frag",
    "http://user:pw@Host.example:8080/x?y=1",
    "https://h.example?q=1",
    "https://h.example#f?q=1",
    "https://h.example/p#f?q=1",
    "https://h.example/p?q=1#f?x",
    "https://h.example/a@b:c/?q=@",
    "https://h.example:/",
    "https://@h.example/",
    "https:///only/path?q",
    "https://",
    "http://h.exa\tmple/p\n?q=1",
    "https://h.exa\tmple/p?q=1",
    "https://h.example/p?q=1\r&r=2",
    "https://H%41.EXAMPLE/",
    "https://[::1]:8080/p?q",
    "https://[fe80::1%25eth0]/",
    "https://h%41.example/",
    "https://h\u00e9.example/p",
    "https://h\uff03x.example/p",  # a full-width "#": urlsplit refuses the host (it normalises to "#")
    "HTTPS://H.EXAMPLE/P?Q",
]


@pytest.mark.parametrize("url", PLAIN_URLS)
def test_plain_urls_split_by_hand_as_urlsplit_splits_them(url: str) -> None:
    parts = _split_url(url)
    split = (parts.host, parts.path, parse_qsl(parts.query, keep_blank_values=True)) if parts else None
    assert split == _split_then(url)


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


# --- the registry's surely_claims hint ---------------------------------------------------------------

BODIES = [b"", b"{}", b"not json", b'{"writeKey":"k","type":"track","event":"x"}', b"a=1&b=2"]


@settings(SETTINGS, max_examples=600)
@given(
    st.sampled_from(FIXTURE_REQUESTS),
    st.sampled_from(HOSTS),
    st.sampled_from(PATHS),
    st.sampled_from(["GET", "POST", "PUT"]),
    tricky,
    st.sampled_from(BODIES),
)
def test_surely_claims_only_what_claims_claims(
    request: CapturedRequest, host: str, path: str, method: str, query: str, body: bytes
) -> None:
    moved = _moved(request, host, path, method)
    for candidate in (request, moved, moved.model_copy(update={"url": f"{moved.url}&{query}", "body": body})):
        line = (candidate.host, candidate.method, candidate.path)
        for decoder in REGISTRY.decoders:
            if decoder.surely_claims(*line):
                assert decoder.claims(candidate), (decoder.vendor, candidate.url, candidate.body[:40])
        assert REGISTRY.claimant(candidate) is _first_claimant(REGISTRY.decoders, candidate)


def test_a_decoder_that_redefines_claims_gets_no_shortcut() -> None:
    pixel = REGISTRY.by_vendor("meta_pixel")
    assert pixel is not None
    request = next(r for r in FIXTURE_REQUESTS if pixel.claims(r))
    assert pixel.surely_claims(request.host, request.method, request.path)

    class Stricter(type(pixel)):  # type: ignore[misc]
        def claims(self, request: CapturedRequest) -> bool:
            return False

    assert DecoderRegistry([Stricter()]).claimant(request) is None
    patched = type(pixel)()
    patched.claims = lambda request: False  # type: ignore[method-assign]
    assert DecoderRegistry([patched]).claimant(request) is None


@SETTINGS
@given(URLS, st.sampled_from(["GET", "POST"]))
def test_the_registry_reads_the_request_line_the_properties_give(url: str, method: str) -> None:
    request = CapturedRequest(id="r", method=method, url=url)
    registry = DecoderRegistry([])
    registry.claimant(request)
    assert list(registry._by_line) == [(request.host, request.method, request.path)]


# --- per-URL query views --------------------------------------------------------------------------------


@SETTINGS
@given(URLS, st.sampled_from(["gclid", "a", "x", ""]))
def test_query_views_agree_with_params_dict(url: str, name: str) -> None:
    pairs = wire.query_params(url)
    assert list(wire.query_dict(url).items()) == list(wire.params_dict(pairs).items())
    assert wire.query_value(url, name) == wire.params_dict(pairs).get(name)
    names = frozenset({name, "gclid"})
    assert list(wire.query_named(url, names)) == [(k, v) for k, v in pairs if k in names]
    wire.query_dict(url)["mutated"] = "yes"  # a copy: the cache is never handed out
    assert "mutated" not in wire.query_dict(url) or ("mutated", "yes") in pairs


@SETTINGS
@given(
    st.sampled_from(FIXTURE_REQUESTS),
    st.sampled_from(BODIES + [b"a=%26&b=%3D&a=2", b" x=1 "]),
    st.sampled_from(["", "application/json", "application/x-www-form-urlencoded"]),
)
def test_request_params_dict_is_params_dict_of_request_params(
    request: CapturedRequest, body: bytes, content_type: str
) -> None:
    changed = request.model_copy(update={"body": body, "request_headers": [("Content-Type", content_type)]})
    for candidate in (request, changed):
        expected = wire.params_dict(wire.request_params(candidate))
        assert list(wire.request_params_dict(candidate).items()) == list(expected.items())


HOSTNAMES = st.sampled_from(["a.example", "A.Example.", "x.a.example", "example", "ba.example", ""])
PATTERNS = st.lists(st.sampled_from([".a.example", "a.example", "example", ".example", "b"]), max_size=4)


@SETTINGS
@given(HOSTNAMES, PATTERNS)
def test_host_matches_remembers_what_it_would_answer(host: str, patterns: list[str]) -> None:
    from harness.urls import _host_matches, host_matches

    assert host_matches(host, tuple(patterns)) == _host_matches(host, tuple(patterns))
    as_list: Any = patterns  # a list: no cache, same answer
    assert host_matches(host, as_list) == _host_matches(host, as_list)


# --- JSON and text helpers ------------------------------------------------------------------------------


def _loads_or_error(load: Any, text: str) -> Any:
    try:
        return load(text)
    except (ValueError, RecursionError):
        return "error"


@settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow])
@given(
    json_values,
    st.integers(0, 3),
    st.sampled_from(["", " \n\t", "\ufeff", "x", " \r"]),
    st.sampled_from(["", " \r\n", "x", " 1", "\ufeff"]),
)
def test_loads_json_is_json_loads(value: Any, levels: int, before: str, after: str) -> None:
    text = before + json.dumps(_nest(value, levels)) + after
    assert _same(_loads_or_error(wire.loads_json, text), _loads_or_error(json.loads, text))


@pytest.mark.parametrize("text", ["", " ", "{}", "[1] [2]", "nul", "1e999", "[" * 3000 + "]" * 3000, '"a'])
def test_loads_json_on_edge_cases(text: str) -> None:
    assert _same(_loads_or_error(wire.loads_json, text), _loads_or_error(json.loads, text))


HEXISH = st.text(alphabet="0123456789abcdefABCDEFgG \n\u0660\u00e9K", min_size=60, max_size=68)


@SETTINGS
@given(HEXISH)
def test_user_data_form_is_the_sha256_regex(value: str) -> None:
    text = value.strip()
    expected = "sha256" if len(text) == 64 and wire._SHA256.match(text) else "raw"
    assert wire.user_data_form(value) == expected


@SETTINGS
@given(st.text(alphabet="-0123456789\u0660\u00b2a +", max_size=22))
def test_meta_pixel_integers_are_the_integer_regex(value: str) -> None:
    from harness.decoders.vendors import meta_pixel

    assert meta_pixel._is_integer(value) == bool(meta_pixel._INTEGER.fullmatch(value))


@SETTINGS
@given(st.text(alphabet="abz_09[]]\"= \r\n;:", max_size=30))
def test_meta_pixel_remembered_names_are_the_regexes(text: str) -> None:
    from harness.decoders.vendors import meta_pixel

    match = meta_pixel._BRACKET_KEY.match(text)
    assert meta_pixel._bracket_key(text) == ((match.group(1), match.group(2)) if match else None)
    name = meta_pixel._PART_NAME.search(text)
    assert meta_pixel._part_name(text) == (name.group(1) if name else None)


@SETTINGS
@given(st.text(alphabet="ABCDEFabcdef0123+/=-_ \n\t\u00e9%", max_size=14))
def test_snowplow_base64_is_b64decode_validated(text: str) -> None:
    import base64
    import binascii

    def decoded(decode: Any) -> Any:
        try:
            return decode()
        except (binascii.Error, ValueError) as exc:
            return type(exc)

    assert decoded(lambda: binascii.a2b_base64(text, strict_mode=True)) == decoded(
        lambda: base64.b64decode(text, validate=True)
    )


@SETTINGS
@given(st.lists(st.sampled_from(["a=1", "b=%26", "\r", "\n", "\r\n", " ", "{", "c"]), max_size=8).map("".join))
def test_ga4_body_lines_split_as_the_regex_does(text: str) -> None:
    from harness.decoders.vendors import ga4

    lines: list[list[tuple[str, str]]] = []
    for line in ga4._LINE_BREAKS.split(text):
        line = line.strip()
        if not line:
            continue
        if line[0] in "{[<" or "=" not in line:
            lines = None  # type: ignore[assignment]
            break
        lines.append(parse_query(line))
    assert ga4.body_lines(text) == lines


# --- vendors' rewritten loops against their plain versions ---------------------------------------------

GA4_KEYS = ["en", "tid", "gcs", "npa", "ep.a", "epn.n", "up.u", "upn.v", "ep.", "pr1", "pr02", "pr10", "prx"]
GA4_KEYS += ["_c", "_fv", "_et", "sct", "dl", "x", "ep.value", "epn.value", "k1", "_s"]
GA4_VALUES = st.sampled_from(["", "1", "0", "2.5", "abc", "1e999", "idSKU~nmName~pr12.5~qt2~k0color~v0red"])


def _ga4_params_before(hit: dict[str, str]) -> dict[str, Any]:
    """``ga4._params`` as written before it remembered how each name reads."""
    from harness.decoders.vendors import ga4

    params: dict[str, Any] = {}
    event_params: dict[str, Any] = {}
    user_properties: dict[str, Any] = {}
    items: list[tuple[int, dict[str, Any]]] = []
    for key, value in hit.items():
        if key in ga4._CONSUMED:
            continue
        prefix, dot, name = key.partition(".")
        if dot and prefix in ("ep", "epn"):
            number = wire.to_number(value) if prefix == "epn" else None
            event_params[name] = number if number is not None else value
        elif dot and prefix in ("up", "upn"):
            number = wire.to_number(value) if prefix == "upn" else None
            user_properties[name] = number if number is not None else value
        elif key[:2] == "pr" and (match := ga4._ITEM_PARAM.match(key)):
            items.append((int(match.group(1)), ga4.parse_item(value)))
        elif key in ga4.FLAG_PARAMS:
            params[key] = value == "1"
        elif key in ga4.NUMERIC_PARAMS and (number := wire.to_number(value)) is not None:
            params[key] = int(number) if number.is_integer() else number
        else:
            params[key] = value
    if event_params:
        params["event_params"] = event_params
    if user_properties:
        params["user_properties"] = user_properties
    if items:
        params["items"] = [item for _, item in sorted(items, key=lambda pair: pair[0])]
    return params


@SETTINGS
@given(st.dictionaries(st.sampled_from(GA4_KEYS), GA4_VALUES, max_size=12))
def test_ga4_params_are_read_as_before(hit: dict[str, str]) -> None:
    from harness.decoders.vendors import ga4

    assert _same(ga4._params(hit), _ga4_params_before(hit))


CLICK_URLS = st.sampled_from(
    [None, "", "https://s/?gclid=a&gclid=b&x=1", "https://s/?fbclid=&fbclid=f&ttclid=t", "no url", "https://s/p"]
)


@SETTINGS
@given(st.sampled_from([None, "", "?gclid=s", "gclid=&msclkid=m"]), st.sampled_from([None, "?ttclid=p"]), CLICK_URLS)
def test_segment_and_snowplow_click_ids_are_read_as_before(
    search: str | None, property_search: str | None, page_url: str | None
) -> None:
    from harness.decoders.registry import click_id_names
    from harness.decoders.vendors import segment

    names = click_id_names()
    page = {} if search is None else {"search": search}
    properties = {} if property_search is None else {"search": property_search}
    found = wire.text_or_none(search) or wire.text_or_none(property_search)
    pairs = wire.query_params("https://x/" + found) if found else []
    if page_url:
        pairs += wire.query_params(page_url)
    expected: dict[str, str] = {}
    for name, value in pairs:
        if name in names and value:
            expected.setdefault(name, value)
    assert segment.SegmentDecoder._click_ids(page, properties, page_url) == expected
    snowplow_before = {k: v for k, v in wire.query_params(page_url or "") if k in names and v}
    assert {k: v for k, v in wire.query_named(page_url or "", names) if v} == snowplow_before


# --- building events ------------------------------------------------------------------------------------

EVENT_FIELDS = st.fixed_dictionaries(
    {"vendor": st.sampled_from(["v", 1]), "event": st.sampled_from(["e", None])},
    optional={
        "value": st.sampled_from([1, 2.5, "3", "x", None, float("nan")]),
        "click_ids": st.sampled_from([{}, {"a": "b"}, {"a": 1}]),
        "user_data": st.sampled_from([{}, {"em": "sha256"}, {"em": "hashed"}]),
        "source": st.sampled_from(["browser", "server", "both"]),
        "params": st.sampled_from([{}, {"a": [1, {"b": None}]}, {1: "x"}]),
        "consent": st.sampled_from([{}, {"ad_storage": "granted"}, {"ad_storage": "maybe"}, {"other": {"a": "b"}}]),
        "unknown": st.just("x"),
    },
)


def _built(build: Any, fields: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        event = build(**fields)
    except ValidationError as exc:
        return [error["type"] for error in exc.errors()]
    return event.model_dump(mode="json"), event.model_fields_set, event.consent.model_fields_set


@SETTINGS
@given(EVENT_FIELDS)
def test_new_event_validates_as_the_constructor(fields: dict[str, Any]) -> None:
    from harness.decoders.base import new_event

    assert _built(new_event, fields) == _built(DecodedEvent, fields)


def test_new_consent_validates_as_the_constructor() -> None:
    from pydantic import ValidationError

    from harness.decoders.base import new_consent
    from harness.models import ConsentState

    fields: dict[str, Any] = {"ad_storage": "granted", "gcs": "G111", "other": {"npa": "0"}}
    assert new_consent(**fields) == ConsentState(**fields)
    assert new_consent(**fields).model_fields_set == ConsentState(**fields).model_fields_set
    with pytest.raises(ValidationError):
        new_consent(ad_storage="maybe")


def test_each_event_gets_its_own_validated_default_consent() -> None:
    from harness.models import ConsentState

    first, second = DecodedEvent(vendor="v", event="e"), DecodedEvent(vendor="v", event="e")
    assert type(first.consent) is ConsentState and first.consent == ConsentState()
    assert first.consent is not second.consent and first.consent.other is not second.consent.other
    assert first.consent.model_fields_set == set() and "consent" not in first.model_fields_set
    first.consent.other["x"] = "y"
    assert DecodedEvent(vendor="v", event="e").consent.other == {}


def test_ga4_mp_events_of_one_request_share_no_consent() -> None:
    path = next(p for p in fixture_files() if p.name == "debug_firebase_two_events.json")
    events = REGISTRY.decode(fixture_request(load_fixture(path)))
    assert len(events) == 2 and events[0].consent == events[1].consent
    assert events[0].consent is not events[1].consent and events[0].consent.other is not events[1].consent.other


# --- a body parsed by claims, handed to decode ----------------------------------------------------------

HANDED = [
    r
    for r in FIXTURE_REQUESTS
    if any(word in r.id for word in ("proxied", "custom-path", "not-a-hit-site", "rudderstack"))
]


def _events(events: list[DecodedEvent]) -> list[str]:
    return [e.model_dump_json() for e in events]


@pytest.mark.parametrize("request_", HANDED, ids=[r.id for r in HANDED])
def test_a_body_handed_from_claims_decodes_as_a_fresh_parse(request_: CapturedRequest) -> None:
    for decoder in REGISTRY.decoders:
        if decoder.vendor not in ("segment", "snowplow") or not decoder.claims(request_):
            continue
        decoder.decode(request_)  # takes whatever was handed: nothing is held now
        assert not decoder._parsed._held  # type: ignore[attr-defined]
        fresh = _events(decoder.decode(request_))  # parses its own
        assert decoder.claims(request_) and decoder._parsed._held  # type: ignore[attr-defined]
        handed = decoder.decode(request_)
        assert _events(handed) == fresh and not decoder._parsed._held  # type: ignore[attr-defined]
        # Taken once: a second decode parses again and shares nothing with the first.
        again = decoder.decode(request_)
        assert _events(again) == fresh
        assert all(a.params is not b.params for a, b in zip(handed, again, strict=True))
        # Handed for another body: not taken.
        other = request_.model_copy(update={"body": request_.body + b" "})
        expected = _events(decoder.decode(other))
        assert decoder.claims(request_)
        assert _events(decoder.decode(other)) == expected


# --- params already safe where decoders no longer call json_safe -------------------------------------


def _plant(value: Any, planted: Any, depth: int) -> Any:
    if depth and isinstance(value, dict) and value:
        key = sorted(value)[depth % len(value)]
        return {**value, key: _plant(value[key], planted, depth - 1)}
    if depth and isinstance(value, list) and value:
        return [_plant(value[0], planted, depth - 1), *value[1:]]
    return planted


JSON_HITS = [(r, body) for r in FIXTURE_REQUESTS if (body := wire.parse_json(r.body)) is not None]


@settings(SETTINGS, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(JSON_HITS),
    st.sampled_from([float("inf"), float("nan"), 10**30, -(10**19), "x", None]),
    st.integers(0, 36),
    st.integers(0, 6),
)
def test_decoded_params_are_json_safe_already(hit: Any, leaf: Any, levels: int, depth: int) -> None:
    request, body = hit
    planted = request.model_copy(update={"body": json.dumps(_plant(body, _nest(leaf, levels), depth)).encode()})
    for event in REGISTRY.decode(planted):
        assert _same(wire.json_safe(event.params), event.params), event.vendor


def test_a_value_that_is_no_number_is_kept_as_sent_for_the_value_check() -> None:
    for raw, kept in (("12,50", "12,50"), ("", ""), ("undefined", "undefined"), ({"amount": 1}, {"amount": 1})):
        params: dict[str, object] = {}
        assert wire.number_keeping_raw(raw, params) is None and params == {"value_raw": kept}
    for raw, number in (("12.5", 12.5), (3, 3.0), (None, None)):
        params = {}
        assert wire.number_keeping_raw(raw, params) == number and params == {}
