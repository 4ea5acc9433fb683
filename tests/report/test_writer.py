"""index.html and results.json: content people need, hostile hits rendered safely, the schema round-trips."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest

from harness.models import DialogRecord
from harness.report import default_report_dir, write_report
from harness.report.view import BODY_LIMIT, BodyBudget, timeline
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import Scenario
from tests.report.conftest import (
    BACKEND,
    T0,
    TYPED_EMAIL,
    checkout_capture,
    ga4_hit,
    read,
    request,
    scenario_run,
)


def section(html: str, element_id: str) -> str:
    """The markup of the element with this id, through its matching closing tag."""
    start = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', html)
    assert start, f"no element #{element_id}"
    tag, depth = start.group(1), 0
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start.start() :]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[start.start() : start.start() + match.end()]
    raise AssertionError(f"#{element_id} is never closed")


def text_of(markup: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.fixture
def html(suite: SuiteResult, tmp_path: Path) -> str:
    return read(write_report(suite, tmp_path).html)


def test_summary_counts_runs_and_root_causes(html: str) -> None:
    summary = text_of(section(html, "summary"))
    assert "1 scenarios 1 devices 1 runs 0 passed 1 failed" in summary
    causes = text_of(section(html, "root-causes"))
    for cause in (
        "Duplicate trigger 1",
        "Missing tag 1",
        "Dropped parameters in redirects 1",
        "PII in hit 1",
    ):
        assert cause in causes


def test_chain_shows_each_hop_and_marks_the_dropped_and_changed_parameter(html: str) -> None:
    chain = section(html, "run0-chain")
    assert text_of(chain).startswith("0 · start 302 ads.example /click → 1 · http 302 track.example /r")
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr class="[^"]*">\s*<td class="mono">(\w+)</td>.*?</tr>', chain, re.DOTALL)
    }
    assert list(rows) == ["gclid", "fbclid", "utm_source", "utm_medium"]
    assert re.findall(r'class="cell-(\w+)"', rows["fbclid"]) == ["present", "missing", "missing"]
    assert "dropped at hop 1" in rows["fbclid"] and 'class="lost"' in rows["fbclid"]
    assert re.findall(r'class="cell-(\w+)"', rows["utm_medium"]) == ["present", "present", "changed"]
    assert "changed: paid" in text_of(rows["utm_medium"])
    assert re.findall(r'class="cell-(\w+)"', rows["gclid"]) == ["present"] * 3


def test_timeline_interleaves_hits_navigations_and_steps_in_order(html: str) -> None:
    rows = re.findall(r'<tr class="(hit|navigation|step(?: consent)?)"[^>]*><td class="t">(-?\d*)</td>', html)
    assert rows == [
        ("navigation", "300"),
        ("hit", "450"),  # GA4 page_view
        ("hit", "500"),  # Meta PageView
        ("step consent", "1000"),
        ("step", "2000"),
        ("step", "3000"),
        ("navigation", "3100"),
        ("hit", "3200"),
        ("hit", "3250"),
        ("hit", "3400"),
        ("hit", "3500"),
        ("hit", "3600"),
    ]
    timeline_text = text_of(section(html, "run0-timeline"))
    assert "consent: accept" in timeline_text
    assert "Meta Pixel Purchase conversion value 59.9 EUR · event ID ord-1" in timeline_text
    assert (
        "TikTok Events API CompletePayment conversion value 59.9 EUR · event ID ord-1 · order ord-1"
        in timeline_text
    )
    assert "click IDs ttclid=E.C.P.reportTest" in timeline_text
    assert "consent analytics_storage=granted" in timeline_text or "gcs=G111" in timeline_text
    assert "raw request · POST www.google-analytics.com/mp/collect" in timeline_text


def test_timeline_keeps_request_order_even_when_clocks_disagree(scenario: Scenario) -> None:
    late_seq_early_clock = ga4_hit(9, 0.2, "scroll", "https://shop.example/")  # seq 9, started at 200 ms
    capture = checkout_capture([late_seq_early_clock])
    entries = timeline(capture, [], {}, BodyBudget())
    hits = [e.at_ms for e in entries if e.kind == "hit"]
    assert hits[-1] == 200  # by seq: last, though its clock says earliest


def test_reconciliation_table_rows_and_notes(html: str) -> None:
    table = section(html, "run0-reconciliation")
    rows = [text_of(r) for r in re.findall(r"<tr[^>]*>.*?</tr>", table, re.DOTALL)][1:]
    assert rows[0] == "backend: order API https://shop.example/api/orders order 1 59.90 EUR reference"
    assert "GA4 — 0 — — differs GA4: 0 purchases, backend 1: missing tag" in rows
    assert any(
        r.startswith(
            "Meta Pixel Purchase 2 119.80 EUR differs Meta Pixel: 2 purchases, backend 1: duplicate trigger, same event ID ord-1"
        )
        for r in rows
    )
    assert any("GA4 Measurement Protocol purchase 1 49.90 EUR differs value 49.9 vs 59.9" in r for r in rows)
    assert any(r.startswith("TikTok Events API CompletePayment 1 59.90 EUR match") for r in rows)


def test_failures_show_title_cause_fix_expected_seen_and_linked_evidence(html: str) -> None:
    failures = section(html, "run0-failures")
    text = text_of(failures)
    assert "meta_pixel Purchase fired 2 times, expected 1 Duplicate trigger event_count" in text
    assert "fix direction Use order IDs, event IDs and trigger guards" in text
    assert "expected 1 meta_pixel Purchase seen 2 meta_pixel Purchase with event_id=ord-1" in text
    assert (
        "meta_pixel Purchase event_id=ord-1 value=59.9 EUR on https://shop.example/checkout/thank-you" in text
    )
    anchors = re.findall(r'href="#(run0-hit\d+)"', failures)
    assert anchors[:2] == ["run0-hit3", "run0-hit4"]  # requests[3] and [4]: the two pixel Purchases
    for anchor in anchors[:2]:
        assert "Meta Pixel Purchase conversion value 59.9 EUR" in text_of(section(html, anchor))


def test_screenshot_and_replay_links_are_relative_and_urls_are_refused(
    scenario: Scenario, tmp_path: Path
) -> None:
    artifacts = {
        "screenshot": "artifacts/run 1/final.png",
        "trace": "artifacts/run1/trace.zip",
        "har": "https://evil.example/x.har",
        "flows": "javascript:alert(1)",
    }
    run = scenario_run(checkout_capture(), scenario, truth=BACKEND, artifacts=artifacts)
    html = read(write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path).html)
    assert '<img class="shot" src="artifacts/run%201/final.png"' in html
    assert '<a href="artifacts/run1/trace.zip">trace</a>' in html
    assert "evil.example" not in html and "javascript:" not in html


def test_expected_purchases_from_the_scenario_fill_in_for_missing_truth(
    scenario: Scenario, tmp_path: Path
) -> None:
    run = scenario_run(checkout_capture(), scenario, truth=None)
    suite = SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run])
    html = read(write_report(suite, tmp_path, scenarios={"checkout": scenario}).html)
    assert "expected (no backend source named)" in text_of(section(html, "run0-reconciliation"))


def test_results_json_round_trips(suite: SuiteResult, tmp_path: Path) -> None:
    paths = write_report(suite, tmp_path, redact=False)
    assert SuiteResult.model_validate_json(read(paths.json)) == suite


def test_redacted_results_json_round_trips_too(suite: SuiteResult, tmp_path: Path) -> None:
    stored = SuiteResult.model_validate_json(read(write_report(suite, tmp_path).json))
    assert [e.event for e in stored.runs[0].result.events] == [e.event for e in suite.runs[0].result.events]
    assert stored.runs[0].failures[0].title == suite.runs[0].failures[0].title


# --- hostile hits ----------------------------------------------------------------------------------

XSS = '<script>alert("x")</script>'
ATTR_BREAK = '"><img src=x onerror=alert(1)>'


def hostile_run(scenario: Scenario) -> ScenarioRun:
    huge = request(
        20,
        "https://www.google-analytics.com/g/collect?v=2&tid=G-8F2ZQ1Q9XY&cid=1.2&en=page_view&_p=1",
        at=4.0,
        method="POST",
        headers=[("content-type", "text/plain")],
        body=b"en=scroll&ep.x=" + b"A" * (5 * 1024 * 1024),
    )
    invalid_utf8 = request(
        21,
        "https://www.google-analytics.com/g/collect?v=2&tid=G-8F2ZQ1Q9XY&cid=1.2&_p=1&en=page_view",
        at=4.1,
        method="POST",
        headers=[("content-type", "text/plain")],
        body=b"en=\xff\xfe\xc3(bad&ep.y=" + XSS.encode(),
    )
    script_params = ga4_hit(22, 4.2, XSS, f"https://shop.example/?q={XSS}", "&ep.note=" + ATTR_BREAK)
    script_params.request_headers.append(("x-evil", XSS + ATTR_BREAK))
    script_params.request_headers.append(("x-raw-bytes", "caf\udce9"))  # mitmproxy's surrogateescape
    capture = checkout_capture([huge, invalid_utf8, script_params])
    capture.steps[0].label = XSS
    capture.chain.hops[1].url = f"https://track.example/r?utm_source={XSS}"
    run = scenario_run(capture, scenario, truth=BACKEND)
    run.scenario = f"checkout {XSS}"
    run.failures[0].title = f"title {XSS}"
    return run


def test_hostile_hit_renders_as_text_and_page_stays_small(scenario: Scenario, tmp_path: Path) -> None:
    run = hostile_run(scenario)
    suite = SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run])
    paths = write_report(suite, tmp_path)
    html = read(paths.html)
    assert "<script" not in html.lower()  # the template has no script; data never becomes one
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'title="' + "<" not in html
    assert paths.html.stat().st_size < 400 * 1024
    assert "64 KB limit" in html and "the full body is in results.json" in html
    assert "not valid UTF-8" in html
    assert "x-raw-bytes: caf\ufffd" in html
    assert (
        SuiteResult.model_validate_json(read(paths.json)).runs[0].result.capture.requests[-3].body
        == run.result.capture.requests[-3].body
    )


def test_page_body_budget_bounds_many_big_hits(scenario: Scenario, tmp_path: Path) -> None:
    big = [
        request(
            30 + n,
            "https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=1.2&en=x&_p=1",
            at=4 + n / 10,
            method="POST",
            body=b"B" * (BODY_LIMIT * 2),
        )
        for n in range(60)
    ]
    run = scenario_run(checkout_capture(big), scenario, truth=BACKEND)
    paths = write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path)
    assert paths.html.stat().st_size < 3 * 1024 * 1024
    assert "body budget is spent" in read(paths.html)


def test_default_report_dir_is_timestamped_and_unique(tmp_path: Path) -> None:
    first = default_report_dir(tmp_path / "reports")
    second = default_report_dir(tmp_path / "reports")
    assert first != second and first.is_dir() and second.is_dir()
    assert re.fullmatch(r"\d{8}-\d{6}", first.name)
    assert re.fullmatch(r"\d{8}-\d{6}(-\d+)?", second.name)


def test_expected_purchases_are_read_from_the_scenario_file(scenario: Scenario, tmp_path: Path) -> None:
    scenario_file = tmp_path / "checkout.scenario.yaml"
    scenario_file.write_text(
        "name: checkout\n"
        "ad_click: {url: 'https://ads.example/click'}\n"
        "expect:\n"
        "  events:\n"
        "    - {vendor: meta_pixel, event: Purchase, count: 1, value: 59.9, currency: EUR}\n",
        encoding="utf-8",
    )
    run = scenario_run(checkout_capture(), scenario, truth=None)
    run.file = str(scenario_file)
    html = read(write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path / "r").html)
    table = text_of(section(html, "run0-reconciliation"))
    assert "expected (no backend source named) meta_pixel Purchase 1 59.90 EUR reference" in table


def test_a_hit_that_repeats_another_is_marked_in_the_timeline(scenario: Scenario, tmp_path: Path) -> None:
    """The Google tag's ccm/conversion twin is decoded and shown, marked as a repeat (it is never counted)."""
    query = "random=1782761485612&en=conversion&label=1adstest1&oid=ord-1&value=59.9&currency_code=EUR"
    conversion = request(40, f"https://www.googleadservices.com/pagead/conversion/1071635065/?{query}", at=5.0)
    twin = request(41, f"https://www.googleadservices.com/ccm/conversion/1071635065/?{query}", at=5.01)
    run = scenario_run(checkout_capture([conversion, twin]), scenario, truth=BACKEND)
    html = read(write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path).html)
    rows = [row for row in html.split('<tr class="hit"') if "googleadservices.com" in row]
    assert len(rows) == 2
    assert ">repeat</span>" in rows[1] and ">repeat</span>" not in rows[0]


def test_a_dialog_the_run_accepted_is_placed_in_the_timeline(scenario: Scenario, tmp_path: Path) -> None:
    capture = checkout_capture()
    capture.dialogs = [DialogRecord(kind="confirm", message="Place the order <now>?", url="https://shop.example/checkout", at=T0 + 2.5)]
    run = scenario_run(capture, scenario, truth=BACKEND)
    html = read(write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path).html)
    timeline_text = text_of(section(html, "run0-timeline"))
    assert "dialog confirm: Place the order <now>? (accepted)" in timeline_text
    assert "<now>" not in html, "the page's text is escaped"
    order = re.findall(r'<td class="t">(\d+)</td><td class="k"><span class="badge \w+">(step|dialog)</span>', html)
    assert ("2000", "step") in order and order.index(("2500", "dialog")) == order.index(("2000", "step")) + 1


# --- written run by run ----------------------------------------------------------------------------


@pytest.mark.parametrize("runs", [0, 1, 3])
def test_results_json_written_run_by_run_round_trips(checkout_run: ScenarioRun, tmp_path: Path, runs: int) -> None:
    """The runs are spliced into the suite's JSON one by one (never all dumped at once): any number of
    them, none included, still reads back as the suite."""
    suite = SuiteResult(started_at=T0, finished_at=T0 + 6.0, runs=[checkout_run] * runs, planned_runs=runs + 1)
    stored = SuiteResult.model_validate_json(read(write_report(suite, tmp_path, redact=False).json))
    assert stored == suite


def test_a_value_typed_in_one_run_is_redacted_in_every_run_of_the_report(
    checkout_run: ScenarioRun, tmp_path: Path
) -> None:
    """Each run is redacted as it is written, with what every run typed: a later run that typed nothing
    but whose hits carry the first run's email (a remembered login, a prefilled form) shows it redacted."""
    typed_nothing = checkout_run.model_copy(deep=True)
    for step in typed_nothing.result.capture.steps:
        step.typed = None
    suite = SuiteResult(started_at=T0, finished_at=T0 + 6.0, runs=[checkout_run, typed_nothing])
    paths = write_report(suite, tmp_path)
    for text in (read(paths.json), read(paths.html)):
        assert TYPED_EMAIL.lower() not in text.lower() and quote(TYPED_EMAIL, safe="").lower() not in text.lower()
    stored = SuiteResult.model_validate_json(read(paths.json))
    assert "[redacted-pii]" in stored.runs[1].model_dump_json()
