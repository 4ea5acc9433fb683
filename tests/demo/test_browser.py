"""The demo shop in Debian's headless Chromium: the correct journey sends the documented hits, and each
switch produces its defect. Vendor hits are answered locally by ``context.route``."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from harness.demo.catalog import SAMPLE_CLICK_PARAMS, TAG_IDS
from harness.demo.hits import CHECKOUT_FORM, LEAD_HITS, PURCHASE_JOURNEY_HITS, hits_on
from harness.demo.switches import SWITCH_NAMES
from tests.demo.journey import JourneyResult, run_journey
from tests.demo.vendor_hits import Hit, VendorCapture

pytestmark = pytest.mark.browser

EMAIL = CHECKOUT_FORM["#email"]
EMAIL_SHA = hashlib.sha256(EMAIL.encode()).hexdigest()
PURCHASE_EVENTS = {
    ("ga4", "purchase"), ("google_ads", "conversion"), ("meta_pixel", "Purchase"),
    ("tiktok_pixel", "CompletePayment"), ("bing_uet", "purchase"),
}  # fmt: skip


def purchases(capture: VendorCapture) -> list[Hit]:
    return [h for h in capture.hits if (h.vendor, h.event) in PURCHASE_EVENTS]


def capi_event(result: JourneyResult) -> dict:
    capi = [r for r in result.server_events if r.vendor == "meta_capi"]
    return json.loads(parse_qs(capi[0].body.decode())["data"][0])[0]


@pytest.fixture(scope="module")
def correct(demo_browser, shop) -> JourneyResult:
    return run_journey(demo_browser, shop, reload_thank_you=True)


# ------------------------------------------------------------------ the correct shop


def test_correct_journey_sends_exactly_the_documented_hits_page_by_page(correct: JourneyResult) -> None:
    before_reload = correct.capture.hits[: correct.hits_before_reload]
    for page in ("landing", "product", "checkout", "thank_you"):
        # "leave" hits go out while the page unloads, where context.route cannot see them (the proxy can).
        expected = [
            (h.vendor, h.event) for h in PURCHASE_JOURNEY_HITS if h.page == page and h.trigger != "leave"
        ]
        sent = [(h.vendor, h.event) for h in before_reload if h.page == page]
        assert Counter(sent) == Counter(expected), page
    server = [(r.vendor, r.event_name) for r in correct.server_events]
    assert server == hits_on("server")


def test_consent_mode_pings_before_accept_and_granted_after(correct: JourneyResult) -> None:
    landing = correct.capture.select("ga4", "page_view", "landing")[0]
    assert (landing.params["gcs"], landing.params["gcd"], landing.params["npa"]) == (
        "G100",
        "13p3p3p3p5l1",
        "1",
    )
    assert landing.params["_fv"] == "1" and landing.params["_ss"] == "1"
    # Ad tags on the landing page went out only after accept, i.e. after the cookieless ping.
    first_ad = min(
        h.request_index
        for h in correct.capture.hits
        if h.vendor in ("meta_pixel", "tiktok_pixel", "bing_uet")
    )
    assert landing.request_index < first_ad
    for hit in correct.capture.select("ga4")[1:] + correct.capture.select("google_ads"):
        assert (hit.params["gcs"], hit.params["gcd"]) == ("G111", "13r3r3r3r5l1"), hit.event


def test_ga4_hits_use_the_real_collect_format(correct: JourneyResult) -> None:
    view = correct.capture.select("ga4", "view_item")[0]
    assert view.method == "POST" and view.resource_type == "ping"
    assert view.params["v"] == "2" and view.params["tid"] == TAG_IDS.ga4
    assert view.params["cid"] == correct.cookies["_ga"].split(".", 2)[2]
    assert view.params["epn.value"] == "89.9" and view.params["cu"] == "EUR"
    assert view.params["pr1"].startswith("idSKU-TRAIL-42~nmTrailrunner GTX Shoe~")
    assert "~pr89.9~qt1" in view.params["pr1"] and int(view.params["_et"]) > 0
    assert set(view.params) >= {"sid", "dl", "dt", "gtm", "_p", "en"}
    # add_to_cart and begin_checkout travel in ONE batched request, one event per body line.
    batch = correct.capture.select("ga4", "add_to_cart") + correct.capture.select("ga4", "begin_checkout")
    assert len(batch) == 2 and batch[0].request_index == batch[1].request_index
    purchase = correct.capture.select("ga4", "purchase")[0]
    assert purchase.params["ep.transaction_id"] == correct.order["order_id"]
    assert float(purchase.params["epn.value"]) == correct.order["value"]


def test_purchase_hits_carry_order_value_click_ids_and_hashed_email(correct: JourneyResult) -> None:
    order = correct.order
    ads = correct.capture.select("google_ads", "conversion")[0]
    assert urlsplit(ads.page_url).path == "/thank-you"
    assert ads.params["label"] == TAG_IDS.ads_purchase_label and ads.params["oid"] == order["order_id"]
    assert float(ads.params["value"]) == order["value"] and ads.params["currency_code"] == "EUR"
    assert ads.params["gclaw"] == SAMPLE_CLICK_PARAMS["gclid"]
    assert ads.params["em"] == f"tv.1~em.{EMAIL_SHA}"

    meta = correct.capture.select("meta_pixel", "Purchase")[0]
    assert meta.params["id"] == TAG_IDS.meta_pixel and meta.resource_type == "image"
    assert meta.params["eid"] == order["event_id"]
    assert (
        meta.params["cd[order_id]"] == order["order_id"] and float(meta.params["cd[value]"]) == order["value"]
    )
    assert meta.params["cd[currency]"] == "EUR" and json.loads(meta.params["cd[content_ids]"]) == [
        "SKU-TRAIL-42"
    ]
    assert meta.params["ud[em]"] == EMAIL_SHA
    assert meta.params["fbc"].endswith("." + SAMPLE_CLICK_PARAMS["fbclid"]) and meta.params["fbp"].startswith(
        "fb.1."
    )

    tiktok = correct.capture.select("tiktok_pixel", "CompletePayment")[0]
    assert tiktok.body["event_id"] == order["event_id"]
    assert tiktok.body["context"]["pixel"]["code"] == TAG_IDS.tiktok_pixel
    assert tiktok.body["context"]["ad"]["callback"] == SAMPLE_CLICK_PARAMS["ttclid"]
    assert tiktok.params["value"] == order["value"] and tiktok.params["currency"] == "EUR"

    uet = correct.capture.select("bing_uet", "purchase")[0]
    assert (uet.params["ti"], uet.params["evt"], uet.params["ea"]) == (TAG_IDS.uet, "custom", "purchase")
    assert float(uet.params["gv"]) == order["value"] and uet.params["gc"] == "EUR"
    assert uet.params["msclkid"] == SAMPLE_CLICK_PARAMS["msclkid"]


def test_click_id_cookies_look_like_the_vendors_own(correct: JourneyResult) -> None:
    cookies = correct.cookies
    gcl = cookies["_gcl_aw"].split(".", 2)
    assert gcl[0] == "GCL" and gcl[1].isdigit() and gcl[2] == SAMPLE_CLICK_PARAMS["gclid"]
    fbc = cookies["_fbc"].split(".", 3)
    assert fbc[:2] == ["fb", "1"] and len(fbc[2]) == 13 and fbc[3] == SAMPLE_CLICK_PARAMS["fbclid"]
    assert cookies["_fbp"].startswith("fb.1.")
    assert cookies["ttclid"] == SAMPLE_CLICK_PARAMS["ttclid"] and cookies["_ttp"]
    assert cookies["_uetmsclkid"] == "_uet" + SAMPLE_CLICK_PARAMS["msclkid"]
    assert cookies["shop_consent"] == "granted"


def test_server_events_share_the_pixels_event_id_and_the_browsers_cookies(correct: JourneyResult) -> None:
    event = capi_event(correct)
    assert event["event_id"] == correct.capture.select("meta_pixel", "Purchase")[0].params["eid"]
    assert (
        event["user_data"]["fbc"] == correct.cookies["_fbc"]
        and event["user_data"]["fbp"] == correct.cookies["_fbp"]
    )
    assert event["user_data"]["em"] == [EMAIL_SHA]
    mp = next(r for r in correct.server_events if r.vendor == "ga4_mp")
    assert json.loads(mp.body)["client_id"] == correct.cookies["_ga"].split(".", 2)[2]


def test_the_backend_keeps_the_order_for_the_browsers_session(correct: JourneyResult, shop) -> None:
    session = correct.cookies["shop_session"]
    assert [o.order_id for o in shop.orders.orders(session)] == [correct.order["order_id"]]


def test_reloading_the_thank_you_page_does_not_count_the_order_again(correct: JourneyResult) -> None:
    assert len(correct.capture.select("ga4", "page_view", "thank_you")) == 2
    assert Counter((h.vendor, h.event) for h in purchases(correct.capture)) == Counter(
        dict.fromkeys(PURCHASE_EVENTS, 1)
    )


def test_user_engagement_goes_out_as_a_beacon_on_pagehide(demo_browser, shop) -> None:
    # A real unload's beacons bypass context.route, so fire the pagehide event on a live page.
    context = demo_browser.new_context()
    capture = VendorCapture().attach(context)
    page = context.new_page()
    page.goto(shop.url("/cart", direct=True))
    capture.wait_for(page, "ga4", "page_view")
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
    (hit,) = capture.wait_for(page, "ga4", "user_engagement")
    assert hit.method == "POST" and hit.resource_type == "ping" and int(hit.params["_et"]) > 0
    context.close()


def test_sha256_in_the_page_matches_hashlib(demo_browser, shop) -> None:
    context = demo_browser.new_context()
    page = context.new_page()
    page.goto(shop.url("/cart", direct=True))
    samples = ["", "abc", EMAIL, "x" * 55, "y" * 64, "Jürgen.Müller@例え.jp"]
    hashes = page.evaluate("samples => samples.map(window.sha256Hex)", samples)
    assert hashes == [hashlib.sha256(s.encode()).hexdigest() for s in samples]
    context.close()


@pytest.mark.parametrize(("consent", "gcd"), [("reject", "13q3q3q3q5l1"), ("close", "13p3p3p3p5l1")])
def test_reject_or_close_keeps_ad_tags_silent_and_google_denied(
    demo_browser, shop, consent: str, gcd: str
) -> None:
    result = run_journey(demo_browser, shop, consent=consent)
    vendors = {h.vendor for h in result.capture.hits}
    assert vendors == {"ga4", "google_ads"}
    after = result.capture.select("ga4")[1:]
    assert after and all((h.params["gcs"], h.params["gcd"]) == ("G100", gcd) for h in after)
    assert not {"_fbc", "_fbp", "_gcl_aw", "_ga", "ttclid", "_uetmsclkid"} & set(result.cookies)


def test_lead_journey_sends_lead_hits_and_click_ids(demo_browser, shop) -> None:
    result = run_journey(demo_browser, shop, kind="lead")
    assert Counter(result.capture.pairs("lead")) == Counter((h.vendor, h.event) for h in LEAD_HITS)
    assert result.lead["click_ids"] == {
        "gclid": SAMPLE_CLICK_PARAMS["gclid"],
        "fbc": result.cookies["_fbc"],
        "ttclid": SAMPLE_CLICK_PARAMS["ttclid"],
        "msclkid": SAMPLE_CLICK_PARAMS["msclkid"],
    }
    assert result.capture.select("meta_pixel", "Lead")[0].params["ud[em]"] == EMAIL_SHA


# ------------------------------------------------------------------ each switch produces its defect


def _missing_tag(r: JourneyResult, ok: JourneyResult) -> None:
    assert not r.capture.select("meta_pixel", "Purchase")
    assert r.capture.select("meta_pixel", "PageView", "thank_you") and r.capture.select("ga4", "purchase")


def _wrong_trigger(r: JourneyResult, ok: JourneyResult) -> None:
    assert {h.page for h in purchases(r.capture)} == {"checkout"}
    assert {(h.vendor, h.event) for h in purchases(r.capture)} == PURCHASE_EVENTS
    assert "ep.transaction_id" not in r.capture.select("ga4", "purchase")[0].params


def _duplicate_trigger(r: JourneyResult, ok: JourneyResult) -> None:
    # Twice on the first load, twice more on the reload.
    assert Counter((h.vendor, h.event) for h in purchases(r.capture)) == Counter(
        dict.fromkeys(PURCHASE_EVENTS, 4)
    )


def _broken_dedupe(r: JourneyResult, ok: JourneyResult) -> None:
    assert capi_event(r)["event_id"] != r.capture.select("meta_pixel", "Purchase")[0].params["eid"]
    assert r.capture.select("meta_pixel", "Purchase")[0].params["eid"] == r.order["event_id"]


def _server_event_without_fbc(r: JourneyResult, ok: JourneyResult) -> None:
    assert "_fbc" in r.cookies and "fbc" not in capi_event(r)["user_data"]


def _server_event_twice(r: JourneyResult, ok: JourneyResult) -> None:
    assert Counter(x.vendor for x in r.server_events) == {"meta_capi": 2, "tiktok_events_api": 2, "ga4_mp": 2}


def _missing_value(r: JourneyResult, ok: JourneyResult) -> None:
    hits = {(h.vendor, h.event): h.params for h in purchases(r.capture)}
    assert "epn.value" not in hits["ga4", "purchase"] and "value" not in hits["google_ads", "conversion"]
    assert (
        "cd[value]" not in hits["meta_pixel", "Purchase"]
        and "value" not in hits["tiktok_pixel", "CompletePayment"]
    )
    assert (
        "gv" not in hits["bing_uet", "purchase"] and hits["meta_pixel", "Purchase"]["cd[currency]"] == "EUR"
    )


def _missing_currency(r: JourneyResult, ok: JourneyResult) -> None:
    hits = {(h.vendor, h.event): h.params for h in purchases(r.capture)}
    assert "cu" not in hits["ga4", "purchase"] and "currency_code" not in hits["google_ads", "conversion"]
    assert (
        "cd[currency]" not in hits["meta_pixel", "Purchase"]
        and "currency" not in hits["tiktok_pixel", "CompletePayment"]
    )
    assert "gc" not in hits["bing_uet", "purchase"] and "cd[value]" in hits["meta_pixel", "Purchase"]


def _tags_before_consent(r: JourneyResult, ok: JourneyResult) -> None:
    # Journey run without answering the banner: the ad tags fire anyway and set their cookies.
    assert r.capture.select("meta_pixel", "PageView", "landing") and r.capture.select(
        "bing_uet", "pageLoad", "landing"
    )
    assert r.capture.select("tiktok_pixel", "Pageview", "landing")
    assert "shop_consent" not in r.cookies and "_fbc" in r.cookies and "_fbp" in r.cookies


def _gclid_dropped_by_redirect(r: JourneyResult, ok: JourneyResult) -> None:
    landing = dict(parse_qsl(urlsplit(r.landing_url).query))
    assert "gclid" not in landing and landing["fbclid"] == SAMPLE_CLICK_PARAMS["fbclid"]
    assert "_gcl_aw" not in r.cookies and "gclaw" not in r.capture.select("google_ads")[0].params


def _fbclid_dropped_by_js_redirect(r: JourneyResult, ok: JourneyResult) -> None:
    first_landing = next(u for u in r.navigations if urlsplit(u).path == "/")
    assert "fbclid" in dict(parse_qsl(urlsplit(first_landing).query))  # the hop saw it ...
    assert "fbclid" not in dict(parse_qsl(urlsplit(r.landing_url).query))  # ... and dropped it
    assert "_fbc" not in r.cookies and "fbc" not in r.capture.select("meta_pixel", "Purchase")[0].params


def _click_ids_not_stored(r: JourneyResult, ok: JourneyResult) -> None:
    assert not {"_gcl_aw", "_fbc", "ttclid", "_uetmsclkid"} & set(r.cookies)
    assert "_fbp" in r.cookies  # the non-click cookies are still written
    assert "gclaw" not in r.capture.select("google_ads")[0].params
    assert r.capture.select("bing_uet", "purchase")[0].params["msclkid"] == "N"
    assert "fbc" not in capi_event(r)["user_data"]


def _raw_email_in_hit(r: JourneyResult, ok: JourneyResult) -> None:
    assert r.capture.select("meta_pixel", "Purchase")[0].params["ud[em]"] == EMAIL
    assert ok.capture.select("meta_pixel", "Purchase")[0].params["ud[em]"] == EMAIL_SHA


def _lead_form_without_click_id(r: JourneyResult, ok: JourneyResult) -> None:
    assert r.lead is not None and r.lead["click_ids"] == {}
    assert "_fbc" in r.cookies  # the cookies were there; the form did not read them


def _slow_page(r: JourneyResult, ok: JourneyResult) -> None:
    assert r.lcp_ms is not None and r.lcp_ms > 4000
    assert ok.lcp_ms is not None and ok.lcp_ms < 4000


SWITCH_CASES: dict[str, tuple[dict, Callable[[JourneyResult, JourneyResult], None]]] = {
    "missing_tag": ({}, _missing_tag),
    "wrong_trigger": ({}, _wrong_trigger),
    "duplicate_trigger": ({"reload_thank_you": True}, _duplicate_trigger),
    "broken_dedupe": ({}, _broken_dedupe),
    "server_event_without_fbc": ({}, _server_event_without_fbc),
    "server_event_twice": ({}, _server_event_twice),
    "missing_value": ({}, _missing_value),
    "missing_currency": ({}, _missing_currency),
    "tags_before_consent": ({"consent": "close"}, _tags_before_consent),
    "gclid_dropped_by_redirect": ({}, _gclid_dropped_by_redirect),
    "fbclid_dropped_by_js_redirect": ({}, _fbclid_dropped_by_js_redirect),
    "click_ids_not_stored": ({}, _click_ids_not_stored),
    "raw_email_in_hit": ({}, _raw_email_in_hit),
    "lead_form_without_click_id": ({"kind": "lead"}, _lead_form_without_click_id),
    "slow_page": ({"kind": "lead", "measure_lcp": True}, _slow_page),
}


def test_every_switch_has_a_browser_case() -> None:
    assert set(SWITCH_CASES) == SWITCH_NAMES


@pytest.mark.parametrize("name", sorted(SWITCH_CASES))
def test_switch_produces_its_defect(name: str, demo_browser, shop, correct: JourneyResult) -> None:
    options, check = SWITCH_CASES[name]
    baseline = correct
    if options.get("measure_lcp"):
        baseline = run_journey(demo_browser, shop, kind="lead", measure_lcp=True)
    check(run_journey(demo_browser, shop, (name,), **options), baseline)
