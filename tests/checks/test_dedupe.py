"""event_id_present and browser_server_dedupe on real Pixel/CAPI, TikTok and GA4/MP hits."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from harness.checks.dedupe import browser_server_dedupe, event_id_present
from harness.models import CapturedRequest, CheckFailure
from tests.checks.hits import (
    LANDING,
    THANK_YOU,
    Journey,
    ga4_hit,
    ga4_mp_hit,
    meta_capi_hit,
    meta_pixel_hit,
    tiktok_events_api_hit,
    tiktok_pixel_hit,
)

PAID = {"value": 59.9, "currency": "EUR"}


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def landed() -> Journey:
    journey = Journey()
    journey.hit(meta_pixel_hit("PageView", LANDING))
    journey.hit(ga4_hit("page_view", LANDING))
    journey.step("pay")
    return journey


# --- event_id_present ----------------------------------------------------------------------------


def test_purchase_with_eid_passes() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    ctx = journey.context(events=[{"vendor": "meta_pixel", "event": "Purchase", "event_id": "required"}])
    assert list(event_id_present(ctx)) == []


def test_pixel_purchase_without_eid_breaks_dedupe() -> None:
    journey = landed()
    with_id = journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    without = journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))
    ctx = journey.context(
        events=[{"vendor": "meta_pixel", "event": "Purchase", "count": 2, "event_id": "required"}]
    )
    failure = only(list(event_id_present(ctx)))
    assert failure.root_cause == "Broken dedupe"
    assert "meta_pixel Purchase" in failure.title and "1 of 2" in failure.title
    assert "Meta cannot deduplicate Pixel and CAPI without eid" in failure.title
    assert [e.request_id for e in failure.evidence] == [without] != [with_id]


def test_tiktok_without_event_id_names_tiktok() -> None:
    journey = landed()
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, order_id="ORD-1", **PAID))
    ctx = journey.context(
        events=[{"vendor": "tiktok_pixel", "event": "CompletePayment", "event_id": "required"}]
    )
    failure = only(list(event_id_present(ctx)))
    assert "TikTok cannot deduplicate Pixel and Events API without event_id" in failure.title


def test_optional_event_id_and_events_that_never_fired_are_not_judged() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))
    ctx = journey.context(
        events=[
            {"vendor": "meta_pixel", "event": "Purchase"},
            {"vendor": "meta_capi", "event": "Purchase", "event_id": "required"},
        ]
    )
    assert list(event_id_present(ctx)) == []


# --- browser_server_dedupe: passing runs --------------------------------------------------------


def test_pixel_and_capi_with_the_same_name_and_event_id_pass() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, order_id="ORD-1", event_id="ord-1-purchase", **PAID))
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, order_id="ORD-1", event_id="ord-1-purchase", **PAID))
    assert list(browser_server_dedupe(journey.context())) == []


def test_two_orders_each_with_its_own_twin_pass() -> None:
    journey = landed()
    for order in ("ORD-1", "ORD-2"):
        journey.hit(meta_pixel_hit("Purchase", THANK_YOU, order_id=order, event_id=order, **PAID))
        journey.hit(meta_capi_hit("Purchase", THANK_YOU, order_id=order, event_id=order, **PAID))
    assert list(browser_server_dedupe(journey.context())) == []


def test_ga4_and_measurement_protocol_with_the_same_transaction_id_pass() -> None:
    journey = landed()
    journey.hit(ga4_hit("purchase", THANK_YOU, transaction_id="T-1001", **PAID))
    journey.hit(ga4_mp_hit("purchase", transaction_id="T-1001", **PAID))
    assert list(browser_server_dedupe(journey.context())) == []


def test_ga4_events_other_than_purchase_are_not_deduplicated_so_not_judged() -> None:
    journey = landed()
    journey.hit(ga4_mp_hit("page_view"))
    assert list(browser_server_dedupe(journey.context())) == []


def test_browser_events_without_a_server_side_are_not_judged() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, **PAID))  # no eid, but no CAPI in this run either
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, **PAID))
    assert list(browser_server_dedupe(journey.context())) == []


# --- browser_server_dedupe: failing modes -------------------------------------------------------


def test_same_order_with_different_event_ids_is_broken_dedupe_with_both_hits() -> None:
    journey = landed()
    pixel = journey.hit(meta_pixel_hit("Purchase", THANK_YOU, order_id="ORD-1", event_id="ORD-1", **PAID))
    capi = journey.hit(meta_capi_hit("Purchase", THANK_YOU, order_id="ORD-1", event_id="evt-77", **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "meta_pixel Purchase" in failure.title and "meta_capi" in failure.title
    assert "event_id ORD-1 vs evt-77" in failure.title
    assert "event_id=ORD-1" in failure.seen and "event_id=evt-77" in failure.seen
    assert "Meta deduplicates" in failure.expected
    assert [e.request_id for e in failure.evidence] == [pixel, capi]


def test_capi_without_event_id_is_broken_dedupe() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "meta_capi Purchase carries no event_id" in failure.title


def test_a_repeated_browser_hit_still_finds_its_twin_by_name() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))  # a reload: same action
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="ord-1", **PAID))
    failures = list(browser_server_dedupe(journey.context()))
    assert len(failures) == 2  # each browser hit against the twin: both would be counted twice
    assert all("event_id ORD-1 vs ord-1" in f.title for f in failures)


def test_two_unrelated_actions_of_one_name_are_not_paired_by_guess() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="A", **PAID))
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="B", **PAID))
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="C", **PAID))
    assert list(browser_server_dedupe(journey.context())) == []


def test_tiktok_names_that_differ_for_one_order_break_dedupe() -> None:
    journey = landed()
    journey.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, order_id="ORD-1", event_id="ORD-1", **PAID))
    journey.hit(tiktok_events_api_hit("Purchase", THANK_YOU, order_id="ORD-1", event_id="ORD-1", **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "event CompletePayment vs Purchase" in failure.title


def test_ga4_purchase_and_mp_purchase_with_different_transaction_ids_break_dedupe() -> None:
    journey = landed()
    journey.hit(ga4_hit("purchase", THANK_YOU, transaction_id="T-1001", **PAID))
    journey.hit(ga4_mp_hit("purchase", transaction_id="1001", **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "transaction_id T-1001 vs 1001" in failure.title
    assert "GA4 deduplicates" in failure.expected


def test_server_event_sent_twice_for_one_action_is_a_duplicate_trigger() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    first = journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    second = journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Duplicate trigger"
    assert failure.title == "meta_capi Purchase sent 2 times for one action (event=Purchase + event_id=ORD-1)"
    assert [e.request_id for e in failure.evidence] == [first, second]


def test_server_repeats_of_a_counted_event_are_left_to_event_count() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    journey.hit(meta_capi_hit("Purchase", THANK_YOU, event_id="ORD-1", **PAID))
    ctx = journey.context(events=[{"vendor": "meta_capi", "event": "Purchase"}])
    assert list(browser_server_dedupe(ctx)) == []


# --- google_ads tag conversion <-> google_ads_api upload, paired by order ID ----------------------

ADS_CONVERSION_ID = "11160642801"
ADS_CUSTOMER = "1234567890"


def google_ads_conversion_hit(order_id: str, *, redirect_hop: bool = False) -> CapturedRequest:
    """gtag's conversion image hit (``oid`` = order ID), or its 1p-conversion redirect hop."""
    query = {
        "random": "2034097123",
        "cv": "11",
        "fst": "1717000000123",
        "label": "AbCdEfGhIj",
        "value": "59.9",
        "currency_code": "EUR",
        "oid": order_id,
        "gclaw": "GCL.1717000000.EAIaIQobChMItest",
        "url": THANK_YOU,
    }
    host, path = (
        ("www.google.com", "1p-conversion") if redirect_hop else ("www.googleadservices.com", "conversion")
    )
    return CapturedRequest(
        id="unstamped",
        method="GET",
        url=f"https://{host}/pagead/{path}/{ADS_CONVERSION_ID}/?{urlencode(query)}",
        request_headers=[("sec-fetch-dest", "image"), ("referer", "https://shop.example/")],
        tag_hit=True,
        sinkholed=True,
    )


def google_ads_api_hit(*order_ids: str, adjustment: bool = False) -> CapturedRequest:
    """A backend's ``uploadClickConversions`` (or ENHANCEMENT ``uploadConversionAdjustments``)."""
    if adjustment:
        method, key = "uploadConversionAdjustments", "conversionAdjustments"
        entries = [{"orderId": o, "adjustmentType": "ENHANCEMENT"} for o in order_ids]
    else:
        method, key = "uploadClickConversions", "conversions"
        entries = [
            {
                "gclid": "EAIaIQobChMItest",
                "conversionAction": f"customers/{ADS_CUSTOMER}/conversionActions/555",
                "conversionDateTime": "2024-05-29 16:26:40+00:00",
                "conversionValue": 59.9,
                "currencyCode": "EUR",
                "orderId": o,
            }
            for o in order_ids
        ]
    return CapturedRequest(
        id="unstamped",
        method="POST",
        url=f"https://googleads.googleapis.com/v17/customers/{ADS_CUSTOMER}:{method}",
        request_headers=[("content-type", "application/json"), ("developer-token", "DEVTOKEN")],
        body=json.dumps({key: entries, "partialFailure": True}).encode(),
        source="server",
        tag_hit=True,
        sinkholed=True,
    )


def test_google_ads_tag_and_api_upload_with_the_same_order_id_pass() -> None:
    journey = landed()
    journey.hit(google_ads_conversion_hit("ORD-1"))
    journey.hit(google_ads_conversion_hit("ORD-1", redirect_hop=True))
    journey.hit(google_ads_api_hit("ORD-1"))
    journey.hit(google_ads_api_hit("ORD-1", adjustment=True))  # an enhancement shares the ID on purpose
    assert list(browser_server_dedupe(journey.context())) == []


def test_google_ads_upload_with_another_order_id_is_broken_dedupe() -> None:
    journey = landed()
    tag = journey.hit(google_ads_conversion_hit("ORD-1"))
    journey.hit(google_ads_conversion_hit("ORD-1", redirect_hop=True))  # the hop is not a second action
    api = journey.hit(google_ads_api_hit("1001"))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "google_ads conversion and its google_ads_api twin" in failure.title
    assert "transaction_id ORD-1 vs 1001" in failure.title
    assert "Google Ads deduplicates" in failure.expected
    assert [e.request_id for e in failure.evidence] == [tag, api]


def test_google_ads_order_id_uploaded_twice_is_a_duplicate_trigger() -> None:
    journey = landed()
    journey.hit(google_ads_conversion_hit("ORD-1"))
    first = journey.hit(google_ads_api_hit("ORD-1"))
    second = journey.hit(google_ads_api_hit("ORD-1"))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Duplicate trigger"
    assert failure.title == "google_ads_api conversion sent 2 times for one action (transaction_id=ORD-1)"
    assert [e.request_id for e in failure.evidence] == [first, second]


# --- a twin declared by a vendor's profile: the Pixel and its Conversions API Gateway copy -------------------


def gateway_hit(event: str, event_id: str, **custom: object) -> CapturedRequest:
    """What fbevents' gateway plugin POSTs beside the /tr hit (a captured cargurus.com body's shape)."""
    body = {
        "event_name": event,
        "custom_data": custom,
        "event_id": event_id,
        "fb.pixel_id": "1234567890",
        "website_context": {"location": THANK_YOU, "referrer": "", "isInIFrame": False},
    }
    return CapturedRequest(
        id="g",
        method="POST",
        url="https://capig.shop.example/events?cee=no",
        request_headers=[("content-type", "text/plain;charset=UTF-8")],
        body=json.dumps(body).encode(),
        tag_hit=True,
        sinkholed=True,
        status=200,
    )


def test_the_gateway_copy_must_share_the_pixels_event_id() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ob3_plugin-set_1", **PAID))
    journey.hit(gateway_hit("Purchase", "ob3_plugin-set_2", **PAID))
    failure = only(list(browser_server_dedupe(journey.context())))
    assert failure.root_cause == "Broken dedupe"
    assert "meta_capi_gateway" in failure.title and "Conversions API Gateway" in failure.seen + failure.expected + failure.fix_direction


def test_a_gateway_copy_with_the_pixels_event_id_passes() -> None:
    journey = landed()
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, event_id="ob3_plugin-set_1", **PAID))
    journey.hit(gateway_hit("Purchase", "ob3_plugin-set_1", **PAID))
    assert list(browser_server_dedupe(journey.context())) == []
