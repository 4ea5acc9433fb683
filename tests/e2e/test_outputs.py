"""`eventpath run` after its runs: an output file that cannot be written is named, and every other output
is still written whole (the runs are done and cannot be had again)."""

from __future__ import annotations

import json
import os
import signal
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


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_finishes_the_runs_in_flight_and_writes_their_report(tmp_path: Path, stop: str) -> None:
    """A terminal's Ctrl-C goes to the whole process group. It used to reach the browser too, which died
    under the run in flight, and the runs already had were lost with the traceback. Now the runs in flight
    end as they would have, the report holds every run that was had, and the exit code says interrupted.
    A cancelled CI job or a stopped container sends SIGTERM to eventpath alone: the same, where it used to
    end at once with nothing written."""
    folder = tmp_path / "suite"
    folder.mkdir()
    for number in range(1, 7):
        (folder / f"s{number}.scenario.yaml").write_text(
            f"name: s{number}\nad_click: {{url: 'https://ads.test/click?to=/landing', platform: google}}\n"
            "steps:\n  - wait_for: '#footer'\n",
            encoding="utf-8",
        )
    report = tmp_path / "report"
    with CaptureTestSite(unload_hits=1) as site:
        process = subprocess.Popen(
            ["eventpath", "run", str(folder), "--report", str(report), *(f"--resolve={m}" for m in site.mappings())],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(("pass", "FAIL")):  # the first run has ended: Ctrl-C, as a terminal sends it
                if stop == "ctrl-c":
                    os.killpg(process.pid, signal.SIGINT)
                else:
                    process.terminate()
                break
        rest, errors = process.communicate(timeout=90)
    assert process.returncode == 130, rest + errors
    assert "Traceback" not in errors and "eventpath: interrupted:" in errors, errors
    written = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert written["interrupted"] is True and written["planned_runs"] == 6
    assert 1 <= len(written["runs"]) < 6
    assert all(run["failures"] == [] for run in written["runs"]), "the run in flight ended as it would have, not killed"
    assert "Suite cut short:" in (report / "index.html").read_text(encoding="utf-8")
