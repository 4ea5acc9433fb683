"""A hostile local site for robustness tests, served on loopback and reached under mapped host names.

Every page marks its hits with ``ep.hit=<id>`` (GA4 event parameter ``hit``) so a test can count exactly
what arrived. Routes on ``www.hostile.test``:

- ``/stress?per_kind=N&unload=M&batch=B&pace=P&inflight=K&requests=R``: N hits each as image, fetch,
  keepalive fetch, ``sendBeacon`` and batched GA4 POST bodies of B events, plus M beacons on ``pagehide``;
  ``window.__sent`` lists what the browser accepted (``sendBeacon`` may refuse when its quota is full). The
  page yields 5 ms every P hits (0: never) and is flow-controlled as a well-behaved site would be: at most R
  requests in flight (default 500), K of them keepalive fetches and beacons (default 100; 0 lifts a cap), as
  Chromium drops keepalive-class requests past 256 in flight per frame (beacons silently) and fails requests
  of any kind past about 1,300. ``window.__done`` is set once all have ended; ``window.__rejected`` lists the
  fetches that failed.
- ``/reset``: the socket is closed (RST) without an answer.
- ``/loop``: a redirect to itself, for ever.
- ``/trickle``: a page that sends hits, then never finishes loading (a byte every 100 ms, forever).
- ``/big`` (5 MB of HTML) and ``/big-js`` (a page loading a 5 MB script): both send a hit.
- ``/malformed``: a GA4 hit without ``en``, then a good one.
- ``/plain``: a page with one hit and no consent banner (the missing CMP, the crashed tab).
- ``/to-unmapped``: sends a hit, then sends the browser on to a host nobody mapped.
- ``/marked?marker=X``: hits carrying the marker on load and on ``pagehide`` (parallel runs).

``GarbageServer`` answers every connection with a TLS alert: a port that speaks something else.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from harness.options import HostMapping
from tests.local_site import LocalSite

SITE_HOST = "www.hostile.test"
GARBAGE_HOST = "tls.hostile.test"
BIG_BYTES = 5 * 1024 * 1024
COLLECT = "https://www.google-analytics.com/g/collect?v=2&tid=G-HOSTILE1&cid=7.7"

# Sends one GA4 hit per call; every transport a tag uses.
_HIT_JS = """
const COLLECT = %(collect)s;
window.__sent = [];
function hitUrl(id, en) { return COLLECT + '&en=' + (en || 'hit') + '&ep.hit=' + id; }
function send(kind, id) {
  const url = hitUrl(id, kind);
  if (kind === 'img') { new Image().src = url; return true; }
  if (kind === 'fetch') { fetch(url, {mode: 'no-cors'}); return true; }
  if (kind === 'keepalive') {
    try { fetch(COLLECT, {method: 'POST', keepalive: true, mode: 'no-cors', body: 'en=keepalive&ep.hit=' + id}); return true; }
    catch (e) { return false; }  // over the keepalive quota: the browser refused it
  }
  if (kind === 'beacon') { return navigator.sendBeacon(url, ''); }
  return false;
}
"""


def hit_script() -> str:
    return _HIT_JS % {"collect": json.dumps(COLLECT)}


# Chromium's limits that a burst of hits runs into (Chromium 156): keepalive-class requests (``fetch`` with
# ``keepalive`` and ``sendBeacon``) past 256 in flight per top-level frame are dropped, a keepalive fetch
# rejecting ("Failed to fetch"), a beacon silently although ``sendBeacon`` returned true; and with too many
# requests of any kind in flight (1,300 no-cors fetches were fine, 1,600 were not) the browser fails them with
# net::ERR_INSUFFICIENT_RESOURCES before they reach the proxy.
BROWSER_KEEPALIVE_QUOTA = 256
# What the stress page keeps in flight by default: keepalive-class requests well under their quota (room left
# for the ``unload`` beacons on ``pagehide``, which cannot wait), and requests of every kind.
KEEPALIVE_IN_FLIGHT = 100
REQUESTS_IN_FLIGHT = 500

# The stress loop: every kind in turn, each request waiting for a free slot.
_STRESS_JS = """
const PER_KIND = %(per_kind)d, UNLOAD = %(unload)d, BATCH = %(batch)d, PACE = %(pace)d;
const KEEPALIVE_CAP = %(inflight)d, CAP = %(requests)d;  // 0: no cap
window.__rejected = [];     // fetches the browser failed: counted in __sent, so a loss to explain
window.__unconfirmed = [];  // beacons whose end was never reported (their slot freed after a timeout)
window.__peak = {all: 0, keepalive: 0};  // the most requests in flight at once
window.__phases = {};       // when each kind was all sent (ms since the page started)
let open = 0, keepOpen = 0;  // requests, and keepalive-class ones, started and not yet seen to end
let wake = null;
function wakeUp() { if (wake) { const w = wake; wake = null; w(); } }
async function slot(keepalive) {
  while ((CAP > 0 && open >= CAP) || (keepalive && KEEPALIVE_CAP > 0 && keepOpen >= KEEPALIVE_CAP)) {
    await new Promise(r => { wake = r; });
  }
  open++; if (keepalive) keepOpen++;
  window.__peak.all = Math.max(window.__peak.all, open);
  window.__peak.keepalive = Math.max(window.__peak.keepalive, keepOpen);
}
function release(keepalive) { open--; if (keepalive) keepOpen--; wakeUp(); }
function settled(promise, id, keepalive) {
  promise.then(() => release(keepalive), () => { window.__rejected.push(id); release(keepalive); });
}
// A beacon has no promise; Chromium reports a resource timing entry (initiatorType 'beacon') when it ends,
// delivered or not. An observer sees every entry, whatever the size of the timing buffer.
const beacons = new Map();  // absolute URL -> release of its slot
const timed = typeof PerformanceObserver !== 'undefined'
  && (PerformanceObserver.supportedEntryTypes || []).includes('resource');
if (timed) {
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const done = e.initiatorType === 'beacon' && beacons.get(e.name);
      if (done) { beacons.delete(e.name); done(); }
    }
  }).observe({type: 'resource'});
}
const BEACON_WAIT_MS = timed ? 10000 : 1000;  // without timing entries: assume a beacon ends within a second
const SEND = {
  img(id) {
    const img = new Image();
    img.onload = img.onerror = () => release(false);  // the sinkhole's 204 is no image: onerror is the end
    img.src = hitUrl(id, 'img');
    return true;
  },
  fetch(id) { settled(fetch(hitUrl(id, 'fetch'), {mode: 'no-cors'}), id, false); return true; },
  keepalive(id) {
    const init = {method: 'POST', keepalive: true, mode: 'no-cors', body: 'en=keepalive&ep.hit=' + id};
    let sent;
    try { sent = fetch(COLLECT, init); } catch (e) { release(true); return false; }  // refused outright
    settled(sent, id, true);
    return true;
  },
  beacon(id) {
    const url = hitUrl(id, 'beacon');
    if (!navigator.sendBeacon(url, '')) { release(true); return false; }
    const key = new URL(url, location.href).href;
    const timer = setTimeout(() => {
      if (!beacons.delete(key)) return;
      if (timed) window.__unconfirmed.push(id);
      release(true);
    }, BEACON_WAIT_MS);
    beacons.set(key, () => { clearTimeout(timer); release(true); });
    return true;
  },
};
const pause = (n) => (PACE > 0 && n %% PACE === 0) ? new Promise(r => setTimeout(r, 5)) : null;
(async () => {
  let n = 0;
  for (const kind of ['img', 'fetch', 'keepalive', 'beacon']) {
    const keepalive = kind === 'keepalive' || kind === 'beacon';
    for (let i = 0; i < PER_KIND; i++) {
      const id = kind + '-' + i;
      await slot(keepalive);
      if (SEND[kind](id)) window.__sent.push(id);
      const p = pause(++n); if (p) await p;
    }
    window.__phases[kind] = Math.round(performance.now());
  }
  for (let i = 0; i < PER_KIND; i += BATCH) {
    const ids = [];
    for (let j = i; j < Math.min(i + BATCH, PER_KIND); j++) ids.push('batch-' + j);
    await slot(false);
    const body = ids.map(id => 'en=batch&ep.hit=' + id).join('\\r\\n');
    settled(fetch(COLLECT, {method: 'POST', mode: 'no-cors', body: body}), ids.join(','), false);
    window.__sent.push(...ids);
    const p = pause(++n); if (p) await p;
  }
  window.__phases.batch = Math.round(performance.now());
  // Done once every request has ended: the pagehide beacons then have the whole keepalive quota.
  while (open > 0) await new Promise(r => { wake = r; });
  window.__phases.drained = Math.round(performance.now());
  window.__done = true;
})();
addEventListener('pagehide', () => {
  for (let i = 0; i < UNLOAD; i++) navigator.sendBeacon(hitUrl('unload-' + i, 'unload'), '');
});
"""


def stress_page(
    per_kind: int,
    unload: int,
    batch: int,
    pace: int = 0,
    inflight: int = KEEPALIVE_IN_FLIGHT,
    requests: int = REQUESTS_IN_FLIGHT,
) -> str:
    """A page sending ``per_kind`` hits of each kind as fast as a well-behaved (if extreme) site may.

    ``pace`` > 0 yields to the event loop (5 ms) every ``pace`` hits. Each hit waits for a free slot: at most
    ``requests`` requests in flight, ``inflight`` of them keepalive-class (keepalive fetch, ``sendBeacon``); a
    slot is free once its request ends (the fetch promise settles, the image loads or fails, the beacon's
    resource timing entry arrives). Without the caps a burst measures Chromium's limits (see
    ``BROWSER_KEEPALIVE_QUOTA``) rather than the harness; 0 lifts a cap. ``window.__done`` is set once every
    request has ended, so the ``unload`` beacons sent on ``pagehide`` (which cannot wait) must stay under the
    keepalive quota by themselves."""
    caps = {"inflight": inflight, "requests": requests}
    numbers = {"per_kind": per_kind, "unload": unload, "batch": batch, "pace": pace, **caps}
    return f"""<!doctype html><html><head><title>Stress</title></head><body><h1>Stress</h1><script>
{hit_script()}{_STRESS_JS % numbers}</script></body></html>"""


def _simple_page(title: str, script: str) -> str:
    return f"""<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>
<script>{hit_script()}{script}</script></body></html>"""


PLAIN_PAGE = _simple_page("Plain", "send('img', 'plain-0');")
MALFORMED_PAGE = _simple_page(
    "Malformed",
    # A GA4 hit without its event name, as a broken custom tag sends it, then a good one.
    "new Image().src = COLLECT + '&ep.hit=no-en'; send('img', 'after-malformed');",
)
MARKED_PAGE = _simple_page(
    "Marked",
    "const m = new URLSearchParams(location.search).get('marker');"
    "send('img', m + '-load'); send('keepalive', m + '-keepalive');"
    "addEventListener('pagehide', () => navigator.sendBeacon(hitUrl(m + '-unload', 'unload'), ''));",
)
TRICKLE_HEAD = _simple_page("Trickle", "send('img', 'trickle-0'); send('beacon', 'trickle-1');").split("</body>")[0]
TO_UNMAPPED_PAGE = _simple_page(
    "Leaving", "send('img', 'before-unmapped'); addEventListener('load', () => { location.href = 'https://gone.invalid/'; });"
)
# Main threads that never yield: an endless loop in a tag after load, or in a button's click handler.
BUSY_AFTER_LOAD_PAGE = _simple_page(
    "Busy", "send('img', 'busy-0'); addEventListener('load', () => setTimeout(() => { for (;;) {} }, 20));"
)
BUSY_ON_CLICK_PAGE = _simple_page(
    "Busy click", "send('img', 'busy-click-0');"
).replace("<body>", '<body><button id="spin" onclick="for (;;) {}">Buy</button><p id="order-id">ORD-7</p>', 1)
BIG_JS_PAGE = """<!doctype html><html><head><title>Big JS</title></head><body><h1>Big JS</h1>
<script src="/big.js"></script></body></html>"""


def big_html() -> bytes:
    head = _simple_page("Big", "send('img', 'big-0');").split("</body>")[0].encode()
    filler = b"<!--" + b"x" * (BIG_BYTES - len(head) - 40) + b"-->"
    return head + filler + b"</body></html>"


def big_js() -> bytes:
    tail = f"\n{hit_script()}\nsend('img', 'bigjs-0');\n".encode()
    return b"/*" + b"y" * (BIG_BYTES - len(tail) - 4) + b"*/" + tail


class _Handler(BaseHTTPRequestHandler):
    server: HostileSite  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, html: str) -> None:
        self._send(200, html.encode(), "text/html; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        self.server.paths.append(parts.path)
        if parts.path == "/stress":
            defaults = {"per_kind": 50, "unload": 10, "batch": 5, "pace": 0}
            defaults |= {"inflight": KEEPALIVE_IN_FLIGHT, "requests": REQUESTS_IN_FLIGHT}
            numbers = {k: int(query.get(k, d)) for k, d in defaults.items()}
            self._html(stress_page(**numbers))
        elif parts.path == "/loop":  # a redirect to itself: the browser gives up after 20 hops
            self.send_response(302)
            self.send_header("location", "/loop?" + parts.query)
            self.send_header("content-length", "0")
            self.end_headers()
        elif parts.path == "/reset":
            self._reset()
        elif parts.path == "/trickle":
            self._trickle()
        elif parts.path == "/big":
            self._send(200, self.server.big_html, "text/html; charset=utf-8")
        elif parts.path == "/big-js":
            self._html(BIG_JS_PAGE)
        elif parts.path == "/big.js":
            self._send(200, self.server.big_js, "application/javascript")
        elif parts.path == "/malformed":
            self._html(MALFORMED_PAGE)
        elif parts.path == "/plain":
            self._html(PLAIN_PAGE)
        elif parts.path == "/to-unmapped":
            self._html(TO_UNMAPPED_PAGE)
        elif parts.path == "/marked":
            self._html(MARKED_PAGE)
        elif parts.path == "/busy-after-load":
            self._html(BUSY_AFTER_LOAD_PAGE)
        elif parts.path == "/busy-on-click":
            self._html(BUSY_ON_CLICK_PAGE)
        else:
            self._send(404, b"not found", "text/plain")

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends RST, what a crashing upstream or a load balancer dropping us looks like.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(TRICKLE_HEAD.encode() + b" " * 2048)  # past the browser's sniffing buffer
            self.wfile.flush()
            while not self.server.stopping.wait(0.1):
                self.wfile.write(b"<!-- still loading -->\n")
                self.wfile.flush()
        except OSError:
            pass  # the client gave up: that is the point


class HostileSite(LocalSite):
    def __init__(self) -> None:
        super().__init__(_Handler, host="0.0.0.0")  # noqa: S104 - reached on eth0 too, for the TLS case
        self.paths: list[str] = []
        self.stopping = threading.Event()
        self.big_html = big_html()
        self.big_js = big_js()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # dropped connections are the point of this site

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # the trickling page's loop ends first
        super().__exit__(*exc)

    def url(self, path: str) -> str:
        return f"https://{SITE_HOST}{path}"


# A TLS "handshake failure" alert record: what a TLS-only port says to a plain-HTTP client.
TLS_ALERT = bytes([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])


class GarbageServer:
    """Answers every connection with a TLS alert and closes it: a port that speaks something else."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(TLS_ALERT)
                except OSError:
                    pass

    def __enter__(self) -> GarbageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]


def mappings(site: HostileSite, garbage: GarbageServer) -> list[HostMapping]:
    return [
        HostMapping(host=SITE_HOST, addr="127.0.0.1", port=site.port),
        HostMapping(host=GARBAGE_HOST, addr="127.0.0.1", port=garbage.port),
    ]


def mappings_for_site(site: HostileSite) -> list[HostMapping]:
    return [HostMapping(host=SITE_HOST, addr="127.0.0.1", port=site.port)]
