"""Browsers that remove click IDs from the links people follow, emulated at the ad click.

Safari, Firefox and Brave strip known tracking parameters from a URL before requesting it, so the site,
its redirects and its tags never see them; no redirect rule or tag fix brings them back. Chromium has no
such feature, so a run with the ``link_protection`` condition asks for the ad URL as that browser would:
the listed parameters removed. The chain keeps the ad URL as it was clicked (hop 0) and the URL the
browser asked for as a hop of kind ``stripped``, so the checks blame the browser, not the site.

Which parameters, and when:

- ``brave``: Brave's query filter, on by default. The list and the rule are Brave's own source
  (brave-core ``browser/net/brave_site_hacks_network_delegate_helper.cc``, ``kSimpleQueryStringTrackers``):
  a ``name=value`` field with a listed name is removed from a cross-site request, the rest of the query
  kept byte for byte. (Its conditional ``mkt_tok``, kept on unsubscribe links, is left out: no ad click.)
- ``firefox``: Firefox's query stripping (Enhanced Tracking Protection "Strict" and private windows), the
  ``privacy.query_stripping.strip_list`` of that mode as published in the hardened-Firefox configurations
  that pin it (arkenfox-style ``user.js``, LibreWolf).
- ``safari``: Safari's Link Tracking Protection (Private Browsing, links opened from Mail and Messages).
  Apple downloads its list at run time and does not publish it; these are the parameters tests on real
  devices saw removed (Mapp's documentation of the observed behaviour: gclid, msclkid, fbclid, igshid,
  twclid, mc_eid; dclid in community reports). Google's gbraid and wbraid, made for iOS, are kept.

Brave and Firefox strip again at every HTTP redirect that crosses to another site (``follow_redirect``): a
click tracker's redirect to the shop loses the listed parameters it hands on, and a same-site one keeps
them. Brave compares the redirect's source with its target (``SameDomainOrHost``, private registries
included); Firefox strips redirects in ``nsHttpChannel::AsyncProcessRedirection``
(``privacy.query_stripping.redirect``, on), and Mozilla's ``browser_stripping.js`` shows a same-site
redirect kept and a cross-site one stripped. Safari's rule for redirects is not published: only the click is
stripped for it. Both also strip a navigation a page on another site starts (a script's ``location``, a
refresh; Mozilla's tests: script navigations and link clicks to another site stripped): the proxy answers
such a navigation with a redirect to the stripped URL, a hop of kind ``stripped`` in the chain.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit

from publicsuffixlist import PublicSuffixList

from harness.capture.redirects import BrowserRules
from harness.scenario import LinkProtection

STRIPPED_PARAMS: dict[LinkProtection, frozenset[str]] = {
    "brave": frozenset(
        {
            "fbclid", "gclid", "msclkid", "mc_eid", "dclid", "oly_anon_id", "oly_enc_id", "_openstat",
            "vero_conv", "vero_id", "wickedid", "yclid", "__s", "rb_clickid", "s_cid", "ml_subscriber",
            "ml_subscriber_hash", "twclid", "gbraid", "wbraid", "_hsenc", "__hssc", "__hstc", "__hsfp",
            "hsCtaTracking", "oft_id", "oft_k", "oft_lk", "oft_d", "oft_c", "oft_ck", "oft_ids", "oft_sk",
            "igshid",
        }
    ),  # fmt: skip
    "firefox": frozenset(
        {
            "__hsfp", "__hssc", "__hstc", "__s", "_hsenc", "_openstat", "dclid", "fbclid", "gbraid", "gclid",
            "hsCtaTracking", "igshid", "mc_eid", "ml_subscriber", "ml_subscriber_hash", "msclkid", "oft_c",
            "oft_ck", "oft_d", "oft_id", "oft_ids", "oft_k", "oft_lk", "oft_sk", "oly_anon_id", "oly_enc_id",
            "rb_clickid", "s_cid", "twclid", "vero_conv", "vero_id", "wbraid", "wickedid", "yclid",
        }
    ),  # fmt: skip
    "safari": frozenset({"gclid", "dclid", "msclkid", "fbclid", "igshid", "twclid", "mc_eid"}),
}

# What each browser calls the feature, and when it applies.
FEATURE_NAME: dict[LinkProtection, str] = {
    "brave": "Brave's query filter",
    "firefox": "Firefox's query stripping",
    "safari": "Safari's Link Tracking Protection",
}
FEATURE_APPLIES: dict[LinkProtection, str] = {
    "brave": "on by default",
    "firefox": "Strict mode, private windows",
    "safari": "Private Browsing, links from Mail and Messages",
}


# Firefox lower-cases its list as it reads it, and each name it meets.
_FIREFOX_LOWERCASED = frozenset(name.lower() for name in STRIPPED_PARAMS["firefox"])


def _listed(browser: LinkProtection, listed: frozenset[str], field: str) -> str | None:
    """The field's name when ``browser`` removes the field, else None.

    Brave removes ``name=value`` with a listed name as written and a value. Firefox reads the name as
    form-decoded and lower-cased and removes the field whatever its value (``URLQueryStringStripper``:
    ``ToLowerCase(name)``; its tests strip ``PARAMTOSTRIP1=123``). Safari's rule is not published: it is
    read as Brave's, the narrower of the two."""
    name, equals, value = field.partition("=")
    if browser == "firefox":
        return name if unquote_plus(name).lower() in _FIREFOX_LOWERCASED else None
    return name if name in listed and equals and value else None


def strip_tracking_params(url: str, browser: LinkProtection) -> tuple[str, list[str]]:
    """``url`` as ``browser`` requests it, and the names it removed (in order, as written). The other
    fields, and the fragment, are kept exactly as written."""
    listed = STRIPPED_PARAMS[browser]
    base, hash_mark, fragment = url.partition("#")
    head, question_mark, query = base.partition("?")
    if not question_mark:
        return url, []
    kept: list[str] = []
    removed: list[str] = []
    for field in query.split("&"):
        name = _listed(browser, listed, field)
        if name is None:
            kept.append(field)
        else:
            removed.append(name)
    if not removed:
        return url, []
    stripped = f"{head}?{'&'.join(kept)}" if kept else head
    return f"{stripped}{hash_mark}{fragment}", removed


# The browsers that strip again wherever a navigation crosses sites (see the module's docstring).
STRIPS_ACROSS_SITES: frozenset[LinkProtection] = frozenset({"brave", "firefox"})


def follow_redirect(browser: LinkProtection, source_url: str, target_url: str) -> tuple[str, list[str]]:
    """The URL ``browser`` asks for when ``source_url`` redirects (3xx) to ``target_url``, and the names it
    removed: stripped when the redirect crosses to another site and the browser strips redirects."""
    if browser not in STRIPS_ACROSS_SITES or not crosses_sites(source_url, target_url):
        return target_url, []
    return strip_tracking_params(target_url, browser)


def crosses_sites(a_url: str, b_url: str) -> bool:
    """Whether the two URLs are on different sites: registrable domains (eTLD+1 by the Public Suffix List,
    its private part included, as Brave and Firefox read it), or hosts where there is none (an IP, localhost)."""
    return _site(urlsplit(a_url).hostname or "") != _site(urlsplit(b_url).hostname or "")


@lru_cache(maxsize=256)
def _site(host: str) -> str:
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _suffix_list().privatesuffix(host) or host


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list the package ships; ~50 ms to read, once, and only under this condition


def browser_rules(browser: LinkProtection) -> BrowserRules:
    """The proxy's rules for a run emulating ``browser``: its redirects and its navigations from another site
    (a script's ``location``, a refresh) stripped as that browser strips them."""
    return BrowserRules(
        redirect=lambda source, target: follow_redirect(browser, source, target)[0],
        cross_site_navigation=lambda url: strip_tracking_params(url, browser)[0],
    )
