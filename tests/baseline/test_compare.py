"""compare(): every drift kind, with its path and one-line message, and known-noise rules."""

from __future__ import annotations

from typing import Any

from harness.baseline import Drift, build_section, compare
from tests.baseline.runs import build_run

BASELINE = build_section(build_run(seed=1))


def _drifts(noise: list[str] | None = None, **changes: Any) -> list[Drift]:
    return compare(BASELINE, build_section(build_run(seed=2, **changes)), noise or [])


def _one(drifts: list[Drift]) -> Drift:
    assert len(drifts) == 1, [d.message for d in drifts]
    return drifts[0]


def test_an_unchanged_site_has_no_drift() -> None:
    assert _drifts() == []


def test_event_disappeared() -> None:
    drift = _one(_drifts(meta_purchase=False))
    assert (drift.kind, drift.path) == ("event_disappeared", "meta_pixel.Purchase")
    assert drift.message == "meta_pixel Purchase disappeared"


def test_event_appeared_as_a_repeat_and_as_a_new_vendor() -> None:
    drift = _one(_drifts(ga4_purchases=2))
    assert drift.kind == "event_appeared"
    assert (drift.vendor, drift.event, drift.occurrence) == ("ga4", "purchase", 2)
    assert drift.message == "ga4 purchase fired 2 times, baseline 1"

    without_tiktok = build_section(build_run(seed=1, tiktok=False))
    drift = _one(compare(without_tiktok, build_section(build_run(seed=2)), []))
    assert (
        drift.message == "tiktok_pixel CompletePayment appeared (vendor tiktok_pixel is not in the baseline)"
    )


def test_value_became_null_names_the_lost_field() -> None:
    drift = _one(_drifts(ga4_transaction_id=False))
    assert (drift.kind, drift.path) == ("value_became_null", "ga4.purchase.transaction_id")
    assert drift.message == "ga4 purchase lost transaction_id"
    assert (drift.before, drift.after) == ("string", None)

    drift = _one(_drifts(ga4_value=None))
    assert (drift.path, drift.message) == ("ga4.purchase.value", "ga4 purchase lost value")


def test_container_change_is_the_context_of_the_message() -> None:
    drifts = _drifts(gtm_build="45je5160v9116948458za200", ga4_transaction_id=False)
    container = [d for d in drifts if d.kind == "container_changed"]
    lost = [d for d in drifts if d.kind == "value_became_null"]
    assert container[0].informational
    assert container[0].message == "container build 45je5150v9116948458za200 -> 45je5160v9116948458za200"
    assert lost[0].message == (
        "after container build 45je5150v9116948458za200 -> 45je5160v9116948458za200, "
        "ga4 purchase lost transaction_id"
    )


def test_container_version_change() -> None:
    old = build_section(build_run(seed=1, container_version="41"))
    drift = _one(compare(old, build_section(build_run(seed=2, container_version="42")), []))
    assert (drift.kind, drift.path) == ("container_changed", "container.containers.GTM-ABC123")
    assert drift.message == "container GTM-ABC123 version 41 -> 42"


def test_param_added_removed_and_type_changed() -> None:
    old = build_section(build_run(seed=1, ga4_extra="&ep.coupon=SUMMER&ep.debug=1"))
    new = build_section(build_run(seed=2, ga4_extra="&epn.coupon=10&ep.list_name=Tents"))
    by_kind = {d.kind: d for d in compare(old, new, [])}
    assert set(by_kind) == {"param_added", "param_removed", "param_type_changed"}
    assert by_kind["param_added"].path == "ga4.purchase.params.event_params.list_name"
    assert by_kind["param_added"].message == "ga4 purchase gained event_params.list_name (string)"
    assert by_kind["param_removed"].message == "ga4 purchase lost event_params.debug"
    assert (
        by_kind["param_type_changed"].message
        == "ga4 purchase event_params.coupon changed type string -> number"
    )


def test_value_changed_for_stable_values() -> None:
    drifts = _drifts(currency="USD")
    assert {d.kind for d in drifts} == {"value_changed"}
    assert "ga4 purchase currency changed EUR -> USD" in [d.message for d in drifts]
    assert len(drifts) == 5  # every purchase of every vendor says it

    moved = [d for d in _drifts(thank_you_path="/checkout") if d.vendor == "meta_pixel"]
    assert [(d.kind, d.path, d.message) for d in moved] == [
        (
            "value_changed",
            "meta_pixel.Purchase.page",
            "meta_pixel Purchase page changed /checkout/thank-you -> /checkout",
        )
    ]


def test_user_data_form_and_consent_changes() -> None:
    hashed = "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d"  # sha256("jane@example.com")
    old = build_section(build_run(seed=1, meta_email=hashed))
    drift = _one(compare(old, build_section(build_run(seed=2, meta_email="jane@example.com")), []))
    assert (drift.kind, drift.path) == ("value_changed", "meta_pixel.Purchase.user_data.em")
    assert drift.message == "meta_pixel Purchase user data em changed sha256 -> raw"

    drift = _one(compare(build_section(build_run(seed=1)), old, []))
    assert (drift.kind, drift.message) == ("param_added", "meta_pixel Purchase user data gained em (sha256)")

    denied = [d for d in _drifts(ga4_gcs="G101") if d.event == "purchase"]
    assert [(d.kind, d.path, d.message) for d in denied] == [
        (
            "value_changed",
            "ga4.purchase.consent.ad_storage",
            "ga4 purchase consent ad_storage changed granted -> denied",
        )
    ]


def test_hops_added_and_removed() -> None:
    added = _one(_drifts(hops=("/go", "/de/", "/")))
    assert (added.kind, added.path) == ("hop_added", "chain.2")
    assert added.message == "redirect chain gained hop 2 (http shop.example/de/)"
    removed = _one(_drifts(hops=("/",)))
    assert (removed.kind, removed.path) == ("hop_removed", "chain.1")
    assert removed.message == "redirect chain lost hop 1 (http shop.example/go)"


def test_click_id_lost_on_the_way_to_the_landing_url() -> None:
    drifts = _drifts(drop_gclid=True)
    lost = [d for d in drifts if d.kind == "click_id_lost"]
    assert [d.path for d in lost] == ["click_ids.gclid", "ga4.page_view.click_ids.gclid"]
    assert lost[0].message == "gclid no longer reaches the landing URL"
    assert lost[1].message == "ga4 page_view lost click ID gclid"


def test_cookies_lost_and_added() -> None:
    drifts = _drifts(cookies=("_ga", "_fbc", "_fbp", "_ttp"))
    assert [(d.kind, d.path, d.message) for d in drifts] == [
        ("cookie_lost", "cookies._gcl_aw", "cookie _gcl_aw is no longer set"),
        ("cookie_added", "cookies._ttp", "cookie _ttp is now set"),
    ]


def test_noise_rules_are_globs_over_drift_paths() -> None:
    noisy = dict(ga4_extra="&ep.debug=1", cookies=("_ga", "_gcl_aw", "_fbc", "_fbp", "_hjSession_123"))
    assert len(_drifts(**noisy)) == 2
    assert _drifts(["ga4.*.params.event_params.debug", "cookies._hj*"], **noisy) == []
    # A rule only hides what it matches.
    assert [d.path for d in _drifts(["cookies._hj*"], **noisy)] == ["ga4.purchase.params.event_params.debug"]
