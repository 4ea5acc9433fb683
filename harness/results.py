"""The results of a suite: one documented schema that ``--json``, reports, baselines and other tools read.

``results.json`` is ``SuiteResult`` as JSON (``schema_version`` 1). Bodies are base64 in JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from harness import __version__
from harness.models import BackendTruth, CapturedRequest, CheckFailure, RunResult, TruthOrder  # noqa: F401
from harness.scenario import RunConditions


class _Model(BaseModel):
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", extra="forbid")


def test_id(scenario: str, device: str, bugs: Sequence[str] = (), conditions: RunConditions | None = None) -> str:
    """``name[device]``, then ``[bug+bug]`` and ``[condition=value,...]`` when there are any."""
    out = f"{scenario}[{device}]"
    if bugs:
        out += f"[{'+'.join(bugs)}]"
    label = conditions.label() if conditions else ""
    return out + (f"[{label}]" if label else "")


class ScenarioRun(_Model):
    """One scenario on one device: the run, and what the checks found."""

    scenario: str
    file: str | None = None
    device: str
    bugs: list[str] = Field(default_factory=list)  # demo shop switches that were on
    conditions: RunConditions = Field(default_factory=RunConditions)
    ad_url: str
    result: RunResult
    failures: list[CheckFailure] = Field(default_factory=list)
    checks_run: list[str] = Field(default_factory=list)
    duration_s: float = 0.0
    truth: BackendTruth | None = None
    # Replay kit and screenshot: name ("trace", "har", "flows", "screenshot") -> path relative to the report.
    artifacts: dict[str, str] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def test_id(self) -> str:
        return test_id(self.scenario, self.device, self.bugs, self.conditions)


class SuiteResult(_Model):
    schema_version: Literal[1] = 1
    eventpath_version: str = __version__
    started_at: float
    finished_at: float
    runs: list[ScenarioRun] = Field(default_factory=list)
    unattributed: list[CapturedRequest] = Field(default_factory=list)
    # Cut short, by Ctrl-C or by an error no later run could escape (``aborted`` says which): ``runs`` holds
    # those that finished, ``planned_runs`` how many there were to be.
    interrupted: bool = False
    aborted: str | None = None
    planned_runs: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, int]:
        passed = sum(1 for r in self.runs if r.passed)
        return {"runs": len(self.runs), "passed": passed, "failed": len(self.runs) - passed}

    @property
    def cut_short(self) -> bool:
        """Stopped before its last run (Ctrl-C, or ``aborted``)."""
        return self.interrupted or self.aborted is not None

    @property
    def passed(self) -> bool:
        return not self.cut_short and all(r.passed for r in self.runs)

    def root_causes(self) -> Counter[str]:
        return Counter(f.root_cause for r in self.runs for f in r.failures)
