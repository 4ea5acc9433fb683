"""Small URL helpers every stage may use."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar
from urllib.parse import unquote as urllib_unquote
from urllib.parse import urlsplit


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """``patterns`` holds exact host names; one starting with "." matches that domain and its subdomains."""
    try:
        return _host_matches_cached(host, patterns)
    except TypeError:  # unhashable patterns (a list): no cache
        return _host_matches(host, patterns)


# Every claims() asks, and a site talks to few hosts: remember the answers.
@lru_cache(maxsize=4096)
def _host_matches_cached(host: str, patterns: tuple[str, ...]) -> bool:
    return _host_matches(host, patterns)


def _host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False


_K = TypeVar("_K")
_V = TypeVar("_V")


class _PerKey(dict[_K, _V], Generic[_K, _V]):
    """``memo[key]`` is ``function(key)``, computed the first time (the memo starts again past ``size``
    keys). A hit is a single dict lookup, cheaper than functools.lru_cache's for the hottest lookups.
    1,024 URLs cover a run's hits and the pages they name; 4,096 of real hits held ~10-40 MB of parsed
    queries in a long suite, for nothing."""

    def __init__(self, function: Callable[[_K], _V], size: int = 1024):
        super().__init__()
        self._function, self._size = function, size

    def __missing__(self, key: _K) -> _V:
        if len(self) >= self._size:
            self.clear()
        value = self[key] = self._function(key)
        return value


class UrlParts(NamedTuple):
    host: str  # lower case, "" when the URL has none
    path: str  # "/" when the URL has none
    query: str  # raw, still percent-encoded


def _split_url(url: str) -> UrlParts | None:
    """The parts of ``url``, or None when it cannot be split (a malformed IPv6 bracket)."""
    # Most URLs are plain http(s) ones: split those by hand, as urlsplit would (about a third of its cost).
    if url.startswith("https://"):
        start = 8
    elif url.startswith("http://"):
        start = 7
    else:
        return _urlsplit_parts(url)
    # urlsplit removes tabs and line breaks anywhere, checks non-ASCII host names and reads brackets as an
    # IPv6 address: those go its way.
    if not url.isascii() or "\t" in url or "\r" in url or "\n" in url:
        return _urlsplit_parts(url)
    end = len(url)
    for delimiter in "/?#":  # the host part ends at the first of these
        at = url.find(delimiter, start, end)
        if at >= 0:
            end = at
    netloc = url[start:end]
    if "[" in netloc or "]" in netloc:
        return _urlsplit_parts(url)
    rest = url[end:]
    if "#" in rest:
        rest = rest.partition("#")[0]  # the fragment first: a "?" after "#" starts no query
    path, _, query = rest.partition("?")
    return UrlParts(netloc.rpartition("@")[2].partition(":")[0].lower(), path or "/", query)


def _urlsplit_parts(url: str) -> UrlParts | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname  # raises on an unclosed IPv6 bracket
    except ValueError:
        return None
    return UrlParts((host or "").lower(), parts.path or "/", parts.query)


# ``url_parts(url)``: the parts of ``url``, or None when it cannot be split (a malformed IPv6 bracket).
# Decoders ask for a request's host and path many times (every ``claims``, then ``decode``): split each
# URL once. Keyed by the URL itself, so a model whose ``url`` changes never sees stale parts.
url_parts: Callable[[str], UrlParts | None] = _PerKey(_split_url).__getitem__


def unquote_component(text: str) -> str:
    """One query-string name or value decoded exactly as ``parse_qsl`` decodes it: "+" is a space,
    then ``unquote``."""
    return unquote(text.replace("+", " ") if "+" in text else text)


def unquote(text: str) -> str:
    """``urllib.parse.unquote``, faster: "%XX" escapes are UTF-8 (invalid sequences become U+FFFD), a
    "%" that starts no escape stays as it is."""
    if "%" not in text:
        return text
    if text.isascii():
        # urllib decodes escape by escape in Python; this does it in C. Each "%XX" becomes "\xXX" for the
        # unicode_escape codec (after doubling any backslash already there), which gives one character
        # per byte; latin-1 turns those back into the very bytes urllib would decode as UTF-8.
        escaped = text.replace("\\", "\\\\").replace("%", "\\x")
        try:
            return escaped.encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
        except UnicodeDecodeError:
            pass  # a "%" that starts no escape ("100%", "%zz"), which urllib keeps as it is
    return urllib_unquote(text)  # the rare cases: that, or raw non-ASCII text next to escapes


def parse_query(query: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(query, keep_blank_values=True)``, a few times faster: pairs split on "&"
    (never ";"), a field without "=" gives an empty value, empty fields are skipped."""
    if "%" in query or "+" in query:
        if "%26" in query or "%3D" in query or "%3d" in query:
            return _parse_escaped_delimiters(query)
        # Nothing decodes to "&" or "=", so decoding the whole string first gives the same pairs: the
        # delimiters are ASCII, which ends any UTF-8 sequence, so each part decodes as it would alone.
        query = unquote_component(query)
    return [(name, value) for name, _, value in (field.partition("=") for field in query.split("&") if field)]


# Characters that never occur in real query strings, to stand between parts decoded in one call.
_SEPARATORS = ("\x00", "\x01", "\x02", "\x03")


def _parse_escaped_delimiters(query: str) -> list[tuple[str, str]]:
    """``parse_query`` when an escaped "&" or "=" forbids decoding before splitting."""
    fields = [field.partition("=") for field in query.split("&") if field]
    separator = next((c for c in _SEPARATORS if c not in query and f"%{ord(c):02x}" not in query), None)
    if separator is None:
        return [(unquote_component(name), unquote_component(value)) for name, _, value in fields]
    # Every name and value decoded in one call, joined by a character that is neither in the query nor
    # escaped in it: splitting the result on it gives back each part, decoded as it would be alone.
    joined = separator.join([part for name, _, value in fields for part in (name, value)])
    parts = unquote_component(joined).split(separator)
    return list(zip(parts[0::2], parts[1::2], strict=True))


def _parse_url_query(url: str) -> tuple[tuple[str, str], ...]:
    parts = url_parts(url)
    return tuple(parse_query(parts.query)) if parts else ()


_url_query_pairs: Callable[[str], tuple[tuple[str, str], ...]] = _PerKey(_parse_url_query).__getitem__


def url_query(url: str) -> list[tuple[str, str]]:
    """The pairs of ``url``'s query string (see ``parse_query``); empty when the URL cannot be split.

    Cached per URL: a hit's own URL is read by ``claims`` and again by ``decode``, and the page URL it
    reports (``dl``, ``url``...) is read for click IDs by every hit sent from that page."""
    return list(_url_query_pairs(url))


def _first_values(url: str) -> dict[str, str]:
    """``url_query`` as a dict, a name's first value winning. Shared by every caller: never handed out."""
    first: dict[str, str] = {}
    for name, value in _url_query_pairs(url):
        first.setdefault(name, value)
    return first


_url_query_first: Callable[[str], dict[str, str]] = _PerKey(_first_values).__getitem__


def url_query_dict(url: str) -> dict[str, str]:
    """The query's names and each one's first value, in order (cached per URL, like ``url_query``)."""
    return dict(_url_query_first(url))


def url_query_value(url: str, name: str) -> str | None:
    """The first value of ``name`` in the query, or None."""
    return _url_query_first(url).get(name)


@lru_cache(maxsize=4096)
def url_query_named(url: str, names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The pairs of ``url_query`` whose name is one of ``names``, in order (cached per URL and names)."""
    return tuple(pair for pair in _url_query_pairs(url) if pair[0] in names)


def is_app_url(url: str) -> bool:
    """A URL only an app or its store opens (itms-apps://, intent://, market://, an app's own scheme): a
    scheme that is not the web's."""
    scheme = urlsplit(url).scheme.lower()
    return bool(scheme) and scheme not in _WEB_SCHEMES


_WEB_SCHEMES = frozenset({"http", "https", "about", "data", "blob", "javascript"})
