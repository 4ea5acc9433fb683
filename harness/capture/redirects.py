"""A browser that changes where a redirect goes before following it, emulated per run at the proxy.

Brave and Firefox remove click IDs from a redirect's target when it crosses to another site (the run's
``link_protection`` condition). Chromium follows a 3xx as its server wrote it, so the proxy rewrites the
``Location`` of the run's top-level document redirects the way that browser would read it; the browser then
asks for the URL the emulated one would. What the server sent stays on record (``LOCATION_AS_SENT_KEY``):
the chain shows the redirect as written and the next hop as the browser's doing.

The rule is injected per run (``CaptureProxy.rewrite_redirects``), so capture knows nothing of browsers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urljoin

from mitmproxy import http

from harness.models import is_navigation_headers

# (the redirecting document's URL, the absolute URL its Location names) -> the URL the browser asks for
RedirectRule = Callable[[str, str], str]

# The Location a rewritten redirect carried as its server sent it, for the record.
LOCATION_AS_SENT_KEY = "eventpath_location_as_sent"


class BrowserRedirects:
    """Rewrites the run's top-level document redirects by the run's rule; runs without one are untouched."""

    def __init__(self, run_of: Callable[[http.HTTPFlow], str | None], url_of: Callable[[http.HTTPFlow], str]) -> None:
        self._run_of = run_of
        self._url_of = url_of
        self._rules: dict[str, RedirectRule] = {}
        self._lock = threading.Lock()

    def set_rule(self, run_id: str, rule: RedirectRule) -> None:
        with self._lock:
            self._rules[run_id] = rule

    def clear_rule(self, run_id: str) -> None:
        with self._lock:
            self._rules.pop(run_id, None)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if not self._rules or flow.response is None:
            return  # no run emulates such a browser: nothing to look at
        response = flow.response
        location = response.headers.get("location")
        if not (300 <= response.status_code < 400 and location):
            return
        run_id = self._run_of(flow)
        rule = self._rules.get(run_id) if run_id is not None else None
        if rule is None or not is_navigation_headers(flow.request.headers.get):
            return
        source = self._url_of(flow)
        target = urljoin(source, location.strip())
        followed = rule(source, target)
        if followed != target:
            flow.metadata[LOCATION_AS_SENT_KEY] = location
            response.headers["location"] = followed
