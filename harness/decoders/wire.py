"""Reading the common wire shapes of tag hits: query strings, form bodies, JSON bodies, numbers, hashes.

Every function here is total: bad input gives None or an empty result, never an exception, so a
decoder built on them never raises.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable
from typing import Any

from harness.models import CapturedRequest, UserDataForm
from harness.urls import parse_query, url_query, url_query_dict, url_query_named, url_query_value

_SHA256 = re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE)
# Exactly the characters the class of _SHA256 matches, case-folding included.
_HEX_DIGITS = "0123456789abcdefABCDEF"
_FORM_START = re.compile(r"[^=&\s{\[<]+=")


def query_params(url: str) -> list[tuple[str, str]]:
    """The query string's pairs as ``parse_qsl(keep_blank_values=True)`` reads them; empty for a URL that
    cannot be split."""
    return url_query(url)


# ``params_dict(query_params(url))``, its ``.get(name)`` and the pairs named in a frozenset, read from a
# per-URL cache.
query_dict = url_query_dict
query_value = url_query_value
query_named = url_query_named


def form_params(text: str) -> list[tuple[str, str]]:
    """A urlencoded body as pairs; empty when the text is not shaped like one."""
    text = text.strip()
    if not _FORM_START.match(text) or len(text.split(maxsplit=1)) > 1:  # no whitespace anywhere
        return []
    return parse_query(text)


def request_params(request: CapturedRequest) -> list[tuple[str, str]]:
    """Query parameters followed by form-body parameters (a POST body often repeats or adds to the query)."""
    params = query_params(request.url)
    if request.body and request.content_type not in ("application/json",):
        params += form_params(request.text)
    return params


def request_params_dict(request: CapturedRequest) -> dict[str, str]:
    """``params_dict(request_params(request))``; without form parameters, the query's from its cache."""
    if request.body and request.content_type not in ("application/json",):
        return params_dict(query_params(request.url) + form_params(request.text))
    return url_query_dict(request.url)


def params_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Pairs as a dict, the first occurrence of a name winning."""
    pairs = pairs if isinstance(pairs, list) else list(pairs)
    out = dict(pairs)
    if len(out) == len(pairs):
        return out  # no name repeats (the usual case), so dict() kept the first and only value
    out = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


# Deeper JSON than this is cut: real payloads nest a few levels, and pydantic cannot serialise ~255.
MAX_JSON_DEPTH = 32
# Exact types ``json_safe`` returns untouched; checked first because most values are strings.
_ALREADY_SAFE = frozenset({str, bool, type(None)})
_STR_ONLY = frozenset({str})
_CONTAINERS = frozenset({dict, list})
# isinstance() tuples rather than ``dict | list``, which builds a new union object on every call.
_DICT_OR_LIST = (dict, list)
_LIST_OR_TUPLE = (list, tuple)
_INT_OR_FLOAT = (int, float)
_BYTES_LIKE = (bytes, bytearray)


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with nesting cut at MAX_JSON_DEPTH, keys as strings and non-finite floats as None, so
    any event holding it serialises."""
    if type(value) in _ALREADY_SAFE:
        return value
    if depth >= MAX_JSON_DEPTH and isinstance(value, _DICT_OR_LIST):
        return "(nested too deep)"
    # Safe items are kept inline rather than recursed into: the call per item is most of the cost. A
    # container of nothing but safe items and string keys (the usual flat params) is copied in one call.
    if isinstance(value, dict):
        if _ALREADY_SAFE.issuperset(map(type, value.values())) and _STR_ONLY.issuperset(map(type, value)):
            return dict(value)
        return {
            str(key): item if type(item) in _ALREADY_SAFE else json_safe(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, _LIST_OR_TUPLE):
        if _ALREADY_SAFE.issuperset(map(type, value)):
            return list(value)
        return [item if type(item) in _ALREADY_SAFE else json_safe(item, depth + 1) for item in value]
    return _safe_number(value)


def _safe_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
        return str(value)  # beyond what JSON consumers can hold exactly
    return value


# json.loads hooks: each number made safe as it is parsed, as ``json_safe`` would make it afterwards
# (``_safe_number`` inlined: they run for every number of every JSON body).
def _json_int(text: str) -> Any:
    number = int(text)
    return str(number) if abs(number) > 2**63 else number


def _json_float(text: str) -> Any:
    number = float(text)
    return number if math.isfinite(number) else None


def _json_constant(_name: str) -> None:
    return None  # NaN, Infinity and -Infinity, which json.loads accepts


_JSON_WHITESPACE = " \t\n\r"
# Built once: json.loads(text, parse_int=...) would build a new decoder on every call.
_SAFE_JSON = json.JSONDecoder(parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)


def parse_json(text: str | bytes) -> Any | None:
    """JSON text parsed and made safe (see ``json_safe``), or None when it is not JSON."""
    try:
        if type(text) is not str:
            if isinstance(text, _BYTES_LIKE):
                text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads reads bytes
            elif not isinstance(text, str):
                return None
        # json.loads(text) minus the two regex calls of JSONDecoder.decode: whitespace may surround the
        # value, nothing else (callers mostly pass stripped text, so look before copying). The hooks
        # make numbers safe while parsing, sparing a walk over the value...
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE)) if text[:1] in _JSON_WHITESPACE else 0
        value, end = _SAFE_JSON.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    if end != len(text) and end != len(text.rstrip(_JSON_WHITESPACE)):
        return None
    # ...unless it nests too deep. Every level needs its own "{" or "[", so few of them rule that out
    # (and enough "{" alone call for the walk without counting "[").
    if type(value) in _CONTAINERS and (
        (opens := text.count("{")) >= MAX_JSON_DEPTH or opens + text.count("[") >= MAX_JSON_DEPTH
    ):
        return json_safe(value) if _nests_too_deep(value) else value
    return value


_PLAIN_JSON = json.JSONDecoder()


def loads_json(text: str) -> Any:
    """``json.loads(text)`` for a str, values as it reads them (not made safe), minus the two regex calls
    of ``JSONDecoder.decode``: raises ValueError (or RecursionError) where it does."""
    start = len(text) - len(text.lstrip(_JSON_WHITESPACE)) if text[:1] in _JSON_WHITESPACE else 0
    value, end = _PLAIN_JSON.raw_decode(text, start)  # a BOM fails here, as json.loads refuses it
    if end != len(text) and end != len(text.rstrip(_JSON_WHITESPACE)):
        raise ValueError("extra data after the JSON value")
    return value


def _nests_too_deep(value: Any, depth: int = 0) -> bool:
    """Whether parsed JSON holds an object or array ``json_safe`` would cut (MAX_JSON_DEPTH deep)."""
    if type(value) not in _CONTAINERS:
        return False
    if depth >= MAX_JSON_DEPTH:
        return True
    for child in value.values() if type(value) is dict else value:
        if type(child) in _CONTAINERS and _nests_too_deep(child, depth + 1):
            return True
    return False


def json_body(request: CapturedRequest) -> Any | None:
    """The body parsed as JSON whatever its content type (beacons send JSON as text/plain), or None."""
    text = request.text.strip()
    if not text or text[0] not in "{[":
        return None
    return parse_json(text)


class BodyHandoff:
    """The JSON body a decoder's ``claims`` had to parse, handed to the ``decode`` of the same request that
    follows (the registry calls the two back to back), so that it is parsed once.

    Taken at most once, so two decodes never share a value; matched by the body object itself (bytes
    never change), so any other body is parsed anew, exactly as ``json_body`` would."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[bytes, Any]] = {}

    def give(self, request: CapturedRequest, body: Any) -> None:
        self._held["body"] = (request.body, body)

    def hand_on_if(self, request: CapturedRequest, body: Any, is_vendors: Callable[[Any], bool]) -> bool:
        """Whether ``body`` is the vendor's (``is_vendors``), as ``claims`` decides on a host that could be the
        site's own; if so, it is held for the decode that follows."""
        if not is_vendors(body):
            return False
        self.give(request, body)
        return True

    def take(self, request: CapturedRequest) -> Any | None:
        """``json_body(request)``."""
        held = self._held.pop("body", None)  # one atomic step: two threads never both take it
        if held is not None and held[0] is request.body:
            return held[1]
        return json_body(request)


def to_number(value: Any) -> float | None:
    """A finite number from a number or a numeric string ("12.50", "1,299.00" is not one); else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if type(value) is str:  # the usual case, tested first
            number = float(value.strip())
        elif isinstance(value, _INT_OR_FLOAT):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # "abc", or an integer beyond float range
        return None
    return number if math.isfinite(number) else None


def user_data_form(value: str) -> UserDataForm:
    """Whether an identifier was sent as a SHA-256 hex digest or as something else (raw)."""
    text = value.strip()
    # All 64 characters hex (what _SHA256 matches) when stripping the hex digits leaves nothing.
    return "sha256" if len(text) == 64 and not text.strip(_HEX_DIGITS) else "raw"


def number_keeping_raw(raw: Any, params: dict[str, Any], key: str = "value_raw") -> float | None:
    """``to_number(raw)``; a value that was sent (not None) but is no number is kept as sent in
    ``params[key]``, so the value check can show what the tag sent ("12,50", "", "undefined")."""
    value = to_number(raw)
    if value is None and raw is not None:
        params[key] = raw
    return value


def text_or_none(value: Any) -> str | None:
    """A non-empty string form of a scalar, else None."""
    if type(value) is str:  # the usual case, tested first
        return value.strip() or None
    if value is None or isinstance(value, _DICT_OR_LIST):
        return None
    text = str(value).strip()
    return text or None


def server_event_extra(item: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    """A conversions-API event's fields beyond the typed ones, with ``custom_data.*`` flattened.

    Shared by the vendors whose server events follow Meta's shape (event_name, event_id, user_data,
    custom_data with value/currency/order_id)."""
    extra = {k: v for k, v in item.items() if k not in ("event_name", "event_id", "user_data", "custom_data")}
    extra.update({f"custom_data.{k}": v for k, v in custom.items() if k not in ("value", "currency", "order_id")})
    return extra


def gunzipped(data: bytes, limit: int) -> bytes | None:
    """``data`` inflated from gzip, at most ``limit`` bytes (a gzip bomb is cut there), or None when it is no
    valid gzip."""
    try:
        return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress(data, limit)
    except (zlib.error, ValueError, EOFError):
        return None
