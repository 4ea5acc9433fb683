"""``eventpath demo``: the example suite against the embedded demo shop and each seeded bug; ``--serve``
runs the shop alone in the foreground."""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from pathlib import Path

from harness.cli.common import (
    OutputFiles,
    add_report_options,
    add_run_options,
    add_suite_options,
    check_output_file,
    cut_short_exit,
    discard_if_empty,
    report_dir_from,
    run_options,
    select_runs,
    store_durations,
    use_color,
)
from harness.demo.catalog import API_HOST
from harness.errors import BadInput

NAME = "demo"
HELP = "run the example suite against the offline demo shop and each seeded bug (--serve: just serve the shop)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        help="demo scenario files or folders (default: scenarios/ here, else the eventpath checkout's)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="serve the demo shop in the foreground until Ctrl-C"
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--bugs",
        default="",
        metavar="NAME[,NAME]",
        help="seed bugs to put on the printed ad click URL (see docs/demo-switches.md)",
    )
    add_report_options(parser)
    add_suite_options(parser)
    add_run_options(parser, device_default=None)


def run(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(port=args.port, bugs=args.bugs)
    return run_suite(args)


def run_suite(args: argparse.Namespace) -> int:
    """The example suite against the correct shop and each seeded bug; 0 only if exactly those were caught."""
    from harness.cli.run import progress_printer
    from harness.demo_suite import demo_entries, judge, plan_demo, verdict_problems, verdict_table
    from harness.report import write_report
    from harness.runner import SuiteRunner
    from harness.scenario_loader import load_all

    if args.bugs:  # it would be ignored: a typo or a wish must not silently run the whole suite
        raise BadInput("--bugs goes with --serve (the printed ad click URL); the demo suite runs every seeded bug")
    check_output_file(args.store_durations, "--store-durations")
    entries = demo_entries(load_all(args.paths or [demo_scenarios()]))
    runs, uncovered = plan_demo(entries)
    if args.device:
        runs = [replace(r, device=args.device) for r in runs]
    runs = select_runs(runs, args)
    if args.list:
        print("\n".join(r.test_id for r in runs))
        return 0
    print(f"demo: {len(runs)} runs: the correct shop, then {len(runs) - len(entries)} with one seeded bug each", flush=True)
    report_dir = report_dir_from(args)
    runner = SuiteRunner(
        run_options(args),
        progress=progress_printer(use_color()),
        report_dir=report_dir,
        keep_artifacts=args.keep_artifacts,
        jobs=args.jobs,
    )
    try:
        suite = runner.run(runs)
    except BaseException:
        discard_if_empty(args, report_dir)
        raise
    outputs = OutputFiles()
    verdict = judge(suite, uncovered)
    if not suite.cut_short:  # a verdict on the runs not had would only list them as missed
        print("\n" + verdict_table(verdict))
    scenarios = {s.name: s for _, s in entries}
    paths = outputs.write("the report", lambda: write_report(suite, report_dir, redact=not args.no_redact, scenarios=scenarios))
    if paths:
        print(f"\nreport: {paths.html}")
    outputs.write("--store-durations", lambda: store_durations(suite, args.store_durations))
    if suite.cut_short:
        return cut_short_exit(suite, outputs)
    problems = verdict_problems(verdict)
    for problem in problems:
        print(f"problem: {problem}")
    print("demo: every seeded bug was caught and named, nothing else failed" if verdict.ok else "demo: FAILED")
    return outputs.exit_code(0 if verdict.ok else 1)


def demo_scenarios() -> Path:
    """``scenarios/`` in the working folder, else the one of the checkout eventpath is installed from
    (``pip install -e .``), so ``eventpath demo`` works from any folder."""
    here = Path("scenarios")
    if here.exists():
        return here
    checkout = Path(__file__).resolve().parents[2] / "scenarios"
    if checkout.is_dir():
        return checkout
    raise BadInput(
        "no scenarios/ folder here, and eventpath is not installed from a checkout that has one: run "
        "`eventpath demo` in the eventpath checkout, or give the demo scenario files"
    )


def serve(port: int = 0, bugs: str = "", stop: threading.Event | None = None) -> int:
    """Start the shop, print how to reach it, block until ``stop`` is set or Ctrl-C."""
    from harness.demo.server import DemoShop
    from harness.demo.switches import parse_switch_list

    switches = tuple(sorted(parse_switch_list(bugs))) if bugs else ()
    with DemoShop(port=port) as shop:
        mappings = " ".join(f"--resolve {m}" for m in shop.host_mappings())
        print(f"demo shop listening on http://127.0.0.1:{shop.port}", flush=True)
        print(f"host mappings: {mappings}")
        print(f"ad click URL (through the harness proxy): {shop.click_url(switches=switches)}")
        print(f"  e.g. eventpath trace {mappings} '{shop.click_url(switches=switches)}'")
        print(
            f'ad click URL (direct, Chromium --host-resolver-rules="MAP *.demo.test 127.0.0.1"): '
            f"{shop.click_url(switches=switches, direct=True)}"
        )
        print(f"backend orders: {shop.url('/api/orders?all=1', host=API_HOST, direct=True)}")
        print("press Ctrl-C to stop", flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("demo shop stopped")
    return 0
