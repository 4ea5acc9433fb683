"""click_ids_reach_landing, click_ids_in_cookies, click_ids_in_hits on runs decoded from real-format hits."""

from __future__ import annotations

from urllib.parse import urlencode

from harness.checks.click_ids import (
    click_id_in_cookie,
    click_ids_in_cookies,
    click_ids_in_hits,
    click_ids_reach_landing,
)
from tests.checks.hits import (
    SHOP,
    THANK_YOU,
    Journey,
    bing_uet_hit,
    ga4_hit,
    meta_pixel_hit,
    tiktok_pixel_hit,
)
from tests.checks.pii_builders import (
    FBCLID,
    GCLID,
    MSCLKID,
    TTCLID,
    ad_url,
    context_for,
    cookie,
    fbc,
    google_ads_conversion,
    redirect_navigations,
    with_params,
    with_ttclid,
)

TRACKER = "https://clicks.example/r/42"


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


# --- click_ids_reach_landing -----------------------------------------------------------------------


def test_click_ids_that_survive_every_hop_pass() -> None:
    ad = ad_url({"gclid": GCLID, "fbclid": FBCLID}, base=f"{TRACKER}/")
    query = ad.split("?", 1)[1]
    navs = redirect_navigations(ad, _with_query(f"{SHOP}/go", query), _with_query(f"{SHOP}/", query))
    assert list(click_ids_reach_landing(context_for(Journey(), ad, navigations=navs))) == []


def test_gclid_dropped_by_an_http_redirect_names_the_hop_and_the_redirecting_url() -> None:
    ad = ad_url({"gclid": GCLID}, base=f"{TRACKER}/")
    query = ad.split("?", 1)[1]
    navs = redirect_navigations(ad, _with_query(f"{SHOP}/go", query), f"{SHOP}/")
    failures = list(click_ids_reach_landing(context_for(Journey(), ad, navigations=navs)))

    assert len(failures) == 1
    failure = failures[0]
    assert failure.root_cause == "Dropped parameters in redirects"
    assert failure.title == f"gclid dropped at hop 2 (HTTP redirect (302) {SHOP}/go -> {SHOP}/)"
    assert f"{SHOP}/go?gclid=EAIaIQob…_BwE" in failure.seen  # values shortened, parameter names kept
    assert failure.evidence[0].url == f"{SHOP}/go?{query}"
    assert "HTTP redirect (302)" in failure.seen
    assert f"{SHOP}/go" in failure.fix_direction
    assert [e.request_id for e in failure.evidence] == ["nav2", "nav3"]


def test_a_trackers_link_carrying_the_landing_url_is_followed_and_its_drop_blamed_on_the_tracker() -> None:
    # The ad's link is a click tracker's; the landing URL, gclid in it, rides encoded in its ?url=.
    landing = ad_url({"gclid": GCLID})
    ad = f"{TRACKER}?{urlencode({'campaign': '9', 'url': landing})}"
    kept = redirect_navigations(ad, landing)
    assert list(click_ids_reach_landing(context_for(Journey(), ad, navigations=kept))) == []
    dropped = redirect_navigations(ad, f"{SHOP}/")
    [failure] = click_ids_reach_landing(context_for(Journey(), ad, navigations=dropped))
    assert failure.root_cause == "Dropped parameters in redirects"
    assert failure.title == f"gclid dropped at hop 1 (HTTP redirect (302) {TRACKER} -> {SHOP}/)"


def test_a_js_navigation_that_loses_fbclid_is_named_as_script() -> None:
    ad = ad_url({"fbclid": FBCLID})
    navs = redirect_navigations(ad, f"{SHOP}/de/", kinds=["js"])
    [failure] = click_ids_reach_landing(context_for(Journey(), ad, navigations=navs))
    assert "JavaScript navigation" in failure.seen
    assert "location.search" in failure.fix_direction


def test_a_changed_click_id_says_from_and_to() -> None:
    ad = ad_url({"gclid": GCLID})
    navs = redirect_navigations(ad, f"{SHOP}/?gclid=EAIaIQobChMIstale0000000", kinds=["meta"])
    [failure] = click_ids_reach_landing(context_for(Journey(), ad, navigations=navs))
    assert "changed from EAIaIQobCh" in failure.title and "to EAIaIQobCh" in failure.title
    assert "meta refresh" in failure.seen


def test_only_the_click_ids_the_scenario_names_are_required() -> None:
    ad = ad_url({"gclid": GCLID, "fbclid": FBCLID})
    navs = redirect_navigations(ad, f"{SHOP}/?gclid={GCLID}")  # fbclid lost
    ctx = context_for(Journey(), ad, navigations=navs, click_ids={"final_url": ["gclid"]})
    assert list(click_ids_reach_landing(ctx)) == []
    ctx_all = context_for(Journey(), ad, navigations=navs, click_ids={"final_url": ["all"]})
    assert [f.title.split()[0] for f in click_ids_reach_landing(ctx_all)] == ["fbclid"]


def test_a_click_id_the_ad_url_never_had_is_a_scenario_error() -> None:
    ad = ad_url({"gclid": GCLID})
    [failure] = click_ids_reach_landing(context_for(Journey(), ad, click_ids={"final_url": ["msclkid"]}))
    assert failure.root_cause == "Run error"
    assert "ad_click.click_ids" in failure.fix_direction


# --- click_ids_in_cookies --------------------------------------------------------------------------


def _google_run() -> Journey:
    journey = Journey()
    journey.hit(google_ads_conversion(gclaw=GCLID))
    return journey


def test_gcl_aw_in_google_format_passes() -> None:
    ctx = context_for(
        _google_run(), ad_url({"gclid": GCLID}), cookies=[cookie("_gcl_aw", f"GCL.1717000000.{GCLID}")]
    )
    assert list(click_ids_in_cookies(ctx)) == []


def test_missing_gcl_aw_says_offline_import_cannot_match() -> None:
    ctx = context_for(
        _google_run(), ad_url({"gclid": GCLID}), cookies=[cookie("_ga", "GA1.1.1183042221.1716212400")]
    )
    [failure] = click_ids_in_cookies(ctx)
    assert failure.root_cause == "Missing click IDs"
    assert failure.title == "_gcl_aw not set: offline conversion import cannot match gclid"
    assert "cookies: _ga" in failure.seen


def test_missing_cookie_points_at_the_redirect_that_lost_the_click_id() -> None:
    ad = ad_url({"gclid": GCLID})
    navs = redirect_navigations(ad, f"{SHOP}/home")
    [failure] = click_ids_in_cookies(context_for(_google_run(), ad, navigations=navs))
    assert "gclid never reached the landing URL (dropped at hop 1)" in failure.seen


def test_gcl_aw_with_another_gclid_is_stale() -> None:
    cookies = [cookie("_gcl_aw", "GCL.1716000000.EAIaIQobChMIoldclick00000000")]
    [failure] = click_ids_in_cookies(context_for(_google_run(), ad_url({"gclid": GCLID}), cookies=cookies))
    assert "stale" in failure.title
    assert failure.root_cause == "Missing click IDs"


def test_gcl_aw_holding_the_bare_gclid_is_not_in_google_format() -> None:
    cookies = [cookie("_gcl_aw", GCLID)]
    [failure] = click_ids_in_cookies(context_for(_google_run(), ad_url({"gclid": GCLID}), cookies=cookies))
    assert "GCL.<timestamp>.<click ID>" in failure.title


def test_no_meta_tag_means_no_fbc_required() -> None:
    journey = Journey()
    journey.hit(ga4_hit("page_view", f"{SHOP}/"))
    assert list(click_ids_in_cookies(context_for(journey, ad_url({"fbclid": FBCLID})))) == []


def test_meta_tag_fired_requires_fbc_with_the_ads_fbclid() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    ad = ad_url({"fbclid": FBCLID})
    [missing] = click_ids_in_cookies(context_for(journey, ad))
    assert missing.title.startswith("_fbc not set")
    good = context_for(journey, ad, cookies=[cookie("_fbc", fbc(FBCLID))])
    assert list(click_ids_in_cookies(good)) == []


def test_uet_and_tiktok_cookie_formats() -> None:
    journey = Journey()
    journey.hit(bing_uet_hit("purchase", THANK_YOU, value=59.9))
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, value=59.9))
    ad = ad_url({"msclkid": MSCLKID, "ttclid": TTCLID})
    good = [cookie("_uetmsclkid", f"_uet{MSCLKID}"), cookie("ttclid", TTCLID)]
    assert list(click_ids_in_cookies(context_for(journey, ad, cookies=good))) == []
    bad = [cookie("_uetmsclkid", MSCLKID), cookie("ttclid", TTCLID)]
    [failure] = click_ids_in_cookies(context_for(journey, ad, cookies=bad))
    assert failure.title.startswith("_uetmsclkid is not in _uet<msclkid> format")


def test_explicit_cookie_expectations_apply_without_a_tag() -> None:
    ad = ad_url({"wbraid": "0AAAAADwbraidvalue1234567890"})
    ctx = context_for(Journey(), ad, click_ids={"cookies": {"_gcl_gb": "wbraid"}})
    [failure] = click_ids_in_cookies(ctx)
    assert failure.title.startswith("_gcl_gb not set")
    ok = context_for(
        Journey(),
        ad,
        cookies=[cookie("_gcl_gb", "GCL.1717000000.0AAAAADwbraidvalue1234567890")],
        click_ids={"cookies": {"_gcl_gb": "wbraid"}},
    )
    assert list(click_ids_in_cookies(ok)) == []


def test_cookie_parsers_read_each_vendor_format() -> None:
    assert click_id_in_cookie("_gcl_aw", f"GCL.1717000000.{GCLID}") == GCLID
    assert click_id_in_cookie("_fbc", f"fb.1.1717000000000.{FBCLID}.AbCd") == FBCLID
    assert click_id_in_cookie("_fbc", FBCLID) is None
    assert click_id_in_cookie("_uetmsclkid", f"_uet{MSCLKID}") == MSCLKID


# --- click_ids_in_hits -----------------------------------------------------------------------------


def test_conversion_hits_carrying_each_click_id_pass() -> None:
    journey = Journey()
    journey.hit(google_ads_conversion(gclaw=GCLID))
    journey.hit(
        with_params(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"), fbc=fbc(FBCLID))
    )
    journey.hit(with_params(bing_uet_hit("purchase", THANK_YOU, value=59.9), msclkid=MSCLKID))
    journey.hit(with_ttclid(tiktok_pixel_hit("CompletePayment", THANK_YOU, value=59.9), TTCLID))
    ad = ad_url({"gclid": GCLID, "fbclid": FBCLID, "msclkid": MSCLKID, "ttclid": TTCLID})
    assert list(click_ids_in_hits(context_for(journey, ad))) == []


def test_google_ads_conversion_without_gclaw_is_missing_click_ids() -> None:
    journey = Journey()
    hit_id = journey.hit(google_ads_conversion(gclaw=None))
    [failure] = click_ids_in_hits(context_for(journey, ad_url({"gclid": GCLID})))
    assert failure.root_cause == "Missing click IDs"
    assert (
        failure.title
        == "google_ads conversion carries no gclaw/gclid: the conversion cannot be matched to the click"
    )
    assert failure.evidence[0].request_id == hit_id


def test_fbc_embedding_another_fbclid_is_stale() -> None:
    journey = Journey()
    journey.hit(
        with_params(
            meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"),
            fbc=fbc("IwAR0ldOtherClick0000000000"),
        )
    )
    [failure] = click_ids_in_hits(context_for(journey, ad_url({"fbclid": FBCLID})))
    assert "carries another fbclid" in failure.title
    assert "fbc = IwAR0ldOth" in failure.seen


def test_default_only_judges_conversions_not_page_views() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))  # no fbc, no value: not a conversion
    journey.hit(
        with_params(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"), fbc=fbc(FBCLID))
    )
    assert list(click_ids_in_hits(context_for(journey, ad_url({"fbclid": FBCLID})))) == []


def test_explicit_hits_expectation_judges_the_named_events() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    journey.hit(
        with_params(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"), fbc=fbc(FBCLID))
    )
    ad = ad_url({"fbclid": FBCLID})
    named = context_for(
        journey,
        ad,
        click_ids={"hits": {"meta_pixel": ["fbc"]}},
        events=[{"vendor": "meta_pixel", "event": "Purchase"}],
    )
    assert list(click_ids_in_hits(named)) == []
    every_event = context_for(journey, ad, click_ids={"hits": {"meta_pixel": ["fbc"]}})
    [failure] = click_ids_in_hits(every_event)
    assert failure.title.startswith("meta_pixel PageView carries no fbc")


def test_explicit_vendor_that_never_fired_is_reported() -> None:
    ctx = context_for(Journey(), ad_url({"msclkid": MSCLKID}), click_ids={"hits": {"bing_uet": ["msclkid"]}})
    [failure] = click_ids_in_hits(ctx)
    assert failure.root_cause == "Missing tag"


def test_no_click_ids_in_the_ad_url_means_nothing_to_check() -> None:
    journey = Journey()
    journey.hit(google_ads_conversion(gclaw=None))
    ctx = context_for(journey, ad_url())
    assert list(click_ids_in_hits(ctx)) == [] and list(click_ids_in_cookies(ctx)) == []
