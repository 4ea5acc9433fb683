"""The reconciliation table as a pure function: reference row, platform rows, and the notes that explain."""

from __future__ import annotations

from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest
from harness.report.reconcile import EXPECTATION_LABEL, ReconciliationRow, is_purchase, reconcile
from harness.results import BackendTruth, ScenarioRun
from harness.scenario import Scenario
from tests.report.conftest import BACKEND, checkout_capture, request, scenario_run


def rows_by_vendor(rows: list[ReconciliationRow]) -> dict[str | None, ReconciliationRow]:
    return {row.vendor: row for row in rows}


def test_backend_truth_is_the_first_row(checkout_run: ScenarioRun) -> None:
    reference = reconcile(checkout_run).rows[0]
    assert reference.label == "backend: order API https://shop.example/api/orders"
    assert (reference.count, reference.total_value, reference.currency) == (1, 59.9, "EUR")
    assert reference.status == "reference"


def test_duplicate_pixel_purchase_is_explained_by_the_failure_and_the_shared_event_id(
    checkout_run: ScenarioRun,
) -> None:
    meta = rows_by_vendor(reconcile(checkout_run).platforms)["meta_pixel"]
    assert (meta.count, meta.total_value, meta.status) == (2, 119.8, "differs")
    assert meta.note.startswith("Meta Pixel: 2 purchases, backend 1: duplicate trigger, same event ID ord-1")
    assert meta.request_ids == ("req-4", "req-5")


def test_missing_purchase_names_the_missing_tag(checkout_run: ScenarioRun) -> None:
    ga4 = rows_by_vendor(reconcile(checkout_run).platforms)["ga4"]
    assert (ga4.count, ga4.total_value, ga4.status) == (0, None, "differs")
    assert ga4.note == "GA4: 0 purchases, backend 1: missing tag"


def test_value_difference_and_matching_rows(checkout_run: ScenarioRun) -> None:
    rows = rows_by_vendor(reconcile(checkout_run).platforms)
    assert rows["ga4_mp"].status == "differs"
    assert "value 49.9 vs 59.9" in rows["ga4_mp"].note
    assert rows["tiktok_events_api"].status == "match"
    assert rows["tiktok_events_api"].events == ("CompletePayment",)
    assert rows["meta_capi"].status == "match"
    assert rows["meta_capi"].note == "deduplicated with Meta Pixel by event ID"


def test_without_failures_the_note_still_explains(scenario: Scenario) -> None:
    run = scenario_run(checkout_capture(), scenario, truth=BACKEND, with_failures=False)
    rows = rows_by_vendor(reconcile(run).platforms)
    assert rows["ga4"].note == "GA4: 0 purchases, backend 1: tag present, no purchase sent"
    assert rows["meta_pixel"].note.startswith("Meta Pixel: 2 purchases, backend 1: counted more than once")


def test_expected_purchases_stand_in_when_no_backend_source_is_named(scenario: Scenario) -> None:
    run = scenario_run(checkout_capture(), scenario, truth=None)
    table = reconcile(run, scenario.expect.events)
    assert table.reference.label == EXPECTATION_LABEL
    assert (table.reference.count, table.reference.total_value, table.reference.currency) == (1, 59.9, "EUR")
    assert rows_by_vendor(table.platforms)["ga4"].note.startswith("GA4: 0 purchases, expected 1")


def test_truth_from_expectation_is_labelled_as_such(scenario: Scenario) -> None:
    truth = BackendTruth(source="expectation", from_expectation=True, orders=BACKEND.orders)
    run = scenario_run(checkout_capture(), scenario, truth=truth)
    assert reconcile(run).reference.label == EXPECTATION_LABEL


def test_no_reference_at_all_marks_every_platform_unknown(scenario: Scenario) -> None:
    run = scenario_run(checkout_capture(), scenario, truth=None)
    table = reconcile(run)
    assert table.reference.status == "unknown" and table.reference.count is None
    assert {row.status for row in table.platforms} == {"unknown"}


def test_currency_difference_is_named(scenario: Scenario) -> None:
    truth = BackendTruth(source="file orders.json", orders=[*BACKEND.orders])
    truth.orders[0] = truth.orders[0].model_copy(update={"currency": "USD"})
    run = scenario_run(checkout_capture(), scenario, truth=truth)
    assert "currency EUR vs USD" in rows_by_vendor(reconcile(run).platforms)["tiktok_events_api"].note


def test_google_redirect_followups_do_not_count_twice_and_floodlight_sales_count() -> None:
    registry = DecoderRegistry.default()
    conversion = "https://www.googleadservices.com/pagead/conversion/11160642801/?label=AbC&value=59.9&currency_code=EUR&fmt=3&guid=ON"
    followup = "https://www.google.com/pagead/1p-conversion/11160642801/?label=AbC&value=59.9&currency_code=EUR&fmt=3&guid=ON"
    sales = "https://ad.doubleclick.net/activity;src=3528935;type=sales;cat=purch0;qty=1;cost=59.9;ord=ord-1?"
    counter = "https://ad.doubleclick.net/activity;src=3528935;type=visits;cat=landi0;ord=1?"
    events = {
        url: registry.decode(CapturedRequest(id=str(n), method="GET", url=url))
        for n, url in enumerate([conversion, followup, sales, counter])
    }
    assert [is_purchase(e) for e in events[conversion]] == [True]
    assert [is_purchase(e) for e in events[followup]] == [False]
    assert [is_purchase(e) for e in events[sales]] == [True]
    assert [is_purchase(e) for e in events[counter]] == [False]


def test_a_vendors_own_sale_rule_counts_events_whatever_their_name() -> None:
    # Plausible puts revenue on whichever goal the site names; an event without revenue is no sale.
    registry = DecoderRegistry.default()

    def plausible(body: bytes) -> CapturedRequest:
        return CapturedRequest(
            id="p", method="POST", url="https://plausible.io/api/event", body=body,
            request_headers=[("content-type", "text/plain")],
        )  # fmt: skip

    upgrade = b'{"n":"Plan Upgrade","u":"https://shop.example/thanks","d":"shop.example","$":{"amount":"59.9","currency":"EUR"}}'
    visit = b'{"n":"pageview","u":"https://shop.example/","d":"shop.example"}'
    assert [is_purchase(e) for e in registry.decode(plausible(upgrade))] == [True]
    assert [is_purchase(e) for e in registry.decode(plausible(visit))] == [False]
    ua = "https://www.google-analytics.com/collect?v=1&t=event&tid=UA-1-1&cid=1.2&ec=shop&ea=done&pa=purchase&ti=o-1&tr=59.9"
    assert [is_purchase(e) for e in registry.decode(CapturedRequest(id="u", method="GET", url=ua))] == [True]


def test_malformed_purchases_are_not_counted_but_mentioned(scenario: Scenario) -> None:
    broken = request(
        20,
        "https://graph.facebook.com/v18.0/1234567890/events?access_token=x1x2x3",
        at=3.7,
        method="POST",
        headers=[("content-type", "application/json")],
        body=b'{"data": [{"event_time": 1}]}',
        source="server",
    )
    run = scenario_run(checkout_capture([broken]), scenario, truth=BACKEND, with_failures=False)
    capi = rows_by_vendor(reconcile(run).platforms)["meta_capi"]
    assert capi.count == 1
    assert "1 malformed hit not counted" in capi.note


def test_the_purchases_of_criteo_the_trade_desk_outbrain_and_taboola_count() -> None:
    registry = DecoderRegistry.default()
    purchases = {
        "https://sslwidget.criteo.com/event?a=123456&v=5.5.0&p0=e%3Dvc%26c%3DEUR%26id%3Dord-1%26p%3D%255Bi%253DSKU1%2526pr%253D59.9%2526q%253D1%255D": True,
        "https://sslwidget.criteo.com/event?a=123456&v=5.5.0&p0=e%3Dvh": False,
        "https://insight.adsrvr.org/track/conv/?adv=abc1234&ct=0:xyz5678&fmt=3&v=59.9&vf=EUR&orderid=ord-1": True,
        "https://tr.outbrain.com/unifiedPixel?marketerId=00f1d2c3b4a5&obApiVersion=1.1&name=Purchase&orderValue=59.9&currency=EUR&orderId=ord-1": True,
        "https://trc.taboola.com/1234567/log/3/unip?en=make_purchase&revenue=59.9&currency=EUR&orderid=ord-1": True,
        "https://trc.taboola.com/1234567/log/3/unip?en=page_view": False,
    }
    for url, expected in purchases.items():
        [event] = registry.decode(CapturedRequest(id="1", method="GET", url=url))
        assert is_purchase(event) is expected, (url, event.event)
        if expected:
            assert event.value == 59.9 and event.transaction_id == "ord-1", (url, event)


def test_a_repeat_whose_original_never_went_out_is_the_sale_itself(scenario: Scenario) -> None:
    # Awin's fall-back image repeats the MasterTag's sale; a site that fires only the image still sold once.
    image = "https://www.awin1.com/sread.img?tt=ns&tv=2&merchant=11783&ref=ord-1&amount=59.9&parts=DEFAULT:59.9&cr=EUR"
    script = "https://www.awin1.com/sread.js?a=11783&b=59.9&cr=EUR&c=ord-1&d=DEFAULT:59.9&tv=2&tt=js"
    alone = scenario_run(checkout_capture([request(30, image, at=3.5)]), scenario, truth=BACKEND, with_failures=False)
    awin = rows_by_vendor(reconcile(alone).platforms)["awin"]
    assert (awin.count, awin.total_value, awin.currency) == (1, 59.9, "EUR")
    both = [request(30, script, at=3.5), request(31, image, at=3.6)]
    beside = scenario_run(checkout_capture(both), scenario, truth=BACKEND, with_failures=False)
    assert rows_by_vendor(reconcile(beside).platforms)["awin"].count == 1
    assert [e.repeats for e in beside.result.events if e.vendor == "awin"] == [False, True]
