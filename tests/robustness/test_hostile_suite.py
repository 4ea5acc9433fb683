"""Every hostile case in one `eventpath run -j 2`, as a suite meets them: each run ends with its own clear
error, the rest of the suite goes on, and the report holds every run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.robustness.site import GARBAGE_HOST, SITE_HOST, GarbageServer, HostileSite, mappings

pytestmark = pytest.mark.browser

# scenario -> (landing URL, extra YAML, what its failure must say; None: it passes)
CASES: dict[str, tuple[str, str, str | None]] = {
    "clean": (f"https://{SITE_HOST}/plain", "", None),
    "unreachable": ("https://nowhere.hostile.test/landing", "", "nowhere.hostile.test could not be reached"),
    "reset": (f"https://{SITE_HOST}/reset", "", "gave no HTTP answer (server closed connection)"),
    "tls-failure": (f"https://{GARBAGE_HOST}/landing", "", "gave no HTTP answer (unexpected server response"),
    "redirect-loop": (f"https://{SITE_HOST}/loop", "", "redirect loop: 20 hops, stopped (limit 20)"),
    "never-loads": (f"https://{SITE_HOST}/trickle", "", "did not finish loading within 3000 ms"),
    "not-found": (f"https://{SITE_HOST}/no-such-page", "", "HTTP 404 at"),
    "missing-cmp": (f"https://{SITE_HOST}/plain", "conditions: {consent: [accept]}\n", "no consent banner found"),
    "five-mb": (f"https://{SITE_HOST}/big", "", None),
    "malformed-hit": (
        f"https://{SITE_HOST}/malformed",
        "expect: {events: [{vendor: ga4, event: hit, value_required: false}]}\n",
        "ga4 sent a malformed hit",
    ),
}


def test_a_suite_of_hostile_cases_names_each_failure_and_reports_every_run(
    tmp_path: Path, hostile_site: HostileSite, garbage_server: GarbageServer
) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, (url, extra, _) in CASES.items():
        (folder / f"{name}.scenario.yaml").write_text(f"name: {name}\nad_click: {{url: '{url}'}}\n{extra}", encoding="utf-8")
    report = tmp_path / "report"
    done = subprocess.run(
        ["eventpath", "run", str(folder), "-j", "2", "--timeout", "3000", "--report", str(report),
         *(f"--resolve={m}" for m in mappings(hostile_site, garbage_server))],
        capture_output=True, text=True, timeout=180, env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    written = json.loads((report / "results.json").read_text(encoding="utf-8"))
    runs = {run["scenario"]: run for run in written["runs"]}
    assert sorted(runs) == sorted(CASES), "every run ran, whatever the runs before it met"
    html = (report / "index.html").read_text(encoding="utf-8")
    for name, (_, _, says) in CASES.items():
        seen = [f"{f['title']} | {f['seen']}" for f in runs[name]["failures"]]
        if says is None:
            assert seen == [], (name, seen)
        else:
            assert any(says in line for line in seen), (name, seen)
            assert f"reproduce: eventpath run {folder / name}.scenario.yaml" in done.stdout
        assert f'<h2><span class="break">{name}[Pixel 7]' in html, f"{name} has its section in the report"
