"""The capture proxy: mitmproxy in-process, on a thread and event loop of its own, so no browser call
can ever block it. The engine talks to it only through thread-safe methods."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from mitmproxy import master, options
from mitmproxy.addons import core, disable_h2c, next_layer, proxyserver, tlsconfig
from mitmproxy.proxy.mode_specs import ProxyMode
from playwright.async_api import ProxySettings

from harness.capture import (
    informational,
    mitm_context,  # noqa: F401 - before any Master exists
)
from harness.capture.addons import (
    CONNECTION_RUN_KEY,
    URL_KEY,
    CaptureLog,
    Classifier,
    HostMapper,
    PreflightToNowhere,
    Recorder,
    RunLanes,
    Sinkhole,
)
from harness.capture.ca import CertificateAuthority, ensure_ca
from harness.capture.redirects import BrowserRedirects, BrowserRules
from harness.errors import EventpathError
from harness.models import CapturedRequest
from harness.options import HostMapping

STARTUP_TIMEOUT_S = 15.0
LANE_START_ATTEMPTS = 5
# The shortest wait after the end-of-run beacon: a beacon to a host the page never talked to needs a new
# tunnel (TCP, CONNECT, TLS) and can arrive a little after ours.
END_WINDOW_MIN_S = 0.025
# The longest wait after the end beacon once a spare connection closed (see wait_until_quiet): the batches
# it stands for came 20-60 ms apart on a loaded machine; a trip of seconds (a stalled page) must not hold
# the run until its cap.
SPARE_WINDOW_MAX_S = 0.5
# Turns of the proxy's event loop that take a connection waiting in the kernel's accept queue (or a request
# waiting in a socket's buffer) to our addons: accept, transport, mitmproxy's handler, its hook (~5 turns).
CATCH_UP_TURNS = 20


class ProxyStartError(EventpathError):
    pass


class CaptureProxy:
    """Start with ``start()`` (or ``with``); every run gets a proxy port of its own (a lane) from
    ``open_run`` until ``close_run``, which is how its requests are told from every other run's. Lanes are
    reused oldest-released first, and a new one is opened when all are in use.

    ``classify`` says whether a request is a tag hit and what to answer (the decoder registry's
    ``sinkhole_reply``); it is injected so capture does not depend on decoding.
    """

    def __init__(
        self,
        classify: Classifier,
        *,
        resolve: Sequence[HostMapping] = (),
        sinkhole: Sequence[str] = (),
        live: bool = False,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        server_port: int = 0,
        confdir: Path | None = None,
    ) -> None:
        self.classify = classify
        self.resolve = list(resolve)
        self.sinkhole = list(sinkhole)
        self.live = live
        self.listen_host = listen_host
        self.requested_port = listen_port
        self.requested_server_port = server_port
        self._own_confdir = confdir is None
        self.confdir = Path(confdir) if confdir else Path(tempfile.mkdtemp(prefix="eventpath-ca-"))
        self.ca: CertificateAuthority = ensure_ca(self.confdir)
        self.log = CaptureLog()
        self.port: int = 0  # the first browser lane
        self.server_port: int = 0  # backends connect here (HTTPS_PROXY): their requests belong to no run
        self._lanes = RunLanes(self.log)
        self._redirects = BrowserRedirects(
            run_of=lambda flow: flow.metadata.get(CONNECTION_RUN_KEY),
            url_of=lambda flow: flow.metadata.get(URL_KEY) or flow.request.pretty_url,
        )
        self._modes: list[str] = []  # every server the proxy runs, as mitmproxy mode specs
        self._free_lanes: deque[int] = deque()
        self._lane_of_run: dict[str, int] = {}
        self._lanes_lock = threading.Lock()
        self._open_lane_lock = threading.Lock()
        self._master: master.Master | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._startup_error: str | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> CaptureProxy:
        informational.install()  # an HTTP/1 site's 103 Early Hints must not end its answer
        self._thread = threading.Thread(target=self._serve, name="eventpath-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(STARTUP_TIMEOUT_S):
            raise ProxyStartError(f"the capture proxy did not start within {STARTUP_TIMEOUT_S:.0f} s")
        if self._startup_error:
            self._thread.join(timeout=5)
            raise ProxyStartError(self._startup_error)
        return self

    def stop(self) -> None:
        if self._master is not None and self._loop is not None and self._loop.is_running():
            self._master.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._own_confdir:
            shutil.rmtree(self.confdir, ignore_errors=True)

    def __enter__(self) -> CaptureProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - reported to the starting thread as one line
            if not self._started.is_set():
                self._startup_error = f"the capture proxy failed to start: {exc}"
                self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._modes = ["regular", f"regular@{self.requested_server_port}"]
        opts = options.Options(
            listen_host=self.listen_host,
            listen_port=self.requested_port,
            confdir=str(self.confdir),
            mode=list(self._modes),  # a copy: lanes are added to ours without telling the options
        )
        proxy_master = master.Master(opts, event_loop=self._loop, with_termlog=False)
        proxy_master.addons.add(*_mitmproxy_addons())
        proxy_master.addons.add(
            self._lanes,
            self._redirects,
            Recorder(self.log),
            Sinkhole(self.classify),
            HostMapper(),
            PreflightToNowhere(),
        )
        # Options that addons declare can only be set once the addons are in.
        proxy_master.options.update(
            connection_strategy="lazy",  # answer sinkholed HTTPS without dialing the real host
            ssl_insecure=True,  # mapped staging hosts often have self-signed certificates
            eventpath_resolve=[str(m) for m in self.resolve],
            eventpath_sinkhole=self.sinkhole,
            eventpath_live=self.live,
        )
        self._master = proxy_master
        server = proxy_master.addons.get("proxyserver")
        ok = await server.setup_servers()
        ports = {s.mode.full_spec: s.listen_addrs[0][1] for s in server.servers if s.listen_addrs}
        if not ok or len(ports) < 2:
            where = f"{self.listen_host}:{self.requested_port} / {self.requested_server_port}"
            self._startup_error = (
                f"the capture proxy could not listen on {where} (port in use?): "
                "choose another port or leave it to pick a free one"
            )
            self._started.set()
            return
        self.port = ports["regular"]
        self.server_port = ports[f"regular@{self.requested_server_port}"]
        self._free_lanes.append(self.port)
        try:
            await proxy_master.running()
            self._started.set()
            await proxy_master.should_exit.wait()
        finally:
            await proxy_master.done()

    # --- runs -------------------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The proxy URL for backends (``HTTPS_PROXY``): its requests belong to no run."""
        return f"http://{self.listen_host}:{self.server_port}"

    def open_run(self, run_id: str | None = None) -> str:
        """Start attributing a run: it gets a lane (see ``playwright_proxy``) until ``close_run``."""
        run_id = run_id or f"run-{secrets.token_hex(6)}"
        with self._lanes_lock:
            port = self._free_lanes.popleft() if self._free_lanes else None
        if port is None:
            port = self._open_lane()
        self.log.open_run(run_id)
        with self._lanes_lock:
            self._lane_of_run[run_id] = port
        self._lanes.assign(port, run_id)
        return run_id

    def playwright_proxy(self, run_id: str) -> ProxySettings:
        """Proxy settings for the run's Playwright context: the port is the run's lane."""
        with self._lanes_lock:
            port = self._lane_of_run[run_id]
        return {"server": f"http://{self.listen_host}:{port}"}

    def emulate_browser(self, run_id: str, rules: BrowserRules) -> None:
        """Have the run's browser follow its top-level navigations where ``rules`` say (a browser emulated
        over Chromium: see ``harness.capture.redirects``), until ``close_run``."""
        self._redirects.set_rules(run_id, rules)

    def _open_lane(self) -> int:
        """Start one more browser port (every lane is in use: more runs in flight than ever before)."""
        if self._master is None or self._loop is None:
            raise ProxyStartError("the capture proxy is not running")
        proxy_master = self._master

        async def start_server() -> int | None:
            server = proxy_master.addons.get("proxyserver")
            for _ in range(LANE_START_ATTEMPTS):
                spec = f"regular@{_free_port(self.listen_host)}"
                if await server.servers.update([ProxyMode.parse(m) for m in [*self._modes, spec]]):
                    self._modes.append(spec)
                    return ProxyMode.parse(spec).custom_listen_port
                # Another process took the port between our probe and the listen: try a new one.
                await server.servers.update([ProxyMode.parse(m) for m in self._modes])
            return None

        with self._open_lane_lock:  # one at a time: each update names every server that must keep running
            port = asyncio.run_coroutine_threadsafe(start_server(), self._loop).result(timeout=STARTUP_TIMEOUT_S)
        if port is None:
            raise ProxyStartError(f"the capture proxy could not open another port on {self.listen_host}")
        return port

    async def wait_until_quiet(
        self, run_id: str, quiet_ms: int, timeout_ms: int, *, since: float, expect_end_beacon: bool
    ) -> bool:
        """Wait until no flow of the run is open and none started or finished for a quiet window after
        ``since`` (monotonic). False when the cap ``timeout_ms`` came first.

        With ``expect_end_beacon`` (the page was left at ``since`` and our beacon armed as its last
        pagehide listener), the end-of-run beacon must have arrived too, and no connection the browser just
        opened may still be waiting for its request. A beacon the page queued before ours left before it,
        so the window only covers one overtaken on the way: as long as ours took from pagehide to here (the
        machine's latency right now), at least ``END_WINDOW_MIN_S``, at most ``quiet_ms``; when the trip is
        unknown (a remote browser's clock), ``quiet_ms``. Except beacons to a host the page had not talked
        to: Chromium opens several connections to it, drops the spares once one speaks HTTP/2, and sends the
        requests queued for the host on that one in batches, after ours on a busy machine (19 of 25 unload
        hits measured lost under a 10 ms quiet window). When a spare closed after the page was left, the
        window is the trip's whole length (up to ``SPARE_WINDOW_MAX_S``, or ``quiet_ms`` if longer), from the
        last activity (the close included), however short ``quiet_ms``.

        A run that looks settled is looked at once more after the proxy's loop has caught up with what the
        kernel holds for it (``_caught_up``): on a busy machine a new connection can wait there, unseen."""
        deadline = since + timeout_ms / 1000
        window = quiet_ms / 1000
        caught_up = False  # the proxy has caught up with the kernel since the run last looked unsettled
        while True:
            now = time.monotonic()
            activity = self.log.activity(run_id)
            if expect_end_beacon and activity.end_trip_s is not None:
                spare_closed = activity.spare_closed_at is not None and activity.spare_closed_at >= since
                longest = max(quiet_ms / 1000, SPARE_WINDOW_MAX_S) if spare_closed else quiet_ms / 1000
                window = min(longest, max(END_WINDOW_MIN_S, activity.end_trip_s))
            idle = now - max(activity.last_activity, since)
            settled = activity.open_flows == 0 and idle >= window
            if expect_end_beacon:
                settled = settled and activity.end_seen_at is not None and activity.fresh_connections == 0
            if settled and caught_up:
                return True
            if settled:
                # The proxy's record can lag what the browser has already sent: on a busy machine its loop took
                # over 100 ms to accept the new connections a page's unload beacons had opened (all 25 lost,
                # while the end beacon, on an old connection, was in). Look again once it has caught up.
                caught = await self._caught_up(deadline)
                if caught is None:
                    return True  # the proxy's loop is not running: its record is all there is
                if not caught:
                    return False  # the cap came while the proxy was still behind
                caught_up = True
                continue
            caught_up = False
            if now >= deadline:
                return False
            await asyncio.sleep(min(0.01, max(0.002, window - idle)))

    async def _caught_up(self, deadline: float) -> bool | None:
        """Wait until the proxy's loop has taken ``CATCH_UP_TURNS`` turns from now, so what was waiting for it
        in the kernel by then (a new connection, a request's bytes) has reached the capture log. False when
        the deadline (monotonic) came first; None when the loop is not running."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return None

        async def turns() -> None:
            for _ in range(CATCH_UP_TURNS):
                await asyncio.sleep(0)

        waiting = turns()
        try:
            done = asyncio.run_coroutine_threadsafe(waiting, loop)
        except RuntimeError:  # closed meanwhile
            waiting.close()  # never scheduled: no "was never awaited" warning
            return None
        # Polled, not awaited across loops: a proxy stopping under us must not read as our own cancellation.
        while not done.done():
            if time.monotonic() >= deadline:
                done.cancel()
                return False
            if not loop.is_running():
                return None
            await asyncio.sleep(0.001)
        return None if done.cancelled() else True

    def document_header(self, run_id: str, url: str, name: str) -> list[str]:
        """A response header of the run's latest document at ``url`` (e.g. its Content-Security-Policy)."""
        return self.log.document_header(run_id, url, name)

    def release_documents(self, run_id: str) -> None:
        """Stop waiting for the run's documents still arriving (a page that never finished loading)."""
        self.log.release_documents(run_id)

    def open_requests(self, run_id: str) -> list[str]:
        """The run's requests still waiting for their answer, one line each (for explaining a cut-off)."""
        return self.log.open_requests(run_id)

    def add_mappings(self, mappings: Sequence[HostMapping]) -> None:
        """Map more hosts while running (a demo shop started after the proxy). Thread-safe."""
        merged = {m.host: m for m in self.resolve}
        merged.update({m.host: m for m in mappings})
        self.resolve = list(merged.values())
        if self._master is None or self._loop is None:
            return
        proxy_master = self._master

        async def update() -> None:
            proxy_master.options.update(eventpath_resolve=[str(m) for m in self.resolve])

        asyncio.run_coroutine_threadsafe(update(), self._loop).result(timeout=10)

    def close_run(self, run_id: str) -> list[CapturedRequest]:
        """Stop attributing the run (its context must be closed by now) and hand over its requests. Its
        lane goes to the back of the queue, so the next run to get it is the one that waited longest."""
        requests = self.log.close_run(run_id)
        self._redirects.clear_rules(run_id)
        with self._lanes_lock:
            port = self._lane_of_run.pop(run_id, None)
        if port is not None:
            self._lanes.release(port)
            with self._lanes_lock:
                self._free_lanes.append(port)
        return requests

    def unattributed(self) -> list[CapturedRequest]:
        return list(self.log.unattributed)


def _free_port(host: str) -> int:
    """A port free on ``host`` right now (the kernel's pick); mode specs need one, not 0."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _mitmproxy_addons() -> list[object]:
    """The few of mitmproxy's default addons a capture proxy needs. Every addon is asked about every hook of
    every flow, so the other ~25 (playback, saving, scripts, map/modify, auth...), all switched off here,
    cost the proxy thread ~7% of its CPU for nothing. (No Block addon: the proxy only listens on
    127.0.0.1.)"""
    return [
        core.Core(),
        disable_h2c.DisableH2C(),
        proxyserver.Proxyserver(),
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
    ]
