"""The pytest plugin as users run it: scenario items, explained failures, the event_path fixture, xdist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.capture.site import CaptureTestSite

pytestmark = pytest.mark.browser
pytest_plugins = ["pytester"]

SCENARIO = """\
name: {name}
ad_click:
  url: https://ads.test/click?to={to}
  platform: google
  utm: {{source: google, content: {name}}}
devices: [{devices}]
steps:
  - click: "#buy"
  - wait_for: "#result:has-text('ORD-1001')"
expect:
  events:
    - {{vendor: ga4, event: view_item, value_required: false}}
  order: []
"""


@pytest.fixture(scope="module")
def plugin_site() -> Iterator[CaptureTestSite]:
    with CaptureTestSite(unload_hits=2) as site:
        yield site


def _args(site: CaptureTestSite, *extra: str) -> list[str]:
    return [*(f"--eventpath-resolve={m}" for m in site.mappings()), "-p", "no:cacheprovider", *extra]


def test_scenarios_are_collected_per_device_and_pass(pytester: pytest.Pytester, plugin_site: CaptureTestSite) -> None:
    pytester.makefile(".scenario.yaml", ok=SCENARIO.format(name="ok", to="/r301", devices="Pixel 7, iPhone 13"))
    pytester.makefile(".yaml", notes="not: a scenario")
    result = pytester.runpytest_subprocess(*_args(plugin_site, "-v", f"--eventpath-report={pytester.path / 'rep'}"))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ok.scenario.yaml::ok[[]Pixel 7[]] PASSED*", "*ok[[]iPhone 13[]] PASSED*"])
    assert (pytester.path / "rep" / "index.html").is_file()


def test_a_report_that_cannot_be_written_is_said_and_fails_the_session_not_as_an_internal_error(
    pytester: pytest.Pytester, plugin_site: CaptureTestSite
) -> None:
    pytester.makefile(".scenario.yaml", ok=SCENARIO.format(name="ok", to="/r301", devices="Pixel 7"))
    taken = pytester.path / "rep"
    taken.write_text("a file where the report folder should go", encoding="utf-8")
    result = pytester.runpytest_subprocess(*_args(plugin_site, f"--eventpath-report={taken}"))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"eventpath report: NOT WRITTEN: cannot write {taken}*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED and "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_failure_is_explained_with_root_cause_not_a_traceback(
    pytester: pytest.Pytester, plugin_site: CaptureTestSite
) -> None:
    text = SCENARIO.format(name="dropped", to="/drop-gclid", devices="Pixel 7")
    pytester.makefile(".scenario.yaml", dropped=text)
    result = pytester.runpytest_subprocess(*_args(plugin_site))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*gclid dropped at hop 2*",
            "*root cause:*Dropped parameters in redirects*",
            "*fix direction:*",
            "*reproduce: eventpath run*dropped.scenario.yaml*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_bad_scenario_file_is_a_collection_error_naming_line_and_field(
    pytester: pytest.Pytester, plugin_site: CaptureTestSite
) -> None:
    bad = SCENARIO.format(name="bad", to="/r301", devices="Pixel 7").replace("platform: google", "platform: myspace")
    pytester.makefile(".scenario.yaml", bad=bad)
    result = pytester.runpytest_subprocess(*_args(plugin_site))
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*bad.scenario.yaml:4: ad_click.platform: Input should be*"])


def test_the_event_path_fixture_drives_a_run(pytester: pytest.Pytester, plugin_site: CaptureTestSite) -> None:
    pytester.makepyfile(
        """
        def test_landing(event_path):
            run = event_path.visit("https://ads.test/click?to=/r301&gclid=EAIaIQobChMI99", device="iPhone 13")
            assert run.chain.dropped == []
            assert len(run.events(vendor="ga4", event="view_item")) == 1
            assert run.events(vendor="meta_pixel", event="PageView")
            assert run.final_url.startswith("https://www.site.test/landing?")

        def test_demo_shop(event_path):
            mappings = event_path.use_demo_shop()
            assert {m.host for m in mappings} >= {"ads.demo.test", "www.shop.demo.test"}
            run = event_path.visit("https://ads.demo.test/click?gclid=EAIaIQobChMI55&utm_source=google")
            assert run.final_url.startswith("https://www.shop.demo.test/?")
            assert len(run.events(vendor="ga4", event="page_view")) == 1

        def test_steps(event_path):
            run = event_path.visit("https://ads.test/click?to=/r301", steps=[{"click": "#buy"}, {"wait_for": "#result"}])
            assert any(r.path == "/api/checkout" for r in run.result.capture.requests)
        """
    )
    result = pytester.runpytest_subprocess(*_args(plugin_site))
    result.assert_outcomes(passed=3)


def test_parallel_workers_never_mix_hits(pytester: pytest.Pytester, plugin_site: CaptureTestSite) -> None:
    for i in range(4):
        pytester.makefile(".scenario.yaml", **{f"s{i}": SCENARIO.format(name=f"s{i}", to="/r301", devices="Pixel 7")})
    report = pytester.path / "rep"
    result = pytester.runpytest_subprocess(*_args(plugin_site, "-n", "2", f"--eventpath-report={report}"))
    # utm_consistent compares each run's GA4 page_view with its own ad URL (utm_content=s<i>): a hit
    # attributed to the wrong run would fail it.
    result.assert_outcomes(passed=4)
    # Each worker writes its own report beside the other's, never over it.
    assert {p.parent.name for p in report.glob("*/index.html")} <= {"gw0", "gw1"}
    assert list(report.glob("gw*/index.html")) and not (report / "index.html").exists()
