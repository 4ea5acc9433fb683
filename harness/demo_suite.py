"""``eventpath demo``: the example suite against the correct demo shop and against each seeded bug.

The verdict is strict: every run of the correct shop passes, and every switch whose catching check
exists is caught by that check with its root cause, with no failure that the bug does not explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.demo.switches import SWITCHES, Switch
from harness.errors import BadInput
from harness.results import ScenarioRun, SuiteResult
from harness.runner import PlannedRun, plan_runs
from harness.scenario import Scenario


@dataclass
class SwitchVerdict:
    switch: Switch
    runs: list[ScenarioRun] = field(default_factory=list)

    @property
    def caught_by(self) -> list[str]:
        return sorted(
            {
                f.check
                for r in self.runs
                for f in r.failures
                if f.check == self.switch.catching_check and f.root_cause == self.switch.root_cause
            }
        )

    @property
    def unexplained(self) -> list[str]:
        """Failures the switch does not account for: something else broke."""
        allowed = {self.switch.root_cause, *self.switch.side_effects}
        return [f"{r.test_id}: {f.title} ({f.root_cause})" for r in self.runs for f in r.failures if f.root_cause not in allowed]

    @property
    def ok(self) -> bool:
        return bool(self.caught_by) and not self.unexplained


@dataclass
class DemoVerdict:
    suite: SuiteResult
    clean_runs: list[ScenarioRun]
    switches: list[SwitchVerdict]
    uncovered: list[Switch]  # switches with no catching check yet: not run

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.clean_runs) and all(v.ok for v in self.switches)


def demo_entries(entries: Sequence[tuple[Path | None, Scenario]]) -> list[tuple[Path | None, Scenario]]:
    demo = [(path, scenario) for path, scenario in entries if scenario.demo and not scenario.bugs]
    if not demo:
        raise BadInput("no demo scenarios (demo: true) found: run `eventpath demo` from the project folder or name one")
    return demo


def plan_demo(entries: Sequence[tuple[Path | None, Scenario]]) -> tuple[list[PlannedRun], list[Switch]]:
    """The correct-shop runs, then one run per scenario for every switch that has a catching check."""
    clean = plan_runs(entries)
    with_bugs = [
        PlannedRun(p.scenario, p.file, p.device, (switch.name,), p.conditions)
        for switch in SWITCHES
        if switch.catching_check
        for p in clean
    ]
    return clean + with_bugs, [s for s in SWITCHES if not s.catching_check]


def judge(suite: SuiteResult, uncovered: list[Switch]) -> DemoVerdict:
    verdicts = {s.name: SwitchVerdict(s) for s in SWITCHES if s.catching_check}
    clean: list[ScenarioRun] = []
    for run in suite.runs:
        if not run.bugs:
            clean.append(run)
        else:
            verdicts[run.bugs[0]].runs.append(run)
    # A shard (--shard) judges only the switches it ran.
    judged = [v for v in verdicts.values() if v.runs]
    return DemoVerdict(suite=suite, clean_runs=clean, switches=judged, uncovered=uncovered)


def verdict_table(verdict: DemoVerdict) -> str:
    rows = [("switch", "caught by", "root cause", "verdict")]
    clean_ok = all(r.passed for r in verdict.clean_runs)
    rows.append(("(correct shop)", "-", "-", "all pass" if clean_ok else "FAILED"))
    for item in verdict.switches:
        state = "caught" if item.ok else ("NOT caught" if not item.caught_by else "caught, but more failed")
        rows.append((item.switch.name, ", ".join(item.caught_by) or "-", item.switch.root_cause, state))
    for switch in verdict.uncovered:
        rows.append((switch.name, "(no check yet)", switch.root_cause, "not run"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def verdict_problems(verdict: DemoVerdict) -> list[str]:
    problems = [f"correct shop failed: {r.test_id}: {f.title}" for r in verdict.clean_runs for f in r.failures]
    for item in verdict.switches:
        if not item.caught_by:
            problems.append(f"{item.switch.name} was not caught by {item.switch.catching_check}")
        problems.extend(f"{item.switch.name}: unexplained failure {u}" for u in item.unexplained)
    return problems
