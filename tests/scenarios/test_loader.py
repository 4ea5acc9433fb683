"""Scenario files: valid ones load, bad ones fail with file, line, field and what was expected."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.chain import param_fates
from harness.cli.schema import scenario_schema
from harness.models import CLICK_ID_PARAMS, RedirectHop
from harness.scenario import AdClick, generate_click_id
from harness.scenario_loader import ScenarioFileError, discover, load_all, load_scenario

GOOD = """\
name: purchase
ad_click:
  url: https://ads.example/click?campaign=7
  platform: meta
  utm: {source: facebook, medium: paid_social}
devices: [Pixel 7, iPhone 13]
steps:
  - click: "#consent-accept"
    consent: accept
  - name: fill email
    fill: "#email"
    value: "qa+{run}@example.test"
  - wait_for_url: "**/thank-you**"
expect:
  events:
    - {vendor: meta_pixel, event: Purchase, value: 59.9, currency: EUR, event_id: required, after_step: fill email}
  click_ids:
    cookies: {_fbc: fbclid}
"""


def _write(tmp_path: Path, text: str, name: str = "x.scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_scenario_loads_with_every_part(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    assert scenario.devices == ["Pixel 7", "iPhone 13"]
    assert [type(s).__name__ for s in scenario.steps] == ["ClickStep", "FillStep", "WaitForUrlStep"]
    assert scenario.steps[0].consent == "accept"
    assert scenario.expect.events[0].event_id == "required"


def test_the_ad_url_gets_a_realistic_platform_click_id_and_utms() -> None:
    click = AdClick(url="https://ads.example/click?campaign=7", platform="meta", utm={"source": "facebook"})
    query = parse_qs(urlsplit(click.build_url()).query)
    assert query["campaign"] == ["7"] and query["utm_source"] == ["facebook"]
    assert query["fbclid"][0].startswith("IwAR") and len(query["fbclid"][0]) > 40
    assert generate_click_id("gclid") != generate_click_id("gclid")
    explicit = AdClick(url="https://a.example/", click_ids={"gclid": "EAIaIQ-fixed", "msclkid": "auto"})
    query = parse_qs(urlsplit(explicit.build_url()).query)
    assert query["gclid"] == ["EAIaIQ-fixed"] and len(query["msclkid"][0]) == 32


def test_a_taboola_click_carries_tblci_and_the_chain_follows_it() -> None:
    query = parse_qs(urlsplit(AdClick(url="https://shop.example/lp", platform="taboola").build_url()).query)
    assert len(query["tblci"][0]) >= 20
    assert "tblci" in CLICK_ID_PARAMS  # its fate through the redirect chain is tracked like gclid's


def test_a_merchant_center_click_carries_srsltid_and_the_chain_follows_it() -> None:
    # Google Merchant Center's auto-tagging adds srsltid to free-listing clicks; a redirect that drops it
    # loses the listing's conversion.
    url = AdClick(url="https://shop.example/p/1", click_ids={"srsltid": "auto"}).build_url()
    hops = [
        RedirectHop(index=0, url=url, kind="start", status=301),
        RedirectHop(index=1, url="https://shop.example/products/1", kind="http", status=200),
    ]
    assert [(f.param, f.fate) for f in param_fates(hops)] == [("srsltid", "dropped")]


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (GOOD.replace("platform: meta", "platform: myspace"), 4, "ad_click.platform", "Input should be"),
        (GOOD.replace("    value: \"qa+{run}@example.test\"\n", ""), 10, "steps[1].value", "required field is missing"),
        (GOOD.replace("  - wait_for_url:", "  - hover:"), 13, "steps[2]", "exactly one action"),
        (GOOD.replace("devices:", "device:"), 6, "device", "unknown field"),
        (GOOD.replace("value: 59.9", "value: lots"), 16, "expect.events[0].value", "valid number"),
        (GOOD.replace("https://ads.example/click?campaign=7", "ads.example/click"), 3, "ad_click.url", "absolute http"),
        (GOOD.replace("after_step: fill email", "after_step: pay"), None, None, "after_step 'pay' names no step"),
        # An iframe belongs to steps that act on an element, not to a URL wait.
        (GOOD.replace('  - wait_for_url: "**/thank-you**"', '  - {wait_for_url: "**/thank-you**", frame: "#pay"}'), 13, "steps[2].frame", "unknown field"),
    ],
)
def test_bad_fields_name_file_line_field_and_expectation(
    tmp_path: Path, text: str, line: int | None, field: str | None, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    error = caught.value
    assert str(path) in str(error) and message in str(error)
    if line is not None:
        assert error.line == line, str(error)
    if field is not None:
        assert error.field == field, str(error)


def test_half_written_and_empty_files_are_clear_errors(tmp_path: Path) -> None:
    half = _write(tmp_path, GOOD[: GOOD.index("  - name: fill email") + 20], "half.scenario.yaml")
    with pytest.raises(ScenarioFileError, match="half.scenario.yaml"):
        load_scenario(half)
    broken = _write(tmp_path, "name: x\nad_click: {url: [\n", "broken.scenario.yaml")
    with pytest.raises(ScenarioFileError, match=r"broken.scenario.yaml:\d+: not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioFileError, match="empty"):
        load_scenario(_write(tmp_path, "", "empty.scenario.yaml"))


def test_a_binary_file_or_a_stray_control_character_is_a_clear_error(tmp_path: Path) -> None:
    """YAML's reader refuses control characters with an error of its own (no line mark): no traceback."""
    stray = _write(tmp_path, GOOD.replace("name: purchase", "name: purchase\x00"), "stray.scenario.yaml")
    with pytest.raises(ScenarioFileError, match=r"stray.scenario.yaml:1: not valid YAML: the character U\+0000"):
        load_scenario(stray)
    binary = tmp_path / "png.scenario.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ScenarioFileError, match="png.scenario.yaml"):
        load_scenario(binary)


def test_only_scenario_files_are_collected_and_names_are_unique(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.scenario.yaml")
    _write(tmp_path, "not: a scenario\n", "a.baseline.yaml")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", GOOD, "b.scenario.yaml")
    assert [p.name for p in discover([tmp_path])] == ["a.scenario.yaml", "b.scenario.yaml"]
    with pytest.raises(ScenarioFileError, match="is also the name in"):
        load_all([tmp_path])


def test_eventpath_run_stops_on_a_bad_file_before_any_browser(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("platform: meta", "platform: myspace"))
    done = subprocess.run(
        ["eventpath", "run", str(path)], capture_output=True, text=True, timeout=60,
        env={"EVENTPATH_BROWSER": "/nonexistent", "PATH": "/usr/bin:/bin:/usr/local/bin:" + __import__("os").environ["PATH"]},
    )
    assert done.returncode == 2
    assert f"{path}:4: ad_click.platform:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["--json", "--junit", "--store-durations"])
def test_an_output_file_that_cannot_be_written_stops_the_suite_before_it_runs(tmp_path: Path, flag: str) -> None:
    path = _write(tmp_path, GOOD)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is needed", encoding="utf-8")
    done = subprocess.run(
        ["eventpath", "run", str(path), flag, str(blocker / "out.xml")], capture_output=True, text=True, timeout=60,
        env={**__import__("os").environ, "EVENTPATH_BROWSER": "/nonexistent"},  # no browser is reached
    )
    assert done.returncode == 2, done.stderr
    assert f"{flag} {blocker / 'out.xml'}: {blocker} is a file, not a folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_report_folder_that_cannot_be_made_stops_the_suite_before_it_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    taken = tmp_path / "report"
    taken.write_text("a file where the report folder should go", encoding="utf-8")
    done = subprocess.run(
        ["eventpath", "run", str(path), "--report", str(taken)], capture_output=True, text=True, timeout=60,
        env={**__import__("os").environ, "EVENTPATH_BROWSER": "/nonexistent"},
    )
    assert done.returncode == 2 and f"--report {taken}: cannot make that folder" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.browser
def test_an_unknown_device_names_its_scenario_file_and_field(tmp_path: Path) -> None:
    """Device names are Playwright's, known once the browser is up: the suite stops before any run, naming
    the file and the field, with the closest names."""
    path = _write(tmp_path, GOOD.replace("devices: [Pixel 7, iPhone 13]", "devices: [Pixel 7, iPhone 31]"))
    done = subprocess.run(["eventpath", "run", str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{path}: devices: unknown device 'iPhone 31'" in done.stderr and "did you mean" in done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "reports").iterdir()) == [], "no empty reports/<timestamp> left behind"


def test_eventpath_schema_describes_scenarios() -> None:
    schema = scenario_schema()
    assert schema["title"] == "eventpath scenario"
    assert {"name", "ad_click", "devices", "steps", "expect"} <= set(schema["properties"])
    done = subprocess.run(["eventpath", "schema"], capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout)["required"] == ["name", "ad_click"]
