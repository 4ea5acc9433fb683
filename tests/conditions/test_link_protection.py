"""The browsers' link tracking protection, emulated at the ad click: which parameters each browser removes,
how the rest of the URL is kept, and how the chain shows the removal (a hop of the browser's, not the site's)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.chain import build_chain
from harness.link_protection import STRIPPED_PARAMS, follow_redirect, strip_tracking_params
from harness.models import CapturedRequest
from harness.scenario import ConditionMatrix, RunConditions

AD = "https://shop.example/lp?gclid=G-1&gbraid=0AAA&fbclid=IwAR1&utm_source=google&ttclid=E_C&msclkid=abc#top"


@pytest.mark.parametrize(
    ("browser", "expected", "removed"),
    [
        # Safari keeps gbraid (made for iOS) and TikTok's ttclid; the fragment stays.
        ("safari", "https://shop.example/lp?gbraid=0AAA&utm_source=google&ttclid=E_C#top", ["gclid", "fbclid", "msclkid"]),
        # Brave's and Firefox's lists remove gbraid too.
        ("brave", "https://shop.example/lp?utm_source=google&ttclid=E_C#top", ["gclid", "gbraid", "fbclid", "msclkid"]),
        ("firefox", "https://shop.example/lp?utm_source=google&ttclid=E_C#top", ["gclid", "gbraid", "fbclid", "msclkid"]),
    ],
)
def test_each_browser_removes_its_list_and_keeps_the_rest(browser: str, expected: str, removed: list[str]) -> None:
    assert strip_tracking_params(AD, browser) == (expected, removed)  # type: ignore[arg-type]


def test_utm_parameters_survive_every_browser() -> None:
    assert not any(name.startswith("utm_") for names in STRIPPED_PARAMS.values() for name in names)


def test_other_fields_are_kept_byte_for_byte_and_empty_values_stay() -> None:
    # As Brave's filter: only name=value fields with a listed name go; the others are not re-encoded.
    url = "https://a.example/p?q=caf%C3%A9+x&gclid=&fbclid&GCLID=X&a=1&gclid=Y"
    assert strip_tracking_params(url, "safari") == ("https://a.example/p?q=caf%C3%A9+x&gclid=&fbclid&GCLID=X&a=1", ["gclid"])


def test_firefox_matches_names_in_any_case_and_whatever_their_value() -> None:
    # Mozilla's own test (toolkit/components/antitracking/test/browser/browser_stripping.js) strips
    # "PARAMTOSTRIP1=123" for a list naming paramToStrip1; URLQueryStringStripper lower-cases the name and
    # does not look at the value. Brave's filter keeps both fields.
    url = "https://a.example/p?GCLID=X&fbclid&HsCtaTracking=1&gcl%69d=Z&a=1"
    assert strip_tracking_params(url, "firefox") == ("https://a.example/p?a=1", ["GCLID", "fbclid", "HsCtaTracking", "gcl%69d"])
    assert strip_tracking_params(url, "brave") == (url, [])


def test_a_url_with_nothing_to_remove_is_returned_as_is() -> None:
    for url in ("https://a.example/", "https://a.example/?utm_source=x", "https://a.example/#gclid=1"):
        assert strip_tracking_params(url, "brave") == (url, [])
    assert strip_tracking_params("https://a.example/?gclid=1", "brave") == ("https://a.example/", ["gclid"])


def _document(url: str, seq: int, status: int = 200, location: str | None = None) -> CapturedRequest:
    return CapturedRequest(
        id=f"d{seq}", seq=seq, method="GET", url=url, status=status, location=location,
        request_headers=[("sec-fetch-dest", "document")],
    )  # fmt: skip


def test_the_chain_starts_at_the_clicked_url_and_blames_the_browser_hop() -> None:
    requested, _ = strip_tracking_params(AD, "safari")
    landing = requested.replace("/lp", "/landing")
    requests = [_document(requested, 1, 302, landing), _document(landing, 2)]
    chain = build_chain(AD, requests, requested_url=requested)
    assert [(h.index, h.kind, h.request_id) for h in chain.hops] == [(0, "start", None), (1, "stripped", "d1"), (2, "http", "d2")]
    fates = {f.param: (f.fate, f.hop, f.reached_final) for f in chain.params}
    assert fates["gclid"] == fates["fbclid"] == fates["msclkid"] == ("dropped", 1, False)
    assert fates["gbraid"] == fates["utm_source"] == ("kept", None, True)


def test_without_the_condition_the_chain_is_unchanged() -> None:
    chain = build_chain(AD, [_document(AD, 1)])
    assert [(h.index, h.kind) for h in chain.hops] == [(0, "start")]
    assert all(f.reached_final for f in chain.params)


def test_the_condition_is_a_matrix_dimension() -> None:
    runs = ConditionMatrix.model_validate({"link_protection": [None, "safari"]}).expand()
    assert [r.link_protection for r in runs] == [None, "safari"]
    assert RunConditions(link_protection="brave").label() == "link_protection=brave"
    with pytest.raises(ValueError, match="link_protection"):
        RunConditions.model_validate({"link_protection": "chrome"})


# --- Brave and Firefox strip again where a redirect crosses sites -------------------------------------------

TRACKER = "https://clicks.tracker.example/r?id=7"
LANDING = "https://www.shop.example.co.uk/lp?gclid=G-1&utm_source=google"


@pytest.mark.parametrize(
    ("source", "target", "browser", "stripped"),
    [
        (TRACKER, LANDING, "brave", True),
        (TRACKER, LANDING, "firefox", True),
        (TRACKER, LANDING, "safari", False),  # Safari's rule for redirects is not published: the click only
        # Same site, by the Public Suffix List: an eTLD of two labels, and a private registry's sites apart.
        ("https://shop.example.co.uk/go", LANDING, "brave", False),
        ("https://example.co.uk/go", LANDING, "brave", False),
        ("https://other.co.uk/go", LANDING, "brave", True),
        ("https://a.github.io/go", "https://b.github.io/?gclid=G-1", "brave", True),
        ("https://a.b.github.io/go", "https://b.github.io/?gclid=G-1", "brave", False),
        ("http://127.0.0.1:8000/go", "http://127.0.0.1:9000/?gclid=G-1", "brave", False),
        ("http://127.0.0.1/go", "http://127.0.0.2/?gclid=G-1", "brave", True),
    ],
)
def test_a_redirect_is_stripped_only_across_sites_and_only_by_the_browsers_that_do(
    source: str, target: str, browser: str, stripped: bool
) -> None:
    followed, removed = follow_redirect(browser, source, target)  # type: ignore[arg-type]
    assert (removed == ["gclid"]) is stripped and ("gclid" in followed) is not stripped


def test_a_redirect_the_browser_followed_stripped_is_its_hop_in_the_chain() -> None:
    ad = f"{TRACKER}&url=https%3A%2F%2Fwww.shop.example.co.uk%2Flp%3Fgclid%3DG-1%26utm_source%3Dgoogle"
    followed = follow_redirect("brave", ad, LANDING)[0]
    requests = [_document(ad, 1, 302, LANDING), _document(followed, 2)]
    chain = build_chain(ad, requests, link_protection="brave")
    assert [(h.kind, h.request_id) for h in chain.hops] == [("start", "d1"), ("stripped", "d2")]
    assert [(f.param, f.fate, f.hop) for f in chain.params] == [("gclid", "dropped", 1), ("utm_source", "kept", None)]
    # Read without the condition, the same requests are a script navigation that lost it.
    assert [h.kind for h in build_chain(ad, requests).hops] == ["start", "js"]


def test_the_click_id_check_blames_the_browser_at_the_cross_site_redirect() -> None:
    from harness.checks.click_ids import click_ids_reach_landing
    from tests.checks.hits import Journey
    from tests.checks.pii_builders import context_for

    ad = f"{TRACKER}&url=https%3A%2F%2Fwww.shop.example.co.uk%2Flp%3Fgclid%3DG-1%26utm_source%3Dgoogle"
    followed = follow_redirect("firefox", ad, LANDING)[0]
    navigations = [_document(ad, 1, 302, LANDING), _document(followed, 2)]
    context = context_for(Journey(), ad, navigations=navigations)
    # The run as the condition made it: its chain read with the browser's rule, its conditions saying so.
    context.result.capture.chain = build_chain(ad, navigations, link_protection="firefox")
    context = replace(context, conditions=RunConditions(link_protection="firefox"))
    [failure] = click_ids_reach_landing(context)
    assert failure.root_cause == "Stripped by the browser"
    assert failure.title == "gclid removed by Firefox's query stripping at the redirect from clicks.tracker.example to www.shop.example.co.uk (another site)"
    assert [e.request_id for e in failure.evidence] == ["d1", "d2"]


def test_a_navigation_from_another_sites_page_stripped_by_the_browser_is_blamed_on_the_browser() -> None:
    from harness.capture.redirects import EMULATED_HEADER
    from harness.checks.click_ids import click_ids_reach_landing
    from tests.checks.hits import Journey
    from tests.checks.pii_builders import context_for

    ad = f"{TRACKER}&url=https%3A%2F%2Fwww.shop.example.co.uk%2Flp%3Fgclid%3DG-1%26utm_source%3Dgoogle"
    stripped = strip_tracking_params(LANDING, "brave")[0]
    # The tracker's page sends the browser on by script; the proxy's 307 stands for Brave's stripping.
    emulated = _document(LANDING, 2, 307, stripped).model_copy(update={"response_headers": [(EMULATED_HEADER, "link-protection")]})
    navigations = [_document(ad, 1), emulated, _document(stripped, 3)]
    chain = build_chain(ad, navigations, link_protection="brave")
    assert [h.kind for h in chain.hops] == ["start", "js", "stripped"]
    context = context_for(Journey(), ad, navigations=navigations)
    context.result.capture.chain = chain
    [failure] = click_ids_reach_landing(replace(context, conditions=RunConditions(link_protection="brave")))
    assert failure.root_cause == "Stripped by the browser"
    assert failure.title == (
        "gclid removed by Brave's query filter as a page on clicks.tracker.example sent the browser to "
        "www.shop.example.co.uk (another site)"
    )
