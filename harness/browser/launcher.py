"""Finding a Chromium and the flags it is launched with; the environment Playwright's driver starts in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from harness.errors import BrowserNotFound
from harness.options import BROWSER_ENV

# Debian's and other distributions' Chromium, then Google Chrome, in that order.
SYSTEM_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Chromium's headless shell, preferred when no window is wanted, as Playwright itself does: the same engine
# (Blink, V8, the network stack) without the desktop browser around it, at about half the CPU and memory
# per run. Debian packages it as chromium-headless-shell.
HEADLESS_SHELLS = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell")

# Quiet, hermetic Chromium: no background traffic (there is no network to refuse it politely), no sandbox
# (containers run as root), no first-run UI.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-quic",  # mitmproxy intercepts TCP; QUIC would bypass it
    # navigator.webdriver stays false, as for a visitor: consent platforms hide their banner from automated
    # browsers (CookieConsent's hideFromBots is on by default) and the run must see what visitors see.
    "--disable-blink-features=AutomationControlled",
    # No --disable-features/--enable-features here: Chromium keeps only the last of each, so ours would
    # silently replace Playwright's own list (PreconnectToSearch, NetworkTimeServiceQuerying, PaintHolding,
    # ThirdPartyStoragePartitioning, ...), turning its background requests and quirks back on.
)


# The Playwright driver (Node) collecting its garbage sooner. With Node's defaults its PSS climbed by about a
# megabyte a run between major collections (186 MB over a 40-run suite, 190 over 120 runs, against ~125 at
# the start): a 16 MB young generation, and an old generation let to grow to 4x what survived its last
# collection (V8 allows that factor to a heap limit of 2 GB or more, and Node sets 4 GB on this machine).
# A 2 MB young generation and a 1 GB limit (V8 then grows by at most 1.6x) held it at ~129 MB over 120 runs,
# with no CPU cost the benchmark could tell apart from noise. The limit is far above the few tens of MB a
# driver's live heap holds; a user who needs more sets their own (their NODE_OPTIONS win).
DRIVER_NODE_OPTIONS = ("--max-semi-space-size=2", "--max-old-space-size=1024")


def driver_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment to start the Playwright driver in: ``env`` (the process's when None) with
    DRIVER_NODE_OPTIONS added to ``NODE_OPTIONS``, except an option the user already set there."""
    merged = dict(os.environ if env is None else env)
    current = merged.get("NODE_OPTIONS", "")
    given = {_option_name(option) for option in current.split()}
    added = [option for option in DRIVER_NODE_OPTIONS if _option_name(option) not in given]
    if added:
        merged["NODE_OPTIONS"] = " ".join([current, *added]).strip()
    return merged


def _option_name(option: str) -> str:
    """``--max_old_space_size=4096`` and ``--max-old-space-size=4096`` name one V8 option."""
    return option.split("=", 1)[0].replace("_", "-")


def find_browser(explicit: str | None = None, *, headless: bool = True) -> str | None:
    """The Chromium binary to launch, or None to use Playwright's own browser.

    An explicit path (option or ``$EVENTPATH_BROWSER``) must exist; otherwise a system Chromium is
    preferred (its headless shell when headless), then Playwright's download if one is installed.
    """
    chosen = explicit or os.environ.get(BROWSER_ENV)
    if chosen:
        path = shutil.which(chosen) or chosen
        if not Path(path).is_file():
            raise BrowserNotFound(
                f"browser {chosen!r} (from --browser-path or ${BROWSER_ENV}) not found: "
                "give the path of a Chromium binary, e.g. /usr/bin/chromium"
            )
        return path
    for candidate in (*HEADLESS_SHELLS, *SYSTEM_BROWSERS) if headless else SYSTEM_BROWSERS:
        if Path(candidate).is_file():
            return candidate
    return None


def launch_args(ca_spki_hash: str) -> list[str]:
    # Trust the proxy's CA browser-wide: a context's ignore_https_errors does not cover requests that
    # outlive their page, so sendBeacon/keepalive hits fired on pagehide would fail TLS and be lost.
    return [*BASE_ARGS, f"--ignore-certificate-errors-spki-list={ca_spki_hash}"]


NO_BROWSER_HELP = (
    "no Chromium found: install Debian's (apt-get install -y chromium), set "
    f"${BROWSER_ENV}=/path/to/chromium, or run `playwright install chromium`"
)
