"""Would the page's Content-Security-Policy let it send a beacon to its own origin?

The run's end-of-run beacon goes to the page's own origin (``/__eventpath__/end-of-run``). A page whose
policy leaves its own origin out of ``connect-src`` (it talks only to an API host and its vendors) blocks
it, and the run would wait the whole capture cap for a beacon that never comes, then call the capture cut
off. So the harness arms the beacon only where the policy allows it. The reading is conservative: a
source it does not understand counts as not allowing, which only costs the beacon (the run then ends on
its quiet window, as it does on a page that cannot take the beacon at all).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from harness.capture.addons import END_OF_RUN_PATH

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def beacon_allowed(page_url: str, policies: Iterable[str]) -> bool:
    """True when every enforced policy (a ``Content-Security-Policy`` header value or ``<meta>`` content,
    each possibly a comma-separated list of policies) lets ``page_url`` ``sendBeacon`` to its own origin."""
    url = urlsplit(page_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return False
    for header in policies:
        for policy in header.split(","):
            sources = _connect_sources(policy)
            if sources is not None and not any(_matches(source, url) for source in sources):
                return False
    return True


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


def _matches(source: str, url: SplitResult) -> bool:
    """Whether one source expression matches the beacon's URL: the page's own origin (CSP3, network schemes)."""
    scheme = url.scheme
    host = (url.hostname or "").lower()
    port = url.port or _DEFAULT_PORTS[scheme]
    token = source.strip()
    lowered = token.lower()
    if lowered in ("'self'", "*"):
        return True
    if lowered.startswith("'"):
        return False  # 'none', nonces, hashes, 'unsafe-*', 'strict-dynamic': no URL
    if lowered.endswith(":") and "/" not in lowered:  # scheme-source
        return _scheme_matches(lowered[:-1], scheme)
    return _host_source_matches(lowered, scheme, host, port)


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
