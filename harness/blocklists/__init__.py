"""Block lists: which requests a content blocker would stop, for runs under the ``blocker`` condition.

A list is plain text, one rule a line, in the subset of Adblock Plus syntax that names hosts (what tag
blocking in uBlock Origin, AdGuard or Brave mostly comes down to) plus hosts-file lines:

================================ ===============================================================
``||example.com^``               the host and every subdomain
``||example.com/tr^``            a path prefix on the host and its subdomains (``^``: the path
                                 ends there or a separator follows, so ``/tr`` not ``/trending``)
``example.com``                  that exact host
``0.0.0.0 example.com``          hosts-file form of the same
``! comment``, ``# comment``     ignored, as are blank lines and ``[Adblock Plus 2.0]`` headers
``example.com##.banner``         cosmetic (element hiding) rules block no request: ignored
================================ ===============================================================

Anything else (exceptions ``@@``, ``$`` options, wildcards, regular expressions) is refused with a
one-line error naming the file and line: silently misreading a rule would block the wrong hits.
``common`` is the built-in list of the tag hosts this harness decodes (``common.txt`` beside this file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import BadInput

BUILTIN_LISTS = ("common",)

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")
_HOSTS_FILE_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1"})
_COSMETIC_MARKERS = ("##", "#@#", "#?#", "#$#")
# Adblock's ``^`` separator: anything but a letter, a digit or one of ``_-.%``.
_SEPARATOR = re.compile(r"[^a-zA-Z0-9_\-.%]")


@dataclass(frozen=True)
class PathRule:
    """``||host/path`` (``anchored_end``: the rule ended in ``^``)."""

    host: str
    prefix: str
    anchored_end: bool

    def matches(self, host: str, path_and_query: str) -> bool:
        if not _host_or_subdomain(host, self.host) or not path_and_query.startswith(self.prefix):
            return False
        if not self.anchored_end:
            return True
        rest = path_and_query[len(self.prefix) :]
        return rest == "" or bool(_SEPARATOR.match(rest[0]))


@dataclass
class BlockList:
    """Hosts, host suffixes and path prefixes that a blocker stops; ``matches(url)`` decides."""

    name: str
    hosts: set[str] = field(default_factory=set)  # exact hosts
    suffixes: set[str] = field(default_factory=set)  # the host and its subdomains
    paths: list[PathRule] = field(default_factory=list)

    def matches(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return False  # data:, blob:, about: never reach the network
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return False
        if host in self.hosts or any(_host_or_subdomain(host, s) for s in self.suffixes):
            return True
        path_and_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return any(rule.matches(host, path_and_query) for rule in self.paths)

    def __len__(self) -> int:
        return len(self.hosts) + len(self.suffixes) + len(self.paths)


def _host_or_subdomain(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def parse_blocklist(text: str, name: str = "<block list>") -> BlockList:
    """Read a list's text; a line it cannot read raises ``BadInput`` naming ``name`` and the line."""
    blocklist = BlockList(name=name)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("!", "#")) or (line.startswith("[") and line.endswith("]")):
            continue
        if any(marker in line for marker in _COSMETIC_MARKERS):
            continue
        problem = _add_rule(blocklist, line)
        if problem:
            raise BadInput(f"block list {name}, line {number}: {problem}: {raw.strip()!r}")
    return blocklist


def _add_rule(blocklist: BlockList, line: str) -> str | None:
    """Add one rule; return why it cannot be read, or None."""
    if line.startswith("@@"):
        return "exception rules (@@) are not supported"
    if "$" in line:
        return "rule options ($...) are not supported"
    if "*" in line or (line.startswith("/") and line.endswith("/")):
        return "wildcards and regular expressions are not supported"
    if line.startswith("||"):
        return _add_anchored(blocklist, line[2:])
    words = line.split()
    if len(words) == 2 and words[0] in _HOSTS_FILE_ADDRESSES:
        words = words[1:]
    if len(words) == 1 and _HOST.match(words[0].lower()):
        blocklist.hosts.add(words[0].lower())
        return None
    return "expected a host, '||host^' or '||host/path'"


def _add_anchored(blocklist: BlockList, rule: str) -> str | None:
    host, slash, path = rule.partition("/")
    host_end = host.endswith("^")
    host = host.rstrip("^").lower()
    if not _HOST.match(host) or "^" in host:
        return f"{host!r} is not a host name"
    if not slash:
        blocklist.suffixes.add(host)
        return None
    if host_end:
        return "'^' may only end the host or the whole rule"
    anchored_end = path.endswith("^")
    path = path.rstrip("^")
    if "^" in path:
        return "'^' may only end the rule"
    blocklist.paths.append(PathRule(host=host, prefix="/" + path, anchored_end=anchored_end))
    return None


def load_blocklist(name_or_path: str | Path) -> BlockList:
    """A built-in list by name (``common``) or a list file; bad input raises a one-line ``BadInput``."""
    if str(name_or_path) in BUILTIN_LISTS:
        text = files(__name__).joinpath(f"{name_or_path}.txt").read_text(encoding="utf-8")
        return parse_blocklist(text, str(name_or_path))
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(
            f"block list {str(path)!r} not found: use a built-in list ({', '.join(BUILTIN_LISTS)}) or a file path"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"block list {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    return parse_blocklist(text, str(path))
