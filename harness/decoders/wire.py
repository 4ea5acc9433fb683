"""Reading the common wire shapes of tag hits: query strings, form bodies, JSON bodies, numbers, hashes.

Every function here is total: bad input gives None or an empty result, never an exception, so a
decoder built on them never raises.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.models import CapturedRequest, UserDataForm

_SHA256 = re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE)
_FORM_BODY = re.compile(r"^[^=&\s{\[<]+=[^\s]*$", re.DOTALL)


def query_params(url: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return []


def form_params(text: str) -> list[tuple[str, str]]:
    """A urlencoded body as pairs; empty when the text is not shaped like one."""
    text = text.strip()
    if not text or not _FORM_BODY.match(text):
        return []
    try:
        return parse_qsl(text, keep_blank_values=True)
    except ValueError:
        return []


def request_params(request: CapturedRequest) -> list[tuple[str, str]]:
    """Query parameters followed by form-body parameters (a POST body often repeats or adds to the query)."""
    params = query_params(request.url)
    if request.body and request.content_type not in ("application/json",):
        params += form_params(request.text)
    return params


def params_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Pairs as a dict, the first occurrence of a name winning."""
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


# Deeper JSON than this is cut: real payloads nest a few levels, and pydantic cannot serialise ~255.
MAX_JSON_DEPTH = 32


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with nesting cut at MAX_JSON_DEPTH, keys as strings and non-finite floats as None, so
    any event holding it serialises."""
    if depth >= MAX_JSON_DEPTH and isinstance(value, dict | list):
        return "(nested too deep)"
    if isinstance(value, dict):
        return {str(key): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
        return str(value)  # beyond what JSON consumers can hold exactly
    return value


def parse_json(text: str | bytes) -> Any | None:
    """JSON text parsed and made safe (see ``json_safe``), or None when it is not JSON."""
    try:
        return json_safe(json.loads(text))
    except (ValueError, RecursionError, TypeError):
        return None


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
        if isinstance(value, int | float):
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
    return "sha256" if _SHA256.match(value.strip()) else "raw"


def text_or_none(value: Any) -> str | None:
    """A non-empty string form of a scalar, else None."""
    if value is None or isinstance(value, dict | list):
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
