"""Launch flags: what we add must not undo what Playwright sets."""

from __future__ import annotations

from harness.browser.launcher import launch_args


def test_our_flags_leave_playwrights_feature_lists_alone() -> None:
    # Chromium keeps only the last --disable-features (seen here: "--disable-features=WebUSB" followed by
    # "--disable-features=Translate" leaves navigator.usb on), and Playwright passes its own list first.
    # A list of ours once replaced Playwright's and turned its startup requests to Google back on.
    args = launch_args("c3BraQ==")
    assert not [a for a in args if a.startswith(("--disable-features", "--enable-features"))], args
    assert "--ignore-certificate-errors-spki-list=c3BraQ==" in args
