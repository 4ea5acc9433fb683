"""Writing a suite's report: ``index.html`` for people and ``results.json`` for tools (see SCHEMA.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic_core import PydanticSerializationError

from harness.files import writing_atomically
from harness.report.redact import Redactor
from harness.report.replay import write_replay_kit
from harness.report.view import BodyBudget, RunRow, RunView, run_row, run_view, summary_view
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

    Run by run: each run is redacted, put into ``results.json``, given its replay kit and rendered into
    ``index.html`` in turn, so a long suite is never held twice (redacted copies and their views of every
    run at once took three times the suite's own memory). ``scenarios`` (name -> Scenario) supplies
    expected purchases for runs without backend truth; when a run's scenario is not given, its ``file`` is
    read if it still exists."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(directory=out_dir, html=out_dir / HTML_NAME, json=out_dir / JSON_NAME)
    redactor = Redactor(suite) if redact else None
    frame = redactor.without_runs(suite) if redactor else suite.model_copy(update={"runs": []})
    text = redactor.replacements.text if redactor else str
    expected = _ExpectedEvents(scenarios or {})
    budget = BodyBudget()
    head, tail = _json_frame(frame)
    with writing_atomically(paths.json) as json_out, writing_atomically(paths.html, errors="replace") as html_out:

        def sections() -> Iterator[RunView]:
            """Each run's view for the page, its JSON written on the way (the page renders them in order)."""
            json_out(head)
            for index, run in enumerate(suite.runs):
                # A copy either way: the replay kit adds to its artifacts, and the suite's runs stay as they were.
                shown = redactor.run(run) if redactor else run.model_copy(update={"artifacts": dict(run.artifacts)})
                _write_replay_kit(shown, out_dir)
                json_out((",\n" if index else "") + _nested(_model_json(shown)))
                yield run_view(index, shown, expected(run), budget)
            json_out(tail)

        runs = sections()
        for chunk in _page(suite, [run_row(i, run, text) for i, run in enumerate(suite.runs)], runs, redact):
            html_out(chunk)
        for _ in runs:
            pass  # the page read them all; were it not to, results.json must still be whole
    return paths


def _write_replay_kit(shown: ScenarioRun, out_dir: Path) -> None:
    """Beside a run's kept trace: its flows file and HAR, from the requests the report shows."""
    trace = shown.artifacts.get("trace")
    if not trace:
        return  # no replay kit kept for this run
    folder = (out_dir / trace).parent
    if not folder.resolve().is_relative_to(out_dir.resolve()):
        return  # a results file from elsewhere: write nothing outside the report folder
    flows, har = write_replay_kit(shown.result.capture.requests, folder)
    kit = Path(trace).parent
    shown.artifacts["flows"] = (kit / flows.name).as_posix()
    shown.artifacts["har"] = (kit / har.name).as_posix()


_RUNS_SLOT = '\n "runs": []'  # where SuiteResult's JSON (indent=1) holds its runs: a top-level key


def _json_frame(frame: SuiteResult) -> tuple[str, str]:
    """``results.json`` before and after its runs, from the suite without them."""
    whole = results_json(frame)
    at = whole.index(_RUNS_SLOT)
    return whole[:at] + '\n "runs": [\n', "\n ]" + whole[at + len(_RUNS_SLOT) :]


def _nested(run_json: str) -> str:
    """A run's JSON indented as an item of the suite's ``runs`` (no JSON string holds a raw newline)."""
    return "  " + run_json.replace("\n", "\n  ")


def results_json(suite: SuiteResult) -> str:
    """The suite as JSON that validates back as ``SuiteResult``."""
    return _model_json(suite)


def _model_json(model: SuiteResult | ScenarioRun) -> str:
    """``round_trip`` leaves computed fields (``summary``, ``passed``) out: the models forbid extra input."""
    try:
        return model.model_dump_json(round_trip=True, indent=1)
    except PydanticSerializationError:
        # mitmproxy keeps undecodable header bytes as lone surrogates, which UTF-8 JSON cannot hold.
        clean = type(model).model_validate(_without_surrogates(model.model_dump(round_trip=True)))
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
    """The page for ``suite`` as it is (redact it first to show it redacted), whole in memory."""
    budget = BodyBudget()
    expected = _ExpectedEvents(scenarios)
    rows = [run_row(i, run) for i, run in enumerate(suite.runs)]
    runs = [run_view(i, run, expected(run), budget) for i, run in enumerate(suite.runs)]
    return "".join(_page(suite, rows, runs, redacted))


def _page(suite: SuiteResult, rows: list[RunRow], runs: Iterable[RunView], redacted: bool) -> Iterator[str]:
    """``index.html`` in pieces as the template renders them, each run's section as ``runs`` yields it."""
    summary = summary_view(suite)
    # The gap chart is built by harness.gap.render_gap_svg, which escapes every label it writes.
    gap_svg = Markup(summary.gap.svg) if summary.gap else None
    template = _environment().get_template("report.html.j2")
    return template.generate(summary=summary, rows=rows, runs=runs, redacted=redacted, gap_svg=gap_svg)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value a hit carries is untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _ExpectedEvents:
    """A run's expected events: from its scenario, given or read from its file (once per file: a suite
    runs each scenario on many devices and conditions)."""

    def __init__(self, scenarios: Mapping[str, Scenario]) -> None:
        self._scenarios = scenarios
        self._read: dict[str, Scenario | None] = {}

    def __call__(self, run: ScenarioRun) -> list[ExpectedEvent]:
        scenario = self._scenarios.get(run.scenario)
        if scenario is None and run.file:
            if run.file not in self._read:
                self._read[run.file] = _read_scenario(run.file)
            scenario = self._read[run.file]
        return list(scenario.expect.events) if scenario else []


def _read_scenario(file: str) -> Scenario | None:
    if not Path(file).is_file():
        return None
    from harness.scenario_loader import load_scenario

    try:
        return load_scenario(file)
    except Exception:  # noqa: BLE001 - an edited or broken file only costs the expectation row
        return None
