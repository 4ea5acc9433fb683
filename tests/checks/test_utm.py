"""utm_consistent: utm_* through the redirects and on GA4's landing page_view."""

from __future__ import annotations

from urllib.parse import urlencode

from harness.checks.utm import utm_consistent
from tests.checks.hits import PRODUCT, SHOP, Journey, ga4_hit
from tests.checks.pii_builders import GCLID, UTMS, ad_url, context_for, redirect_navigations

TRACKER = "https://clicks.example/r/42/"
AD = ad_url({"gclid": GCLID}, UTMS, base=TRACKER)
FULL_QUERY = AD.split("?", 1)[1]
LANDING = f"{SHOP}/?{FULL_QUERY}"


def _journey(*page_view_urls: str) -> Journey:
    journey = Journey()
    for url in page_view_urls:
        journey.hit(ga4_hit("page_view", url))
    return journey


def test_utms_kept_on_the_landing_url_and_the_landing_page_view_pass() -> None:
    navs = redirect_navigations(AD, LANDING)
    ctx = context_for(_journey(LANDING, PRODUCT), AD, navigations=navs)  # later page_views carry no utm
    assert list(utm_consistent(ctx)) == []


def test_utm_dropped_by_a_redirect_names_the_hop_once() -> None:
    kept = urlencode({"gclid": GCLID, "utm_source": "google", "utm_medium": "cpc"})
    landing = f"{SHOP}/?{kept}"
    navs = redirect_navigations(AD, landing)
    failures = list(utm_consistent(context_for(_journey(landing), AD, navigations=navs)))

    assert len(failures) == 1  # GA4 missing it too is the same bug, not a second failure
    failure = failures[0]
    assert failure.root_cause == "Dropped parameters in redirects"
    assert failure.title == f"utm_campaign dropped at hop 1 (HTTP redirect (302) {TRACKER} -> {SHOP}/)"
    assert failure.seen.endswith("which has no utm_campaign")
    assert failure.evidence[1].url == landing  # the full hop URL stays in the evidence
    assert "HTTP redirect (302)" in failure.seen


def test_changed_utm_source_says_from_and_to() -> None:
    changed = FULL_QUERY.replace("utm_source=google", "utm_source=newsletter")
    navs = redirect_navigations(AD, f"{SHOP}/?{changed}")
    [failure] = utm_consistent(context_for(_journey(), AD, navigations=navs))
    assert failure.title.startswith("utm_source changed from google to newsletter at hop 1")


def test_page_view_without_the_landing_utms_means_a_wrong_session_source() -> None:
    navs = redirect_navigations(AD, LANDING)
    journey = _journey(f"{SHOP}/")  # the page stripped its query string before GA4 fired
    [failure] = utm_consistent(context_for(journey, AD, navigations=navs))
    assert failure.root_cause == "Dropped parameters in redirects"
    assert "GA4 page_view" in failure.title and "wrong source" in failure.title
    assert "no utm_source" in failure.seen
    assert failure.evidence[0].request_id == "r1"


def test_disabled_or_no_utms_means_nothing_to_check() -> None:
    navs = redirect_navigations(AD, f"{SHOP}/")
    assert (
        list(utm_consistent(context_for(_journey(f"{SHOP}/"), AD, navigations=navs, utm_consistent=False)))
        == []
    )
    bare = ad_url({"gclid": GCLID})
    assert list(utm_consistent(context_for(_journey(f"{SHOP}/"), bare))) == []
