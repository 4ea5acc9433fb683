"""Fixtures of the baseline tests; the run builders live in ``tests/baseline/runs.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.models import RunResult
from tests.baseline.runs import build_run, write_scenario


@pytest.fixture
def baseline_run() -> RunResult:
    """The accepted run: what an unchanged site produces (seed 1)."""
    return build_run(seed=1)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    return write_scenario(tmp_path)
