"""The replay kit's HAR and flows file, written from the proxy's record of a run."""

from __future__ import annotations

import json
from pathlib import Path

from mitmproxy import io

from harness.report import write_report
from harness.report.replay import write_replay_kit
from harness.results import SuiteResult
from harness.scenario import Scenario
from tests.report.conftest import BACKEND, CAPI_TOKEN, T0, TYPED_EMAIL, checkout_capture, scenario_run


def test_the_har_holds_every_captured_request_with_its_answer_and_body(tmp_path: Path) -> None:
    requests = checkout_capture().requests
    _, har_path = write_replay_kit(requests, tmp_path)
    har = json.loads(har_path.read_text(encoding="utf-8"))
    entries = har["log"]["entries"]
    assert har["log"]["version"] == "1.2" and len(entries) == len(requests)
    for entry, captured in zip(entries, requests, strict=True):
        assert (entry["request"]["method"], entry["request"]["url"]) == (captured.method, captured.url)
        assert entry["response"]["status"] == captured.status
        assert entry["time"] >= 0
    posts = [(e, r) for e, r in zip(entries, requests, strict=True) if r.method == "POST" and r.body]
    assert posts, "the fixture run has server events with bodies"
    for entry, captured in posts:
        assert entry["request"]["postData"]["text"] == captured.body.decode("utf-8", "replace")


def test_mitmproxy_reads_both_files_back_as_the_same_requests(tmp_path: Path) -> None:
    requests = checkout_capture().requests
    for path in write_replay_kit(requests, tmp_path):
        read = list(io.read_flows_from_paths([str(path)]))
        assert [f.request.url for f in read] == [r.url for r in requests], path.name  # type: ignore[attr-defined]


def test_a_kept_trace_gets_a_redacted_har_and_flows_file_beside_it(scenario: Scenario, tmp_path: Path) -> None:
    report = tmp_path / "report"
    kit = report / "runs" / "checkout_Pixel_7"
    kit.mkdir(parents=True)
    (kit / "trace.zip").write_bytes(b"PK")
    run = scenario_run(checkout_capture(), scenario, truth=BACKEND, artifacts={"trace": "runs/checkout_Pixel_7/trace.zip"})
    paths = write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), report)

    shown = SuiteResult.model_validate_json(paths.json.read_text(encoding="utf-8")).runs[0]
    assert shown.artifacts["har"] == "runs/checkout_Pixel_7/run.har"
    assert shown.artifacts["flows"] == "runs/checkout_Pixel_7/flows.mitm"
    har = (kit / "run.har").read_text(encoding="utf-8")
    assert len(json.loads(har)["log"]["entries"]) == len(run.result.capture.requests)
    assert "page_view" in har, "the hits are there"
    for secret in (TYPED_EMAIL, TYPED_EMAIL.lower(), CAPI_TOKEN):
        assert secret not in har, secret
        assert secret.encode() not in (kit / "flows.mitm").read_bytes(), secret
    assert 'href="runs/checkout_Pixel_7/run.har"' in paths.html.read_text(encoding="utf-8")

    write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), report, redact=False)  # --no-redact
    assert CAPI_TOKEN in (kit / "run.har").read_text(encoding="utf-8")


def test_a_trace_path_outside_the_report_folder_writes_nothing_there(scenario: Scenario, tmp_path: Path) -> None:
    report = tmp_path / "report"
    run = scenario_run(checkout_capture(), scenario, truth=BACKEND, artifacts={"trace": "../elsewhere/trace.zip"})
    write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), report)
    assert not (tmp_path / "elsewhere").exists()
