"""Running a suite: scenarios x devices -> browser runs -> decoded events -> checks -> SuiteResult.

The CLI (``eventpath run``, ``eventpath demo``) and the pytest plugin both call ``SuiteRunner``, so a
scenario behaves the same in both.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.app_env import app_environment
from harness.app_process import AppProcess
from harness.browser.journey import scenario_journey
from harness.browser.visit import VisitPlan
from harness.checks.base import CheckContext
from harness.checks.registry import run_checks
from harness.engine import Harness
from harness.errors import BadInput, BrowserNotFound
from harness.options import HostMapping, RunOptions
from harness.results import RunList, ScenarioRun, SuiteResult, test_id
from harness.scenario import AppUnderTest, RunConditions, Scenario
from harness.scenario_loader import ScenarioFileError

BUGS_PARAM = "eventpath_bugs"
KeepArtifacts = Literal["on-failure", "always", "never"]  # the demo shop's per-run switch parameter


@dataclass(frozen=True)
class PlannedRun:
    scenario: Scenario
    file: Path | None
    device: str
    bugs: tuple[str, ...] = ()
    conditions: RunConditions = field(default_factory=RunConditions)

    @property
    def test_id(self) -> str:
        return test_id(self.scenario.name, self.device, self.bugs, self.conditions)


def plan_runs(
    entries: Sequence[tuple[Path | None, Scenario]], devices: Sequence[str] | None = None
) -> list[PlannedRun]:
    """One run per scenario, device and combination of conditions (``devices`` overrides every
    scenario's list)."""
    return [
        PlannedRun(scenario, path, device, tuple(scenario.bugs), conditions)
        for path, scenario in entries
        for device in (devices or scenario.devices)
        for conditions in scenario.conditions.expand()
    ]


def ad_url_for(planned: PlannedRun) -> str:
    url = planned.scenario.ad_click.build_url()
    if planned.bugs:
        parts = urlsplit(url)
        query = [*parse_qsl(parts.query, keep_blank_values=True), (BUGS_PARAM, ",".join(planned.bugs))]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return url


def _merged_mappings(runs: Sequence[PlannedRun], extra: Sequence[HostMapping]) -> list[HostMapping]:
    merged: dict[str, HostMapping] = {m.host: m for m in extra}
    for planned in runs:
        for mapping in planned.scenario.resolve:
            known = merged.get(mapping.host)
            if known is not None and known != mapping:
                raise BadInput(
                    f"scenario {planned.scenario.name!r}: resolve {mapping} conflicts with {known} "
                    "in another scenario of this suite; run them separately"
                )
            merged[mapping.host] = mapping
    return list(merged.values())


class SuiteSession:
    """A started harness (and the demo shop, once a scenario asks for it) that runs planned runs.

    The CLI uses one per suite; the pytest plugin keeps one per test session (per xdist worker).
    """

    def __init__(
        self, options: RunOptions, *, report_dir: Path | None = None, keep_artifacts: KeepArtifacts = "on-failure"
    ) -> None:
        self.options = options
        self.report_dir = report_dir
        self.keep_artifacts = keep_artifacts
        self._stack = ExitStack()
        self.harness: Harness | None = None
        self.demo_shop: object | None = None
        self._apps: list[AppUnderTest] = []
        self._prepare_lock = threading.Lock()  # parallel runs prepare the demo shop and apps once

    def __enter__(self) -> SuiteSession:
        self.harness = self._stack.enter_context(Harness(self.options))
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        self.harness = None

    def harness_for(self, planned: PlannedRun) -> Harness:
        """The started harness, with the demo shop and the scenario's host mappings ready for ``planned``."""
        with self._prepare_lock:
            return self._prepare(planned)

    def _prepare(self, planned: PlannedRun) -> Harness:
        if self.harness is None:
            self.__enter__()
        assert self.harness is not None and self.harness.proxy is not None
        try:
            self.harness.check_device(planned.device)
        except BadInput as exc:
            if planned.file is not None and planned.device in planned.scenario.devices:
                raise ScenarioFileError(planned.file, None, "devices", str(exc)) from None
            raise
        if planned.scenario.demo and self.demo_shop is None:
            from harness.demo.server import DemoShop  # the demo is only started when asked for

            shop = DemoShop(server_events_proxy=self.harness.proxy.server_url, ca_file=str(self.harness.proxy.ca.cert_path))
            self.demo_shop = self._stack.enter_context(shop)
            self.harness.proxy.add_mappings(shop.host_mappings())
        if planned.scenario.resolve:
            current = self.harness.proxy.resolve
            self.harness.proxy.add_mappings(_merged_mappings([planned], current))
        app = planned.scenario.app
        if app is not None and app not in self._apps:
            self._apps.append(app)
            self._stack.enter_context(AppProcess(app, self.app_environment(), log_path=self._app_log(len(self._apps))))
        return self.harness

    def app_environment(self) -> dict[str, str]:
        """The environment that routes a backend's outgoing HTTPS through this session's proxy."""
        assert self.harness is not None and self.harness.proxy is not None
        proxy = self.harness.proxy
        return app_environment(proxy.server_url, proxy.ca.cert_path, proxy.confdir / "app-env")

    def _app_log(self, number: int) -> Path | None:
        return self.report_dir / f"app-{number}.log" if self.report_dir is not None else None

    def run_one(self, planned: PlannedRun) -> ScenarioRun:
        harness = self.harness_for(planned)
        began = time.monotonic()
        ad_url = ad_url_for(planned)
        run_token = next_run_token()
        steps = planned.scenario.steps
        journey = scenario_journey(steps, run_token, harness.options.navigation_timeout_ms) if steps else None
        artifacts_dir = None
        if self.report_dir is not None and self.keep_artifacts != "never":
            artifacts_dir = self.report_dir / "runs" / _slug(planned.test_id)
        plan = VisitPlan(
            journey=journey,
            truth=planned.scenario.truth,
            truth_base=planned.file.parent if planned.file else None,
            artifacts_dir=artifacts_dir,
            conditions=planned.conditions,
            consent_selectors=planned.scenario.consent_selectors,
        )
        result = harness.visit(ad_url, device=planned.device, plan=plan)
        outcome = run_checks(
            CheckContext(
                scenario=planned.scenario,
                result=result,
                ad_url=ad_url,
                conditions=planned.conditions,
                scenario_file=planned.file,
            )
        )
        artifacts = self._kept_artifacts(result.capture.artifacts, passed=not outcome.failures)
        return ScenarioRun(
            scenario=planned.scenario.name,
            file=str(planned.file) if planned.file else None,
            device=planned.device,
            bugs=list(planned.bugs),
            conditions=planned.conditions,
            ad_url=ad_url,
            result=result,
            failures=outcome.failures,
            checks_run=outcome.checks_run,
            duration_s=time.monotonic() - began,
            truth=result.capture.truth,
            artifacts=artifacts,
        )

    def _kept_artifacts(self, produced: dict[str, str], passed: bool) -> dict[str, str]:
        """Artifacts relative to the report folder; a passed run keeps only its screenshot by default."""
        kept: dict[str, str] = {}
        for name, location in produced.items():
            path = Path(location)
            if passed and self.keep_artifacts == "on-failure" and name != "screenshot":
                path.unlink(missing_ok=True)
                continue
            if self.report_dir is not None:
                kept[name] = path.relative_to(self.report_dir).as_posix()
        return kept


_token_lock = threading.Lock()
_last_token = 0


def next_run_token() -> str:
    """A token for ``{run}`` in typed values that no other run of this process gets: parallel runs start
    in the same millisecond, and two runs typing one email would claim each other's server events."""
    global _last_token
    with _token_lock:
        _last_token = max(_last_token + 1, int(time.time() * 1000) % 10**8)
        return f"{_last_token:08d}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120]


ProgressCallback = Callable[[PlannedRun, ScenarioRun], None]


@dataclass
class SuiteRunner:
    options: RunOptions = field(default_factory=RunOptions)
    progress: ProgressCallback | None = None
    report_dir: Path | None = None
    keep_artifacts: KeepArtifacts = "on-failure"
    on_start: Callable[[SuiteSession], None] | None = None  # called once the proxy is up
    # Runs in flight at once: one browser, a fresh context per run, one proxy (each run has a proxy port
    # of its own, so parallel runs never share a hit).
    jobs: int = 1

    def run(self, runs: Sequence[PlannedRun]) -> SuiteResult:
        """Run every planned run; results keep the plan's order. Conflicting host mappings stop the suite
        before it starts."""
        _merged_mappings(runs, self.options.resolve)
        started = time.time()
        printing = threading.Lock()
        with SuiteSession(self.options, report_dir=self.report_dir, keep_artifacts=self.keep_artifacts) as session:
            if self.on_start:
                self.on_start(session)
            for planned in runs:  # demo shop, apps, mappings: ready before runs go in parallel
                session.harness_for(planned)

            finished = RunList()  # each run handed in as it ends: a long suite's memory stays flat

            def one(position: int, planned: PlannedRun) -> None:
                outcome = session.run_one(planned)
                finished.put(position, outcome)
                if self.progress:
                    with printing:
                        self.progress(planned, outcome)

            with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
                interrupted, aborted = _gather([pool.submit(one, *job) for job in enumerate(runs)])
            assert session.harness is not None and session.harness.proxy is not None
            unattributed = session.harness.proxy.unattributed()
        return SuiteResult(
            started_at=started,
            finished_at=time.time(),
            runs=finished,
            unattributed=unattributed,
            interrupted=interrupted,
            aborted=aborted,
            planned_runs=len(runs),
        )


def _gather(futures: list[Future[None]]) -> tuple[bool, str | None]:
    """Wait for every run: whether Ctrl-C cut the suite short, and the error that stopped it.

    On Ctrl-C the runs not started are dropped and those in flight are waited for (each ends within its own
    caps), so the report holds every run that was had; a second Ctrl-C stops at once. A browser that cannot
    be started again (a remote grid gone) stops the suite the same way: every run after would fail on it."""
    aborted: str | None = None
    try:
        for future in futures:
            if future.cancelled():
                continue
            try:
                future.result()
            except CancelledError:
                continue  # cancelled by an earlier run's abort while this loop waited
            except BrowserNotFound as exc:
                aborted = aborted or str(exc)
                for pending in futures:
                    pending.cancel()
        return False, aborted
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        for future in futures:
            if not future.cancelled():
                future.exception()  # waits for a run in flight; its result is handed in already
        return True, aborted


def shard(runs: Sequence[PlannedRun], index: int, total: int, durations: dict[str, float] | None = None) -> list[PlannedRun]:
    """Shard ``index`` (1-based) of ``total``: every run lands in exactly one shard.

    With known durations (``test_id`` -> seconds, as ``--store-durations`` writes them) runs are packed
    longest first onto the least loaded shard; unknown runs count as the mean. Without, round robin."""
    if not 1 <= index <= total:
        raise BadInput(f"--shard {index}/{total}: the shard number must be between 1 and {total}")
    if not durations:
        return [r for position, r in enumerate(runs) if position % total == index - 1]
    default = sum(durations.values()) / len(durations)
    load = [0.0] * total
    assigned: dict[str, int] = {}
    for planned in sorted(runs, key=lambda r: (-durations.get(r.test_id, default), r.test_id)):
        target = min(range(total), key=lambda i: (load[i], i))
        load[target] += durations.get(planned.test_id, default)
        assigned[planned.test_id] = target
    return [r for r in runs if assigned[r.test_id] == index - 1]


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or int(match[2]) < 1:
        raise BadInput(f"--shard {text!r}: expected I/N, e.g. 1/4")
    return int(match[1]), int(match[2])
