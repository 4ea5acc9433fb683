"""Command-line options shared by the commands that run a browser; they map one to one onto RunOptions."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from harness.errors import BadInput
from harness.files import write_atomically
from harness.options import DEFAULT_DEVICE, HostMapping, RunOptions
from harness.results import SuiteResult
from harness.runner import PlannedRun, parse_shard, shard

T = TypeVar("T")


def add_run_options(parser: argparse.ArgumentParser, device_default: str | None = DEFAULT_DEVICE) -> None:
    group = parser.add_argument_group("run options")
    group.add_argument(
        "--device",
        default=device_default,
        help=f"Playwright device name (default: {device_default or 'each scenario’s devices'})",
    )
    group.add_argument(
        "--resolve", action="append", default=[], metavar="HOST=ADDR:PORT",
        help="send http and https requests for HOST to a plain-HTTP server at ADDR:PORT; repeatable",
    )
    group.add_argument("--live", action="store_true", help="forward tag hits to the real vendors (default: answer locally)")
    group.add_argument("--sinkhole", action="append", default=[], metavar="HOST", help="also answer HOST locally; repeatable")
    group.add_argument(
        "--browser-path", default=None,
        help="Chromium binary (default: $EVENTPATH_BROWSER, else chromium-headless-shell when headless, "
        "/usr/bin/chromium, Playwright's)",
    )
    group.add_argument(
        "--browser", default="chromium", choices=("chromium", "firefox", "webkit"),
        help="browser engine (firefox and webkit need `playwright install`; WebKit is the closest to iOS Safari)",
    )
    group.add_argument("--browser-ws", metavar="WS_URL", help="connect to a Playwright browser server instead of launching")
    group.add_argument("--cdp", metavar="URL", help="connect to a Chromium over CDP (http://host:port or ws://...)")
    group.add_argument("--confdir", metavar="DIR", help="keep the proxy CA in DIR across runs (remote browsers trust it)")
    group.add_argument("--timeout", type=int, default=15_000, metavar="MS", help="navigation timeout in ms (default: 15000)")
    group.add_argument("--headed", action="store_true", help="show the browser window")


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        device=args.device or DEFAULT_DEVICE,
        resolve=[HostMapping.parse(r) for r in args.resolve],
        live=args.live,
        sinkhole=args.sinkhole,
        browser_path=args.browser_path,
        browser=args.browser,
        browser_ws=args.browser_ws,
        cdp_url=args.cdp,
        confdir=args.confdir,
        navigation_timeout_ms=args.timeout,
        headless=not args.headed,
    )


def use_color(stream: object | None = None) -> bool:
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
    except ValueError:  # a closed stream
        return False


def paint(text: str, code: str, enabled: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if enabled else text


RED, GREEN, BOLD, DIM = "31;1", "32", "1", "2"


def add_report_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("report options")
    group.add_argument("--report", type=Path, metavar="DIR", help="report folder (default: reports/<timestamp>)")
    group.add_argument(
        "--keep-artifacts",
        nargs="?",
        const="always",
        default="on-failure",
        choices=("on-failure", "always", "never"),
        help="keep each run's trace, HAR and flows file (default: on-failure; bare flag: always)",
    )
    group.add_argument("--no-redact", action="store_true", help="show cookie values, typed PII and secrets in the report")


def report_dir_from(args: argparse.Namespace) -> Path:
    from harness.report import default_report_dir

    if args.report is not None:
        try:
            args.report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission: before any run, not after
            raise BadInput(f"--report {args.report}: cannot make that folder ({exc.strerror or exc}); choose another path") from None
        return Path(args.report)
    return default_report_dir()


def discard_if_empty(args: argparse.Namespace, report_dir: Path) -> None:
    """Remove the default report folder a suite stopped before filling (input found bad only once the
    browser was up, an unknown device): no empty ``reports/<timestamp>`` is left behind. A folder the user
    named with ``--report`` stays."""
    if args.report is None:
        with contextlib.suppress(OSError):  # not empty: it holds what the runs had
            report_dir.rmdir()


def add_suite_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("suite options")
    group.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="runs in flight at once (default: 1)")
    group.add_argument("--shard", metavar="I/N", help="run only shard I of N (every run lands in exactly one shard)")
    group.add_argument(
        "--durations", type=Path, metavar="FILE", help="balance --shard by these run durations (JSON: test id -> s)"
    )
    group.add_argument("--store-durations", type=Path, metavar="FILE", help="write each run's duration here (JSON)")
    group.add_argument("--list", action="store_true", help="print the planned runs and exit; no browser starts")


def select_runs(runs: list[PlannedRun], args: argparse.Namespace) -> list[PlannedRun]:
    """The runs this invocation does: all, or its shard."""
    if not args.shard:
        return runs
    index, total = parse_shard(args.shard)
    durations: dict[str, float] | None = None
    if args.durations:
        try:
            durations = {str(k): float(v) for k, v in json.loads(args.durations.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise BadInput(f"--durations {args.durations}: not a JSON object of test id -> seconds ({exc})") from None
    return shard(runs, index, total, durations)


def check_output_file(path: Path | None, flag: str) -> None:
    """Refuse an output file that cannot be written, before the suite runs (not after 50 runs)."""
    if path is None:
        return
    if path.is_dir():
        raise BadInput(f"{flag} {path}: that is a folder; give a file name in it, e.g. {path / 'results'}")
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise BadInput(f"{flag} {path}: {folder} is a file, not a folder; choose another path")
            if not os.access(folder, os.W_OK):
                raise BadInput(f"{flag} {path}: {folder} is not writable; choose another path")
            return


def store_durations(suite: SuiteResult, path: Path | None) -> None:
    """Merge this suite's run durations into ``path`` (other shards' entries are kept)."""
    if path is None:
        return
    known: dict[str, float] = {}
    if path.is_file():
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            known = {}
    known.update({run.test_id: round(run.duration_s, 3) for run in suite.runs})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(dict(sorted(known.items())), indent=1))


class OutputFiles:
    """Writes a finished suite's output files one by one. One that cannot be written (the disk filled, a
    folder vanished since it was checked) is named, and the others are still written: the runs are done and
    cannot be had again. ``exit_code`` then turns the suite's code into 2."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def write(self, what: str, action: Callable[[], T]) -> T | None:
        try:
            return action()
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            self.problems.append(f"cannot write {what}{where}: {exc.strerror or exc}")
            return None

    def exit_code(self, suite_code: int) -> int:
        for problem in self.problems:
            print(f"eventpath: error: {problem}", file=sys.stderr)
        return 2 if self.problems else suite_code


INTERRUPTED_EXIT = 130  # what a shell reports for a program stopped by Ctrl-C


def cut_short_exit(suite: SuiteResult, outputs: OutputFiles) -> int:
    """Say why a suite cut short stopped and what its report holds; its exit code (2 aborted, 130 Ctrl-C)."""
    planned = suite.planned_runs if suite.planned_runs is not None else len(suite.runs)
    had = f"{len(suite.runs)} of {planned} runs ran"
    if suite.aborted:
        print(f"eventpath: error: the suite stopped: {suite.aborted}; {had}, the report holds them", file=sys.stderr)
        return outputs.exit_code(2)
    print(f"eventpath: interrupted: {had} (those in flight were finished); the report holds them", file=sys.stderr)
    return outputs.exit_code(INTERRUPTED_EXIT)
