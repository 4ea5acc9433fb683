"""`eventpath run` after its runs: an output file that cannot be written is named, and every other output
is still written whole (the runs are done and cannot be had again)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.capture.site import CaptureTestSite

pytestmark = pytest.mark.browser


def test_an_output_that_became_unwritable_during_the_suite_is_named_and_the_rest_are_written(tmp_path: Path) -> None:
    """The scenario's app (started before the runs, after the output paths were checked) puts a file where
    the --junit and --store-durations folder was: a folder removed by a cleanup job, a disk that filled."""
    outputs = tmp_path / "ci-outputs"
    scenario = tmp_path / "landing.scenario.yaml"
    scenario.write_text(
        "name: landing\n"
        "ad_click: {url: 'https://ads.test/click?to=/landing', platform: google}\n"
        f"app: {{command: \"rm -rf '{outputs}' && echo gone > '{outputs}' && exec sleep 60\"}}\n",
        encoding="utf-8",
    )
    report, results = tmp_path / "report", tmp_path / "results" / "results.json"
    with CaptureTestSite(unload_hits=1) as site:
        done = subprocess.run(
            ["eventpath", "run", str(scenario), "--report", str(report), "--json", str(results),
             "--junit", str(outputs / "junit.xml"), "--store-durations", str(outputs / "durations.json"),
             *(f"--resolve={m}" for m in site.mappings())],
            capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write --junit {outputs}" in done.stderr, done.stderr
    assert f"cannot write --store-durations {outputs}" in done.stderr, done.stderr
    assert (report / "index.html").is_file() and f"report: {report / 'index.html'}" in done.stdout
    written = json.loads(results.read_text(encoding="utf-8"))
    assert [run["scenario"] for run in written["runs"]] == ["landing"]
    assert outputs.read_text(encoding="utf-8") == "gone\n", "what the app put there is left alone"
