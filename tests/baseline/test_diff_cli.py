"""``eventpath diff A B`` on results.json files written with SuiteResult.model_dump_json()."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.cli import COMMANDS, main
from harness.cli import diff as diff_command
from harness.errors import EventpathError
from harness.results import SuiteResult
from harness.scenario import RunConditions
from tests.baseline.runs import build_run, scenario_run, suite_of


def _write(path: Path, suite: SuiteResult) -> Path:
    path.write_text(suite.model_dump_json(), encoding="utf-8")
    return path


def _diff(*argv: str) -> int:
    """Through ``eventpath`` when the command is wired in, else through the module's own protocol."""
    if "diff" in COMMANDS:
        return main(["diff", *argv])
    parser = argparse.ArgumentParser(prog="eventpath diff")
    diff_command.add_arguments(parser)
    try:
        return diff_command.run(parser.parse_args(list(argv)))
    except EventpathError as exc:  # what harness.cli.main does with it
        print(f"eventpath: error: {exc}")
        return exc.exit_code


def test_no_drift_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _write(tmp_path / "a.json", suite_of(scenario_run(build_run(seed=1), None)))
    after = _write(tmp_path / "b.json", suite_of(scenario_run(build_run(seed=2), None)))
    assert _diff(str(before), str(after)) == 0
    assert capsys.readouterr().out == "shop-purchase[Pixel 7]: no drift\n"


def test_drift_is_printed_per_run_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reject = RunConditions(consent="reject")
    before = suite_of(
        scenario_run(build_run(seed=1), None), scenario_run(build_run(seed=3), None, conditions=reject)
    )
    after = suite_of(
        scenario_run(build_run(seed=2, meta_purchase=False, gtm_build="45je5160v9116948458za200"), None),
        scenario_run(build_run(seed=4), None, conditions=reject),
    )
    code = _diff(str(_write(tmp_path / "a.json", before)), str(_write(tmp_path / "b.json", after)))
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out == [
        "shop-purchase[Pixel 7]: 1 drift",
        "  note container_changed  container.gtm_build  "
        "container build 45je5150v9116948458za200 -> 45je5160v9116948458za200",
        "  event_disappeared  meta_pixel.Purchase  "
        "after container build 45je5150v9116948458za200 -> 45je5160v9116948458za200, "
        "meta_pixel Purchase disappeared",
        "shop-purchase[Pixel 7][consent=reject]: no drift",
    ]


def test_noise_option_and_runs_in_one_file_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _write(tmp_path / "a.json", suite_of(scenario_run(build_run(seed=1), None)))
    after_suite = suite_of(
        scenario_run(build_run(seed=2, meta_purchase=False), None),
        scenario_run(build_run(seed=2, device="iPhone 13"), None),
    )
    after = _write(tmp_path / "b.json", after_suite)
    assert _diff(str(before), str(after), "--noise", "meta_pixel.*") == 1
    assert capsys.readouterr().out.splitlines() == [
        "shop-purchase[Pixel 7]: no drift",
        "shop-purchase[iPhone 13]: only in the second file",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a results.json"),
        ('{"runs": "nope"}', "not a results.json"),
    ],
)
def test_bad_input_is_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    good = _write(tmp_path / "a.json", suite_of(scenario_run(build_run(seed=1), None)))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    assert _diff(str(good), str(bad)) == 2
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0] and str(bad) in lines[0]
