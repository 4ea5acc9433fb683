"""Writing a suite's report: ``index.html`` for people and ``results.json`` for tools (see SCHEMA.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic_core import PydanticSerializationError

from harness.files import write_atomically
from harness.report.redact import redact_suite
from harness.report.replay import write_replay_kit
from harness.report.view import BodyBudget, run_view, summary_view
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import ExpectedEvent, Scenario

TEMPLATES = Path(__file__).parent / "templates"
HTML_NAME = "index.html"
JSON_NAME = "results.json"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class ReportPaths:
    directory: Path
    html: Path
    json: Path


def default_report_dir(base: str | Path = "reports") -> Path:
    """A new, empty ``<base>/<YYYYmmdd-HHMMSS>`` folder; a second call in the same second gets ``-2``, ...

    The folder is created here (``mkdir`` fails when it exists), so two calls, even from two processes,
    never share one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    Path(base).mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 10_000):
        candidate = Path(base) / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"no free report folder for {stamp} under {base}")


def write_report(
    suite: SuiteResult,
    out_dir: Path,
    *,
    redact: bool = True,
    scenarios: Mapping[str, Scenario] | None = None,
) -> ReportPaths:
    """Write ``out_dir/index.html`` and ``out_dir/results.json``, redacted unless ``redact=False``.

    ``scenarios`` (name -> Scenario) supplies expected purchases for runs without backend truth; when a
    run's scenario is not given, its ``file`` is read if it still exists."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shown = redact_suite(suite) if redact else suite
    _write_replay_kits(shown, out_dir)
    paths = ReportPaths(directory=out_dir, html=out_dir / HTML_NAME, json=out_dir / JSON_NAME)
    write_atomically(paths.json, results_json(shown))
    write_atomically(paths.html, render_html(shown, scenarios or {}, redacted=redact), errors="replace")
    return paths


def _write_replay_kits(shown: SuiteResult, out_dir: Path) -> None:
    """Beside each run's kept trace: its flows file and HAR, from the requests the report shows."""
    root = out_dir.resolve()
    for run in shown.runs:
        trace = run.artifacts.get("trace")
        if not trace:
            continue  # no replay kit kept for this run
        folder = (out_dir / trace).parent
        if not folder.resolve().is_relative_to(root):
            continue  # a results file from elsewhere: write nothing outside the report folder
        flows, har = write_replay_kit(run.result.capture.requests, folder)
        kit = Path(trace).parent
        run.artifacts["flows"] = (kit / flows.name).as_posix()
        run.artifacts["har"] = (kit / har.name).as_posix()


def results_json(suite: SuiteResult) -> str:
    """The suite as JSON that validates back as ``SuiteResult``.

    ``round_trip`` leaves computed fields (``summary``, ``passed``) out: the models forbid extra input."""
    try:
        return suite.model_dump_json(round_trip=True, indent=1)
    except PydanticSerializationError:
        # mitmproxy keeps undecodable header bytes as lone surrogates, which UTF-8 JSON cannot hold.
        clean = SuiteResult.model_validate(_without_surrogates(suite.model_dump(round_trip=True)))
        return clean.model_dump_json(round_trip=True, indent=1)


def _without_surrogates(node: Any) -> Any:
    if isinstance(node, str):
        return _SURROGATE.sub("\ufffd", node)
    if isinstance(node, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(_without_surrogates(item) for item in node)
    return node


def render_html(suite: SuiteResult, scenarios: Mapping[str, Scenario], *, redacted: bool = True) -> str:
    budget = BodyBudget()
    runs = [run_view(i, run, _expected_events(run, scenarios), budget) for i, run in enumerate(suite.runs)]
    summary = summary_view(suite)
    # The gap chart is built by harness.gap.render_gap_svg, which escapes every label it writes.
    gap_svg = Markup(summary.gap.svg) if summary.gap else None
    return (
        _environment()
        .get_template("report.html.j2")
        .render(summary=summary, runs=runs, redacted=redacted, gap_svg=gap_svg)
    )


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value a hit carries is untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _expected_events(run: ScenarioRun, scenarios: Mapping[str, Scenario]) -> list[ExpectedEvent]:
    scenario = scenarios.get(run.scenario)
    if scenario is None and run.file and Path(run.file).is_file():
        from harness.scenario_loader import load_scenario

        try:
            scenario = load_scenario(run.file)
        except Exception:  # noqa: BLE001 - an edited or broken file only costs the expectation row
            scenario = None
    return list(scenario.expect.events) if scenario else []
