"""``DemoShop``: one loopback HTTP server answering the demo's host names by the Host header.

The harness proxy maps ``https://<host>`` for each of ``HOSTS`` to this plain-HTTP server (see
``host_mappings``), so the browser sees https URLs; a browser may also visit ``http://<host>:<port>``
directly when it resolves the names to 127.0.0.1 (Chromium's ``--host-resolver-rules``).
"""

from __future__ import annotations

import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from harness.demo.api import Api
from harness.demo.catalog import (
    API_HOST,
    HOSTS,
    JOURNEY_COOKIE_DOMAIN,
    SAMPLE_CLICK_PARAMS,
    SITE_HOST,
    TRACKER_HOST,
)
from harness.demo.orders import OrderBook
from harness.demo.server_events import Sender, UrllibSender, VendorEndpoints
from harness.demo.site import Site, tracker
from harness.demo.switches import BUGS_COOKIE, BUGS_PARAM, parse_switch_list, switches_for_request
from harness.demo.web import Request, Response
from harness.errors import BadInput, EventpathError
from harness.options import HostMapping

log = logging.getLogger(__name__)


class _ShopServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A browser that went away mid-request (a context closed, a user who left) is how pages end, not
        # an error of the shop: no traceback for it. Anything else is one line in the log.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        log.warning("demo shop: request from %s failed: %r", client_address, error)


class DemoShop:
    """The demo shop. ``with DemoShop() as shop:`` serves it on 127.0.0.1 at ``shop.port``.

    ``sender`` receives the backend's server-side events (default: urllib through ``server_events_proxy``
    or the environment's HTTPS proxy, trusting ``ca_file``); ``endpoints`` says where they go.
    """

    def __init__(
        self,
        port: int = 0,
        bind: str = "127.0.0.1",
        *,
        server_events_proxy: str | None = None,
        ca_file: str | None = None,
        sender: Sender | None = None,
        endpoints: VendorEndpoints | None = None,
    ) -> None:
        self.bind = bind
        self._requested_port = port
        self.orders = OrderBook()
        self.sender: Sender = sender or UrllibSender(proxy=server_events_proxy, ca_file=ca_file)
        self._site = Site(self.orders)
        self._api = Api(self.orders, self.sender, endpoints or VendorEndpoints())
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DemoShop:
        if self._server is not None:
            return self
        try:
            server = _ShopServer((self.bind, self._requested_port), _handler_for(self))
        except OSError as exc:
            raise EventpathError(
                f"demo shop: cannot listen on {self.bind}:{self._requested_port}: {exc.strerror}; "
                "pick another --port or leave it out for a free one"
            ) from exc
        server.daemon_threads = True
        server.block_on_close = False  # a held slow_page response must not delay stop()
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="demo-shop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoShop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the demo shop is not running; call start() first")
        return int(self._server.server_address[1])

    def host_mappings(self) -> list[HostMapping]:
        """``--resolve`` mappings sending each demo host to this server."""
        return [HostMapping(host=host, addr="127.0.0.1", port=self.port) for host in HOSTS]

    # ------------------------------------------------------------------ URLs
    def url(self, path: str = "/", host: str = SITE_HOST, direct: bool = False) -> str:
        """A URL of the shop: ``https://host/path`` as seen through the harness proxy, or with
        ``direct=True`` ``http://host:port/path`` for a browser resolving the names itself."""
        base = f"http://{host}:{self.port}" if direct else f"https://{host}"
        return base + path

    def click_url(
        self, params: dict[str, str] | None = None, switches: tuple[str, ...] = (), direct: bool = False
    ) -> str:
        """The ad click a journey starts from, carrying realistic click IDs and UTMs by default."""
        query = list((SAMPLE_CLICK_PARAMS if params is None else params).items())
        if switches:
            query.append((BUGS_PARAM, ",".join(sorted(parse_switch_list(",".join(switches))))))
        return self.url("/click?" + urlencode(query, safe=","), host=TRACKER_HOST, direct=direct)

    # ------------------------------------------------------------------ dispatch
    def respond(self, request: Request) -> Response:
        """One request -> one response. Switches are worked out per request: nothing global."""
        try:
            switches, from_url = switches_for_request(request.query, request.headers, request.cookies)
        except BadInput as exc:
            return Response.text(f"{exc}\n", 400)
        request.switches = switches
        if request.host == TRACKER_HOST:
            response = tracker(request)
        elif request.host == API_HOST or (request.host != SITE_HOST and request.path.startswith("/api/")):
            response = self._api.respond(request)
        else:  # the site, also for 127.0.0.1 / localhost so a bare --serve is browsable
            response = self._site.respond(request)
        if from_url:
            # Keep the run's switches for the rest of the journey, across the tracker and the shop.
            domain = JOURNEY_COOKIE_DOMAIN if request.host.endswith(JOURNEY_COOKIE_DOMAIN) else None
            response.set_cookie(BUGS_COOKIE, ",".join(sorted(switches)), domain)
        return response

    def wait(self, seconds: float) -> None:
        """Sleep that ends early when the shop stops."""
        self._stopping.wait(seconds)


def _handler_for(shop: DemoShop) -> type[BaseHTTPRequestHandler]:
    class Handler(_ShopHandler):
        pass

    Handler.shop = shop
    return Handler


class _ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoShop/1.0"
    shop: DemoShop

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)  # absolute-form when a proxy forwards the request as-is
        host, port = Request.parse_host(self.headers.get("Host") or target.netloc or "")
        request = Request(
            method=self.command,
            host=host,
            port=port,
            path=target.path or "/",
            query=parse_qsl(target.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
        )
        try:
            response = self.shop.respond(request)
        except Exception:
            log.exception("demo shop: %s %s failed", self.command, self.path)
            response = Response.text("internal error\n", 500)
        if response.delay_seconds:
            self.shop.wait(response.delay_seconds)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")  # a cached 301 would ignore the next run's switches
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("demo shop: " + format, *args)
