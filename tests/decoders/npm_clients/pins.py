"""What the npm-recorded fixtures were recorded with: the versions pinned in npm_clients/package.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.decoders.fixture_loader import FIXTURES, load_fixture

PACKAGE_JSON = Path(__file__).parent / "package.json"
# "@segment/analytics-next@1.84.3 driven in Chromium by ..." -> ("@segment/analytics-next", "1.84.3")
_SOURCE = re.compile(r"^(@?[a-z0-9][\w.-]*(?:/[\w.-]+)?)@(\d+\.\d+\.\d+\S*) driven in Chromium by ")


def pinned_versions() -> dict[str, str]:
    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["dependencies"]


def npm_recorded(vendor: str) -> list[tuple[Path, dict[str, Any]]]:
    """The vendor's fixtures recorded from a real npm client, with their data."""
    return [(path, load_fixture(path)) for path in sorted((FIXTURES / vendor).glob("npm-*.json"))]


def recorded_with(source: str) -> tuple[str, str] | None:
    """(package, version) named by an npm-recorded fixture's source, or None when it names none."""
    match = _SOURCE.match(source)
    return (match.group(1), match.group(2)) if match else None
