"""The ``eventpath`` command: a thin face over the engine. Each subcommand is one module here with
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from types import ModuleType

from harness.errors import EventpathError

# Subcommand modules, in the order ``eventpath --help`` lists them.
COMMANDS = ("run", "trace", "decode", "demo", "diff", "proxy", "schema")


def _load_commands() -> list[ModuleType]:
    modules = []
    for name in COMMANDS:
        try:
            modules.append(importlib.import_module(f"harness.cli.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"harness.cli.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventpath",
        description="Test the event path of paid-media tracking: ad click -> redirects -> tags -> platforms.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _load_commands():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def _stop_as_on_ctrl_c(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # A CI job cancelled, a container stopped: SIGTERM ends a suite as Ctrl-C does (the runs in flight
    # finish, the report of the runs had is written), not mid-write with nothing to show.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_as_on_ctrl_c)
    try:
        return int(args._run(args))
    except EventpathError as exc:
        print(f"eventpath: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("eventpath: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
