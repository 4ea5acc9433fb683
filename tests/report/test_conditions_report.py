"""The report shows real-world conditions: the conditions label, page metrics and time to tags, the events
a blocker cost, what an abandoned run got out before the user left, and the gap table with its chart."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, PageMetrics, RunResult
from harness.report import write_report
from harness.report.view import abandonment_view, blocker_view, speed_view
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import CustomConsent, RunConditions
from tests.conditions.runs import LANDING, START, THANK_YOU, RunBuilder, ga4_hit, meta_hit

BLOCKED = RunConditions(blocker="common")
SLOW = RunConditions(network="slow-3g")
LEFT = RunConditions(abandon_after_ms=400)


def _meta_purchase(at_ms: float) -> CapturedRequest:
    """A Meta Pixel Purchase as the blocker saw it: aborted in the browser, never captured by the proxy."""
    url = meta_hit("Purchase", THANK_YOU).url + "&cd%5Bvalue%5D=89.9&cd%5Bcurrency%5D=EUR&eid=ord-1"
    return CapturedRequest(
        id="blocked-0", run_id="run-1", method="GET", url=url, started_at=START + at_ms / 1000,
        error="blocked by client (common block list)",
    )


def _blocked_run() -> ScenarioRun:
    """GA4 got through; the Meta Pixel's Purchase was blocked, decoded as the engine decodes blocked hits."""
    builder = RunBuilder()
    builder.hit(ga4_hit("page_view", LANDING), 300)
    run = builder.scenario_run(BLOCKED)
    registry = DecoderRegistry.default()
    blocked = _meta_purchase(4_000)
    blocked.tag_hit = registry.claimant(blocked) is not None
    capture = run.result.capture.model_copy(update={"blocked": [blocked]})
    result = RunResult(capture=capture, events=run.result.events, blocked_events=registry.decode(blocked))
    return run.model_copy(update={"result": result})


def _measured_run(conditions: RunConditions, metrics: PageMetrics) -> ScenarioRun:
    builder = RunBuilder()
    builder.hit(meta_hit("PageView", LANDING), 250)
    builder.hit(ga4_hit("page_view", LANDING), 420)
    builder.hit(ga4_hit("purchase", THANK_YOU, value=89.9), 5_000)
    run = builder.scenario_run(conditions)
    capture = run.result.capture.model_copy(update={"metrics": metrics})
    return run.model_copy(update={"result": run.result.model_copy(update={"capture": capture})})


def _abandoned_run() -> ScenarioRun:
    """The user left 400 ms after the click: the Meta PageView made it, GA4's page_view left at unload."""
    builder = RunBuilder()
    builder.hit(meta_hit("PageView", LANDING), 250)
    builder.hit(ga4_hit("page_view", LANDING), 900)
    run = builder.scenario_run(LEFT)
    capture = run.result.capture.model_copy(update={"abandoned_at": START + 0.4})
    return run.model_copy(update={"result": run.result.model_copy(update={"capture": capture})})


def _suite(*runs: ScenarioRun) -> SuiteResult:
    return SuiteResult(started_at=START, finished_at=START + 30, runs=list(runs))


def test_speed_view_shows_metrics_and_time_from_click_to_tags() -> None:
    run = _measured_run(SLOW, PageMetrics(ttfb_ms=2100.4, lcp_ms=6400.0, dom_content_loaded_ms=6000, load_ms=8200))
    speed = speed_view(run.result)
    assert speed is not None
    assert (speed.ttfb, speed.lcp, speed.load) == ("2,100 ms", "6,400 ms", "8,200 ms")
    assert speed.first_hit == "250 ms"  # Meta's PageView was the first hit
    assert speed.page_view == "250 ms"


def test_blocker_view_lists_the_events_the_blocker_cost() -> None:
    view = blocker_view(_blocked_run())
    assert view is not None and view.name == "common" and view.blocked_requests == 1
    assert view.hosts == ["www.facebook.com"]
    assert view.lost == [f"lost to ad blocker: meta_pixel Purchase value 89.9 EUR on {THANK_YOU}"]
    assert blocker_view(_measured_run(SLOW, PageMetrics())) is None  # no blocker in force


def test_abandonment_view_splits_what_reached_the_platforms_in_time() -> None:
    view = abandonment_view(_abandoned_run())
    assert view is not None and view.left_after_ms == "400 ms"
    assert view.reached == [f"meta_pixel PageView on {LANDING}"]
    assert view.late == [f"ga4 page_view on {LANDING}"]
    assert abandonment_view(_blocked_run()) is None


def _section(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"(.*?)</(?:table|div)>', page, re.S)
    assert match, element_id
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def test_report_shows_conditions_metrics_blocker_abandonment_and_gap(tmp_path: Path) -> None:
    measured = _measured_run(SLOW, PageMetrics(ttfb_ms=2100, lcp_ms=6400, load_ms=8200))
    suite = _suite(_measured_run(RunConditions(), PageMetrics(lcp_ms=700)), measured, _blocked_run(), _abandoned_run())
    page = write_report(suite, tmp_path).html.read_text(encoding="utf-8")

    assert "network=slow-3g" in _section(page, "run1-conditions")
    speed = _section(page, "run1-speed")
    assert "6,400 ms" in speed and "2,100 ms" in speed and "8,200 ms" in speed
    assert "lost to ad blocker: meta_pixel Purchase value 89.9 EUR" in _section(page, "run2-blocker")
    abandoned = _section(page, "run3-abandonment")
    assert "left 400 ms after the click" in abandoned and "meta_pixel PageView" in abandoned

    gap = _section(page, "gap-table")
    for label in ("no conditions", "network=slow-3g", "blocker=common", "abandon_after_ms=400"):
        assert label in gap
    assert "user left after 400 ms" in gap  # the abandoned run never converted: the user had left
    chart = re.search(r"<svg.*?</svg>", page, re.S)
    assert chart is not None
    ElementTree.fromstring(chart.group(0))  # well-formed, self-contained SVG
    assert "<script" not in chart.group(0)


def test_one_condition_label_has_no_gap_table(tmp_path: Path) -> None:
    page = write_report(_suite(_blocked_run()), tmp_path).html.read_text(encoding="utf-8")
    assert 'id="gap-table"' not in page and "<svg" not in page
    assert "blocker=common" in _section(page, "run0-conditions")


def test_hostile_condition_and_vendor_text_is_escaped_in_table_and_chart(tmp_path: Path) -> None:
    hostile = RunConditions(consent=CustomConsent(custom=["<script>alert(1)</script>"]))
    suite = _suite(_measured_run(RunConditions(), PageMetrics()), _measured_run(hostile, PageMetrics()))
    page = write_report(suite, tmp_path).html.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    chart = re.search(r"<svg.*?</svg>", page, re.S)
    assert chart is not None
    ElementTree.fromstring(chart.group(0))
