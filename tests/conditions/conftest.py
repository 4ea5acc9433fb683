"""A real Chromium (async Playwright on a loop of the test module's own) and a tiny loopback site."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
T = TypeVar("T")

PAGE = """<!doctype html><html><head><title>landing</title></head><body>
<h1 style="font-size:48px">Summer tents, 20% off</h1><p>{text}</p>{extra}</body></html>"""
CONSENT_BANNER = """<script>
setTimeout(() => {{
  const banner = document.createElement('div');
  banner.innerHTML = '<button id="consent-accept">Accept</button><button id="consent-reject">Reject</button>';
  banner.addEventListener('click', (e) => {{ window.__choice = e.target.id; banner.remove(); }});
  document.body.appendChild(banner);
}}, {delay});
</script>"""
# A CMP with purpose settings: the choices land in window.__purposes when saved.
CMP_SETTINGS = """<div id="cmp"><button id="cmp-settings">Settings</button>
<div id="cmp-purposes" hidden><label><input type="checkbox" id="p-analytics"> Analytics</label>
<label><input type="checkbox" id="p-ads" checked> Advertising</label><button id="cmp-save">Save</button></div></div>
<script>
document.getElementById('cmp-settings').onclick = () => { document.getElementById('cmp-purposes').hidden = false; };
document.getElementById('cmp-save').onclick = () => {
  window.__purposes = { analytics: document.getElementById('p-analytics').checked, ads: document.getElementById('p-ads').checked };
  document.getElementById('cmp').remove();
};
</script>"""
# What a CMP reads at start-up: its cookie and its localStorage entry, before any click.
CMP_STATE = """<script>window.__seen = { cookie: document.cookie, stored: localStorage.getItem('cmp_state') };</script>"""
TAGS = """<img id="pixel" src="https://www.facebook.com/tr/?id=1402533720264604&ev=PageView&dl=https%3A%2F%2Fshop.example%2F&rqm=GET">
<script>window.__ok = fetch('/blob?n=10').then(r => r.status);</script>"""


class Site:
    """Serves /page (first byte after 150 ms), /consent, /tags and /blob?n=BYTES; remembers user agents."""

    def __init__(self) -> None:
        self.user_agents: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.user_agents.append(self.headers.get("user-agent", ""))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body, kind = site.respond(parts.path, query)
                self.send_response(200 if body is not None else 404)
                self.send_header("content-type", kind)
                self.send_header("cache-control", "no-store")
                self.send_header("content-length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, path: str, query: dict[str, str]) -> tuple[bytes | None, str]:
        html = "text/html; charset=utf-8"
        text = "Free delivery on all orders. " * 20
        if path == "/page":
            time.sleep(0.15)
            return PAGE.format(text=text, extra="").encode(), html
        if path == "/consent":
            return PAGE.format(text=text, extra=CONSENT_BANNER.format(delay=query.get("delay", "0"))).encode(), html
        if path == "/cmp-settings":
            return PAGE.format(text=text, extra=CMP_SETTINGS).encode(), html
        if path == "/cmp-state":
            return PAGE.format(text=text, extra=CMP_STATE).encode(), html
        if path == "/plain":
            return PAGE.format(text=text, extra="").encode(), html
        if path == "/tags":
            return PAGE.format(text=text, extra=TAGS).encode(), html
        if path == "/blob":
            return b"x" * int(query.get("n", "1000")), "application/octet-stream"
        return None, "text/plain"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    started = Site()
    thread = threading.Thread(target=started.server.serve_forever, daemon=True)
    thread.start()
    yield started
    started.server.shutdown()


class BrowserRunner:
    """Runs coroutines on the loop that owns the browser, on a thread of its own (other test modules may
    hold a sync Playwright, whose loop runs in the main thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    async def start(self) -> None:
        self.playwright = await async_playwright().start()
        self.browser = await self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

    def on_page(self, url: str, action: Callable[[Page], Awaitable[T]]) -> T:
        """``action(page)`` on ``url`` in a fresh context of the browser, closed afterwards."""

        async def in_context() -> T:
            assert self.browser is not None
            context = await self.browser.new_context()
            try:
                page = await context.new_page()
                await page.goto(url)
                return await action(page)
            finally:
                await context.close()

        return self.run(in_context())

    async def stop(self) -> None:
        assert self.browser is not None and self.playwright is not None
        await self.browser.close()
        await self.playwright.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[BrowserRunner]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is not installed")
    runner = BrowserRunner()
    runner.run(runner.start())
    yield runner
    runner.run(runner.stop())
    runner.loop.call_soon_threadsafe(runner.loop.stop)
