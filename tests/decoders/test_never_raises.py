"""Property: no registered decoder raises, whatever arrives, and what it decodes is a sound DecodedEvent.

Decoders are called directly (the registry would turn an exception into a malformed event and hide it).
Inputs are hostile: random bytes and JSON bodies, query strings with ``%`` garbage, huge numbers, NaN,
nested brackets and invalid UTF-8, random methods and headers, on random hosts and on the hosts and paths
of every known hit in the fixtures directory (so each vendor's decode path is really reached).
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.decoders.base import Decoder
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply
from tests.decoders.fixture_loader import fixture_files, fixture_request, load_fixture

DECODERS: list[Decoder] = DecoderRegistry.default().decoders

# Every hit URL the fixtures know, whichever helper wrote them: their hosts and paths are the vendors' own.
HITS_BY_VENDOR: dict[str, list[str]] = {}
for _path in fixture_files():
    _data = load_fixture(_path)
    if _data.get("claimed_by"):
        HITS_BY_VENDOR.setdefault(_data["claimed_by"], []).append(_data["request"]["url"])
# Known hits whose body is JSON (Conversions APIs, Segment, ...): (fixture request, parsed body).
JSON_BODY_HITS: list[tuple[CapturedRequest, object]] = []
for _path in fixture_files():
    _data = load_fixture(_path)
    if _data.get("claimed_by"):
        _request = fixture_request(_data)
        try:
            JSON_BODY_HITS.append((_request, json.loads(_request.body)))
        except (ValueError, UnicodeDecodeError):
            pass
KNOWN_HITS: list[str] = sorted({url for urls in HITS_BY_VENDOR.values() for url in urls})
KNOWN_KEYS = sorted(
    {key for url in KNOWN_HITS for key, _ in CapturedRequest(id="k", method="GET", url=url).query}
)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_texts = json_values.map(json.dumps)  # json.dumps writes NaN/Infinity, which json.loads reads back

nasty_values = st.sampled_from(
    [
        "",
        "%",
        "%zz",
        "%E0%A4",
        "%ff%fe%00",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e999",
        "-1e999",
        "9" * 400,
        "0x1F",
        "1,299.00",
        "[" * 300,
        "[" * 300 + "]" * 300,
        "{" * 50,
        "[[[]]]",
        '{"a":{"b":{"c":[1,[2,[3]]]}}}',
        "null",
        "true",
        "[]",
        "{}",
        "tw-abc-def",
        "\u0000\ufffd",
    ]
)
values = st.one_of(
    nasty_values,
    st.text(max_size=30),
    json_texts.map(lambda text: quote(text, safe="")),
    json_texts,
    st.binary(max_size=20).map(lambda raw: quote(raw, safe="")),
)
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS or ["id"]), st.text(max_size=10), st.sampled_from(["a[b]", "a[", "]", "%"])
)
query_strings = st.lists(st.tuples(keys, values), max_size=8).map(
    lambda pairs: "&".join(f"{key}={value}" for key, value in pairs)
)

gzipped_json = json_texts.map(lambda text: base64.b64encode(gzip.compress(text.encode())).decode().encode())
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    json_texts.map(str.encode),
    query_strings.map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    gzipped_json,
    st.sampled_from([b"\xff\xfe\xfd", b"[" * 3000, b'{"data":' * 400, b"not-base64-gzip!!"]),
)
methods = st.one_of(st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "PATCH"]), st.text(max_size=8))
content_types = st.sampled_from(
    ["", "text/plain", "application/json", "application/x-www-form-urlencoded", "image/gif", "garbage/;;;"]
)
random_hosts = st.sampled_from(
    ["example.com", "shop.example", "www.reddit.com", "t.co", "localhost", "127.0.0.1"]
)
random_paths = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#?"), max_size=30
)


@st.composite
def requests(draw: st.DrawFn, hits: list[str]) -> CapturedRequest:
    """A request on one of ``hits``' origins (all of a real hit, or just its host and path) with a garbage
    query appended, or with no ``hits`` a request on a random host and path."""
    if hits:
        base = draw(st.sampled_from(hits))
        if draw(st.booleans()):
            base = origin(base)
        url = base + ("&" if "?" in base else "?") + draw(query_strings)
    else:
        url = f"https://{draw(random_hosts)}/{draw(random_paths)}?{draw(query_strings)}"
    headers = [("content-type", draw(content_types))]
    if draw(st.booleans()):
        headers.append(
            ("referer", draw(st.sampled_from(KNOWN_HITS or ["https://x"])) + "&" + draw(query_strings))
        )
    return CapturedRequest(
        id="fuzz",
        method=draw(methods),
        url=url,
        request_headers=headers,
        body=draw(bodies),
        source=draw(st.sampled_from(["browser", "server"])),
    )


# --- the property --------------------------------------------------------------------------------


def assert_sound(decoder: Decoder, request: CapturedRequest) -> None:
    """``decoder`` claims, answers and decodes ``request`` without raising, and every event is sound."""
    try:
        _check(decoder, request)
    except Exception as exc:  # name the vendor and the request: hypothesis shows only the falsifying input
        where = f"{decoder.vendor} on {request.method} {request.url[:300]!r} body={request.body[:80]!r}"
        raise AssertionError(f"{where}: {type(exc).__name__}: {str(exc)[:300]}") from exc


def _check(decoder: Decoder, request: CapturedRequest) -> None:
    claimed = decoder.claims(request)
    assert isinstance(claimed, bool), f"claims returned {claimed!r}"
    if not claimed:
        return
    assert isinstance(decoder.sinkhole_reply(request), SinkholeReply)
    events = decoder.decode(request)
    assert isinstance(events, list), f"decode returned {type(events).__name__}"
    for event in events:
        assert isinstance(event, DecodedEvent), f"{event!r} is not a DecodedEvent"
        assert event.value is None or (isinstance(event.value, float) and math.isfinite(event.value)), (
            f"value {event.value!r}"
        )
        assert not event.malformed or event.malformed_reason, "malformed without a reason"
        # Validates, and survives the JSON round trip that reports and `eventpath decode --json` use.
        DecodedEvent.model_validate(event.model_dump())
        DecodedEvent.model_validate_json(event.model_dump_json())


def test_there_are_decoders_and_known_hits() -> None:
    assert DECODERS, "no decoders registered"
    assert KNOWN_HITS, "no fixture hits to shape requests after"


@pytest.mark.parametrize("vendor", sorted(HITS_BY_VENDOR))
@SETTINGS
@given(data=st.data())
def test_vendor_shaped_requests_never_raise(vendor: str, data: st.DataObject) -> None:
    request = data.draw(requests(HITS_BY_VENDOR[vendor]))
    for decoder in DECODERS:
        assert_sound(decoder, request)


@SETTINGS
@given(request=requests([]))
def test_random_requests_never_raise(request: CapturedRequest) -> None:
    for decoder in DECODERS:
        assert_sound(decoder, request)


@SETTINGS
@given(hit=st.sampled_from(KNOWN_HITS or ["https://x/"]), body=bodies, method=methods, ctype=content_types)
def test_known_hits_with_random_bodies_never_raise(hit: str, body: bytes, method: str, ctype: str) -> None:
    request = CapturedRequest(
        id="fuzz", method=method, url=hit, request_headers=[("content-type", ctype)], body=body
    )
    for decoder in DECODERS:
        assert_sound(decoder, request)


def leaf_paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Paths to every leaf and every container of a parsed JSON body (the root excluded)."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaf_paths(item, (*path, index))
    return found


def replaced(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    assert isinstance(value, list) and isinstance(head, int)
    return [replaced(item, rest, new) if i == head else item for i, item in enumerate(value)]


nasty_json = st.one_of(
    json_values,
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**30), "", "NaN", "1e999", [], {}]),
    st.integers(min_value=200, max_value=400).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)


@SETTINGS
@given(data=st.data())
def test_known_json_bodies_with_a_hostile_leaf_never_raise(data: st.DataObject) -> None:
    if not JSON_BODY_HITS:
        return
    request, body = data.draw(st.sampled_from(JSON_BODY_HITS))
    paths = leaf_paths(body)
    if paths:
        body = replaced(body, data.draw(st.sampled_from(paths)), data.draw(nasty_json))
    hostile = request.model_copy(update={"body": json.dumps(body).encode()})
    for decoder in DECODERS:
        assert_sound(decoder, hostile)


# A ``name=value`` parameter of a query string or of a ``;``-separated path (Floodlight).
PARAMETER_SLOT = re.compile(r"[?&;](?P<name>[^=&;?#]+)=(?P<value>[^&;#]*)")
SWEEP_VALUES = ("%zz", "NaN", "1e999", "[" * 300 + "]" * 300, '{"a":[{"b":null}]}', "%ff%fe")


# Vendors whose known hits carry URL parameters (JSON-body-only vendors are covered by the body tests).
SWEEPABLE = sorted(v for v, hits in HITS_BY_VENDOR.items() if any(PARAMETER_SLOT.search(hit) for hit in hits))


@pytest.mark.parametrize("vendor", SWEEPABLE)
def test_every_known_parameter_with_nasty_values_never_raises(vendor: str) -> None:
    """Deterministic sweep over one vendor's known hits: each parameter in turn set to each nasty value.
    Every failure is collected, so one bug does not hide the next."""
    failures: dict[str, str] = {}
    swept = 0
    for hit in HITS_BY_VENDOR[vendor]:
        for slot in PARAMETER_SLOT.finditer(hit):
            for nasty in SWEEP_VALUES:
                url = hit[: slot.start("value")] + nasty + hit[slot.end("value") :]
                request = CapturedRequest(id="sweep", method="GET", url=url)
                for decoder in DECODERS:
                    try:
                        assert_sound(decoder, request)
                    except AssertionError as exc:
                        failures.setdefault(f"{decoder.vendor}: {slot['name']}={nasty[:12]}", str(exc)[:200])
                swept += 1
    assert not failures, "\n".join(f"{where}\n    {detail}" for where, detail in failures.items())
    assert swept > 0
