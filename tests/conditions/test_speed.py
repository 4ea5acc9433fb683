"""Speed checks: LCP against the scenario's bound, and hits lost when the user leaves early."""

from __future__ import annotations

from harness.browser.metrics import PageMetrics, time_to_first_hit_ms, time_to_page_view_ms
from harness.checks.base import CheckContext
from harness.checks.speed import abandonment, page_speed
from harness.models import RunResult
from harness.scenario import RunConditions, Scenario
from tests.conditions.runs import GCLID, LANDING, SHOP, THANK_YOU, RunBuilder, ga4_hit, meta_hit

SCENARIO = Scenario.model_validate({"name": "speed", "ad_click": {"url": f"{SHOP}/"}})


def _ctx(result: RunResult, conditions: RunConditions | None = None, max_lcp_ms: int | None = None) -> CheckContext:
    scenario = SCENARIO.model_copy(update={"expect": SCENARIO.expect.model_copy(update={"max_lcp_ms": max_lcp_ms})})
    return CheckContext(scenario, result, LANDING, conditions or RunConditions())


def _slow_landing() -> RunBuilder:
    run = RunBuilder()
    run.hit(ga4_hit("page_view", LANDING, gclid=GCLID), at_ms=1_900)
    run.hit(meta_hit("PageView", LANDING), at_ms=2_300)
    run.hit(ga4_hit("purchase", THANK_YOU, value=59.9), at_ms=9_000)
    return run


def test_click_to_hit_timings() -> None:
    result = _slow_landing().result()
    assert time_to_first_hit_ms(result) == 1_900
    assert time_to_page_view_ms(result) == 1_900
    assert time_to_page_view_ms(result, "meta_pixel") == 2_300
    assert time_to_page_view_ms(result, "tiktok_pixel") is None


def test_lcp_over_the_bound_is_a_slow_page() -> None:
    capture = _slow_landing().capture().model_copy(update={"metrics": PageMetrics(ttfb_ms=1_800, lcp_ms=4_100)})
    result = RunResult(capture=capture)
    [failure] = page_speed(_ctx(result, RunConditions(network="slow-3g"), max_lcp_ms=2_500))
    assert failure.root_cause == "Slow page"
    assert failure.title == "the landing page painted its main content after 4100 ms (limit 2500 ms)"
    assert failure.seen == "LCP 4100 ms, first byte after 1800 ms under network slow-3g"
    assert "server response" in failure.fix_direction, "most of the time went to the first byte"
    assert list(page_speed(_ctx(result, max_lcp_ms=5_000))) == []
    assert list(page_speed(_ctx(result))) == [], "no bound in the scenario: not judged"


def test_abandonment_before_any_page_view_loses_the_page_view_and_the_click_id() -> None:
    result = _slow_landing().result()
    failures = list(abandonment(_ctx(result, RunConditions(abandon_after_ms=800))))
    titles = [f.title for f in failures]
    assert titles == [
        "lost to abandonment: page_view never sent before the user left after 800 ms",
        "lost to abandonment: gclid never reached a platform before the user left after 800 ms",
    ]
    assert all(f.root_cause == "Slow page" for f in failures)
    assert failures[0].seen == "the first page view (ga4 page_view) left 1900 ms after the click"
    assert failures[0].evidence[0].request_id == "r2"
    assert failures[1].seen == "first hit with gclid left 1900 ms after the click"


def test_hits_in_time_pass_and_no_condition_means_no_judgement() -> None:
    result = _slow_landing().result()
    assert list(abandonment(_ctx(result, RunConditions(abandon_after_ms=2_000)))) == []
    assert list(abandonment(_ctx(result))) == []


def test_a_page_that_never_sent_anything_says_so() -> None:
    result = RunBuilder().result()
    failures = list(abandonment(_ctx(result, RunConditions(abandon_after_ms=800))))
    assert [f.seen for f in failures] == ["no page view was sent at all", "no hit carried gclid"]
