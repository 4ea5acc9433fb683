"""The gap table: clicks -> landings -> page views -> conversions per condition and vendor, and its SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from harness.gap import BASELINE, GapTable, gap_table, render_gap_svg
from harness.models import CheckFailure
from harness.scenario import RunConditions
from tests.conditions.runs import GCLID, LANDING, THANK_YOU, RunBuilder, ga4_hit, meta_hit

BLOCKED = RunConditions(blocker="common")
LEFT = RunConditions(abandon_after_ms=800)


def _converting() -> RunBuilder:
    run = RunBuilder()
    run.hit(ga4_hit("page_view", LANDING, gclid=GCLID), 300)
    run.hit(meta_hit("PageView", LANDING), 320)
    run.hit(ga4_hit("purchase", THANK_YOU, value=59.9), 4_000)
    return run


def _missing_purchase_tag() -> CheckFailure:
    return CheckFailure(
        check="expected_events", title="ga4 purchase never fired", root_cause="Missing tag",
        fix_direction="x", expected="1", seen="0",
    )


def _table() -> GapTable:
    browsing = RunBuilder()
    browsing.hit(ga4_hit("page_view", LANDING), 300)
    runs = [
        _converting().scenario_run(),
        browsing.scenario_run(failures=[_missing_purchase_tag()]),
        RunBuilder(landing_status=404).scenario_run(),
        RunBuilder().scenario_run(BLOCKED),  # the blocker stopped every hit
        _converting().scenario_run(BLOCKED),
        RunBuilder().scenario_run(LEFT),
    ]
    return gap_table(runs)


def test_each_condition_has_a_funnel_and_each_loss_a_cause() -> None:
    table = _table()
    baseline, blocked, left = table.overall()
    assert (baseline.condition, blocked.condition, left.condition) == (BASELINE, "blocker=common", "abandon_after_ms=800")
    assert [baseline.count(s) for s in ("clicks", "landings", "page_views", "conversions")] == [3, 2, 2, 1]
    assert baseline.causes("landings") == [("landing page answered 404", 1)]
    assert baseline.causes("conversions") == [("Missing tag", 1)]
    assert [blocked.clicks, blocked.page_views, blocked.conversions] == [2, 1, 1]
    assert blocked.causes("page_views") == [("ad blocker (common)", 1)]
    assert left.causes("page_views") == [("user left after 800 ms", 1)]


def test_a_user_who_left_before_the_landing_page_answered_is_lost_to_leaving_wherever_the_chain_was() -> None:
    # On a slow redirect chain the user can be gone before the landing page's response arrives.
    # Leaving also aborts the landing request, which the proxy records as an error of that hop.
    # Or mid-chain, the last hop seen a redirect.
    waiting = RunBuilder(landing_status=None)
    aborted = RunBuilder(landing_status=None, landing_error="Client disconnected.")
    mid_chain = RunBuilder(landing_status=301)
    row = gap_table([r.scenario_run(LEFT) for r in (waiting, aborted, mid_chain)]).overall()[0]
    assert [row.clicks, row.landings] == [3, 0]
    assert row.causes("landings") == [("user left after 800 ms", 3)]
    unreachable = RunBuilder(landing_status=None, landing_error="connection refused")
    stopped = RunBuilder(landing_status=302)
    row = gap_table([unreachable.scenario_run(), stopped.scenario_run()]).overall()[0]
    assert sorted(row.causes("landings")) == [("landing page unreachable", 1), ("redirect chain stopped at a 302", 1)]


def test_vendor_rows_skip_the_page_view_stage_only_for_vendors_that_never_send_one() -> None:
    rows = {(r.condition, r.vendor): r for r in _table().rows}
    meta = rows[(BASELINE, "meta_pixel")]
    assert [meta.clicks, meta.landings, meta.page_views, meta.conversions] == [3, 2, 1, 0]
    assert meta.causes("page_views") == [("Missing tag", 1)]
    assert rows[(BASELINE, "ga4")].conversions == 1
    assert "no conditions / meta_pixel: ad clicks 3 -> landings 2 -> page views 1 -> conversions 0" in _table().lines()[2]


def test_the_svg_is_self_contained_valid_and_escapes_labels() -> None:
    table = gap_table([RunBuilder().scenario_run(RunConditions(blocker="<script>alert(1)</script>&.txt"))])
    svg = render_gap_svg(table)
    root = ElementTree.fromstring(svg)  # well-formed XML, so the label cannot break out
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", ""), "nothing to fetch"
    bars = [el for el in root.iter("{http://www.w3.org/2000/svg}rect") if el.get("x") != "10" and el.find("*") is not None]
    assert [int(b.get("width", "0")) for b in bars] == [420, 420, 0, 0]
    assert "no runs" in render_gap_svg(GapTable())
