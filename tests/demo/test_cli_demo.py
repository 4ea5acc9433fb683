"""`eventpath demo` as the README's second command: from any folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def test_the_demo_finds_its_scenarios_from_any_folder(tmp_path: Path) -> None:
    # No scenarios/ in the working folder: the checkout eventpath is installed from has them.
    done = subprocess.run(
        ["eventpath", "demo", "--list"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "EVENTPATH_BROWSER": "/nonexistent"},  # --list starts no browser
    )
    assert done.returncode == 0, done.stderr
    listed = done.stdout.splitlines()
    assert "demo-purchase[Pixel 7]" in listed and "demo-purchase[Pixel 7][missing_tag]" in listed


def test_a_named_folder_that_is_missing_is_one_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        ["eventpath", "demo", "nowhere", "--list"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "nowhere: no such file or folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_bugs_without_serve_is_refused_not_ignored(tmp_path: Path) -> None:
    """`--bugs` seeds the printed ad click URL of `--serve`; the suite runs every bug anyway. Ignoring it
    would run a whole suite the user did not ask for."""
    done = subprocess.run(
        ["eventpath", "demo", "--bugs", "slow_page"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "EVENTPATH_BROWSER": "/nonexistent"},
    )
    assert done.returncode == 2 and "--bugs goes with --serve" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
