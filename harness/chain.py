"""The redirect chain: from the ad URL to the landing page, merged from what the proxy saw.

Every top-level document request of the landing phase is a hop. How the browser got from one hop to the
next is read from the previous hop's response: a 3xx whose Location is this URL is an HTTP redirect, a
``<meta http-equiv=refresh>`` in its HTML is a meta refresh, anything else is a script navigation.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, unquote, urldefrag, urljoin, urlsplit

from harness.capture.redirects import EMULATED_HEADER
from harness.decoders.registry import is_tracked_param
from harness.link_protection import follow_redirect
from harness.models import CapturedRequest, HopKind, ParamFate, RedirectChain, RedirectHop
from harness.scenario import LinkProtection
from harness.urls import is_app_url

_META_REFRESH = re.compile(rb"<meta[^>]+http-equiv\s*=\s*[\"']?refresh", re.IGNORECASE)


def _same_url(a: str, b: str) -> bool:
    """The same address, however it was written: an ad URL as typed ('utm_campaign=spring sale|{x}',
    'straße', an IDN host) and the one the browser sent (percent-encoded, punycode) are one hop."""
    a, b = urldefrag(a)[0], urldefrag(b)[0]
    return a == b or _canonical(a) == _canonical(b)


def _canonical(url: str) -> tuple[str, str, int | None, str, str]:
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), host.lower(), port, unquote(parts.path) or "/", unquote(parts.query)


def _how_reached(previous: CapturedRequest, url: str, browser: LinkProtection | None) -> HopKind:
    if previous.status and 300 <= previous.status < 400 and previous.location:
        if previous.response_header(EMULATED_HEADER):
            return "stripped"  # the proxy's redirect standing for the emulated browser changing the URL
        target = urljoin(previous.url, previous.location)
        if _same_url(target, url):
            return "http"
        # The emulated browser followed the redirect without the click IDs it strips across sites.
        if browser is not None and _same_url(follow_redirect(browser, previous.url, target)[0], url):
            return "stripped"
    # A refresh: the <meta http-equiv=refresh> tag, or the Refresh header it stands for (click trackers send it).
    if _META_REFRESH.search(previous.response_body or b"") or previous.response_header("refresh"):
        return "meta"
    return "js"


def landing_documents(
    requests: list[CapturedRequest], landing_ended_at: float | None = None
) -> list[CapturedRequest]:
    """Top-level document requests, in order, up to the end of the landing phase."""
    docs = [r for r in requests if r.is_navigation]
    if landing_ended_at is not None:
        docs = [r for r in docs if r.started_at <= landing_ended_at]
    return sorted(docs, key=lambda r: r.seq)


def build_chain(
    start_url: str,
    requests: list[CapturedRequest],
    landing_ended_at: float | None = None,
    max_hops: int = 20,
    script_handoff: str | None = None,
    requested_url: str | None = None,
    link_protection: LinkProtection | None = None,
) -> RedirectChain:
    """The chain from ``start_url`` through the landing's documents; ``script_handoff`` is an app URL the
    landing page's script sent the browser to (a deep-link page's ``location = 'intent://...'``).

    ``requested_url``: the URL the browser asked for instead of the ad URL, its link tracking protection
    having removed click IDs; the chain then starts at the ad URL as clicked, and that URL is the next hop
    (kind "stripped"), where the removed parameters are lost. A redirect that ``link_protection``'s browser
    followed without them (``harness.link_protection.follow_redirect``) leads to a "stripped" hop too."""
    docs = landing_documents(requests, landing_ended_at)
    hops: list[RedirectHop] = []
    if requested_url is not None:
        hops.append(RedirectHop(index=0, url=start_url, kind="start"))
    requested = start_url if requested_url is None else requested_url
    asked: HopKind = "start" if requested_url is None else "stripped"
    # The chain starts at the URL asked for; documents before it (none, normally) are not part of it.
    first = next((i for i, r in enumerate(docs) if _same_url(r.url, requested)), None)
    if first is None:
        hops.append(RedirectHop(index=len(hops), url=requested, kind=asked))
        docs = []
    else:
        docs = docs[first:]
    # A loop: more hops than allowed, or one URL visited three times (the browser's own limit may stop
    # an HTTP loop before ours).
    visits = Counter(urldefrag(d.url)[0] for d in docs)
    loop_detected = len(docs) > max_hops + 1 or any(n >= 3 for n in visits.values())
    docs = docs[: max_hops + 1]
    for index, doc in enumerate(docs):
        kind: HopKind = asked if index == 0 else _how_reached(docs[index - 1], doc.url, link_protection)
        hops.append(
            RedirectHop(
                index=len(hops), url=doc.url, kind=kind, status=doc.status, error=doc.error, request_id=doc.id
            )
        )
    if docs and not loop_detected and (app := app_handoff(docs[-1]) or script_handoff):
        hops.append(RedirectHop(index=len(hops), url=app, kind="app"))
    return RedirectChain(hops=hops, params=param_fates(hops), loop_detected=loop_detected)


def app_handoff(document: CapturedRequest) -> str | None:
    """The app URL a document redirected to (itms-apps://, intent://, market://, an app's own scheme), or
    None when it redirected on the web or not at all."""
    if not (document.status and 300 <= document.status < 400 and document.location):
        return None
    target = urljoin(document.url, document.location.strip())
    return target if is_app_url(target) else None


def _query(url: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        out.setdefault(key, value)
    return out


def _app_query(url: str) -> dict[str, str]:
    """An app URL's parameters, with those of a Google Play install ``referrer`` (market://details?id=...
    &referrer=gclid%3D...%26utm_source%3D...), which is how an install keeps its click ID and UTMs."""
    query = _query(url)
    for key, value in parse_qsl(query.get("referrer", ""), keep_blank_values=True):
        query.setdefault(key, value)
    return query


def carried_params(url: str) -> dict[str, str]:
    """The parameters a hop hands on: its own, and the click IDs and UTMs of the URL a click tracker carries
    in one of them (``?url=https%3A%2F%2Fshop.example%2F%3Fgclid%3D...``), its redirect being meant to take
    them to the landing page. Its own win over the carried ones; a carried URL may carry one in turn."""
    query = _query(url)
    _add_carried(query, query, depth=0)
    return query


_MAX_CARRIED_DEPTH = 3  # trackers in front of trackers; deeper is a loop of encodings, not a click


def _add_carried(into: dict[str, str], query: dict[str, str], depth: int) -> None:
    for value in list(query.values()):
        target = _carried_url(value)
        if target is None:
            continue
        inner = _query(target)
        for name, inner_value in inner.items():
            if is_tracked_param(name):
                into.setdefault(name, inner_value)
        if depth + 1 < _MAX_CARRIED_DEPTH:
            _add_carried(into, inner, depth + 1)


def _carried_url(value: str) -> str | None:
    """``value`` as an absolute http(s) URL with a query, once more decoded if it was encoded twice; else None."""
    for _ in range(2):
        head = value[:10].lower()
        if head.startswith(("http://", "https://")):
            return value if "?" in value else None
        if not head.startswith(("http%3a", "https%3a")):
            return None
        value = unquote(value)
    return None


def hop_queries(hops: list[RedirectHop]) -> list[dict[str, str]]:
    """Each hop's parameters as the chain follows them: an app hop's with its install referrer's, the last
    hop's as its own (the page's tags read them there), every other hop's with those it carries on."""
    last = len(hops) - 1
    return [
        _app_query(h.url) if h.kind == "app" else (_query(h.url) if i == last and i else carried_params(h.url))
        for i, h in enumerate(hops)
    ]


def param_fates(hops: list[RedirectHop]) -> list[ParamFate]:
    """For every click ID and UTM parameter of the first URL (or of the landing URL it carries, when it is a
    click tracker's): did it reach the last one, and if not, the first hop whose URL lacks or changed it.
    A hop on the way carries a parameter in the URL it hands on too; the last must have it as its own, where
    the page's tags read it."""
    if not hops:
        return []
    last = len(hops) - 1
    queries = hop_queries(hops)
    final_query = queries[-1] if last else _query(hops[0].url)
    fates: list[ParamFate] = []
    for name, value in queries[0].items():
        if not is_tracked_param(name):
            continue
        final_value = final_query.get(name)
        if final_value == value:
            fates.append(ParamFate(param=name, value=value, reached_final=True, fate="kept"))
            continue
        lost_at = next(
            (index for index, query in enumerate(queries[1:], start=1) if query.get(name) != value), last
        )
        seen = (final_query if lost_at == last else queries[lost_at]).get(name)
        fates.append(
            ParamFate(
                param=name,
                value=value,
                reached_final=False,
                fate="dropped" if seen is None else "changed",
                hop=lost_at,
                changed_to=seen,
            )
        )
    return fates
