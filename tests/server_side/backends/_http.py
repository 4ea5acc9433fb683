"""The tiny HTTP face both SDK backends share: ``POST /purchase`` with a JSON order -> one server event.

Plain standard library, so the backends need nothing but their vendor's SDK. Nothing here (or in the
backends) knows about eventpath: the harness routes their calls through its proxy by environment only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def serve(send_purchase: Handler, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args(argv).port

    class PurchaseHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != "/purchase":
                self._reply(404, {"error": "POST /purchase"})
                return
            order = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            try:
                self._reply(200, send_purchase(order))
            except Exception as exc:  # the test reads the SDK's error from the reply
                self._reply(502, {"error": f"{type(exc).__name__}: {exc}"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), PurchaseHandler)
    print(f"listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
