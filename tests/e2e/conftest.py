"""The demo suite, run once per test session through the real browser and proxy; many tests read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.demo_suite import DemoVerdict, demo_entries, judge, plan_demo
from harness.report import ReportPaths, write_report
from harness.results import ScenarioRun
from harness.runner import SuiteRunner
from harness.scenario_loader import load_all

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@dataclass
class DemoSession:
    verdict: DemoVerdict
    report: ReportPaths

    def clean(self, scenario: str) -> ScenarioRun:
        return next(r for r in self.verdict.clean_runs if r.scenario == scenario)

    def with_bug(self, bug: str, scenario: str = "demo-purchase") -> ScenarioRun:
        return next(r for r in self.verdict.suite.runs if r.bugs == [bug] and r.scenario == scenario)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSession]:
    entries = demo_entries(load_all([SCENARIOS]))
    runs, uncovered = plan_demo(entries)
    report_dir = tmp_path_factory.mktemp("demo-report")
    suite = SuiteRunner(report_dir=report_dir, jobs=2).run(runs)  # parallel runs: -j 2 end to end
    report = write_report(suite, report_dir, scenarios={s.name: s for _, s in entries})
    yield DemoSession(judge(suite, uncovered), report)
