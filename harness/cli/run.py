"""``eventpath run [PATHS...]``: run scenario files, explain what failed, write results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.app_env import format_env
from harness.baseline import update_baselines, why_not_baselined
from harness.cli.common import (
    GREEN,
    RED,
    OutputFiles,
    add_report_options,
    add_run_options,
    add_suite_options,
    check_output_file,
    cut_short_exit,
    discard_if_empty,
    paint,
    report_dir_from,
    run_options,
    select_runs,
    store_durations,
    use_color,
)
from harness.console import explain_run, summary_table
from harness.files import write_atomically
from harness.junit import write_junit
from harness.report import redact_suite, write_report
from harness.report.writer import results_json
from harness.results import ScenarioRun, SuiteResult
from harness.runner import PlannedRun, SuiteRunner, SuiteSession, plan_runs
from harness.scenario import Scenario
from harness.scenario_loader import load_all

NAME = "run"
HELP = "run scenario files (default: scenarios/) and check every expected event"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["scenarios"], help="scenario files or folders")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results (results.json schema) here")
    parser.add_argument(
        "--app-env",
        action="store_true",
        help="also print the environment that routes a backend's HTTPS through the harness (HTTPS_PROXY, CA bundle)",
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="store what each run sent as <scenario>.baseline.yaml beside its scenario (later runs compare)",
    )
    add_report_options(parser)
    add_suite_options(parser)
    add_run_options(parser, device_default=None)


def progress_printer(color: bool):  # type: ignore[no-untyped-def]
    def report(planned: PlannedRun, run: ScenarioRun) -> None:
        mark = paint("pass", GREEN, color) if run.passed else paint("FAIL", RED, color)
        causes = "" if run.passed else "  " + ", ".join(sorted({f.root_cause for f in run.failures}))
        print(f"{mark}  {planned.test_id}  {run.duration_s:.1f}s{causes}", flush=True)

    return report


def print_app_env(session: SuiteSession) -> None:
    print("# route your backend's outgoing HTTPS through this run's harness:")
    print(format_env(session.app_environment()), flush=True)


def write_outputs(
    suite: SuiteResult, args: argparse.Namespace, report_dir: Path, scenarios: dict[str, Scenario], outputs: OutputFiles
) -> Path | None:
    """The HTML report and results.json in ``report_dir``; ``--json`` and ``--junit`` where asked, each
    written whole or not at all, each whatever became of the others."""
    redact = not args.no_redact
    paths = outputs.write("the report", lambda: write_report(suite, report_dir, redact=redact, scenarios=scenarios))
    if args.json:
        json_path: Path = args.json

        def write_json() -> None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            text = paths.json.read_bytes() if paths else results_json(redact_suite(suite) if redact else suite)
            write_atomically(json_path, text)

        outputs.write("--json", write_json)
    if args.junit:
        outputs.write("--junit", lambda: write_junit(suite, args.junit))
    return paths.html if paths else None


def run(args: argparse.Namespace) -> int:
    entries = load_all(args.paths)  # a bad file stops here, before any browser starts
    if not entries:
        print(f"eventpath: no scenario files (*.scenario.yaml) under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    options = run_options(args)
    for path, flag in ((args.json, "--json"), (args.junit, "--junit"), (args.store_durations, "--store-durations")):
        check_output_file(path, flag)
    runs = select_runs(plan_runs(entries, [args.device] if args.device else None), args)
    if args.list:
        print("\n".join(r.test_id for r in runs))
        return 0
    color = use_color()
    report_dir = report_dir_from(args)
    runner = SuiteRunner(
        options,
        progress=progress_printer(color),
        report_dir=report_dir,
        keep_artifacts=args.keep_artifacts,
        on_start=print_app_env if args.app_env else None,
        jobs=args.jobs,
    )
    try:
        suite = runner.run(runs)
    except BaseException:
        discard_if_empty(args, report_dir)
        raise
    outputs = OutputFiles()
    for failed in (r for r in suite.runs if not r.passed):
        print("\n" + explain_run(failed))
    print("\n" + summary_table(suite))
    html = write_outputs(suite, args, report_dir, {s.name: s for _, s in entries}, outputs)
    if html:
        print(f"report: {html}")
    outputs.write("--store-durations", lambda: store_durations(suite, args.store_durations))
    if suite.cut_short:  # no one's baseline: the runs it had are in the report, nothing else changes
        return cut_short_exit(suite, outputs)
    if args.update_baseline:
        for path in outputs.write("a baseline", lambda: update_baselines(suite)) or []:
            print(f"baseline: {path}")
        for skipped in suite.runs:
            if reason := why_not_baselined(skipped):
                print(f"baseline not written for {skipped.test_id}: {reason}")
    return outputs.exit_code(0 if suite.passed else 1)
