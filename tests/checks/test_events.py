"""event_count and event_value, judged on real-format hits decoded by the real registry."""

from __future__ import annotations

from harness.checks.events import ISO_4217_CODES, event_count, event_value, url_glob_matches
from harness.checks.registry import all_checks
from harness.models import CheckFailure
from tests.checks.hits import (
    CHECKOUT,
    LANDING,
    PRODUCT,
    SHOP,
    THANK_YOU,
    Journey,
    ga4_hit,
    google_ads_hit,
    meta_pixel_hit,
    tiktok_pixel_hit,
)

META_PURCHASE = {"vendor": "meta_pixel", "event": "Purchase"}
GA4_PURCHASE = {"vendor": "ga4", "event": "purchase"}


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def checkout_journey() -> Journey:
    """Landing, product, checkout, pay step, thank-you: the page views a real journey sends first."""
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(meta_pixel_hit("PageView", LANDING))
    journey.hit(meta_pixel_hit("ViewContent", PRODUCT, value=59.9, currency="EUR"))
    journey.hit(ga4_hit("page_view", CHECKOUT))
    journey.step("pay")
    journey.hit(ga4_hit("page_view", THANK_YOU))
    return journey


def test_the_checks_are_registered() -> None:
    names = {c.name for c in all_checks()}
    assert {"event_count", "event_value", "event_id_present", "browser_server_dedupe"} <= names
    assert {"forbidden_vendors", "unexpected_vendors", "event_order", "run_completed"} <= names


# --- event_count: passing runs --------------------------------------------------------------------


def test_purchase_where_and_when_expected_passes() -> None:
    journey = checkout_journey()
    journey.hit(
        meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", order_id="ORD-1", event_id="ORD-1")
    )
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR", transaction_id="ORD-1"))
    ctx = journey.context(
        events=[
            {
                **META_PURCHASE,
                "on_url": "**/thank-you*",
                "after_step": "pay",
                "value": 59.9,
                "currency": "EUR",
            },
            {**GA4_PURCHASE, "on_url": "**/thank-you*", "after_step": 1, "transaction_id": "ORD-1"},
        ]
    )
    assert list(event_count(ctx)) == []
    assert list(event_value(ctx)) == []


def test_two_purchases_with_different_order_ids_and_count_two_pass() -> None:
    journey = checkout_journey()
    journey.hit(
        meta_pixel_hit("Purchase", THANK_YOU, value=10, currency="EUR", order_id="ORD-1", event_id="ORD-1")
    )
    journey.hit(
        meta_pixel_hit("Purchase", THANK_YOU, value=20, currency="EUR", order_id="ORD-2", event_id="ORD-2")
    )
    ctx = journey.context(events=[{**META_PURCHASE, "count": 2}])
    assert list(event_count(ctx)) == []


def test_ga4_purchase_and_meta_purchase_are_different_vendors() -> None:
    journey = checkout_journey()
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR", transaction_id="ORD-1"))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    ctx = journey.context(events=[GA4_PURCHASE, META_PURCHASE])
    assert list(event_count(ctx)) == []


def test_event_names_are_case_sensitive_as_sent() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit("purchase", THANK_YOU, value=59.9, currency="EUR"))
    failure = only(list(event_count(journey.context(events=[META_PURCHASE]))))
    assert failure.root_cause == "Missing tag"
    assert "purchase" in failure.seen  # the lowercase custom event is named as what the pixel did send


def test_on_url_also_matches_the_referer_of_the_hit() -> None:
    # A single-page shop reports a virtual page in dl; the Referer still names the real thank-you URL.
    journey = checkout_journey()
    journey.hit(ga4_hit("purchase", f"{SHOP}/app", value=59.9, currency="EUR", referer=THANK_YOU))
    assert list(event_count(journey.context(events=[{**GA4_PURCHASE, "on_url": "**/thank-you*"}]))) == []
    journey.hit(ga4_hit("purchase", f"{SHOP}/app", value=59.9, currency="EUR"))  # origin-only Referer
    failure = only(list(event_count(journey.context(events=[{**GA4_PURCHASE, "on_url": "**/thank-you*"}]))))
    assert "also fired outside" in failure.title and failure.evidence[0].request_id == "r7"


def test_url_globs_match_across_slashes_and_treat_question_marks_literally() -> None:
    assert url_glob_matches("**/thank-you*", THANK_YOU)
    assert url_glob_matches("*/checkout/thank-you?order=*", THANK_YOU)
    assert not url_glob_matches("**/thank-you*", CHECKOUT)
    assert not url_glob_matches("**/thank-you", THANK_YOU)  # no trailing * -> the query must be absent


# --- event_count: failing modes -------------------------------------------------------------------


def test_pixel_on_the_page_without_purchase_is_a_missing_tag_naming_what_it_sent() -> None:
    journey = checkout_journey()
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "on_url": "**/thank-you*"}]))))
    assert failure.root_cause == "Missing tag"
    assert failure.title == "meta_pixel Purchase never fired"
    assert "Meta Pixel is on the page (PageView, ViewContent) but Purchase never fired" in failure.seen
    assert "1 time" in failure.expected and "**/thank-you*" in failure.expected
    assert [e.request_id for e in failure.evidence] == ["r2", "r3"]
    assert "Purchase" in failure.fix_direction


def test_vendor_absent_from_the_run_is_a_missing_tag_with_the_table_fix() -> None:
    journey = checkout_journey()
    failure = only(
        list(event_count(journey.context(events=[{"vendor": "tiktok_pixel", "event": "CompletePayment"}])))
    )
    assert failure.root_cause == "Missing tag"
    assert "no TikTok Pixel (tiktok_pixel) hit" in failure.seen
    assert failure.fix_direction == "Reinstall or repair tag/container"
    assert failure.evidence == []


def test_purchase_on_the_checkout_page_is_a_wrong_trigger_naming_the_page() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit("Purchase", CHECKOUT, value=59.9, currency="EUR"))
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "on_url": "**/thank-you*"}]))))
    assert failure.root_cause == "Wrong trigger"
    assert "outside the expected window" in failure.title and "**/thank-you*" in failure.title
    assert f"on {CHECKOUT}" in failure.seen
    assert [e.request_id for e in failure.evidence] == ["r6"]


def test_purchase_before_the_pay_step_is_a_wrong_trigger() -> None:
    journey = Journey()
    journey.hit(ga4_hit("page_view", CHECKOUT))
    journey.hit(
        ga4_hit("purchase", CHECKOUT, value=59.9, currency="EUR", transaction_id="ORD-1")
    )  # too early
    journey.step("pay")
    failure = only(list(event_count(journey.context(events=[{**GA4_PURCHASE, "after_step": "pay"}]))))
    assert failure.root_cause == "Wrong trigger"
    assert "before step 'pay'" in failure.seen
    assert failure.evidence[0].request_id == "r2"


def test_a_hit_started_at_the_step_start_counts_as_after_it() -> None:
    journey = Journey()
    step = journey.step("pay")
    request_id = journey.hit(ga4_hit("purchase", THANK_YOU, value=1, currency="EUR"))
    journey.requests[-1] = journey.requests[-1].model_copy(update={"started_at": step.started_at})
    assert request_id == "r1"
    assert list(event_count(journey.context(events=[{**GA4_PURCHASE, "after_step": "pay"}]))) == []


def test_two_purchases_with_the_same_eid_are_one_action_counted_twice() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    failure = only(list(event_count(journey.context(events=[META_PURCHASE]))))
    assert failure.root_cause == "Duplicate trigger"
    assert failure.title == "meta_pixel Purchase fired 2 times, expected 1"
    assert "2 Purchase hits with the same event ID ORD-1 => one action counted 2 times" in failure.seen
    assert [e.request_id for e in failure.evidence] == ["r6", "r7"]


def test_two_pixels_each_told_once_is_no_duplicate_but_one_told_twice_is() -> None:
    """fbq('init') for two pixels sends every event to each: two hits, one per account, no duplicate. A
    pixel told twice is, and the failure names it."""
    journey = checkout_journey()
    purchase = {"value": 59.9, "currency": "EUR", "event_id": "ORD-1"}
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **purchase, pixel_id="111111111111111"))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **purchase, pixel_id="222222222222222"))
    assert list(event_count(journey.context(events=[META_PURCHASE]))) == []
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **purchase, pixel_id="222222222222222"))
    failure = only(list(event_count(journey.context(events=[META_PURCHASE]))))
    assert failure.root_cause == "Duplicate trigger"
    assert failure.title == "meta_pixel Purchase to 222222222222222 fired 2 times, expected 1"
    assert "same event ID ORD-1" in failure.seen
    # Two expected per account: the pixel told once is short, the other is not judged twice.
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "count": 2}]))))
    assert failure.title.startswith("meta_pixel Purchase to 111111111111111 fired 1 time")


def test_an_expectation_may_name_the_account_it_counts() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", pixel_id="111111111111111"))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", pixel_id="222222222222222"))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", pixel_id="222222222222222"))
    assert list(event_count(journey.context(events=[{**META_PURCHASE, "account": "111111111111111"}]))) == []
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "account": "333333333333333"}]))))
    assert failure.title == "meta_pixel Purchase to 333333333333333 never fired"
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "account": "222222222222222"}]))))
    assert failure.title == "meta_pixel Purchase to 222222222222222 fired 2 times, expected 1"


def test_the_google_tags_consent_mode_twin_is_not_a_second_conversion() -> None:
    """The Google tag sends ccm/conversion beside every pagead/conversion (same random, label and order):
    one action, shown as two hits, counted once. Two real conversions are still two."""
    journey = checkout_journey()
    purchase = {"value": 89.9, "currency": "EUR", "order_id": "7192923"}
    journey.hit(google_ads_hit(THANK_YOU, **purchase))
    journey.hit(google_ads_hit(THANK_YOU, **purchase, endpoint="ccm/conversion"))
    # And its Protected Audience iframe (td.doubleclick.net/td/rul/<ID>, the same fields): a mirror too.
    rul = google_ads_hit(THANK_YOU, **purchase)
    journey.hit(rul.model_copy(update={"url": rul.url.replace("www.googleadservices.com/pagead/conversion/", "td.doubleclick.net/td/rul/")}))
    expected = [{"vendor": "google_ads", "event": "conversion", "value": 89.9, "currency": "EUR"}]
    ctx = journey.context(events=expected)
    assert [(e.params["endpoint"], e.repeats) for e in ctx.events if e.vendor == "google_ads"] == [
        ("conversion", False),
        ("ccm-conversion", True),
        ("rul", True),
    ]
    assert list(event_count(ctx)) == [] and list(event_value(ctx)) == []
    journey.hit(google_ads_hit(THANK_YOU, **purchase))
    failure = only(list(event_count(journey.context(events=expected))))
    assert failure.title == "google_ads conversion fired 2 times, expected 1"


def test_duplicates_without_ids_say_the_platform_cannot_tell_them_apart() -> None:
    journey = checkout_journey()
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR"))
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR"))
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR"))
    failure = only(list(event_count(journey.context(events=[GA4_PURCHASE]))))
    assert failure.root_cause == "Duplicate trigger"
    assert "3 times, expected 1" in failure.title
    assert "no order ID or event ID" in failure.seen


def test_fewer_than_expected_is_a_wrong_trigger_with_the_numbers() -> None:
    journey = checkout_journey()
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, value=5, currency="EUR", event_id="a"))
    ctx = journey.context(events=[{"vendor": "tiktok_pixel", "event": "CompletePayment", "count": 2}])
    failure = only(list(event_count(ctx)))
    assert failure.root_cause == "Wrong trigger"
    assert "fired 1 time" in failure.title and "expected 2" in failure.title
    assert "2 times" in failure.expected


def test_an_extra_fire_outside_the_window_is_reported_even_when_the_count_is_met() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    journey.step("reload")
    journey.hit(meta_pixel_hit("Purchase", PRODUCT, value=59.9, currency="EUR", event_id="ORD-1"))
    failure = only(list(event_count(journey.context(events=[{**META_PURCHASE, "on_url": "**/thank-you*"}]))))
    assert failure.root_cause == "Wrong trigger"
    assert "also fired outside" in failure.title
    assert f"on {PRODUCT}" in failure.seen and failure.evidence[0].request_id == "r7"


def test_count_zero_and_it_fired_is_a_wrong_trigger() -> None:
    journey = checkout_journey()
    journey.hit(ga4_hit("purchase", CHECKOUT, value=59.9, currency="EUR"))
    failure = only(list(event_count(journey.context(events=[{**GA4_PURCHASE, "count": 0}]))))
    assert failure.root_cause == "Wrong trigger"
    assert failure.title == "ga4 purchase fired 1 time, expected never"
    assert CHECKOUT in failure.seen


def test_count_zero_and_silent_passes() -> None:
    assert list(event_count(checkout_journey().context(events=[{**GA4_PURCHASE, "count": 0}]))) == []


def test_after_step_that_never_ran_is_a_run_error_even_when_nothing_fired() -> None:
    journey = Journey()
    journey.step("cart")
    ctx = journey.context(events=[{**GA4_PURCHASE, "after_step": "cart"}])
    ctx.result.capture.steps.clear()
    failure = only(list(event_count(ctx)))
    assert failure.root_cause == "Run error"
    assert "ga4 purchase never fired" in failure.seen


def test_missing_event_of_an_unfinished_run_points_at_run_completed() -> None:
    journey = checkout_journey()
    journey.capture_fields["error"] = "Timeout 30000ms exceeded"
    failure = only(list(event_count(journey.context(events=[GA4_PURCHASE]))))
    assert failure.root_cause == "Missing tag"
    assert "see run_completed" in failure.seen


def test_after_step_that_never_ran_is_a_run_error_not_a_tag_bug() -> None:
    journey = Journey()
    journey.step("cart")
    journey.hit(ga4_hit("purchase", CHECKOUT, value=59.9, currency="EUR"))
    ctx = journey.context(events=[{**GA4_PURCHASE, "after_step": "cart"}])
    # The scenario names a step the run never reached (the capture stopped after step 1).
    ctx.result.capture.steps.clear()
    failure = only(list(event_count(ctx)))
    assert failure.root_cause == "Run error"
    assert "'cart' never ran" in failure.title


def test_malformed_hit_of_an_expected_vendor_is_reported() -> None:
    journey = checkout_journey()
    bad = journey.hit(meta_pixel_hit(None, THANK_YOU))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"))
    failure = only(list(event_count(journey.context(events=[META_PURCHASE]))))
    assert failure.root_cause == "Missing tag"
    assert "malformed" in failure.title and "without ev" in failure.title
    assert failure.evidence[0].request_id == bad
    assert "Repair the Meta Pixel" in failure.fix_direction


def test_malformed_hit_of_a_vendor_nobody_expects_is_not_this_checks_business() -> None:
    journey = checkout_journey()
    journey.hit(meta_pixel_hit(None, THANK_YOU))
    journey.hit(ga4_hit("purchase", THANK_YOU, value=1, currency="EUR"))
    assert list(event_count(journey.context(events=[GA4_PURCHASE]))) == []


def test_only_malformed_hits_say_so_in_the_missing_tag_failure() -> None:
    journey = Journey()
    journey.hit(meta_pixel_hit(None, THANK_YOU))
    failures = list(event_count(journey.context(events=[META_PURCHASE])))
    missing = [f for f in failures if f.title == "meta_pixel Purchase never fired"]
    assert len(failures) == 2 and len(missing) == 1
    assert "only malformed hits" in missing[0].seen


# --- event_value ---------------------------------------------------------------------------------


def value_failures(hit, **expected) -> list[CheckFailure]:  # type: ignore[no-untyped-def]
    journey = checkout_journey()
    journey.hit(hit)
    vendor_event = GA4_PURCHASE if "google-analytics" in hit.url else META_PURCHASE
    return list(event_value(journey.context(events=[{**vendor_event, **expected}])))


def test_purchase_without_value_is_missing_value() -> None:
    failure = only(value_failures(meta_pixel_hit("Purchase", THANK_YOU, currency="EUR")))
    assert failure.root_cause == "Missing value"
    assert failure.title == "meta_pixel Purchase has no numeric value"
    assert failure.seen == "no value parameter"
    assert failure.evidence[0].request_id == "r6"


def test_non_numeric_value_is_quoted() -> None:
    failure = only(value_failures(meta_pixel_hit("Purchase", THANK_YOU, value="59,90 EUR", currency="EUR")))
    assert failure.root_cause == "Missing value"
    assert "59,90 EUR" in failure.seen


def test_wrong_value_names_both_numbers() -> None:
    failure = only(value_failures(ga4_hit("purchase", THANK_YOU, value=49.95, currency="EUR"), value=59.9))
    assert failure.root_cause == "Missing value"
    assert failure.title == "ga4 purchase value is 49.95, expected 59.9"
    assert "order's actual total" in failure.fix_direction


def test_value_within_half_a_cent_passes() -> None:
    assert value_failures(ga4_hit("purchase", THANK_YOU, value=59.904, currency="EUR"), value=59.9) == []


def test_value_not_required_and_absent_passes() -> None:
    hit = meta_pixel_hit("Purchase", THANK_YOU)
    assert value_failures(hit, value_required=False) == []


def test_an_expected_amount_requires_a_value_even_when_value_required_is_off() -> None:
    hit = meta_pixel_hit("Purchase", THANK_YOU, currency="EUR")
    failure = only(value_failures(hit, value_required=False, value=59.9))
    assert failure.expected == "meta_pixel Purchase with a numeric value of 59.9"


def test_invalid_currency_is_missing_value_with_a_specific_fix() -> None:
    failure = only(value_failures(ga4_hit("purchase", THANK_YOU, value=59.9, currency="€")))
    assert failure.root_cause == "Missing value"
    assert "'€' is not an ISO 4217 code" in failure.title
    assert "ISO 4217" in failure.fix_direction


def test_currency_is_required_with_a_value() -> None:
    failure = only(value_failures(ga4_hit("purchase", THANK_YOU, value=59.9)))
    assert failure.title == "ga4 purchase has no currency"


def test_currency_other_than_expected_fails_and_lowercase_codes_pass() -> None:
    failure = only(
        value_failures(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="USD"), currency="EUR")
    )
    assert failure.title == "meta_pixel Purchase currency is USD, expected EUR"
    assert (
        value_failures(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="eur"), currency="EUR")
        == []
    )


def test_iso_list_holds_active_codes_only() -> None:
    assert {"EUR", "USD", "GBP", "JPY", "XCG", "XOF"} <= ISO_4217_CODES
    assert not {"XXX", "XTS", "XAU", "ANG", "DEM", "BTC"} & ISO_4217_CODES


def test_missing_order_id_when_required() -> None:
    failure = only(
        value_failures(ga4_hit("purchase", THANK_YOU, value=1, currency="EUR"), transaction_id="present")
    )
    assert failure.root_cause == "Missing value"
    assert "no order ID" in failure.title
    assert "counts the purchase again" in failure.fix_direction


def test_wrong_order_id() -> None:
    hit = meta_pixel_hit("Purchase", THANK_YOU, value=1, currency="EUR", order_id="{{order_id}}")
    failure = only(value_failures(hit, transaction_id="ORD-1"))
    assert failure.title == "meta_pixel Purchase order ID is {{order_id}}, expected ORD-1"


def test_value_checks_skip_events_that_must_not_fire() -> None:
    assert value_failures(ga4_hit("purchase", THANK_YOU), count=0) == []
