"""One options model for the command line, the pytest plugin and scenario files, so a setting has one
name everywhere (``--resolve`` / ``--eventpath-resolve`` / ``resolve:``)."""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.errors import BadInput

DEFAULT_DEVICE = "Pixel 7"
BROWSER_ENV = "EVENTPATH_BROWSER"

_RESOLVE = re.compile(r"^(?P<host>[A-Za-z0-9.*-]+)=(?P<addr>[^:=\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")


class HostMapping(BaseModel):
    """Requests for ``host`` (http and https) go to the plain-HTTP server at ``addr:port``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    addr: str
    port: int = Field(ge=1, le=65535)

    @classmethod
    def parse(cls, text: str) -> HostMapping:
        match = _RESOLVE.match(text.strip())
        if not match:
            raise BadInput(f"--resolve {text!r}: expected HOST=ADDR:PORT, e.g. www.shop.example=127.0.0.1:8000")
        port = int(match["port"])
        if not 1 <= port <= 65535:
            raise BadInput(f"--resolve {text!r}: port {port} is out of range 1-65535")
        return cls(host=match["host"].lower(), addr=match["addr"].strip("[]"), port=port)

    def __str__(self) -> str:
        return f"{self.host}={self.addr}:{self.port}"


def coerce_mappings(value: object) -> object:
    """Before validation: ``HOST=ADDR:PORT`` strings in a list become ``HostMapping``s (CLI, YAML)."""
    if isinstance(value, list):
        return [HostMapping.parse(v) if isinstance(v, str) else v for v in value]
    return value


class RunOptions(BaseModel):
    """How one run (or a whole suite) is carried out."""

    model_config = ConfigDict(extra="forbid")

    device: str = DEFAULT_DEVICE
    resolve: list[HostMapping] = Field(default_factory=list)
    live: bool = False  # forward tag hits to the real vendors instead of answering them locally
    sinkhole: list[str] = Field(default_factory=list)  # extra hosts to answer locally
    # Chromium binary; default: $EVENTPATH_BROWSER, Debian's (its headless shell when headless), Playwright's
    browser_path: str | None = None
    # Browser engine: Chromium (Debian's works offline); Firefox and WebKit need Playwright's own builds.
    browser: Literal["chromium", "firefox", "webkit"] = "chromium"
    browser_ws: str | None = None  # connect to a Playwright browser server instead of launching
    cdp_url: str | None = None  # connect to a Chromium over CDP (a grid, a browser started elsewhere)
    confdir: str | None = None  # keep the proxy CA here across runs (default: a temp dir per run)
    headless: bool = True
    navigation_timeout_ms: int = Field(default=15_000, ge=100)
    # After the landing page loads, how long without a new navigation before the chain is complete
    # (script redirects run at load; a scheduled meta refresh is waited for on top of this).
    redirect_settle_ms: int = Field(default=100, ge=0)
    max_hops: int = Field(default=20, ge=1)
    # Before leaving the page: no open flows for quiet_window_ms after the last action, the document's load
    # and the last flow. After: the end-of-run beacon, then a window scaled to its trip (at most
    # quiet_window_ms). Both capped by capture_timeout_ms.
    quiet_window_ms: int = Field(default=100, ge=10)
    capture_timeout_ms: int = Field(default=5_000, ge=100)

    @field_validator("resolve", mode="before")
    @classmethod
    def _parse_resolve(cls, value: object) -> object:
        return coerce_mappings(value)

    def resolved_browser_path(self) -> str | None:
        return self.browser_path or os.environ.get(BROWSER_ENV) or None
