"""Building, writing and merging baselines: stable bytes across runs of an unchanged site."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.baseline import (
    baseline_path,
    build_baseline,
    build_section,
    compare,
    read_baseline,
    render_baseline,
    section_key,
    stable_path,
    update_baselines,
    why_not_baselined,
)
from harness.errors import BadInput
from harness.models import RunResult
from harness.scenario import RunConditions
from harness.scenario_loader import discover
from tests.baseline.runs import build_run, scenario_run, suite_of


def _bytes(result: RunResult) -> str:
    return render_baseline(build_baseline(scenario_run(result, "shop-purchase.scenario.yaml")))


def test_two_runs_of_an_unchanged_site_give_identical_bytes() -> None:
    first, second = build_run(seed=1), build_run(seed=2)
    # The runs really differ in their volatile values...
    assert first.capture.requests[1].url != second.capture.requests[1].url
    assert (
        first.select("meta_pixel", "Purchase")[0].event_id
        != second.select("meta_pixel", "Purchase")[0].event_id
    )
    # ...and their baselines are the same bytes.
    assert _bytes(first) == _bytes(second)


def test_no_volatile_value_reaches_the_file() -> None:
    run = build_run(seed=7)
    text = _bytes(run)
    purchase = run.select("meta_pixel", "Purchase")[0]
    volatile = [
        purchase.event_id,
        purchase.transaction_id,
        "1183042228",  # event ID, order ID, GA4 client ID
        run.capture.chain.params[0].value,
        run.capture.cookies[0].value,
        "order=10007",
    ]
    assert [v for v in volatile if v and v in text] == []


def test_the_file_keeps_shapes_and_stable_values() -> None:
    section = yaml.safe_load(_bytes(build_run(seed=1)))["sections"]["Pixel 7"]
    purchase = section["vendors"]["ga4"][1]
    assert purchase["event"] == "purchase"
    assert purchase["currency"] == "EUR"
    assert purchase["value"] == "number"
    assert purchase["transaction_id"] == "string"
    assert purchase["consent"] == {"ad_storage": "granted", "analytics_storage": "granted"}
    assert purchase["params"]["cid"] == "volatile"  # GA4's own volatile_params
    assert section["chain"][1] == {"host": "shop.example", "path": "/go", "kind": "http"}
    assert section["click_ids_at_landing"] == ["fbclid", "gclid"]
    assert section["cookies"] == ["_fbc", "_fbp", "_ga", "_gcl_aw"]
    assert section["container"] == {
        "gtm_build": "45je5150v9116948458za200",
        "containers": {"GTM-ABC123": "unknown"},
    }


def test_ga4_items_are_counted_and_their_fields_typed() -> None:
    items = "&pr1=idSKU_1~nmTent~pr49.95~qt1&pr2=idSKU_9~nmPegs~pr5~qt2"
    purchase = build_section(build_run(seed=1, ga4_extra=items))["vendors"]["ga4"][1]
    assert purchase["items"] == 2
    assert purchase["params"]["items"] == "list"
    assert purchase["params"]["items.price"] == "number"
    assert purchase["params"]["items.item_id"] == "string"


def test_container_version_is_read_from_the_gtm_script_when_kept() -> None:
    container = build_section(build_run(seed=1, container_version="41"))["container"]
    assert container["containers"] == {"GTM-ABC123": "41"}


def test_id_like_path_segments_are_normalised() -> None:
    assert stable_path("/order/1002345/thank-you") == "/order/{id}/thank-you"
    assert stable_path("/product/trail-tent-42") == "/product/trail-tent-42"
    assert stable_path("/s/3f2b1c9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f") == "/s/{id}"


def test_baseline_lives_beside_the_scenario_and_is_never_collected(tmp_path: Path) -> None:
    scenario = tmp_path / "demo-purchase.scenario.yaml"
    assert baseline_path(scenario) == tmp_path / "demo-purchase.baseline.yaml"
    scenario.write_text("name: x\nad_click: {url: 'https://shop.example/'}\n", encoding="utf-8")
    baseline_path(scenario).write_text("baseline_version: 1\nsections: {}\n", encoding="utf-8")
    assert discover([tmp_path]) == [scenario.resolve()]


def test_sections_are_per_device_and_conditions_label() -> None:
    assert section_key("Pixel 7") == "Pixel 7"
    assert section_key("Pixel 7", RunConditions()) == "Pixel 7"
    assert section_key("iPhone 13", RunConditions(consent="reject")) == "iPhone 13 [consent=reject]"


def test_update_writes_and_merges_sections_and_skips_bug_runs(tmp_path: Path) -> None:
    scenario = str(tmp_path / "shop-purchase.scenario.yaml")
    phone = scenario_run(build_run(seed=1), scenario)
    rejected = scenario_run(
        build_run(seed=2, device="iPhone 13"), scenario, conditions=RunConditions(consent="reject")
    )
    assert update_baselines(suite_of(phone)) == [tmp_path / "shop-purchase.baseline.yaml"]

    with_bugs = scenario_run(build_run(seed=3, meta_purchase=False), scenario, bugs=["missing_tag"])
    no_file = scenario_run(build_run(seed=4), None)
    assert why_not_baselined(with_bugs) == "demo bug switches were on"
    assert why_not_baselined(no_file) == "its scenario file is not known"
    written = update_baselines(suite_of(rejected, with_bugs, no_file))

    document = read_baseline(written[0])
    assert document is not None
    assert list(document["sections"]) == ["Pixel 7", "iPhone 13 [consent=reject]"]  # the first section kept
    # The bug run did not overwrite anything: the stored phone section still has the Meta Purchase.
    assert compare(document["sections"]["Pixel 7"], build_section(build_run(seed=9)), []) == []


def test_a_file_that_is_not_a_baseline_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.baseline.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(BadInput, match="not an eventpath baseline"):
        read_baseline(path)
    assert read_baseline(tmp_path / "missing.baseline.yaml") is None
