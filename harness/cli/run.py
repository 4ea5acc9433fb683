"""``eventpath run [PATHS...]``: run scenario files, explain what failed, write results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.cli.common import GREEN, RED, add_run_options, paint, run_options, use_color
from harness.console import explain_run, summary_table
from harness.junit import write_junit
from harness.results import ScenarioRun, SuiteResult
from harness.runner import PlannedRun, SuiteRunner, plan_runs
from harness.scenario_loader import load_all

NAME = "run"
HELP = "run scenario files (default: scenarios/) and check every expected event"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["scenarios"], help="scenario files or folders")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results (results.json schema) here")
    add_run_options(parser, device_default=None)


def _progress(color: bool):  # type: ignore[no-untyped-def]
    def report(planned: PlannedRun, run: ScenarioRun) -> None:
        mark = paint("pass", GREEN, color) if run.passed else paint("FAIL", RED, color)
        causes = "" if run.passed else "  " + ", ".join(sorted({f.root_cause for f in run.failures}))
        print(f"{mark}  {planned.test_id}  {run.duration_s:.1f}s{causes}", flush=True)

    return report


def write_outputs(suite: SuiteResult, args: argparse.Namespace) -> None:
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(json.loads(suite.model_dump_json()), indent=1), encoding="utf-8")
    if args.junit:
        write_junit(suite, args.junit)


def run(args: argparse.Namespace) -> int:
    entries = load_all(args.paths)  # a bad file stops here, before any browser starts
    if not entries:
        print(f"eventpath: no scenario files (*.scenario.yaml) under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    options = run_options(args)
    runs = plan_runs(entries, [args.device] if args.device else None)
    color = use_color()
    suite = SuiteRunner(options, progress=_progress(color)).run(runs)
    for failed in (r for r in suite.runs if not r.passed):
        print("\n" + explain_run(failed))
    print("\n" + summary_table(suite))
    write_outputs(suite, args)
    return 0 if suite.passed else 1
