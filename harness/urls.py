"""Small URL helpers every stage may use."""

from __future__ import annotations


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """``patterns`` holds exact host names; one starting with "." matches that domain and its subdomains."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False
