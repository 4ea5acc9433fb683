"""A browser that changes where a navigation goes before following it, emulated per run at the proxy.

Brave and Firefox remove click IDs from a top-level navigation's URL when it crosses to another site (the
run's ``link_protection`` condition): a redirect's target, and the URL a page on another site sends the
browser to (a script's ``location``, a refresh). Chromium does neither, so the proxy does it for the run:

- a redirect (3xx) of a top-level document: its ``Location`` is rewritten by ``BrowserRules.redirect`` and
  the browser asks for what the emulated one would. What the server sent stays on record
  (``LOCATION_AS_SENT_KEY``): the chain shows the redirect as written, the next hop as the browser's doing.
- a navigation from another site that is no redirect's (``Sec-Fetch-Site: cross-site``; a redirect's own
  request carries that header too, so the run's redirect targets are remembered and let through): when
  ``BrowserRules.cross_site_navigation`` changes its URL, the proxy answers it with a 307 to that URL, marked
  ``EMULATED_HEADER``; the page the browser lands on has the URL the emulated browser would have asked for.

The rules are injected per run (``CaptureProxy.emulate_browser``), so capture knows nothing of browsers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from mitmproxy import http

from harness.models import is_navigation_headers

# The Location a rewritten redirect carried as its server sent it, for the record.
LOCATION_AS_SENT_KEY = "eventpath_location_as_sent"
# Marks the proxy's own 307 that stands for the emulated browser changing a navigation's URL.
EMULATED_HEADER = "x-eventpath-emulated-browser"


@dataclass(frozen=True)
class BrowserRules:
    """Where the emulated browser goes instead: each returns the URL it asks for (the same when unchanged)."""

    redirect: Callable[[str, str], str]  # (the redirecting document's URL, the absolute target) -> URL
    cross_site_navigation: Callable[[str], str]  # a navigation from another site, no redirect's -> URL


@dataclass
class _RunEmulation:
    rules: BrowserRules
    redirect_targets: set[str] = field(default_factory=set)  # asked for next as redirects, not fresh navigations


class BrowserRedirects:
    """Applies the run's ``BrowserRules`` to its top-level navigations; runs without rules are untouched."""

    def __init__(self, run_of: Callable[[http.HTTPFlow], str | None], url_of: Callable[[http.HTTPFlow], str]) -> None:
        self._run_of = run_of
        self._url_of = url_of
        self._runs: dict[str, _RunEmulation] = {}
        self._lock = threading.Lock()

    def set_rules(self, run_id: str, rules: BrowserRules) -> None:
        with self._lock:
            self._runs[run_id] = _RunEmulation(rules)

    def clear_rules(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    def _emulation(self, flow: http.HTTPFlow) -> _RunEmulation | None:
        if not self._runs:
            return None  # no run emulates such a browser: nothing to look at
        run_id = self._run_of(flow)
        emulation = self._runs.get(run_id) if run_id is not None else None
        if emulation is None or not is_navigation_headers(flow.request.headers.get):
            return None
        return emulation

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or (emulation := self._emulation(flow)) is None:
            return
        url = self._url_of(flow)
        if _key(url) in emulation.redirect_targets:
            emulation.redirect_targets.discard(_key(url))
            return  # following a redirect: judged on its Location already
        if (flow.request.headers.get("sec-fetch-site") or "").lower() != "cross-site":
            return
        asked = emulation.rules.cross_site_navigation(url)
        if asked != url:
            emulation.redirect_targets.add(_key(asked))
            flow.response = http.Response.make(
                307, b"", {"location": asked, "cache-control": "no-store", EMULATED_HEADER: "link-protection"}
            )

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or (emulation := self._emulation(flow)) is None:
            return
        location = response.headers.get("location")
        if not (300 <= response.status_code < 400 and location):
            return
        source = self._url_of(flow)
        target = urljoin(source, location.strip())
        followed = emulation.rules.redirect(source, target)
        if followed != target:
            flow.metadata[LOCATION_AS_SENT_KEY] = location
            response.headers["location"] = followed
        emulation.redirect_targets.add(_key(followed))


def _key(url: str) -> str:
    """A URL as a redirect target is matched to the request that follows it (no fragment)."""
    return urlsplit(url)._replace(fragment="").geturl()
