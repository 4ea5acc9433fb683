"""The pytest plugin (entry point ``pytest11``).

- ``pytest scenarios/`` collects every ``*.scenario.yaml`` as a file of items, one per device; a failed
  item prints the explained report (root cause, fix direction, evidence), not a traceback.
- The ``event_path`` fixture lets a Python test drive a run and assert on its events::

      def test_purchase(event_path):
          run = event_path.visit("https://ads.example/click?gclid=...", device="Pixel 7")
          assert len(run.events(vendor="meta_pixel", event="Purchase")) == 1

One harness per test session (per xdist worker) serves both; every run has its own browser context and
proxy port, so no hit is attributed to the wrong test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.browser.journey import scenario_journey
from harness.console import explain_run
from harness.errors import BrowserNotFound, EventpathError
from harness.models import CookieRecord, DecodedEvent, RedirectChain, RunResult
from harness.options import HostMapping, RunOptions
from harness.results import RunList, ScenarioRun, SuiteResult
from harness.runner import PlannedRun, SuiteSession, plan_runs
from harness.scenario import Scenario, Step
from harness.scenario_loader import ScenarioFileError, is_scenario_file, load_scenario

_SESSION = pytest.StashKey["SuiteSession"]()
_RESULTS = pytest.StashKey[RunList]()  # the scenario items run so far, held as a suite holds them
_REPORT = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventpath", "eventpath: test the event path of paid-media tracking")
    group.addoption(
        "--eventpath-device", action="append", default=[], metavar="NAME",
        help="run every scenario on this Playwright device instead of its own list; repeatable",
    )
    group.addoption(
        "--eventpath-resolve", action="append", default=[], metavar="HOST=ADDR:PORT",
        help="send HOST (http and https) to a plain-HTTP server; repeatable",
    )
    group.addoption("--eventpath-live", action="store_true", help="forward tag hits instead of answering them locally")
    group.addoption("--eventpath-browser", default=None, metavar="PATH", help="Chromium binary to launch")
    group.addoption("--eventpath-report", default=None, metavar="DIR", help="write the results of scenario items here")


def _options(config: pytest.Config) -> RunOptions:
    try:
        return RunOptions(
            resolve=[HostMapping.parse(m) for m in config.getoption("eventpath_resolve")],
            live=config.getoption("eventpath_live"),
            browser_path=config.getoption("eventpath_browser"),
        )
    except EventpathError as exc:
        raise pytest.UsageError(str(exc)) from None


def _session(config: pytest.Config) -> SuiteSession:
    """The session's harness, started on first use (a run that collects no scenario starts no browser)."""
    if _SESSION not in config.stash:
        config.stash[_SESSION] = SuiteSession(_options(config))
    return config.stash[_SESSION]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = RunList()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Scenario items ran: write their report (``--eventpath-report DIR`` or ``reports/<timestamp>``)."""
    config = session.config
    runs = config.stash.get(_RESULTS, RunList())
    if not runs:
        return
    from harness.report import default_report_dir, write_report

    # xdist gives its workers ``workerinput``; the environment variable would also mark a pytest run
    # started inside a worker (a plugin's own tests) as a worker.
    workerinput = getattr(config, "workerinput", None)
    worker = workerinput.get("workerid") if isinstance(workerinput, dict) else None
    chosen = config.getoption("eventpath_report")
    if chosen:
        out = Path(chosen) / worker if worker else Path(chosen)
    else:
        out = default_report_dir(Path(config.rootpath) / "reports")
    suite = SuiteResult(started_at=min(r.result.capture.started_at for r in runs), finished_at=time.time(), runs=runs)
    try:
        config.stash[_REPORT] = str(write_report(suite, out).html)
    except OSError as exc:  # a full disk must not turn the test results into an internal error
        config.stash[_REPORT] = f"NOT WRITTEN: cannot write {exc.filename or out}: {exc.strerror or exc}"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if session.exitstatus == 0 else session.exitstatus


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _REPORT in config.stash:
        terminalreporter.write_line(f"eventpath report: {config.stash[_REPORT]}")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    def __init__(self, run: ScenarioRun) -> None:
        super().__init__(run.test_id)
        self.run = run


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioFileError as exc:
            raise self.CollectError(str(exc)) from None
        devices = self.config.getoption("eventpath_device") or None
        for planned in plan_runs([(self.path, scenario)], devices):
            yield ScenarioItem.from_parent(self, name=planned.test_id, planned=planned)


class ScenarioItem(pytest.Item):
    def __init__(self, *, planned: PlannedRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned

    def runtest(self) -> None:
        try:
            run = _session(self.config).run_one(self.planned)
        except BrowserNotFound as exc:  # every scenario after would fail on it, each after a timeout
            self.session.shouldstop = f"eventpath: the browser could not be started again: {exc}"
            raise
        self.config.stash[_RESULTS].append(run)
        self.user_properties.append(("eventpath_run_id", run.result.run_id))
        if not run.passed:
            raise ScenarioFailed(run)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return explain_run(excinfo.value.run)
        if isinstance(excinfo.value, EventpathError):
            return f"eventpath: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


# --- fixtures for Python tests ---------------------------------------------------------------------


class Visit:
    """One run seen from a test: its decoded events, chain and cookies."""

    def __init__(self, result: RunResult) -> None:
        self.result = result

    def events(self, vendor: str | None = None, event: str | None = None) -> list[DecodedEvent]:
        return self.result.select(vendor, event)

    @property
    def chain(self) -> RedirectChain:
        return self.result.capture.chain

    @property
    def cookies(self) -> list[CookieRecord]:
        return self.result.capture.cookies

    @property
    def final_url(self) -> str:
        return self.result.capture.final_url


class EventPath:
    """The ``event_path`` fixture: ``visit(url, device=..., steps=[...])`` runs one journey."""

    def __init__(self, session: SuiteSession) -> None:
        self._session = session

    def visit(self, url: str, *, device: str | None = None, steps: Sequence[Step | dict[str, Any]] = ()) -> Visit:
        scenario = Scenario.model_validate(
            {"name": "visit", "ad_click": {"url": url, "click_ids": {}}, "steps": list(steps)}
        )
        planned = PlannedRun(scenario, None, device or self._session.options.device)
        harness = self._session.harness_for(planned)
        journey = scenario_journey(scenario.steps, "visit", harness.options.navigation_timeout_ms) if steps else None
        return Visit(harness.visit(url, device=planned.device, journey=journey))

    def use_demo_shop(self) -> list[HostMapping]:
        """Start the embedded demo shop (once) and map its hosts; returns the mappings."""
        planned = PlannedRun(
            Scenario.model_validate({"name": "demo", "demo": True, "ad_click": {"url": "https://ads.demo.test/"}}),
            None,
            self._session.options.device,
        )
        self._session.harness_for(planned)
        shop = self._session.demo_shop
        return list(shop.host_mappings()) if shop is not None else []  # type: ignore[attr-defined]


@pytest.fixture
def event_path(pytestconfig: pytest.Config) -> EventPath:
    return EventPath(_session(pytestconfig))
