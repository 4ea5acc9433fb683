"""ITP: click-ID cookies written by JavaScript on a WebKit run, and the ones Safari leaves alone."""

from __future__ import annotations

from harness.checks.base import CheckContext
from harness.checks.itp import is_webkit_user_agent, itp_cookie_lifetime
from harness.checks.registry import all_checks
from harness.scenario import RunConditions, Scenario
from tests.conditions.runs import IPHONE_UA, LANDING, PIXEL_UA, SHOP, RunBuilder

SCENARIO = Scenario.model_validate(
    {"name": "itp", "ad_click": {"url": f"{SHOP}/"}, "expect": {"durable_click_id_cookies": True}}
)


def _check(run: RunBuilder, conditions: RunConditions | None = None) -> list:
    ctx = CheckContext(SCENARIO, run.result(), LANDING, conditions or RunConditions())
    return list(itp_cookie_lifetime(ctx))


def _shop_cookies(run: RunBuilder) -> None:
    # What gtag's conversion linker and fbevents write with document.cookie: 90 days.
    run.cookie("_gcl_aw", "GCL.1717000000.EAIaIQobChMI8t2x9Zq0hwMVtest", days=90)
    run.cookie("_fbp", "fb.1.1717000000000.1234567890", days=90)
    run.cookie("session", "abc", days=None)  # not a click ID


def test_on_an_iphone_script_written_click_id_cookies_are_capped_to_24_hours_after_a_decorated_link() -> None:
    run = RunBuilder(user_agent=IPHONE_UA)
    _shop_cookies(run)
    [failure] = _check(run)
    assert failure.root_cause == "Missing click IDs"
    assert failure.fix_direction.startswith("Set click-ID cookies from the server (HTTP Set-Cookie, first-party)")
    assert "_gcl_aw, _fbp" in failure.title and "24 hours" in failure.title
    assert "_gcl_aw set by script to last 90 days" in failure.seen
    assert "link decoration" in failure.seen
    assert [e.summary.split()[1] for e in failure.evidence] == ["_gcl_aw", "_fbp"]


def test_without_link_decoration_the_cap_is_seven_days() -> None:
    run = RunBuilder(landing=f"{SHOP}/?utm_source=google", user_agent=IPHONE_UA)
    run.cookie("_fbc", "fb.1.1717000000000.IwAR2x", days=90)
    run.cookie("_uetmsclkid", "_uet1234", days=5)  # within 7 days: ITP changes nothing
    [failure] = _check(run)
    assert "7 days" in failure.title and "_fbc" in failure.title and "_uetmsclkid" not in failure.title


def test_cookies_set_by_the_server_or_http_only_are_kept_by_safari() -> None:
    run = RunBuilder(user_agent=IPHONE_UA)
    run.navigation(
        f"{SHOP}/cart", 500, set_cookies=("_gcl_aw=GCL.1717000000.x; Max-Age=7776000; Path=/; Secure",)
    )
    run.cookie("_gcl_aw", "GCL.1717000000.x", days=90)
    run.cookie("_fbc", "fb.1.1717000000000.IwAR2x", days=90, http_only=True)
    assert _check(run) == []


def test_a_chromium_run_is_not_judged_but_an_ios_in_app_browser_is() -> None:
    run = RunBuilder(user_agent=PIXEL_UA)
    _shop_cookies(run)
    assert _check(run) == [], "Chrome on Android has no ITP"
    assert len(_check(run, RunConditions(in_app="instagram_ios"))) == 1


def test_webkit_user_agents() -> None:
    assert is_webkit_user_agent(IPHONE_UA)
    assert is_webkit_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                                "(KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1")
    assert is_webkit_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                                "(KHTML, like Gecko) Version/17.5 Safari/605.1.15")
    assert not is_webkit_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                                    "(KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36")
    assert not is_webkit_user_agent(PIXEL_UA)


def test_the_check_is_registered() -> None:
    assert {"itp_cookie_lifetime", "page_speed", "abandonment"} <= {c.name for c in all_checks()}


def test_not_judged_unless_the_scenario_asks_for_durable_click_id_cookies() -> None:
    quiet = Scenario.model_validate({"name": "itp", "ad_click": {"url": f"{SHOP}/"}})
    run = RunBuilder(user_agent=IPHONE_UA)
    run.cookie("_gcl_aw", "GCL.1.x", days=90)
    assert list(itp_cookie_lifetime(CheckContext(quiet, run.result(), LANDING))) == []
