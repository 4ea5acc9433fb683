"""The benchmark script runs: its fast section, as a user would start it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_the_decode_benchmark_runs_and_prints_its_rate_beside_the_target() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "decode"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "events decoded per second" in done.stdout and "target >= 50,000/s" in done.stdout


def test_an_unknown_section_is_refused() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--only", "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown section 'nope'" in done.stderr
