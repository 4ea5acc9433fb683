"""Every decoder fixture: it names its source, the right vendor claims it, and it decodes as recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.decoders.registry import DecoderRegistry
from tests.decoders.fixture_loader import (
    FIXTURES,
    assert_subset,
    fixture_files,
    fixture_request,
    load_fixture,
)

FILES = fixture_files()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture_decodes_as_recorded(path: Path) -> None:
    data = load_fixture(path)
    assert str(data.get("source", "")).strip(), f"{path.name}: every fixture must name its source"
    registry = DecoderRegistry.default()
    request = fixture_request(data)
    claimant = registry.claimant(request)
    expected_vendor = data.get("claimed_by")
    assert (claimant.vendor if claimant else None) == expected_vendor
    if expected_vendor is None:
        return
    events = registry.decode(request)
    expected_events = data.get("events", [])
    assert len(events) == len(expected_events), [e.event for e in events]
    for index, (expected, event) in enumerate(zip(expected_events, events, strict=True)):
        assert_subset(expected, event.model_dump(), f"{path.name}[{index}]")


def test_there_are_fixtures() -> None:
    assert FILES, "no decoder fixtures found"
