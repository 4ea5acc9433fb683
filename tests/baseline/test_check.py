"""The baseline_drift check on a scenario file with its baseline beside it."""

from __future__ import annotations

from pathlib import Path

from harness.baseline import Drift, baseline_path, update_baselines
from harness.checks.base import BUILTIN_CHECKS, CheckContext
from harness.checks.baseline import baseline_drift, drift_root_cause
from harness.models import CheckFailure, RunResult
from harness.scenario import RunConditions
from harness.scenario_loader import load_scenario
from tests.baseline.runs import build_run, scenario_run, suite_of, write_scenario


def _check(
    scenario_file: Path, result: RunResult, conditions: RunConditions | None = None
) -> list[CheckFailure]:
    ctx = CheckContext(
        scenario=load_scenario(scenario_file),
        result=result,
        ad_url=result.capture.start_url,
        conditions=conditions or RunConditions(),
        scenario_file=scenario_file,
    )
    return list(baseline_drift(ctx))


def _accept(scenario_file: Path, result: RunResult) -> None:
    update_baselines(suite_of(scenario_run(result, str(scenario_file))))


def test_registered_as_a_builtin_check() -> None:
    assert "baseline_drift" in [c.name for c in BUILTIN_CHECKS]


def test_no_baseline_file_means_no_failure(scenario_file: Path) -> None:
    assert _check(scenario_file, build_run(seed=2, meta_purchase=False)) == []


def test_an_unchanged_run_passes(scenario_file: Path, baseline_run: RunResult) -> None:
    _accept(scenario_file, baseline_run)
    assert baseline_path(scenario_file).is_file()
    assert _check(scenario_file, build_run(seed=5)) == []


def test_each_drift_is_a_failure_with_evidence_and_a_fix(
    scenario_file: Path, baseline_run: RunResult
) -> None:
    _accept(scenario_file, baseline_run)
    drifted = build_run(
        seed=2, meta_purchase=False, ga4_transaction_id=False, gtm_build="45je5160v9116948458za200"
    )
    failures = {f.title: f for f in _check(scenario_file, drifted)}

    prefix = "after container build 45je5150v9116948458za200 -> 45je5160v9116948458za200, "
    assert set(failures) == {
        prefix + "meta_pixel Purchase disappeared",
        prefix + "ga4 purchase lost transaction_id",
    }
    lost = failures[prefix + "ga4 purchase lost transaction_id"]
    assert lost.check == "baseline_drift"
    assert lost.root_cause == "Missing value"
    assert lost.expected.startswith("ga4.purchase.transaction_id: string as in ")
    assert lost.seen == "ga4.purchase.transaction_id: (absent)"
    purchase = drifted.select("ga4", "purchase")[0]
    assert [e.request_id for e in lost.evidence] == [purchase.request_id]
    assert "--update-baseline" in lost.fix_direction
    assert failures[prefix + "meta_pixel Purchase disappeared"].root_cause == "Missing tag"


def test_a_container_change_alone_is_not_a_failure(scenario_file: Path, baseline_run: RunResult) -> None:
    _accept(scenario_file, baseline_run)
    assert _check(scenario_file, build_run(seed=2, gtm_build="45je5160v9116948458za200")) == []


def test_only_the_section_of_this_device_and_conditions_is_compared(
    scenario_file: Path, baseline_run: RunResult
) -> None:
    _accept(scenario_file, baseline_run)
    assert _check(scenario_file, build_run(seed=2, meta_purchase=False, device="iPhone 13")) == []
    rejected = RunConditions(consent="reject")
    assert _check(scenario_file, build_run(seed=2, meta_purchase=False), rejected) == []


def test_a_run_that_did_not_finish_is_not_compared(scenario_file: Path, baseline_run: RunResult) -> None:
    _accept(scenario_file, baseline_run)
    broken = build_run(seed=2, meta_purchase=False)
    broken.capture.error = "navigation timeout after 15000 ms"
    assert _check(scenario_file, broken) == []


def test_scenario_noise_rules_hide_known_noise(tmp_path: Path, baseline_run: RunResult) -> None:
    scenario_file = write_scenario(tmp_path, noise=["cookies._hj*"])
    _accept(scenario_file, baseline_run)
    noisy = build_run(
        seed=2, cookies=("_ga", "_gcl_aw", "_fbc", "_fbp", "_hjSession_42"), meta_purchase=False
    )
    assert [f.title for f in _check(scenario_file, noisy)] == ["meta_pixel Purchase disappeared"]


def test_an_unreadable_baseline_is_one_run_error(scenario_file: Path) -> None:
    baseline_path(scenario_file).write_text("sections: [not, a, mapping]\n", encoding="utf-8")
    failures = _check(scenario_file, build_run(seed=2))
    assert [f.root_cause for f in failures] == ["Run error"]
    assert "not an eventpath baseline" in failures[0].seen


def _drift(kind: str, path: str, **fields: object) -> Drift:
    return Drift(kind=kind, path=path, message="m", **fields)  # type: ignore[arg-type]


def test_root_cause_mapping_until_event_definition_drift_exists() -> None:
    on_event = {"vendor": "ga4", "event": "purchase", "occurrence": 1}
    assert drift_root_cause(_drift("event_disappeared", "ga4.purchase", **on_event)) == "Missing tag"
    assert drift_root_cause(_drift("value_became_null", "ga4.purchase.value", **on_event)) == "Missing value"
    assert drift_root_cause(_drift("value_became_null", "meta_pixel.Purchase.event_id")) == "Broken dedupe"
    assert drift_root_cause(_drift("click_id_lost", "click_ids.gclid")) == "Dropped parameters in redirects"
    assert drift_root_cause(
        _drift("click_id_lost", "meta_capi.Purchase.click_ids.fbc", vendor="meta_capi")
    ) == ("Missing click IDs")
    assert drift_root_cause(_drift("cookie_lost", "cookies._fbc", before="_fbc")) == "Missing click IDs"
    assert (
        drift_root_cause(_drift("event_appeared", "ga4.purchase", vendor="ga4", occurrence=2))
        == "Duplicate trigger"
    )
    assert (
        drift_root_cause(_drift("value_changed", "meta_pixel.Purchase.user_data.em", after="raw"))
        == "PII in hit"
    )
    assert drift_root_cause(_drift("value_changed", "ga4.purchase.consent.ad_storage", after="denied")) == (
        "Consent sequencing issue"
    )
