"""The engine: wires the stages together and offers one synchronous face to the CLI and the pytest plugin.

The capture proxy runs on its own thread and loop; Playwright's async API runs on a second loop of the
engine's, so a browser call never blocks the proxy and the caller's thread stays plain synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from harness.attribution import UnclaimedServerHits, run_keys
from harness.browser.launcher import NO_BROWSER_HELP, driver_env, find_browser, launch_args
from harness.browser.visit import Journey, VisitPlan, device_descriptor, run_visit
from harness.capture.addons import PROBE_BEACONS, PROBE_PATH
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.errors import BadInput, BrowserNotFound, EventpathError
from harness.models import RunCapture, RunResult
from harness.options import RunOptions

T = TypeVar("T")


# Served by the proxy itself on any host (see capture.addons.PROBE_PATH); never reaches the network.
PROBE_URL = f"https://eventpath-probe.invalid{PROBE_PATH}"
# Connecting to a remote Chromium over CDP: three attempts of 5 s (see Harness._connect_over_cdp).
CDP_ATTEMPTS = 3
CDP_ATTEMPT_MS = 5_000


class BrowserNotTrusted(EventpathError):
    pass


def validate_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{url!r} is not a URL eventpath can open: give an absolute http:// or https:// URL")
    return url.strip()


class Harness:
    """A started proxy and browser that runs visits. Use as a context manager::

        with Harness(RunOptions(resolve=[...])) as harness:
            result = harness.visit("https://ads.example/click?gclid=...")
    """

    def __init__(self, options: RunOptions | None = None, registry: DecoderRegistry | None = None) -> None:
        self.options = options or RunOptions()
        self.registry = registry or DecoderRegistry.default()
        self._unclaimed = UnclaimedServerHits(self.registry.decode)
        self.proxy: CaptureProxy | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="eventpath-browser", daemon=True)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._restarting = asyncio.Lock()  # parallel runs that find the browser dead start one new browser
        self.browser_restarts = 0

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Harness:
        self.proxy = CaptureProxy(
            self.registry.sinkhole_reply,
            resolve=self.options.resolve,
            sinkhole=self.options.sinkhole,
            live=self.options.live,
            confdir=Path(self.options.confdir) if self.options.confdir else None,
        ).start()
        self._thread.start()
        try:
            self._call(self._launch())
        except BaseException:
            self.close()
            raise
        return self

    async def _launch(self) -> None:
        with _starting_driver():
            self._playwright = await async_playwright().start()
        await self._start_browser()

    async def _start_browser(self) -> None:
        """Launch the browser, or connect to the remote one (and probe its trust of our CA)."""
        assert self.proxy is not None and self._playwright is not None
        options = self.options
        engine = getattr(self._playwright, options.browser)
        remote = options.cdp_url or options.browser_ws
        try:
            if options.cdp_url:
                if options.browser != "chromium":
                    raise BadInput("--cdp connects to Chromium only; use --browser-ws for firefox or webkit")
                self._browser = await self._connect_over_cdp(options.cdp_url)
            elif options.browser_ws:
                self._browser = await engine.connect(options.browser_ws, timeout=15_000)
            elif options.browser == "chromium":
                executable = find_browser(options.resolved_browser_path(), headless=options.headless)
                self._browser = await engine.launch(
                    executable_path=executable,
                    headless=options.headless,
                    args=launch_args(self.proxy.ca.spki_hash()),
                )
            else:
                self._browser = await engine.launch(headless=options.headless)
        except PlaywrightError as exc:
            message = str(exc).strip().splitlines()[0]
            if remote:
                raise BrowserNotFound(f"could not connect to the browser at {remote}: {message}") from None
            if options.browser != "chromium":
                raise BrowserNotFound(
                    f"{options.browser} is not installed for Playwright: run `playwright install "
                    f"{options.browser}` (Chromium, the default, needs no download)"
                ) from None
            if "Executable doesn't exist" in message or options.resolved_browser_path() is None:
                raise BrowserNotFound(NO_BROWSER_HELP) from None
            raise BrowserNotFound(f"could not start the browser: {message}") from None
        if remote or options.browser != "chromium":
            # This browser was not started with our CA's trust: make sure unload hits still arrive.
            await self._check_unload_trust()

    async def _connect_over_cdp(self, url: str) -> Browser:
        """Connect, asking again when an attempt hangs: a Chromium that has just started (a grid node just
        restarted) sometimes never finishes the first CDP handshake, where a second connection at once does."""
        assert self._playwright is not None
        for _ in range(CDP_ATTEMPTS - 1):
            with contextlib.suppress(PlaywrightTimeout):
                return await self._playwright.chromium.connect_over_cdp(url, timeout=CDP_ATTEMPT_MS)
        return await self._playwright.chromium.connect_over_cdp(url, timeout=CDP_ATTEMPT_MS)

    async def _check_unload_trust(self) -> None:
        """Visit the proxy's own probe page and leave it: the end-of-run beacon must come through."""
        assert self.proxy is not None and self._browser is not None and self._playwright is not None
        probe = self.options.model_copy(
            update={"redirect_settle_ms": 0, "quiet_window_ms": 100, "capture_timeout_ms": 3_000, "resolve": []}
        )
        capture = await run_visit(self._playwright, self._browser, self.proxy, PROBE_URL, probe)
        if self.proxy.log.probe_beacons.get(capture.run_id, 0) < PROBE_BEACONS:
            raise BrowserNotTrusted(
                "the browser does not trust the capture proxy's CA for requests sent while a page unloads "
                "(sendBeacon, keepalive), so those hits would be lost: start it with "
                f"--ignore-certificate-errors-spki-list={self.proxy.ca.spki_hash()} "
                "(keep the CA across runs with --confdir), or at least --ignore-certificate-errors"
            )

    async def _shutdown(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    def close(self) -> None:
        if self._thread.is_alive():
            try:
                self._call(self._shutdown(), timeout=30)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # --- runs -------------------------------------------------------------------------------------

    def check_device(self, name: str) -> None:
        """Raise ``BadInput`` (with the closest names) unless ``name`` is a device of the started browser."""
        if self._playwright is None:
            raise RuntimeError("Harness.check_device() before start()")
        device_descriptor(self._playwright, name)

    def visit(
        self,
        url: str,
        *,
        device: str | None = None,
        journey: Journey | None = None,
        plan: VisitPlan | None = None,
    ) -> RunResult:
        """Run one visit and decode its hits (``journey`` alone, or a whole ``plan``)."""
        if self.proxy is None or self._browser is None or self._playwright is None:
            raise RuntimeError("Harness.visit() before start()")
        options = self.options.model_copy(update={"device": device}) if device else self.options
        capture = self._call(self._visit(validate_url(url), options, plan or VisitPlan(journey=journey)))
        result = self.registry.decode_run(capture)
        for blocked in capture.blocked:
            blocked.tag_hit = self.registry.claimant(blocked) is not None
            result.blocked_events.extend(self.registry.decode(blocked) if blocked.tag_hit else [])
        self._claim_server_hits(result)
        return result

    async def _visit(self, url: str, options: RunOptions, plan: VisitPlan) -> RunCapture:
        assert self.proxy is not None and self._playwright is not None and self._browser is not None
        for attempt in (1, 2):
            async with self._restarting:
                if not self._browser.is_connected():
                    # It died (killed, out of memory, crashed) during an earlier run, which said so: a suite
                    # of many runs goes on with a new one rather than fail every run after.
                    self.browser_restarts += 1
                    await self._start_browser()
            capture = await run_visit(self._playwright, self._browser, self.proxy, url, options, plan)
            if attempt == 1 and not self._browser.is_connected() and _never_began(capture):
                # The browser was gone before this run began: its death was not known yet when the run was
                # handed to it (a grid node restarted just before). Nothing happened: run it on a new one.
                continue
            break
        return capture

    def _claim_server_hits(self, result: RunResult) -> None:
        """Add the backend hits this run caused (matched by the IDs they carry) to its requests and events."""
        assert self.proxy is not None
        keys = run_keys(result)
        if not keys:
            return
        mine = self._unclaimed.matching(keys, self.proxy.unattributed())
        if not mine:
            return
        claimed = self.proxy.log.claim_unattributed(result.run_id, set(mine))
        result.capture.requests = sorted([*result.capture.requests, *claimed], key=lambda r: r.seq)
        for request in claimed:
            for event in mine[request.id]:
                event.run_id = result.run_id
                event.source = "server"
                result.events.append(event)


def _never_began(capture: RunCapture) -> bool:
    """Nothing of the run happened in the browser: no request, no navigation, no step."""
    return not (capture.requests or capture.navigations or capture.steps)


@contextmanager
def _starting_driver() -> Iterator[None]:
    """Playwright starts its driver (which starts the browsers) in our process group, so a terminal's Ctrl-C
    reached them too and killed the browser under the runs in flight. In a session of its own the driver
    hears only us: a Ctrl-C stops the suite after those runs (``runner._gather``), and the driver still
    ends with us (it exits when its pipe from us closes). It also starts with ``driver_env``'s Node options
    (V8 heap sizes that keep its memory flat over a long suite). Only Playwright's own start runs in this
    window, on the harness's loop."""
    # One harness at a time (each starts on a loop thread of its own): two interleaved swaps could leave the
    # stand-in in place for good.
    with _DRIVER_START:
        original = asyncio.create_subprocess_exec

        async def in_own_session(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
            kwargs.setdefault("start_new_session", True)
            kwargs["env"] = driver_env(kwargs.get("env"))
            return await original(*args, **kwargs)

        asyncio.create_subprocess_exec = in_own_session  # type: ignore[assignment]
        try:
            yield
        finally:
            asyncio.create_subprocess_exec = original  # type: ignore[assignment]


_DRIVER_START = threading.Lock()
