"""consent_respected: ad hits against the moment and the kind of the consent answer."""

from __future__ import annotations

from harness.checks.consent import consent_respected
from harness.models import CapturedRequest
from tests.checks.hits import (
    SHOP,
    THANK_YOU,
    Journey,
    bing_uet_hit,
    ga4_hit,
    meta_capi_hit,
    meta_pixel_hit,
    tiktok_pixel_hit,
)
from tests.checks.pii_builders import GCLID, ad_url, context_for, google_ads_conversion, with_params

AD = ad_url({"gclid": GCLID})
DENIED_GCD = "13p3p3p3p5l1"  # every signal: default denied, no update
GRANTED_GCD = "13r3r3r3r5l1"  # default denied, updated to granted


def ga4_ping(event: str = "page_view") -> CapturedRequest:
    """A consent-mode GA4 hit sent while everything is denied (cookieless ping)."""
    return with_params(ga4_hit(event, f"{SHOP}/"), gcs="G100", gcd=DENIED_GCD)


def ga4_granted(event: str = "page_view") -> CapturedRequest:
    return with_params(ga4_hit(event, f"{SHOP}/"), gcs="G111", gcd=GRANTED_GCD)


def test_consent_mode_ping_before_accept_and_tags_after_it_pass() -> None:
    journey = Journey()
    journey.hit(ga4_ping())
    journey.hit(google_ads_conversion(f"{SHOP}/", gcs="G100", gcd=DENIED_GCD))
    journey.step("accept cookies", consent="accept", target="#cmp-accept")
    journey.hit(ga4_granted())
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    journey.hit(google_ads_conversion(gcs="G111", gcd=GRANTED_GCD))
    assert list(consent_respected(context_for(journey, AD))) == []


def test_meta_pixel_before_the_consent_click_says_how_long_before() -> None:
    journey = Journey()
    hit_id = journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    journey.step("accept cookies", consent="accept", target="#cmp-accept")
    [failure] = consent_respected(context_for(journey, AD))
    assert failure.root_cause == "Consent sequencing issue"
    assert failure.title == "meta_pixel PageView fired 1.0 s before the consent click ('accept cookies')"
    assert failure.evidence[0].request_id == hit_id


def test_ga4_claiming_granted_before_consent_fails() -> None:
    journey = Journey()
    journey.hit(ga4_granted())
    journey.step("accept cookies", consent="accept")
    [failure] = consent_respected(context_for(journey, AD))
    assert failure.title.startswith("ga4 page_view claims ad_storage, analytics_storage")
    assert "gcs=G111" in failure.seen


def test_google_ads_conversion_without_consent_mode_before_consent_fails() -> None:
    journey = Journey()
    journey.hit(google_ads_conversion(f"{SHOP}/", gcs=None, gcd=None))
    journey.step("accept cookies", consent="accept")
    [failure] = consent_respected(context_for(journey, AD))
    assert "is not a consent-mode ping" in failure.title


def test_after_reject_non_google_ad_hits_fail_and_google_must_say_denied() -> None:
    journey = Journey()
    journey.step("reject cookies", consent="reject", target="#cmp-reject")
    journey.hit(ga4_ping())  # fine: denied state
    tiktok = journey.hit(tiktok_pixel_hit("Pageview", f"{SHOP}/"))
    journey.hit(with_params(ga4_hit("page_view", f"{SHOP}/"), gcs="", gcd=""))  # no consent mode at all
    failures = {f.title: f for f in consent_respected(context_for(journey, AD))}

    assert set(failures) == {
        "tiktok_pixel Pageview fired 2.0 s after the visitor rejected ('reject cookies')",
        "ga4 page_view carries no consent state, so GA4 treats it as consented "
        "3.0 s after the visitor rejected ('reject cookies')",
    }
    tiktok_failure = next(f for f in failures.values() if f.title.startswith("tiktok"))
    assert tiktok_failure.evidence[0].request_id == tiktok
    assert "after a reject" in tiktok_failure.expected


def test_ignored_banner_allows_only_denied_google_pings() -> None:
    journey = Journey()
    journey.hit(ga4_ping())
    journey.hit(ga4_granted())
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    titles = sorted(f.title for f in consent_respected(context_for(journey, AD, consent="ignore")))
    assert titles == [
        "ga4 page_view claims ad_storage, analytics_storage, ad_user_data, ad_personalization granted "
        "although the consent banner was never answered",
        "meta_pixel PageView fired although the consent banner was never answered",
    ]


def test_repeated_offending_hits_are_one_failure_with_every_hit_as_evidence() -> None:
    journey = Journey()
    first = journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    second = journey.hit(meta_pixel_hit("PageView", f"{SHOP}/product/tent"))
    journey.step("accept cookies", consent="accept")
    [failure] = consent_respected(context_for(journey, AD))
    assert failure.title.endswith("(2 hits)")
    assert [e.request_id for e in failure.evidence] == [first, second]


def test_hits_during_the_consent_click_and_server_events_are_not_judged() -> None:
    journey = Journey()
    journey.hit(meta_capi_hit("PageView", f"{SHOP}/"))  # server-side: not the browser's consent
    journey.step("accept cookies", consent="accept")
    journey.tick(-0.8)  # inside the step's window: the click may already have happened
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    assert list(consent_respected(context_for(journey, AD))) == []


def test_without_a_consent_answer_or_expectation_nothing_is_judged() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"))
    assert list(consent_respected(context_for(journey, AD))) == []
    # 'accept' without a consent step gives no moment to judge against.
    assert list(consent_respected(context_for(journey, AD, consent="accept"))) == []


def test_declared_reject_without_a_step_judges_every_hit() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit("PageView", f"{SHOP}/"))
    [failure] = consent_respected(context_for(journey, AD, consent="reject"))
    assert failure.title == "meta_pixel PageView fired although the visitor rejects consent"


def test_the_retargeting_and_native_ad_tags_count_as_ad_tags_before_consent() -> None:
    """Criteo, The Trade Desk, Outbrain and Taboola tags are ad tags: before the consent click they fail."""
    journey = Journey()
    for url in (
        "https://sslwidget.criteo.com/event?a=123456&v=5.5.0&p0=e%3Dexd%26site_type%3Dm&p1=e%3Dvh",
        "https://insight.adsrvr.org/track/conv/?adv=abc1234&ct=0:xyz5678&fmt=3",
        "https://tr.outbrain.com/unifiedPixel?marketerId=00f1d2c3b4a5&obApiVersion=1.1&name=PAGE_VIEW",
        "https://trc.taboola.com/1234567/log/3/unip?en=page_view&item-url=https%3A%2F%2Fshop.example%2F",
    ):
        journey.hit(CapturedRequest(id="unstamped", method="GET", url=url, tag_hit=True, sinkholed=True, status=204))
    journey.step("accept cookies", consent="accept", target="#cmp-accept")
    failures = list(consent_respected(context_for(journey, AD)))
    fired = {f.title.split(" ", 1)[0] for f in failures}
    assert fired == {"criteo", "tradedesk", "outbrain", "taboola"}, [f.title for f in failures]
    assert {f.root_cause for f in failures} == {"Consent sequencing issue"}


def test_microsoft_uet_has_a_consent_mode_like_googles() -> None:
    """UET's consent mode (uetq.push('consent', 'default', {ad_storage: 'denied'})) sends cookieless hits
    saying asc=D and, on a reject, a consent-update beacon saying so: neither is a violation. A UET hit that
    says nothing of consent (Microsoft then treats it as granted) is one, before the consent click and after
    a reject alike."""
    journey = Journey()
    journey.hit(with_params(bing_uet_hit("page_view", f"{SHOP}/"), asc="D"))  # a consent-mode ping: fine
    silent = journey.hit(bing_uet_hit("view_item", f"{SHOP}/"))
    journey.step("reject cookies", consent="reject", target="#cmp-reject")
    journey.hit(with_params(bing_uet_hit("page_view", f"{SHOP}/"), asc="D", evt="consent", src="update"))
    after = journey.hit(bing_uet_hit("add_to_cart", f"{SHOP}/"))
    failures = list(consent_respected(context_for(journey, AD)))
    titles = sorted(f.title for f in failures)
    assert len(titles) == 2, titles
    assert titles[0].startswith("bing_uet add_to_cart is not a consent-mode ping (it does not say ad_storage denied)")
    assert "after the visitor rejected" in titles[0]
    assert titles[1].startswith("bing_uet view_item is not a consent-mode ping (it does not say ad_storage denied)")
    assert {e.request_id for f in failures for e in f.evidence} == {silent, after}
