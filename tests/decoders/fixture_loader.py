"""Decoder fixtures: one JSON file a captured or documented hit, under fixtures/<vendor>/.

File shape::

    {
      "source": "where this hit shape comes from (doc URL, public capture, package@version)",
      "request": {"method": "POST", "url": "https://...", "headers": [["content-type", "text/plain"]],
                  "body": "text body" | "body_base64": "..."},
      "claimed_by": "ga4",              # vendor expected to claim it; null for must-not-claim fixtures
      "events": [{"event": "purchase", "value": 12.5, ...}]   # per event, the fields that must match
    }

``events`` compares only the fields it names; ``params`` inside it compares only the keys it names.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from harness.models import CapturedRequest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.json"))


def load_fixture(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def fixture_request(data: dict[str, Any], request_id: str = "fixture") -> CapturedRequest:
    req = data["request"]
    if "body_base64" in req:
        body = base64.b64decode(req["body_base64"])
    else:
        body = req.get("body", "").encode("utf-8")
    return CapturedRequest(
        id=request_id,
        method=req.get("method", "GET"),
        url=req["url"],
        request_headers=[(k, v) for k, v in req.get("headers", [])],
        body=body,
        source=req.get("source", "browser"),
    )


def assert_subset(expected: Any, actual: Any, where: str) -> None:
    """Every key of ``expected`` is in ``actual`` with an equal value (recursively for dicts)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key}: missing (have {sorted(actual)})"
            assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, float) or isinstance(actual, float):
        assert actual is not None and expected is not None and abs(float(actual) - float(expected)) < 1e-9, (
            f"{where}: expected {expected!r}, got {actual!r}"
        )
    else:
        assert expected == actual, f"{where}: expected {expected!r}, got {actual!r}"
