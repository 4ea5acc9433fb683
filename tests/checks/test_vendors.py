"""forbidden_vendors, unexpected_vendors and event_order on real-format hits."""

from __future__ import annotations

from harness.checks.vendors import event_order, forbidden_vendors, unexpected_vendors
from harness.models import CheckFailure
from tests.checks.hits import (
    LANDING,
    THANK_YOU,
    Journey,
    bing_uet_hit,
    ga4_hit,
    meta_pixel_hit,
    tiktok_pixel_hit,
)

PAID = {"value": 59.9, "currency": "EUR"}


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def shop_with_tiktok() -> Journey:
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(meta_pixel_hit("PageView", LANDING))
    journey.hit(tiktok_pixel_hit("Pageview", LANDING))
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, event_id="ORD-1", **PAID))
    return journey


# --- forbidden / unexpected vendors --------------------------------------------------------------


def test_forbidden_vendor_contacted_fails_once_with_all_its_hits() -> None:
    failure = only(list(forbidden_vendors(shop_with_tiktok().context(forbidden_vendors=["tiktok_pixel"]))))
    assert failure.root_cause == "Unexpected vendor"
    assert failure.title == "tiktok_pixel (TikTok Pixel) was contacted: 2 hits (Pageview, CompletePayment)"
    assert "forbids" in failure.expected
    assert [e.request_id for e in failure.evidence] == ["r3", "r4"]


def test_forbidden_vendor_absent_passes() -> None:
    assert (
        list(forbidden_vendors(shop_with_tiktok().context(forbidden_vendors=["bing_uet", "linkedin"]))) == []
    )


def test_malformed_hits_of_a_forbidden_vendor_still_count() -> None:
    journey = Journey()
    bad = journey.hit(meta_pixel_hit(None, LANDING))
    failure = only(list(forbidden_vendors(journey.context(forbidden_vendors=["meta_pixel"]))))
    assert failure.evidence[0].request_id == bad


def test_vendor_outside_allowed_and_expected_is_unexpected() -> None:
    ctx = shop_with_tiktok().context(
        allowed_vendors=["ga4"],
        events=[{"vendor": "meta_pixel", "event": "PageView", "value_required": False}],
    )
    failure = only(list(unexpected_vendors(ctx)))
    assert failure.root_cause == "Unexpected vendor"
    assert failure.title.startswith("tiktok_pixel (TikTok Pixel) was contacted")
    assert failure.expected == "only these vendors: ga4, meta_pixel"
    assert "expect.allowed_vendors" in failure.fix_direction


def test_without_allowed_vendors_nothing_is_unexpected() -> None:
    assert list(unexpected_vendors(shop_with_tiktok().context())) == []


def test_a_forbidden_vendor_is_not_reported_twice() -> None:
    ctx = shop_with_tiktok().context(
        allowed_vendors=["ga4", "meta_pixel"], forbidden_vendors=["tiktok_pixel"]
    )
    assert list(unexpected_vendors(ctx)) == []
    assert len(list(forbidden_vendors(ctx))) == 1


# --- event_order ---------------------------------------------------------------------------------


def test_page_view_before_purchase_passes_for_every_vendor() -> None:
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(meta_pixel_hit("PageView", LANDING))
    journey.hit(ga4_hit("purchase", THANK_YOU, **PAID))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))
    assert list(event_order(journey.context())) == []


def test_purchase_before_page_view_breaks_the_default_rule() -> None:
    journey = Journey()
    purchase = journey.hit(ga4_hit("purchase", THANK_YOU, **PAID))
    page_view = journey.hit(ga4_hit("page_view", THANK_YOU))
    journey.hit(ga4_hit("purchase", THANK_YOU, **PAID))
    failure = only(list(event_order(journey.context())))
    assert failure.root_cause == "Event order"
    assert failure.title == "ga4 purchase was sent before page_view (rule page_view<purchase)"
    assert [e.request_id for e in failure.evidence] == [purchase, page_view]
    assert purchase in failure.seen and page_view in failure.seen


def test_the_rule_also_judges_meta_spelling_of_the_names() -> None:
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))
    journey.hit(meta_pixel_hit("PageView", THANK_YOU))
    failure = only(list(event_order(journey.context())))
    assert failure.title == "meta_pixel Purchase was sent before PageView (rule page_view<purchase)"


def test_order_is_per_vendor() -> None:
    # GA4's purchase comes before Meta's PageView, but each vendor saw its own page view first.
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(ga4_hit("purchase", THANK_YOU, **PAID))
    journey.hit(meta_pixel_hit("PageView", THANK_YOU))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))
    assert list(event_order(journey.context())) == []


def test_rules_skip_vendors_missing_either_event() -> None:
    journey = Journey()
    journey.hit(ga4_hit("purchase", THANK_YOU, **PAID))
    journey.hit(bing_uet_hit("purchase", THANK_YOU, **PAID))
    assert list(event_order(journey.context())) == []


def test_custom_rules_and_seq_order_over_capture_list_order() -> None:
    journey = Journey()
    journey.hit(tiktok_pixel_hit("AddToCart", LANDING))
    journey.hit(tiktok_pixel_hit("InitiateCheckout", LANDING))
    # The proxy's arrival order (seq) decides, not the order of the capture list.
    first, second = journey.requests
    journey.requests = [second.model_copy(update={"seq": 1}), first.model_copy(update={"seq": 2})]
    failure = only(list(event_order(journey.context(order=["AddToCart<InitiateCheckout"]))))
    assert (
        failure.title
        == "tiktok_pixel InitiateCheckout was sent before AddToCart (rule AddToCart<InitiateCheckout)"
    )
