"""Baselines on the real demo shop: an unchanged shop gives identical baselines, each seeded bug drifts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.baseline import baseline_path, build_section, compare, render_baseline
from harness.cli import main
from harness.results import SuiteResult
from harness.runner import SuiteRunner, plan_runs
from harness.scenario_loader import load_all
from tests.e2e.conftest import SCENARIOS, DemoSession

# The session's demo suite (every scenario with every seeded bug) is set up by the first test here.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(480), pytest.mark.xdist_group("demo")]

# What the drift of each bug must name: (drift kind, a fragment of its path).
EXPECTED_DRIFT = {
    "missing_tag": ("event_disappeared", "meta_pixel.Purchase"),
    "missing_value": ("value_became_null", "ga4.purchase.value"),
    "missing_currency": ("value_became_null", "currency"),
    "gclid_dropped_by_redirect": ("click_id_lost", "gclid"),
    "click_ids_not_stored": ("cookie_lost", "_gcl_aw"),
    "duplicate_trigger": ("event_appeared", "purchase"),
}


@pytest.fixture(scope="module")
def second_clean_run(demo: DemoSession):  # type: ignore[no-untyped-def]
    entries = [(p, s) for p, s in load_all([SCENARIOS]) if s.name == "demo-purchase"]
    return SuiteRunner().run(plan_runs(entries)).runs[0]


def test_two_runs_of_the_unchanged_shop_give_identical_baselines(demo: DemoSession, second_clean_run) -> None:  # type: ignore[no-untyped-def]
    first = render_baseline({"sections": {"Pixel 7": build_section(demo.clean("demo-purchase").result)}})
    second = render_baseline({"sections": {"Pixel 7": build_section(second_clean_run.result)}})
    assert first == second


@pytest.mark.parametrize("bug", sorted(EXPECTED_DRIFT))
def test_each_seeded_bug_is_reported_as_drift(demo: DemoSession, bug: str) -> None:
    baseline = build_section(demo.clean("demo-purchase").result)
    drifted = build_section(demo.with_bug(bug).result)
    drifts = compare(baseline, drifted)
    kind, fragment = EXPECTED_DRIFT[bug]
    assert any(d.kind == kind and fragment in d.path for d in drifts), [f"{d.kind} {d.path}" for d in drifts]
    assert all(d.message for d in drifts)


def test_update_baseline_then_run_again_passes_the_drift_check(tmp_path: Path) -> None:
    shutil.copy(SCENARIOS / "demo-purchase.scenario.yaml", tmp_path)
    scenario = tmp_path / "demo-purchase.scenario.yaml"
    assert main(["run", str(scenario), "--update-baseline", "--report", str(tmp_path / "r1")]) == 0
    assert baseline_path(scenario).is_file()
    assert main(["run", str(scenario), "--report", str(tmp_path / "r2")]) == 0, "no drift against itself"
    assert "meta_pixel" in baseline_path(scenario).read_text(encoding="utf-8")
    # The same scenario after a "publish" that lost the Meta Purchase tag.
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("demo: true", "demo: true\nbugs: [missing_tag]"))
    assert main(["run", str(scenario), "--json", str(tmp_path / "r3.json"), "--report", str(tmp_path / "r3")]) == 1
    suite = SuiteResult.model_validate_json((tmp_path / "r3" / "results.json").read_text(encoding="utf-8"))
    drift = [f for f in suite.runs[0].failures if f.check == "baseline_drift"]
    assert drift and "meta_pixel Purchase" in drift[0].title
