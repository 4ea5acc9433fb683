"""Sharding a suite over machines: every run lands in exactly one shard, balanced by known durations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.demo_suite import plan_demo
from harness.errors import BadInput
from harness.runner import parse_shard, shard
from harness.scenario_loader import load_all

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def runs():  # type: ignore[no-untyped-def]
    planned, _ = plan_demo(load_all([SCENARIOS]))
    return planned


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_every_run_lands_in_exactly_one_shard(runs, total: int) -> None:  # type: ignore[no-untyped-def]
    shards = [shard(runs, i, total) for i in range(1, total + 1)]
    ids = [r.test_id for part in shards for r in part]
    assert sorted(ids) == sorted(r.test_id for r in runs) and len(ids) == len(set(ids))


def test_known_durations_balance_the_shards(runs) -> None:  # type: ignore[no-untyped-def]
    durations = {r.test_id: (9.0 if "slow_page" in r.test_id else 1.0) for r in runs}
    parts = [shard(runs, i, 2, durations) for i in (1, 2)]
    loads = [sum(durations[r.test_id] for r in part) for part in parts]
    assert sorted(r.test_id for p in parts for r in p) == sorted(durations)
    assert abs(loads[0] - loads[1]) <= 9.0, loads
    slow = [[r for r in p if "slow_page" in r.test_id] for p in parts]
    assert all(len(s) == 1 for s in slow), "the two slow runs go to different shards"


def test_bad_shard_arguments_are_one_clear_error(runs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput, match="between 1 and 3"):
        shard(runs, 4, 3)
    with pytest.raises(BadInput, match="expected I/N"):
        parse_shard("2 of 3")


def test_the_cli_lists_a_shard_without_starting_a_browser(runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({"demo-purchase[Pixel 7]": 3.0}), encoding="utf-8")
    outputs = []
    for index in (1, 2):
        done = subprocess.run(
            ["eventpath", "demo", str(SCENARIOS), "--list", "--shard", f"{index}/2", "--durations", str(durations)],
            capture_output=True, text=True, timeout=60, env={"EVENTPATH_BROWSER": "/nonexistent", "PATH": __import__("os").environ["PATH"]},
        )
        assert done.returncode == 0, done.stderr
        outputs.append(set(done.stdout.split("\n")) - {""})
    assert outputs[0].isdisjoint(outputs[1]) and outputs[0] | outputs[1] == {r.test_id for r in runs}
    bad = subprocess.run(["eventpath", "run", str(SCENARIOS), "--list", "--shard", "3/2"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "between 1 and 2" in bad.stderr and "Traceback" not in bad.stderr


def test_parallel_runs_never_share_a_run_token() -> None:
    """Runs started in the same millisecond type different emails (qa+{run}@...), so neither claims the
    other's server events by the email's hash."""
    from concurrent.futures import ThreadPoolExecutor

    from harness.runner import next_run_token

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda _: next_run_token(), range(400)))
    assert len(set(tokens)) == len(tokens)
    assert all(t.isdigit() and len(t) >= 8 for t in tokens)
