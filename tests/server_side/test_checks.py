"""The server-side checks on real-format hits, decoded by the real registry: each passes on a correct
run, fails with the right root cause on a broken one, and stays quiet where it has nothing to judge."""

from __future__ import annotations

from harness.checks.server_side import (
    match_quality,
    offline_import_ready,
    server_freshness,
    server_match_quality,
    server_value_agrees,
)
from harness.models import CheckFailure
from tests.checks.hits import SHOP, THANK_YOU, Journey, ga4_hit, meta_pixel_hit, tiktok_pixel_hit
from tests.server_side.server_hits import (
    FBCLID,
    FBP,
    GCLID,
    SHA,
    TTCLID,
    UA,
    capi_hit,
    context,
    form_post,
    mp_hit,
    tiktok_hit,
)

T0 = 1_717_000_000.0  # Journey's clock: hits are stamped T0 + 1, + 2, ...


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def purchase_run(*server_hits: object, pixel: bool = True) -> Journey:
    journey = Journey(start=T0)
    if pixel:
        journey.hit(
            meta_pixel_hit(
                "Purchase", THANK_YOU, value=59.9, currency="EUR", order_id="ORD-1", event_id="ORD-1"
            )
        )
    for hit in server_hits:
        journey.hit(hit)  # type: ignore[arg-type]
    return journey


# --- server_match_quality ------------------------------------------------------------------------


def test_well_matched_capi_passes_and_its_quality_lists_every_signal() -> None:
    ctx = context(purchase_run(capi_hit()), f"fbclid={FBCLID}", cookies={"_fbp": FBP})
    assert list(server_match_quality(ctx)) == []
    (event,) = ctx.result.select("meta_capi")
    quality = match_quality(event)
    assert quality.present == ["fbc", "fbp", "client_ip_address", "client_user_agent", "em"]
    assert quality.missing == ["ph", "external_id"]
    assert (
        quality.summary()
        == "sent: fbc, fbp, client_ip_address, client_user_agent, em (sha256); missing: ph, external_id"
    )


def test_capi_without_fbc_after_an_fbclid_click_is_missing_click_ids() -> None:
    hit = capi_hit(user_data={"fbp": FBP, "client_user_agent": UA, "em": [SHA]})
    failure = only(list(server_match_quality(context(purchase_run(hit), f"fbclid={FBCLID}"))))
    assert failure.root_cause == "Missing click IDs"
    assert (
        "meta_capi Purchase cannot be matched to the click: no fbc although the ad URL had fbclid="
        in failure.title
    )
    assert "missing: fbc" in failure.seen and failure.evidence[0].request_id == "r2"


def test_capi_without_fbc_is_fine_when_there_was_no_fbclid_to_give() -> None:
    hit = capi_hit(user_data={"fbp": FBP, "client_user_agent": UA, "em": [SHA]})
    assert list(server_match_quality(context(purchase_run(hit), f"gclid={GCLID}"))) == []
    # ... or when the redirect chain lost it (click_ids_reach_landing reports that cause).
    assert list(server_match_quality(context(purchase_run(hit), f"fbclid={FBCLID}", lost=("fbclid",)))) == []


def test_capi_fbc_of_another_click_and_missing_fbp_and_user_agent_are_named() -> None:
    hit = capi_hit(user_data={"fbc": "fb.1.1700000000000.IwAROlderClick999", "em": [SHA]})
    failure = only(
        list(server_match_quality(context(purchase_run(hit), f"fbclid={FBCLID}", cookies={"_fbp": FBP})))
    )
    assert "fbc carries fbclid IwAROlderClick999, not this click's" in failure.title
    assert "no fbp although the browser had one" in failure.title
    assert "no client_user_agent, which Meta requires for website events" in failure.title


def test_capi_with_an_unhashed_email_is_pii() -> None:
    hit = capi_hit(user_data={"fbp": FBP, "client_user_agent": UA, "em": ["joe@example.com"]})
    failure = only(list(server_match_quality(context(purchase_run(hit)))))
    assert failure.root_cause == "PII in hit" and failure.title == "meta_capi Purchase sends em unhashed"
    assert "em (UNHASHED)" in failure.seen


def test_tiktok_without_ttclid_or_ttp_that_the_browser_had() -> None:
    hit = tiktok_hit(user={"email": SHA, "ip": "203.0.113.7"})
    ctx = context(purchase_run(hit, pixel=False), f"ttclid={TTCLID}", cookies={"_ttp": "ttp-cookie-1"})
    failure = only(list(server_match_quality(ctx)))
    assert "no ttclid although the ad URL had ttclid=" in failure.title and "no ttp" in failure.title
    assert (
        list(server_match_quality(context(purchase_run(tiktok_hit(), pixel=False), f"ttclid={TTCLID}"))) == []
    )


def test_tiktok_raw_phone_is_pii() -> None:
    hit = tiktok_hit(user={"ttclid": TTCLID, "phone": "+49 151 1234 5678"})
    failure = only(list(server_match_quality(context(purchase_run(hit, pixel=False)))))
    assert (failure.root_cause, failure.title) == (
        "PII in hit",
        "tiktok_events_api CompletePayment sends phone unhashed",
    )


def test_mp_client_id_must_exist_and_be_the_browsers() -> None:
    missing = only(list(server_match_quality(context(purchase_run(mp_hit(client_id=None), pixel=False)))))
    assert "no client_id / app_instance_id" in missing.title
    other = context(purchase_run(mp_hit(), pixel=False), cookies={"_ga": "GA1.1.999.1716000000"})
    assert "is not the browser's (999.1716000000, from _ga)" in only(list(server_match_quality(other))).title
    same = context(purchase_run(mp_hit(), pixel=False), cookies={"_ga": "GA1.1.1183042221.1716212400"})
    assert list(server_match_quality(same)) == []


def test_mp_sha256_field_with_a_plain_email_is_pii() -> None:
    hit = mp_hit(user_data={"sha256_email_address": "joe@example.com"})
    failure = only(list(server_match_quality(context(purchase_run(hit, pixel=False)))))
    assert failure.root_cause == "PII in hit" and "em" in failure.title


# --- server_freshness ----------------------------------------------------------------------------


def test_event_time_close_to_the_twin_passes() -> None:
    assert list(server_freshness(context(purchase_run(capi_hit(event_time=int(T0) - 30))))) == []


def test_event_time_hours_before_the_twin_fails() -> None:
    failure = only(list(server_freshness(context(purchase_run(capi_hit(event_time=int(T0) - 3 * 3600))))))
    assert failure.root_cause == "Wrong trigger"
    assert (
        failure.title == "meta_capi Purchase is dated 3 hours before its browser twin (meta_pixel Purchase)"
    )


def test_event_time_in_milliseconds_is_in_the_future() -> None:
    journey = purchase_run(capi_hit(event_time=int(T0 * 1000)))
    failure = only(list(server_freshness(context(journey))))
    assert "in the future" in failure.title and "milliseconds" in failure.title


def test_week_old_capi_event_is_rejected_by_meta_and_missing_time_is_named() -> None:
    old = only(list(server_freshness(context(purchase_run(capi_hit(event_time=int(T0) - 8 * 86400))))))
    assert "Meta rejects events this old" in old.seen
    missing = only(list(server_freshness(context(purchase_run(capi_hit(event_time=None))))))
    assert missing.title == "meta_capi Purchase has no event_time"


def test_without_a_twin_the_run_start_is_the_reference() -> None:
    hit = tiktok_hit(event_time=int(T0) - 2 * 3600)
    failure = only(list(server_freshness(context(purchase_run(hit, pixel=False)))))
    assert failure.title.endswith("is dated 2 hours before the start of the run")


def test_mp_without_timestamp_is_dated_on_arrival_but_seconds_for_micros_is_not() -> None:
    assert list(server_freshness(context(purchase_run(mp_hit(), pixel=False)))) == []
    failure = only(
        list(server_freshness(context(purchase_run(mp_hit(timestamp_micros=int(T0)), pixel=False))))
    )
    assert "timestamp_micros looks like seconds or milliseconds" in failure.title


# --- server_value_agrees -------------------------------------------------------------------------


def test_equal_value_passes_even_when_the_sdk_lowercases_the_currency() -> None:
    assert list(server_value_agrees(context(purchase_run(capi_hit(currency="eur"))))) == []


def test_different_value_is_missing_value() -> None:
    failure = only(list(server_value_agrees(context(purchase_run(capi_hit(value=49.9))))))
    assert failure.root_cause == "Missing value"
    assert failure.title == "meta_capi Purchase reports 49.9 EUR, its meta_pixel twin 59.9 EUR"
    assert [e.request_id for e in failure.evidence] == ["r1", "r2"]


def test_server_event_without_currency_disagrees() -> None:
    failure = only(list(server_value_agrees(context(purchase_run(capi_hit(currency=None))))))
    assert "59.9 (no currency)" in failure.title


def test_pairing_by_order_id_and_no_twin_means_nothing_to_judge() -> None:
    journey = Journey(start=T0)
    journey.hit(ga4_hit("purchase", THANK_YOU, value=59.9, currency="EUR", transaction_id="ORD-1"))
    journey.hit(mp_hit(value=61.0))
    assert "61 EUR, its ga4 twin 59.9 EUR" in only(list(server_value_agrees(context(journey)))).title
    assert list(server_value_agrees(context(purchase_run(mp_hit(value=1.0), pixel=False)))) == []
    tiktok = Journey(start=T0)
    tiktok.hit(tiktok_pixel_hit("CompletePayment", THANK_YOU, value=59.9, currency="EUR", event_id="ORD-1"))
    tiktok.hit(tiktok_hit(value=59.9))
    assert list(server_value_agrees(context(tiktok))) == []


# --- offline_import_ready ------------------------------------------------------------------------

LEAD = f"{SHOP}/api/lead"


def lead_run(*requests: object) -> Journey:
    journey = Journey(start=T0)
    for request in requests:
        journey.hit(request)  # type: ignore[arg-type]
    return journey


def test_lead_form_carrying_the_click_ids_passes() -> None:
    lead = form_post(LEAD, {"email": "a@b.example", "gclid": GCLID, "fbc": f"fb.1.1717000000000.{FBCLID}"})
    assert list(offline_import_ready(context(lead_run(lead), f"gclid={GCLID}&fbclid={FBCLID}"))) == []
    as_form = form_post(f"{SHOP}/contact", {"name": "Joe", "gclid": GCLID}, form=True)
    assert list(offline_import_ready(context(lead_run(as_form), f"gclid={GCLID}"))) == []


def test_lead_form_without_gclid_cannot_be_imported() -> None:
    lead = form_post(LEAD, {"email": "a@b.example", "gclid": ""}, cookie=f"_gcl_aw=GCL.1717000000.{GCLID}")
    failure = only(list(offline_import_ready(context(lead_run(lead), f"gclid={GCLID}&utm_source=google"))))
    assert failure.root_cause == "Missing click IDs"
    assert (
        failure.title
        == "the form POST /api/lead carries no gclid: a CRM import cannot match it back to the ad"
    )
    assert "only in the Cookie header (_gcl_aw)" in failure.seen and failure.evidence[0].request_id == "r1"


def test_order_to_the_own_backend_may_carry_click_ids_as_cookies() -> None:
    order = form_post(f"{SHOP}/api/checkout", {"email": "a@b.example", "items": []},
                      cookie=f"_gcl_aw=GCL.1717000000.{GCLID}; _fbc=fb.1.1717000000000.{FBCLID}")  # fmt: skip
    assert list(offline_import_ready(context(lead_run(order), f"gclid={GCLID}&fbclid={FBCLID}"))) == []
    bare = form_post(f"{SHOP}/api/checkout", {"email": "a@b.example", "items": []})
    assert (
        "carries no gclid"
        in only(list(offline_import_ready(context(lead_run(bare), f"gclid={GCLID}")))).title
    )


def test_third_party_form_handler_with_an_email_is_judged() -> None:
    crm = form_post("https://forms.crm.example/submit/123", {"email": "a@b.example"}, form=True)
    assert (
        "carries no ttclid"
        in only(list(offline_import_ready(context(lead_run(crm), f"ttclid={TTCLID}")))).title
    )


def test_requests_that_are_not_form_submissions_are_not_judged() -> None:
    cart = form_post(f"{SHOP}/api/cart", {"sku": "tent", "quantity": 1})
    search = form_post(f"{SHOP}/search?q=tent&email=x", "", method="GET")
    third_party = form_post("https://consent.cmp.example/v1/submit", {"choices": {"ads": True}})
    journey = lead_run(cart, search, third_party, capi_hit())
    assert list(offline_import_ready(context(journey, f"gclid={GCLID}"))) == []


def test_nothing_to_carry_means_nothing_to_judge() -> None:
    lead = form_post(LEAD, {"email": "a@b.example"})
    assert list(offline_import_ready(context(lead_run(lead), "utm_source=newsletter"))) == []
    assert list(offline_import_ready(context(lead_run(lead), f"gclid={GCLID}", lost=("gclid",)))) == []


def test_browser_twin_without_value_that_is_expected_is_left_to_event_value() -> None:
    journey = Journey(start=T0)
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, currency="EUR", event_id="ORD-1"))
    journey.hit(capi_hit())
    ctx = context(journey)
    assert "no value EUR" in only(list(server_value_agrees(ctx))).title  # nobody else reports it here
    ctx.scenario = ctx.scenario.model_validate(
        {**ctx.scenario.model_dump(), "expect": {"events": [{"vendor": "meta_pixel", "event": "Purchase"}]}}
    )
    assert list(server_value_agrees(ctx)) == []


def test_click_ids_in_one_cookie_header_per_cookie_count_for_an_order() -> None:
    order = form_post(f"{SHOP}/api/checkout", {"email": "a@b.example"})
    # HTTP/2 sends each cookie in a header of its own.
    order.request_headers += [("cookie", "shop_session=1"), ("cookie", f"_gcl_aw=GCL.1717000000.{GCLID}")]
    assert list(offline_import_ready(context(lead_run(order), f"gclid={GCLID}"))) == []
