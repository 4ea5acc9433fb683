"""A hostile local site for robustness tests, served on loopback and reached under mapped host names.

Every page marks its hits with ``ep.hit=<id>`` (GA4 event parameter ``hit``) so a test can count exactly
what arrived. Routes on ``www.hostile.test``:

- ``/stress?per_kind=N&unload=M&batch=B&pace=P``: N hits each as image, fetch, keepalive fetch, ``sendBeacon`` and
  batched GA4 POST bodies of B events, plus M beacons on ``pagehide``; ``window.__sent`` lists what the
  browser accepted (``sendBeacon`` may refuse when its quota is full).
- ``/reset``: the socket is closed (RST) without an answer.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from harness.options import HostMapping

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
function sendBatch(ids) {
  const body = ids.map(id => 'en=batch&ep.hit=' + id).join('\\r\\n');
  fetch(COLLECT, {method: 'POST', mode: 'no-cors', body: body});
}
"""


def hit_script() -> str:
    return _HIT_JS % {"collect": json.dumps(COLLECT)}


def stress_page(per_kind: int, unload: int, batch: int, pace: int = 0) -> str:
    """``pace`` > 0 yields to the event loop every ``pace`` hits: Chromium silently drops keepalive requests
    (sendBeacon included, though it returns true) beyond 256 in flight per frame, a browser limit that a
    5,000-hit burst would otherwise measure instead of the harness."""
    return f"""<!doctype html><html><head><title>Stress</title></head><body><h1>Stress</h1><script>
{hit_script()}
const pause = (n) => ({pace} > 0 && n % {pace} === 0) ? new Promise(r => setTimeout(r, 5)) : null;
(async () => {{
  let n = 0;
  for (const kind of ['img', 'fetch', 'keepalive', 'beacon']) {{
    for (let i = 0; i < {per_kind}; i++) {{
      const id = kind + '-' + i;
      if (send(kind, id)) window.__sent.push(id);
      const p = pause(++n); if (p) await p;
    }}
  }}
  for (let i = 0; i < {per_kind}; i += {batch}) {{
    const ids = [];
    for (let j = i; j < Math.min(i + {batch}, {per_kind}); j++) ids.push('batch-' + j);
    sendBatch(ids);
    window.__sent.push(...ids);
    const p = pause(++n); if (p) await p;
  }}
  window.__done = true;
}})();
addEventListener('pagehide', () => {{
  for (let i = 0; i < {unload}; i++) navigator.sendBeacon(hitUrl('unload-' + i, 'unload'), '');
}});
</script></body></html>"""


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
            numbers = {k: int(query.get(k, d)) for k, d in (("per_kind", 50), ("unload", 10), ("batch", 5), ("pace", 0))}
            self._html(stress_page(**numbers))
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


class HostileSite(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("0.0.0.0", 0), _Handler)  # noqa: S104 - reached on eth0 too, for the TLS case
        self.paths: list[str] = []
        self.stopping = threading.Event()
        self.big_html = big_html()
        self.big_js = big_js()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # dropped connections are the point of this site

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()

    @property
    def port(self) -> int:
        return self.server_address[1]

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
