"""mitmproxy addons that make up the capture proxy, one concern each.

Hook order matters and is the order they are added in ``proxy.py``: ``RunLanes`` first says which run a
connection belongs to, ``Recorder`` notes the URL as the browser sent it and the run, ``Sinkhole`` answers
tag hits locally, ``HostMapper`` sends mapped hosts to their local server. ``Recorder`` turns each finished
flow into a ``CapturedRequest``.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import ctx, exceptions, http

from harness.capture import mitm_context  # noqa: F401 - before any Master exists
from harness.capture.redirects import LOCATION_AS_SENT_KEY
from harness.models import CapturedRequest, SinkholeReply, is_navigation_headers
from harness.options import HostMapping
from harness.urls import host_matches

# Requests the browser makes for itself, never for the page: kept out of a run's hits.
BROWSER_BACKGROUND_HOSTS: tuple[str, ...] = (
    "clients1.google.com",
    "clients2.google.com",
    "clients4.google.com",
    "clientservices.googleapis.com",
    "update.googleapis.com",
    "safebrowsing.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "content-autofill.googleapis.com",
    "accounts.google.com",
    "edgedl.me.gvt1.com",
    "redirector.gvt1.com",
    "android.clients.google.com",
    "www.googleapis.com",
)

# Bodies are kept whole up to this size; beyond it a note says they were cut.
MAX_REQUEST_BODY = 2 * 1024 * 1024
# Response bodies are only kept for documents (the chain reads meta refresh tags from them).
MAX_DOCUMENT_BODY = 512 * 1024

# The page sends a beacon here last when it is left (same origin, so a site's CSP allows it); its arrival
# tells the proxy that every beacon queued before it has been dispatched. It never reaches the site.
END_OF_RUN_PATH = "/__eventpath__/end-of-run"
# A page the proxy serves itself on any host: the trust probe of a browser lands on it. When left, it
# sends a beacon to another host (a new TLS connection, as a tag's would be), which the proxy notes.
PROBE_PATH = "/__eventpath__/probe"
PROBE_BEACON_PATH = "/__eventpath__/probe-beacon"
# Several hosts: a browser that does not trust the CA loses some unload beacons and not others (a
# beacon that leaves while its page is still alive can get through), so every one must arrive.
PROBE_BEACONS = 5
_PROBE_PAGE = (
    b"<!doctype html><title>eventpath probe</title><p>eventpath checks this browser</p><script>"
    b"addEventListener('pagehide', () => { for (let i = 0; i < %d; i++) navigator.sendBeacon("
    b"'https://eventpath-probe-beacon-' + i + '.invalid/__eventpath__/probe-beacon'); });</script>"
) % PROBE_BEACONS

RUN_KEY = "eventpath_run"
URL_KEY = "eventpath_url"
TAG_HIT_KEY = "eventpath_tag_hit"
SINKHOLED_KEY = "eventpath_sinkholed"
MAPPED_KEY = "eventpath_mapped_to"
BODY_PREFIX_KEY = "eventpath_body_prefix"

Classifier = Callable[[CapturedRequest], SinkholeReply | None]


class BodyPrefix:
    """A response body streamed through untouched, keeping only its first ``limit`` bytes.

    Why stream: a buffering proxy hands the browser nothing until the last byte, so a page that flushes
    early (or never finishes) would run none of its tags, and TTFB would be the server's total time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.size = 0

    def __call__(self, chunk: bytes) -> bytes:
        if len(self.kept) < self.limit:
            self.kept += chunk[: self.limit - len(self.kept)]
        self.size += len(chunk)
        return chunk


def _decoded_prefix(raw: bytes, encoding: str) -> bytes:
    """The start of a body in ``content-encoding``, decoded as far as it goes (it may be cut)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)
        if encoding == "deflate":
            return zlib.decompressobj().decompress(raw)
        if encoding == "br":
            import brotli  # mitmproxy's own dependency

            return brotli.Decompressor().process(raw)
        if encoding == "zstd":  # Chromium asks for it, and CDNs (Cloudflare among them) answer with it
            import zstandard  # mitmproxy's own dependency

            return zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    except Exception:  # noqa: BLE001 - a cut or odd body stays raw rather than lost
        return raw
    return raw


def _shared_headers(headers: Any) -> list[tuple[str, str]]:
    """Header pairs with their names and short values shared (interned): a run repeats the same user agent,
    client hints and accept lines on every request, and a suite keeps every run for its report."""
    return [
        (sys.intern(k), sys.intern(v) if len(v) <= MAX_SHARED_HEADER else v) for k, v in headers.items(multi=True)
    ]


MAX_SHARED_HEADER = 512  # longer values (cookies, referers with click IDs) are rarely repeated verbatim


def request_model(flow: http.HTTPFlow, request_id: str = "", seq: int = 0) -> CapturedRequest:
    """The request half of a flow as our model, URL as the client sent it."""
    req = flow.request
    body = req.raw_content or b""
    truncated = len(body) > MAX_REQUEST_BODY
    if truncated:
        body = body[:MAX_REQUEST_BODY]
    else:
        # Decoders read decoded bodies (gzip-compressed beacons exist); fall back to raw on bad encoding.
        try:
            body = req.get_content(strict=False) or b""
        except ValueError:
            pass
    return CapturedRequest(
        id=request_id or flow.id,
        run_id=flow.metadata.get(RUN_KEY),
        seq=seq,
        method=req.method,
        url=flow.metadata.get(URL_KEY) or req.pretty_url,
        http_version=req.http_version,
        request_headers=_shared_headers(req.headers),
        body=body,
        body_truncated=truncated,
        started_at=req.timestamp_start,
    )


@dataclass(frozen=True)
class OpenFlow:
    """A request of the run still waiting for (the end of) its answer."""

    method: str
    url: str
    since: float  # monotonic

    def describe(self, now: float) -> str:
        return f"{self.method} {self.url} (open {now - self.since:.1f} s)"


@dataclass
class RunStore:
    """What the proxy knows of one run: finished requests and how many are still open."""

    run_id: str
    requests: list[CapturedRequest] = field(default_factory=list)
    # Flows still waiting for their answer, by flow ID: what they are and since when (monotonic).
    open: dict[str, OpenFlow] = field(default_factory=dict)
    # Open documents whose answer has begun: a page that may never finish (see ``release_documents``).
    answering_documents: set[str] = field(default_factory=set)
    last_activity: float = field(default_factory=time.monotonic)
    end_seen_at: float | None = None  # monotonic time the end-of-run beacon arrived
    end_trip_s: float | None = None  # how long the end-of-run beacon took from pagehide to the proxy
    # Connections the run's browser opened that have not carried a request yet: a beacon on its way to a
    # host the page had not talked to before (TCP, CONNECT, TLS still to go). ID -> monotonic time opened.
    fresh_connections: dict[str, float] = field(default_factory=dict)
    # When a fresh connection last closed without carrying a request (monotonic): Chromium opens several to
    # a new host and drops the spare ones once one speaks HTTP/2; requests queued for the host follow on
    # that one in batches, tens of milliseconds apart on a busy machine.
    spare_closed_at: float | None = None


@dataclass(frozen=True)
class RunActivity:
    """A snapshot of one run's traffic, for deciding when its capture is complete."""

    open_flows: int
    last_activity: float  # monotonic time of the last flow start or finish
    end_seen_at: float | None  # monotonic time the end-of-run beacon arrived
    end_trip_s: float | None  # its trip from the page's pagehide to the proxy, when the page said when
    fresh_connections: int  # connections opened within the age limit that have carried no request yet
    spare_closed_at: float | None  # when a connection last closed without carrying a request


class CaptureLog:
    """Thread-safe store shared by the proxy thread (writer) and the engine (reader)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunStore] = {}
        self.unattributed: list[CapturedRequest] = []
        self.background: list[CapturedRequest] = []
        # Requests that named a run after it had closed: never silently moved into another run.
        self.late: dict[str, list[CapturedRequest]] = {}
        self._closed: set[str] = set()
        self.probe_beacons: dict[str, int] = {}  # run -> trust-probe beacons that arrived
        self._fresh_connection_runs: dict[str, RunStore] = {}  # fresh connection's ID -> its run
        self._seq = itertools.count(1)

    def open_run(self, run_id: str) -> None:
        with self._lock:
            self._runs[run_id] = RunStore(run_id)

    def mark_end_of_run(self, run_id: str | None, trip_s: float | None = None) -> None:
        with self._lock:
            store = self._runs.get(run_id or "")
            if store:
                store.end_seen_at = store.last_activity = time.monotonic()
                store.end_trip_s = trip_s

    def mark_probe_beacon(self, run_id: str | None) -> None:
        with self._lock:
            self.probe_beacons[run_id or ""] = self.probe_beacons.get(run_id or "", 0) + 1

    def next_seq(self) -> int:
        return next(self._seq)

    def flow_started(self, run_id: str | None, flow_id: str, method: str, url: str) -> None:
        with self._lock:
            store = self._runs.get(run_id or "")
            if store:
                store.last_activity = time.monotonic()
                store.open[flow_id] = OpenFlow(method, url, store.last_activity)

    def flow_answered(self, run_id: str | None, flow_id: str) -> None:
        """The flow's answer has begun and never ends by design (an event stream): it no longer holds the
        run open, though it is recorded when it closes."""
        with self._lock:
            store = self._runs.get(run_id or "")
            if store and store.open.pop(flow_id, None) is not None:
                store.last_activity = time.monotonic()

    def document_answering(self, run_id: str | None, flow_id: str) -> None:
        with self._lock:
            store = self._runs.get(run_id or "")
            if store and flow_id in store.open:
                store.answering_documents.add(flow_id)

    def release_documents(self, run_id: str) -> None:
        """The page did not finish loading within the navigation timeout: its documents still arriving no
        longer hold the run open (what they would bring is not waited for; the run's error says why)."""
        with self._lock:
            store = self._runs.get(run_id)
            if store:
                for flow_id in store.answering_documents:
                    if store.open.pop(flow_id, None) is not None:
                        store.last_activity = time.monotonic()
                store.answering_documents.clear()

    def flow_finished(self, request: CapturedRequest, *, flow_id: str | None, background: bool = False) -> None:
        """Record a finished request; ``flow_id`` releases it from the run's open flows (None: not counted)."""
        with self._lock:
            store = self._runs.get(request.run_id or "")
            if store and flow_id is not None and store.open.pop(flow_id, None) is not None:
                store.last_activity = time.monotonic()
            if background:
                self.background.append(request)
            elif store:
                store.requests.append(request)
            elif request.run_id in self._closed:
                self.late.setdefault(request.run_id or "", []).append(request)
            else:
                self.unattributed.append(request)

    def connection_opened(self, run_id: str | None, connection_id: str) -> None:
        with self._lock:
            store = self._runs.get(run_id or "")
            if store:
                store.fresh_connections[connection_id] = time.monotonic()
                self._fresh_connection_runs[connection_id] = store

    def connection_used(self, connection_id: str, *, closed: bool = False) -> None:
        """The connection carried a request (or ``closed``): it no longer stands for one on its way. One
        closed before carrying any was a spare: what it stood for follows on another connection."""
        with self._lock:
            store = self._fresh_connection_runs.pop(connection_id, None)
            if store and store.fresh_connections.pop(connection_id, None) is not None and closed:
                store.spare_closed_at = store.last_activity = time.monotonic()

    def activity(self, run_id: str, fresh_age_s: float = 1.0) -> RunActivity:
        """What the run's traffic looks like now. A connection older than ``fresh_age_s`` that has
        carried nothing is a browser preconnect, not a request on its way."""
        now = time.monotonic()
        with self._lock:
            store = self._runs[run_id]
            fresh = sum(1 for opened in store.fresh_connections.values() if now - opened < fresh_age_s)
            return RunActivity(
                len(store.open), store.last_activity, store.end_seen_at, store.end_trip_s, fresh, store.spare_closed_at
            )

    def document_header(self, run_id: str, url: str, name: str) -> list[str]:
        """The values of response header ``name`` on the document the page at ``url`` shows: the run's latest
        document request for that URL (without its fragment), else its latest answered document (a
        single-page app changes its URL with history.pushState, not with a request). Empty when none."""
        url = url.split("#", 1)[0]
        with self._lock:
            store = self._runs.get(run_id)
            answered = [r for r in store.requests if r.is_navigation and r.status and not 300 <= r.status < 400] if store else []
        if not answered:
            return []
        exact = [r for r in answered if r.url == url]
        document = max(exact or answered, key=lambda r: r.seq)
        return [v for k, v in document.response_headers if k.lower() == name]

    def open_requests(self, run_id: str) -> list[str]:
        """The run's requests still waiting for their answer, oldest first, each as one line."""
        now = time.monotonic()
        with self._lock:
            store = self._runs.get(run_id)
            flows = sorted(store.open.values(), key=lambda f: f.since) if store else []
        return [flow.describe(now) for flow in flows]

    def claim_unattributed(self, run_id: str, request_ids: set[str]) -> list[CapturedRequest]:
        """Move unattributed requests that the engine has matched to a run (by the IDs they carry)."""
        with self._lock:
            claimed = [r for r in self.unattributed if r.id in request_ids]
            self.unattributed = [r for r in self.unattributed if r.id not in request_ids]
        for request in claimed:
            request.run_id = run_id
        return claimed

    def close_run(self, run_id: str) -> list[CapturedRequest]:
        """Stop attributing to the run and hand over its requests in arrival order."""
        with self._lock:
            store = self._runs.pop(run_id, None)
            self._closed.add(run_id)
            if store:
                for connection_id in store.fresh_connections:
                    self._fresh_connection_runs.pop(connection_id, None)
        return sorted(store.requests, key=lambda r: r.seq) if store else []


def _trip_since(sent_at_ms: str | None) -> float | None:
    """Seconds since the page's clock said ``sent_at_ms`` (epoch ms); None when unknown or not believable
    (a remote browser's clock may be off: negative or long trips are skew, not latency)."""
    try:
        trip = time.time() - float(sent_at_ms or "") / 1000
    except ValueError:
        return None
    return trip if 0 <= trip < 5 else None


# The run a connection belongs to, set on each of its flows by ``RunLanes`` for the addons after it.
CONNECTION_RUN_KEY = "eventpath_connection_run"


class RunLanes:
    """Tells runs apart by the proxy port (lane) their browser context connects to. Each run leases a
    port of its own for its lifetime, and every connection accepted on that port while it is leased
    belongs to the run, for as long as the connection lives. Connections to any other port (the backend
    port) belong to no run, so an app needs nothing but ``HTTPS_PROXY`` to be captured.

    Why ports and not proxy credentials: Playwright intercepts every request of a context that has
    credentials (and turns off its HTTP cache), which made every page slower than a visitor's, and
    Chromium only sends credentials after a 407 challenge: one more round trip per connection."""

    def __init__(self, log: CaptureLog) -> None:
        self.log = log
        self._lock = threading.Lock()
        self._run_by_port: dict[int, str] = {}
        self._run_by_connection: dict[str, str] = {}

    def assign(self, port: int, run_id: str) -> None:
        with self._lock:
            self._run_by_port[port] = run_id

    def release(self, port: int) -> None:
        """New connections to ``port`` no longer belong to its run (the run's context is closed); ones
        it opened before stay its own, so a straggler is late for that run, never moved to the next."""
        with self._lock:
            self._run_by_port.pop(port, None)

    def client_connected(self, client: Any) -> None:
        sockname = client.sockname
        with self._lock:
            run_id = self._run_by_port.get(sockname[1]) if sockname else None
            if run_id is not None:
                self._run_by_connection[client.id] = run_id
        if run_id is not None:
            # From the moment it is accepted, the connection stands for a request on its way.
            self.log.connection_opened(run_id, client.id)

    def _mark(self, flow: http.HTTPFlow) -> None:
        run_id = self._run_by_connection.get(flow.client_conn.id)
        if run_id is not None:
            flow.metadata[CONNECTION_RUN_KEY] = run_id

    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._mark(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._mark(flow)

    def client_disconnected(self, client: Any) -> None:
        with self._lock:
            self._run_by_connection.pop(client.id, None)


class Recorder:
    """Records every flow as a ``CapturedRequest`` and attributes it to the run whose lane its connection
    came in on (``RunLanes``). Attribution never looks at timing: no lane, no run."""

    def __init__(self, log: CaptureLog) -> None:
        self.log = log

    def client_disconnected(self, client: Any) -> None:
        self.log.connection_used(client.id, closed=True)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return  # answered by an addon before us, not a request of the page
        self.log.connection_used(flow.client_conn.id)
        run_id = flow.metadata.get(CONNECTION_RUN_KEY)
        if flow.request.path.startswith(END_OF_RUN_PATH):
            self.log.mark_end_of_run(run_id, _trip_since(flow.request.query.get("sent_at")))
            flow.metadata["eventpath_internal"] = True
            return
        if flow.request.path.startswith(PROBE_BEACON_PATH):
            self.log.mark_probe_beacon(run_id)
            flow.metadata["eventpath_internal"] = True
            return
        if flow.request.path.startswith(PROBE_PATH):
            flow.metadata["eventpath_internal"] = "probe"
            return
        flow.metadata[RUN_KEY] = run_id
        flow.metadata[URL_KEY] = flow.request.pretty_url
        flow.metadata["eventpath_seq"] = self.log.next_seq()
        flow.metadata["eventpath_counted"] = True
        self.log.flow_started(flow.metadata[RUN_KEY], flow.id, flow.request.method, flow.metadata[URL_KEY])

    def request(self, flow: http.HTTPFlow) -> None:
        internal = flow.metadata.get("eventpath_internal")
        if internal == "probe":
            flow.response = http.Response.make(200, _PROBE_PAGE, {"content-type": "text/html; charset=utf-8"})
        elif internal:
            flow.response = http.Response.make(204, b"", _cors_headers(flow.request))

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Stream every server response to the browser as it arrives (only answers from a real server
        get here; sinkholed hits are answered whole). Documents keep their start for the chain."""
        if flow.response is None or not flow.metadata.get("eventpath_counted"):
            return
        # Headers only: this runs for every response, and building the model would decode the body.
        is_document = is_navigation_headers(flow.request.headers.get) and "html" in flow.response.headers.get(
            "content-type", ""
        )
        if is_document:
            self.log.document_answering(flow.metadata.get(RUN_KEY), flow.id)
        prefix = BodyPrefix(MAX_DOCUMENT_BODY if is_document else 0)
        flow.response.stream = prefix
        flow.metadata[BODY_PREFIX_KEY] = prefix
        if _never_ends(flow.response.headers.get("content-type", "")):
            # Server-sent events (chat, live stock, notifications) stay open as long as the page does: the
            # run must not wait for them to end before leaving.
            self.log.flow_answered(flow.metadata.get(RUN_KEY), flow.id)

    def response(self, flow: http.HTTPFlow) -> None:
        self._finish(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._finish(flow)

    def _finish(self, flow: http.HTTPFlow) -> None:
        if not flow.metadata.pop("eventpath_counted", False):
            return  # already recorded (an error after a response), or never seen by requestheaders
        captured = request_model(flow, seq=flow.metadata.get("eventpath_seq", 0))
        captured.tag_hit = bool(flow.metadata.get(TAG_HIT_KEY))
        captured.sinkholed = bool(flow.metadata.get(SINKHOLED_KEY))
        captured.mapped_to = flow.metadata.get(MAPPED_KEY)
        if flow.response is not None:
            resp = flow.response
            captured.status = resp.status_code
            captured.response_headers = _shared_headers(resp.headers)
            captured.location = resp.headers.get("location")
            as_sent = flow.metadata.get(LOCATION_AS_SENT_KEY)
            if as_sent is not None:  # the browser was made to follow it elsewhere: the record keeps the server's
                captured.location = as_sent
                captured.response_headers = [
                    (k, as_sent if k.lower() == "location" else v) for k, v in captured.response_headers
                ]
            captured.ended_at = resp.timestamp_end or time.time()
            if captured.is_navigation and "html" in resp.headers.get("content-type", ""):
                prefix = flow.metadata.get(BODY_PREFIX_KEY)
                if isinstance(prefix, BodyPrefix):
                    content = _decoded_prefix(bytes(prefix.kept), resp.headers.get("content-encoding", ""))
                else:
                    content = resp.get_content(strict=False) or b""
                captured.response_body = content[:MAX_DOCUMENT_BODY]
        if flow.error is not None:
            captured.error = flow.error.msg
            captured.ended_at = captured.ended_at or time.time()
        if captured.run_id is None:
            # No run's lane: not one of our browser contexts, so a backend sending through the proxy.
            captured.source = "server"
        background = captured.run_id is None and host_matches(captured.host, BROWSER_BACKGROUND_HOSTS)
        self.log.flow_finished(captured, flow_id=flow.id, background=background)


# Responses that by design last as long as the page: server-sent events and server push of replaced parts.
_ENDLESS_TYPES = ("text/event-stream", "multipart/x-mixed-replace")


def _never_ends(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in _ENDLESS_TYPES


def _cors_headers(request: http.Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {}
    headers = {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "vary": "Origin",
    }
    if request.method == "OPTIONS":
        headers["access-control-allow-methods"] = request.headers.get(
            "access-control-request-method", "GET, POST"
        )
        if wanted := request.headers.get("access-control-request-headers"):
            headers["access-control-allow-headers"] = wanted
        headers["access-control-max-age"] = "86400"
    return headers


class Sinkhole:
    """Answers tag hits locally, as the vendor's endpoint would, so nothing reaches an ad account.

    A tag hit is what ``classify`` (the decoder registry) claims, or any request to a host named by
    ``eventpath_sinkhole``. CORS preflights for them are allowed so the real request follows.
    With ``eventpath_live`` tag hits are marked but forwarded.
    """

    def __init__(self, classify: Classifier) -> None:
        self.classify = classify
        self.extra_hosts: tuple[str, ...] = ()

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("eventpath_live", bool, False, "Forward tag hits to the vendors instead of answering.")
        loader.add_option(
            "eventpath_sinkhole", Sequence[str], [], "More hosts whose requests are answered locally."
        )

    def configure(self, updated: set[str]) -> None:
        if "eventpath_sinkhole" in updated:
            self.extra_hosts = tuple(h.strip().lower() for h in ctx.options.eventpath_sinkhole if h.strip())

    def _reply_for(self, flow: http.HTTPFlow) -> SinkholeReply | None:
        probe = request_model(flow)
        if flow.request.method == "OPTIONS":
            # A preflight carries no payload: judge the request it announces.
            announced = flow.request.headers.get("access-control-request-method")
            if not announced:
                return None
            probe.method = announced
        reply = self.classify(probe)
        if reply is None and host_matches(probe.host, self.extra_hosts):
            reply = SinkholeReply(status=204)
        return reply

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        reply = self._reply_for(flow)
        if reply is None:
            return
        is_preflight = flow.request.method == "OPTIONS"
        flow.metadata[TAG_HIT_KEY] = not is_preflight
        if ctx.options.eventpath_live:
            return
        flow.metadata[SINKHOLED_KEY] = True
        headers = _cors_headers(flow.request)
        if is_preflight:
            flow.response = http.Response.make(204, b"", headers)
            return
        if reply.content_type:
            headers["content-type"] = reply.content_type
        flow.response = http.Response.make(reply.status, reply.body, headers)
        if reply.trailers:
            flow.response.trailers = http.Headers([(k.encode(), v.encode()) for k, v in reply.trailers])


class PreflightToNowhere:
    """Answers a CORS preflight to a host that does not resolve, allowing what it asks.

    The sinkhole judges a preflight by the request it announces, but a first-party collector that only its
    payload tells apart from an API (Snowplow's at a custom path) cannot be judged without one, so its
    preflight goes to the collector, as it does live. Where the collector's host does not resolve (offline,
    a staging name) that preflight would fail and the browser would never send the hit: answered here, the
    hit follows, and is the sinkhole's, or fails to connect as it would have. Runs after ``HostMapper``:
    a mapped host is the mapping's to answer.
    """

    LOOKUP_TIMEOUT_S = 5.0

    def __init__(self) -> None:
        self._resolves: dict[tuple[str, int], bool] = {}  # remembered per proxy: a run asks few hosts

    async def request(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        if flow.response is not None or request.method != "OPTIONS" or MAPPED_KEY in flow.metadata:
            return
        if not request.headers.get("origin") or not request.headers.get("access-control-request-method"):
            return
        if await self._resolves_to_an_address(request.host, request.port):
            return
        flow.metadata[SINKHOLED_KEY] = True
        flow.response = http.Response.make(204, b"", _cors_headers(request))

    async def _resolves_to_an_address(self, host: str, port: int) -> bool:
        key = (host.lower(), port)
        known = self._resolves.get(key)
        if known is None:
            try:
                found = await asyncio.wait_for(
                    asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                    self.LOOKUP_TIMEOUT_S,
                )
                known = bool(found)
            except (OSError, TimeoutError, UnicodeError):  # socket.gaierror is an OSError
                known = False
            if len(self._resolves) >= 1024:
                self._resolves.clear()
            self._resolves[key] = known
        return known


class HostMapper:
    """``--resolve HOST=ADDR:PORT``: http and https requests for HOST go to a plain-HTTP server at
    ADDR:PORT, while the browser keeps its own URL (and the server sees the real Host header)."""

    def __init__(self) -> None:
        self.mappings: dict[str, HostMapping] = {}

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option(
            "eventpath_resolve", Sequence[str], [], "HOST=ADDR:PORT mappings to a plain-HTTP server."
        )

    def configure(self, updated: set[str]) -> None:
        if "eventpath_resolve" in updated:
            try:
                parsed = [HostMapping.parse(m) for m in ctx.options.eventpath_resolve]
            except Exception as exc:  # noqa: BLE001 - surfaced as an option error, one line
                raise exceptions.OptionsError(str(exc)) from exc
            self.mappings = {m.host: m for m in parsed}

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        mapping = self.mappings.get(flow.request.pretty_host.lower())
        if mapping is None:
            return
        original_host = flow.request.host_header or flow.request.pretty_host
        original_scheme = flow.request.scheme
        flow.request.scheme = "http"
        flow.request.host = mapping.addr
        flow.request.port = mapping.port
        flow.request.host_header = original_host
        flow.request.headers["x-forwarded-proto"] = original_scheme
        flow.request.headers["x-forwarded-host"] = original_host
        flow.metadata[MAPPED_KEY] = f"{mapping.addr}:{mapping.port}"
