"""``eventpath diff A B``: how the runs of results.json B drifted from those of results.json A.

Runs are matched by scenario, device and conditions (in order, when one appears several times). Exit 0
when nothing drifted, 1 when something did (or a run is in one file only), 2 for bad input. A container
change is printed as the context of the drift but is not drift by itself.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.baseline import Drift, build_section, compare
from harness.errors import BadInput
from harness.results import ScenarioRun, SuiteResult

NAME = "diff"
HELP = "compare two results.json files run by run and print the event-definition drift"

RunKey = tuple[str, str, str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "before", type=Path, help="results.json of the reference run (e.g. before the GTM publish)"
    )
    parser.add_argument("after", type=Path, help="results.json to compare with it")
    parser.add_argument(
        "--noise",
        action="append",
        default=[],
        metavar="GLOB",
        help="drift path to ignore, e.g. 'ga4.*.params.event_params.debug_mode'; repeatable "
        "(each scenario's baseline_noise applies too, when its file can be read)",
    )


def load_results(path: Path) -> SuiteResult:
    """A results.json, or BadInput naming the file and the first problem in one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({type(exc).__name__})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{path}: not a results.json (not JSON: {exc})") from exc
    try:
        return SuiteResult.model_validate(_without_computed_fields(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "top level"
        raise BadInput(f"{path}: not a results.json ({where}: {first.get('msg', 'invalid')})") from exc


def _without_computed_fields(data: Any) -> Any:
    """A plain ``model_dump_json()`` (as ``eventpath run --json`` writes it) also holds the derived
    ``summary`` and ``passed``, which the models do not accept back: drop them before validating."""
    if not isinstance(data, dict):
        return data
    data = {k: v for k, v in data.items() if k not in SuiteResult.model_computed_fields}
    if isinstance(data.get("runs"), list):
        data["runs"] = [
            {k: v for k, v in run.items() if k not in ScenarioRun.model_computed_fields}
            if isinstance(run, dict)
            else run
            for run in data["runs"]
        ]
    return data


def run_key(run: ScenarioRun) -> RunKey:
    return (run.scenario, run.device, run.conditions.label())


def _label(key: RunKey) -> str:
    scenario, device, conditions = key
    return f"{scenario}[{device}]" + (f"[{conditions}]" if conditions else "")


def _scenario_noise(run: ScenarioRun) -> list[str]:
    """The scenario's own known-noise rules, when its file is still readable here."""
    if not run.file or not Path(run.file).is_file():
        return []
    from harness.scenario_loader import load_scenario

    try:
        return list(load_scenario(run.file).baseline_noise)
    except BadInput:
        return []


def _grouped(suite: SuiteResult) -> dict[RunKey, list[ScenarioRun]]:
    groups: dict[RunKey, list[ScenarioRun]] = defaultdict(list)
    for run in suite.runs:
        groups[run_key(run)].append(run)
    return groups


def diff_suites(
    before: SuiteResult, after: SuiteResult, noise: list[str]
) -> list[tuple[str, list[Drift] | None, str]]:
    """Per run label: its drifts (None when the run is in one file only) and a note."""
    old, new = _grouped(before), _grouped(after)
    report: list[tuple[str, list[Drift] | None, str]] = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(key, []), new.get(key, [])
        for index in range(max(len(was), len(now))):
            label = _label(key) + (f" #{index + 1}" if index else "")
            if index >= len(now):
                report.append((label, None, "only in the first file"))
            elif index >= len(was):
                report.append((label, None, "only in the second file"))
            else:
                rules = [*noise, *_scenario_noise(now[index])]
                drifts = compare(build_section(was[index].result), build_section(now[index].result), rules)
                report.append((label, drifts, ""))
    return report


def run(args: argparse.Namespace) -> int:
    before, after = load_results(args.before), load_results(args.after)
    drifted = False
    for label, drifts, note in diff_suites(before, after, args.noise):
        if drifts is None:
            drifted = True
            print(f"{label}: {note}")
            continue
        real = [d for d in drifts if not d.informational]
        drifted = drifted or bool(real)
        print(f"{label}: {len(real)} drift{'s' if len(real) != 1 else ''}" if real else f"{label}: no drift")
        for drift in drifts:
            marker = "  note " if drift.informational else "  "
            print(f"{marker}{drift.kind}  {drift.path}  {drift.message}")
    return 1 if drifted else 0
