"""index.html in the real headless Chromium: it reads without JS, shows its parts, and fetches nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report import write_report
from harness.results import SuiteResult
from harness.scenario import Scenario
from tests.report.conftest import BACKEND, T0, checkout_capture, scenario_run
from tests.report.test_writer import hostile_run

# The smallest valid PNG (1x1), standing in for the run's final-page screenshot artifact.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d8e3"
    "2c0000000049454e44ae426082"
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(sync_chromium: Any) -> Any:
    return sync_chromium


def test_report_reads_in_chromium_and_makes_no_network_request(
    browser: Any, scenario: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    (out / "artifacts").mkdir(parents=True)
    (out / "artifacts" / "final.png").write_bytes(PNG_1X1)
    run = scenario_run(
        checkout_capture(), scenario, truth=BACKEND, artifacts={"screenshot": "artifacts/final.png"}
    )
    paths = write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), out)
    shot = tmp_path / "report.png"

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(paths.html.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(shot), full_page=True)

    for part in ("#summary", "#run0-chain", "#run0-timeline", "#run0-reconciliation", "#run0-failures"):
        assert page.locator(part).is_visible(), part
    assert page.locator("#run0-chain .cell-missing").first.is_visible()
    assert page.locator("#run0-reconciliation tr").count() == 7  # header, backend, 5 platforms
    assert page.locator("img.shot").evaluate("img => img.naturalWidth") == 1  # the screenshot loaded
    # The raw request is one click away, without JavaScript.
    raw = page.locator("#run0-timeline details").first
    assert not raw.locator("pre").first.is_visible()
    raw.locator("summary").click()
    assert raw.locator("pre").first.is_visible()
    context.close()

    assert shot.stat().st_size > 10_000
    allowed = {paths.html.as_uri(), (out / "artifacts" / "final.png").as_uri()}
    assert set(requested) <= allowed and paths.html.as_uri() in requested
    assert all(url.startswith("file://") for url in requested)


def test_hostile_report_runs_nothing_and_fetches_nothing(
    browser: Any, scenario: Scenario, tmp_path: Path
) -> None:
    run = hostile_run(scenario)
    paths = write_report(SuiteResult(started_at=T0, finished_at=T0 + 6, runs=[run]), tmp_path / "report")
    context = browser.new_context()  # JavaScript on: data must still not run
    page = context.new_page()
    requested: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(paths.html.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=False)
    assert dialogs == []
    assert requested == [paths.html.as_uri()]
    assert page.locator("#run0-timeline").is_visible()
    assert page.get_by_text('<script>alert("x")</script>').first.is_visible()
    context.close()
