"""Launch flags: what we add must not undo what Playwright sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.browser import launcher
from harness.browser.launcher import find_browser, launch_args
from harness.options import BROWSER_ENV


def test_our_flags_leave_playwrights_feature_lists_alone() -> None:
    # Chromium keeps only the last --disable-features (seen here: "--disable-features=WebUSB" followed by
    # "--disable-features=Translate" leaves navigator.usb on), and Playwright passes its own list first.
    # A list of ours once replaced Playwright's and turned its startup requests to Google back on.
    args = launch_args("c3BraQ==")
    assert not [a for a in args if a.startswith(("--disable-features", "--enable-features"))], args
    assert "--ignore-certificate-errors-spki-list=c3BraQ==" in args


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A headless shell and a full Chromium 'installed' under tmp_path, and no $EVENTPATH_BROWSER."""
    paths = {name: str(tmp_path / name) for name in ("chromium-headless-shell", "chromium")}
    for path in paths.values():
        Path(path).write_text("#!/bin/sh\n")
    monkeypatch.setattr(launcher, "HEADLESS_SHELLS", (str(tmp_path / "absent-shell"), paths["chromium-headless-shell"]))
    monkeypatch.setattr(launcher, "SYSTEM_BROWSERS", (paths["chromium"],))
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    return paths


def test_headless_runs_take_chromiums_headless_shell(installed: dict[str, str]) -> None:
    assert find_browser() == installed["chromium-headless-shell"]


def test_a_window_needs_the_full_browser(installed: dict[str, str]) -> None:
    assert find_browser(headless=False) == installed["chromium"]


def test_without_the_shell_headless_runs_take_the_full_browser(installed: dict[str, str]) -> None:
    Path(installed["chromium-headless-shell"]).unlink()
    assert find_browser() == installed["chromium"]


def test_an_explicit_browser_wins(installed: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_browser(installed["chromium"]) == installed["chromium"]
    monkeypatch.setenv(BROWSER_ENV, installed["chromium"])
    assert find_browser() == installed["chromium"]


def test_the_driver_starts_with_its_heap_sizes_beside_the_users_node_options() -> None:
    env = launcher.driver_env({"PATH": "/bin", "NODE_OPTIONS": "--enable-source-maps"})
    assert env["NODE_OPTIONS"] == "--enable-source-maps --max-semi-space-size=2 --max-old-space-size=1024"
    assert env["PATH"] == "/bin"
    assert launcher.driver_env({})["NODE_OPTIONS"] == "--max-semi-space-size=2 --max-old-space-size=1024"


def test_a_heap_size_the_user_chose_is_theirs() -> None:
    env = launcher.driver_env({"NODE_OPTIONS": "--max-old-space-size=4096"})
    assert env["NODE_OPTIONS"] == "--max-old-space-size=4096 --max-semi-space-size=2"
    spelled = launcher.driver_env({"NODE_OPTIONS": "--max_old_space_size=4096"})
    assert spelled["NODE_OPTIONS"] == "--max_old_space_size=4096 --max-semi-space-size=2", "V8 reads _ as -"
