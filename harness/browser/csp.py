"""Where may the end-of-run beacon go under the page's Content-Security-Policy?

The run's end-of-run beacon (``END_OF_RUN_PATH``) is how the run knows every beacon its page queued on
pagehide has reached the proxy. It goes to the page's own origin when the policy lets it. A page whose policy
leaves its own origin out of ``connect-src`` (it talks only to an API host and its vendors) would block it,
and the run would wait the whole capture cap for a beacon that never comes; so the beacon goes to an origin
the policy names instead (its API host, its analytics host: the proxy answers the beacon itself, whatever
the host, and never passes it on; a wildcard source gets it on a subdomain of our own). Only a policy that
allows no origin at all (``'none'``, which blocks the page's own beacons as well) leaves the run without it:
it then ends on its quiet window after leaving.

The reading is conservative: a source it does not understand counts as not allowing, which only costs the
beacon.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from harness.capture.addons import END_OF_RUN_PATH

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class _Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    def beacon_url(self) -> str:
        default = self.port == _DEFAULT_PORTS[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal (a dev server on [::1])
        return f"{self.scheme}://{host}{'' if default else f':{self.port}'}{END_OF_RUN_PATH}"


def end_beacon_url(page_url: str, policies: Iterable[str]) -> str | None:
    """The URL the page at ``page_url`` may ``sendBeacon`` the end-of-run beacon to under every enforced
    policy (each a ``Content-Security-Policy`` header value or ``<meta>`` content, possibly a comma-separated
    list of policies): its own origin when allowed, else the first origin a policy names that all of them
    allow. None when there is none, or the page is not on http(s)."""
    url = urlsplit(page_url)
    try:
        port = url.port
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.hostname:
        return None
    page = _Origin(url.scheme, url.hostname.lower(), port or _DEFAULT_PORTS[url.scheme])
    governing = [
        sources
        for header in policies
        for policy in header.split(",")
        if (sources := _connect_sources(policy)) is not None
    ]
    candidates = [page]
    if page.scheme == "http":  # an https-only policy still allows the page's host upgraded
        candidates.append(_Origin("https", page.host, 443))
    candidates += [origin for sources in governing for origin in _named_origins(sources, page.scheme)]
    for origin in candidates:
        if all(any(_matches(source, origin, page) for source in sources) for sources in governing):
            return origin.beacon_url()
    return None


# The host a wildcard source (``*.example.com``) gets the beacon on: the proxy answers it without a lookup.
WILDCARD_BEACON_LABEL = "eventpath-end-of-run"


def _named_origins(sources: list[str], page_scheme: str) -> list[_Origin]:
    """The origins a source list names, for a beacon: host sources (a wildcard one on a subdomain of our
    own), not those with a path a beacon could not end with."""
    origins = []
    for token in sources:
        source = token.strip().lower()
        if source.startswith("'") or source == "*" or (source.endswith(":") and "/" not in source):
            continue  # keywords, nonces, hashes and scheme sources name no origin ("*" matched already)
        scheme, _, rest = source.rpartition("://")
        scheme = scheme or page_scheme
        if scheme not in ("http", "https"):
            continue
        rest, _, path = rest.partition("/")
        if path:
            continue
        host, _, port_text = rest.partition(":")
        if host.startswith("*."):
            host = WILDCARD_BEACON_LABEL + host[1:]
        if not host or "*" in host or (port_text and port_text != "*" and not port_text.isdigit()):
            continue
        port = int(port_text) if port_text and port_text != "*" else _DEFAULT_PORTS[scheme]
        origins.append(_Origin(scheme, host, port))
    return origins


def _connect_sources(policy: str) -> list[str] | None:
    """The source list governing fetch and beacons (``connect-src``, else ``default-src``); None when the
    policy restricts neither. The first occurrence of a directive counts, as browsers read it."""
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        tokens = directive.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    if "connect-src" in directives:
        return directives["connect-src"]
    return directives.get("default-src")


def _matches(source: str, target: _Origin, page: _Origin) -> bool:
    """Whether one source expression matches a beacon to ``target`` sent by a page on ``page`` (CSP3,
    network schemes)."""
    token = source.strip()
    lowered = token.lower()
    if lowered == "*":
        return True
    if lowered == "'self'":  # the page's own origin, or its upgrade to https
        return target.host == page.host and (
            target == page or (page.scheme == "http" and target.scheme == "https" and target.port == 443)
        )
    if lowered.startswith("'"):
        return False  # 'none', nonces, hashes, 'unsafe-*', 'strict-dynamic': no URL
    if lowered.endswith(":") and "/" not in lowered:  # scheme-source
        return _scheme_matches(lowered[:-1], target.scheme)
    return _host_source_matches(lowered, target.scheme, target.host, target.port)


def _scheme_matches(expected: str, actual: str) -> bool:
    # A policy served over http that allows http: also allows the upgraded https (CSP3 "scheme-part match").
    return expected == actual or (expected, actual) in {("http", "https"), ("ws", "wss")}


def _host_source_matches(source: str, scheme: str, host: str, port: int) -> bool:
    rest = source
    if "://" in rest:
        source_scheme, rest = rest.split("://", 1)
        if not _scheme_matches(source_scheme, scheme):
            return False
    elif scheme not in ("http", "https"):
        return False
    path = ""
    if "/" in rest:
        rest, path = rest.split("/", 1)
        path = "/" + path
    source_host, _, source_port = rest.partition(":")
    if source_host.startswith("*."):
        if not host.endswith(source_host[1:]):
            return False
    elif source_host != "*" and source_host != host:
        return False
    if source_port == "*":
        pass
    elif source_port:
        if not source_port.isdigit():
            return False
        allowed = int(source_port)
        # An http source on its default port also allows the https default port (the upgrade).
        if allowed != port and not (allowed == 80 and port == 443):
            return False
    elif port != _DEFAULT_PORTS[scheme]:
        return False
    # The beacon's path against the source's path: a prefix when it ends in "/", else the exact path.
    if path and path != "/":
        return END_OF_RUN_PATH.startswith(path) if path.endswith("/") else path == END_OF_RUN_PATH
    return True
