"""Reading the common wire shapes of tag hits: query strings, form bodies, JSON bodies, numbers, hashes.

Every function here is total: bad input gives None or an empty result, never an exception, so a
decoder built on them never raises.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from harness.models import CapturedRequest, UserDataForm
from harness.urls import parse_query, url_query

_SHA256 = re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE)
_FORM_START = re.compile(r"[^=&\s{\[<]+=")


def query_params(url: str) -> list[tuple[str, str]]:
    """The query string's pairs as ``parse_qsl(keep_blank_values=True)`` reads them; empty for a URL that
    cannot be split."""
    return url_query(url)


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
_CONTAINERS = frozenset({dict, list})


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with nesting cut at MAX_JSON_DEPTH, keys as strings and non-finite floats as None, so
    any event holding it serialises."""
    if type(value) in _ALREADY_SAFE:
        return value
    if depth >= MAX_JSON_DEPTH and isinstance(value, dict | list):
        return "(nested too deep)"
    # Safe items are kept inline rather than recursed into: the call per item is most of the cost.
    if isinstance(value, dict):
        return {
            str(key): item if type(item) in _ALREADY_SAFE else json_safe(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [item if type(item) in _ALREADY_SAFE else json_safe(item, depth + 1) for item in value]
    return _safe_number(value)


def _safe_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
        return str(value)  # beyond what JSON consumers can hold exactly
    return value


# json.loads hooks: each number made safe as it is parsed, as ``json_safe`` would make it afterwards.
def _json_int(text: str) -> Any:
    return _safe_number(int(text))


def _json_float(text: str) -> Any:
    return _safe_number(float(text))


def _json_constant(_name: str) -> None:
    return None  # NaN, Infinity and -Infinity, which json.loads accepts


_JSON_WHITESPACE = " \t\n\r"
# Built once: json.loads(text, parse_int=...) would build a new decoder on every call.
_SAFE_JSON = json.JSONDecoder(parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)


def parse_json(text: str | bytes) -> Any | None:
    """JSON text parsed and made safe (see ``json_safe``), or None when it is not JSON."""
    try:
        if isinstance(text, bytes | bytearray):
            text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads reads bytes
        if not isinstance(text, str):
            return None
        # json.loads(text) minus the two regex calls of JSONDecoder.decode: whitespace may surround the
        # value, nothing else. The hooks make numbers safe while parsing, sparing a walk over the value...
        value, end = _SAFE_JSON.raw_decode(text, len(text) - len(text.lstrip(_JSON_WHITESPACE)))
    except (ValueError, RecursionError):
        return None
    if end != len(text.rstrip(_JSON_WHITESPACE)):
        return None
    # ...unless it nests too deep. Every level needs its own "{" or "[", so few of them rule that out.
    if text.count("{") + text.count("[") >= MAX_JSON_DEPTH and _nests_too_deep(value):
        return json_safe(value)
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


def to_number(value: Any) -> float | None:
    """A finite number from a number or a numeric string ("12.50", "1,299.00" is not one); else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if type(value) is str:  # the usual case, tested first
            number = float(value.strip())
        elif isinstance(value, int | float):
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
    return "sha256" if len(text) == 64 and _SHA256.match(text) else "raw"


def text_or_none(value: Any) -> str | None:
    """A non-empty string form of a scalar, else None."""
    if value is None:
        return None
    if type(value) is str:  # the usual case, tested first
        return value.strip() or None
    if isinstance(value, dict | list):
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
