"""The results of a suite: one documented schema that ``--json``, reports, baselines and other tools read.

``results.json`` is ``SuiteResult`` as JSON (``schema_version`` 1). Bodies are base64 in JSON.
"""

from __future__ import annotations

import pickle
import threading
import zlib
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, cast, overload

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, computed_field
from pydantic_core import core_schema

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


# Runs a RunList keeps as objects; older ones are stored packed. A demo run is ~0.6 MB of objects and
# ~18 KB packed (a real site's run with its documents, several MB): a suite's memory stays flat. Few, since
# a reader takes runs one at a time (and rebuilding one takes ~1.5 ms): 4 instead of 16 took 5.5 MB off a
# worker's peak over the benchmark's 40 demo runs, and would take tens off real sites' runs.
HOT_RUNS = 4


class RunList(Sequence[ScenarioRun]):
    """A suite's runs in plan order, held so that a long suite's memory does not grow with its length.

    The last ``HOT_RUNS`` runs handed in stay as they are; older ones are pickled and compressed, and
    rebuilt on each access (~1.5 ms for a demo run). Runs are read-only once handed in: a change made to
    a run read back from a packed one is not kept. ``put`` is thread-safe: parallel runs hand theirs in
    as they finish, each at its place in the plan."""

    def __init__(self, runs: Iterable[ScenarioRun] = (), *, hot: int = HOT_RUNS) -> None:
        self._hot_limit = hot
        self._held: dict[int, ScenarioRun | bytes] = {}  # plan position -> the run, or packed
        self._hot: deque[int] = deque()  # positions held as objects, oldest first
        self._order: list[int] | None = []  # positions sorted; None when a put made it stale
        self._end = 0  # one past the last position held
        self._lock = threading.Lock()
        for position, run in enumerate(runs):
            self.put(position, run)

    def put(self, position: int, run: ScenarioRun) -> None:
        """Hold ``run`` at ``position`` in the plan (a position given twice keeps the later run)."""
        with self._lock:
            if position in self._held and isinstance(self._held[position], ScenarioRun):
                self._hot.remove(position)
            self._held[position] = run
            self._end = max(self._end, position + 1)
            self._hot.append(position)
            self._order = None
            while len(self._hot) > self._hot_limit:
                oldest = self._hot.popleft()
                try:
                    self._held[oldest] = _pack(cast(ScenarioRun, self._held[oldest]))  # hot: held as an object
                except Exception:  # noqa: BLE001 - a plug-in's object that cannot be pickled: keep it as it is
                    continue

    def append(self, run: ScenarioRun) -> None:
        """Hold ``run`` after every run held so far."""
        with self._lock:
            position = self._end
        self.put(position, run)

    def __len__(self) -> int:
        return len(self._held)

    @overload
    def __getitem__(self, index: int) -> ScenarioRun: ...
    @overload
    def __getitem__(self, index: slice) -> list[ScenarioRun]: ...
    def __getitem__(self, index: int | slice) -> ScenarioRun | list[ScenarioRun]:
        order = self._positions()
        if isinstance(index, slice):
            return [self._run_at(position) for position in order[index]]
        return self._run_at(order[index])

    def __iter__(self) -> Iterator[ScenarioRun]:
        for position in self._positions():
            yield self._run_at(position)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RunList({len(self)} runs, {len(self._hot)} held as objects)"

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle: everything but the lock
        with self._lock:
            return {name: value for name, value in vars(self).items() if name != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._lock = threading.Lock()

    def _positions(self) -> list[int]:
        with self._lock:
            if self._order is None:
                self._order = sorted(self._held)
            return self._order

    def _run_at(self, position: int) -> ScenarioRun:
        held = self._held[position]
        return held if isinstance(held, ScenarioRun) else _unpack(held)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Validates like ``list[ScenarioRun]`` (a RunList as it is), serialises as that list."""
        as_list = handler.generate_schema(list[ScenarioRun])
        from_list = core_schema.no_info_after_validator_function(cls, as_list)
        return core_schema.json_or_python_schema(
            json_schema=from_list,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_list]),
            serialization=core_schema.plain_serializer_function_ser_schema(list, return_schema=as_list),
        )


def _pack(run: ScenarioRun) -> bytes:
    """Pickle, not JSON: exact (a header's undecodable bytes stay lone surrogates) and faster both ways."""
    return zlib.compress(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _unpack(packed: bytes) -> ScenarioRun:
    run = pickle.loads(zlib.decompress(packed))  # noqa: S301 - packed by this process, from its own runs
    assert isinstance(run, ScenarioRun)
    return run


class SuiteResult(_Model):
    schema_version: Literal[1] = 1
    eventpath_version: str = __version__
    started_at: float
    finished_at: float
    runs: RunList = Field(default_factory=RunList)
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
