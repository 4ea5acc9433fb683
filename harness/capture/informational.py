"""1xx informational answers from an HTTP/1 server (103 Early Hints, which Rails, Node and CDN origins send
before the page), dropped before mitmproxy's HTTP/1 client reads the answer.

That client takes a 1xx for the final response: the real answer then arrives as "unexpected data", the
connection is dropped and the landing page never loads. mitmproxy's own HTTP/2 layer swallows 1xx answers
(a hint is not needed to load a page); ``install`` makes its HTTP/1 client do the same. 101 Switching
Protocols is a final answer (WebSockets) and stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from typing import Any

from mitmproxy.proxy import events

_INFORMATIONAL_HEAD = re.compile(rb"HTTP/1\.[01] 1(?!01)\d\d[ \r]")
_HEAD_END = b"\r\n\r\n"


def drop_informational_heads(buffer: Any) -> None:
    """Remove every complete 1xx head (but 101) at the start of ``buffer`` (an h11 ``ReceiveBuffer``)."""
    while True:
        data = bytes(buffer)
        if not _INFORMATIONAL_HEAD.match(data) or _HEAD_END not in data:
            return
        buffer.maybe_extract_lines()


def install() -> None:
    """Patch mitmproxy's HTTP/1 client once per process (idempotent). Its module is private: should a
    later mitmproxy move it, the proxy runs unpatched rather than not at all."""
    try:
        from mitmproxy.proxy.layers.http._http1 import Http1Client

        original: Callable[..., Generator[Any, Any, None]] = Http1Client.read_headers
    except (ImportError, AttributeError):
        return
    if getattr(original, "eventpath_drops_1xx", False):
        return

    def read_headers(self: Any, event: events.ConnectionEvent) -> Generator[Any, Any, None]:
        if isinstance(event, events.DataReceived) and self.request is not None:
            drop_informational_heads(self.buf)
            if not self.buf:
                return  # only hints so far: wait for the answer
        yield from original(self, event)

    read_headers.eventpath_drops_1xx = True  # type: ignore[attr-defined]
    Http1Client.read_headers = read_headers  # type: ignore[method-assign]
