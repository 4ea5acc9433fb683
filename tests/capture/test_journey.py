"""Scenario steps performed in the real browser and recorded step by step."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from harness.browser.journey import scenario_journey
from harness.engine import Harness
from harness.models import StepRecord
from harness.scenario import Scenario
from tests.capture.site import PACE_HOSTS

pytestmark = pytest.mark.browser

CLICK = "https://ads.test/click?to=/r301&gclid=EAIaIQobChMI8t2"


def _steps(*steps: dict[str, object]) -> Scenario:
    return Scenario.model_validate({"name": "j", "ad_click": {"url": CLICK}, "steps": list(steps)})


def test_every_step_kind_runs_and_is_recorded(harness: Harness) -> None:
    scenario = _steps(
        {"fill": "#email", "value": "qa+{run}@example.test", "name": "email"},
        {"select": "#country", "value": "FR"},
        {"press": "#email", "key": "Tab"},
        {"scroll": "bottom"},
        {"scroll": "#footer"},
        {"script": "document.title = 'changed'"},
        {"click": "#buy", "consent": "accept"},
        {"wait_for": "#result:has-text('ORD-1001')"},
        {"goto": "/landing?step=2"},
        {"wait_for_url": "**/landing?step=2"},
    )
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "T0K3N", 5_000))
    steps = result.capture.steps
    assert result.capture.error is None
    assert [s.action for s in steps] == [
        "fill", "select", "press", "scroll", "scroll", "script", "click", "wait_for", "goto", "wait_for_url",
    ]
    assert steps[0].label == "email" and steps[0].typed == "qa+T0K3N@example.test"
    assert steps[6].consent == "accept" and steps[6].label == "step 7 (click)"
    assert all(s.ended_at and s.ended_at >= s.started_at for s in steps)
    assert steps[-1].url_after == "https://www.site.test/landing?step=2"
    assert [n.step for n in result.capture.navigations][-1] == 8, "the goto step's navigation is tagged with it"


def test_steps_reach_into_a_payment_providers_iframes(harness: Harness) -> None:
    """Card fields live in a cross-site iframe (the CVC one frame deeper): `frame` names it, outermost first."""
    card = "iframe[title='Secure card payment']"
    scenario = _steps(
        {"goto": "/card-checkout"},
        {"fill": "input[name=cardnumber]", "value": "4242424242424242", "frame": card},
        {"fill": "input[name=cvc]", "value": "123", "frame": [card, "#cvc-frame"]},
        {"select": "select[name=country]", "value": "FR", "frame": card},
        {"scroll": "bottom", "frame": card},
        {"click": "#pay", "frame": card, "name": "pay"},
        {"wait_for": "#pay:has-text('Paid')", "frame": card},
        {"wait_for": "#paid:has-text('ORD-4242')"},
    )
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "T0K3N", 5_000))
    assert result.capture.error is None, result.capture.error
    steps = result.capture.steps
    assert steps[2].target == "input[name=cvc] (in iframe[title='Secure card payment'] > #cvc-frame)"
    assert [s.typed for s in steps[1:3]] == ["4242424242424242", "123"]
    [purchase] = [e for e in result.events if e.event == "Purchase"]
    assert purchase.params["cd"]["last4"] == "4242"


def test_a_step_that_opens_a_new_tab_moves_the_journey_there(harness: Harness) -> None:
    """popup: true follows a target=_blank link; the purchase happens in the new tab, which is left (its
    pagehide beacon is in) and read like the landing page would be."""
    scenario = _steps(
        {"goto": "/opener"},
        {"click": "#open", "popup": True, "name": "book"},
        {"click": "#buy-in-popup"},
        {"wait_for": "#done:has-text('ORD-POPUP')"},
    )
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    capture = result.capture
    assert capture.error is None and capture.capture_complete, capture.error
    assert capture.steps[1].url_after == "https://www.site.test/popup-shop"
    assert [e.event for e in result.events if e.event == "Purchase"] == ["Purchase"]
    assert len([r for r in capture.tag_hits if "en=popup_leave" in r.url]) == 1, "the new tab was left too"


def test_popup_on_a_click_that_opens_no_tab_says_so(harness: Harness) -> None:
    scenario = _steps({"goto": "/opener"}, {"click": "#stay", "popup": True, "timeout_ms": 800})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    assert result.capture.steps[-1].error and "no new tab or window opened within 800 ms" in result.capture.steps[-1].error


def test_a_frame_that_never_appears_names_it(harness: Harness) -> None:
    scenario = _steps({"fill": "input[name=cardnumber]", "value": "4242", "frame": "#no-such-frame", "timeout_ms": 500})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    [step] = result.capture.steps
    assert step.error and "input[name=cardnumber] (in #no-such-frame)" in step.error


def test_a_failing_step_stops_the_journey_and_names_the_step(harness: Harness) -> None:
    scenario = _steps({"click": "#buy"}, {"name": "open cart", "click": "#no-such-button", "timeout_ms": 300})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    assert result.capture.error is not None and "open cart" in result.capture.error
    assert result.capture.steps[-1].error and len(result.capture.steps) == 2
    assert result.capture.capture_complete, "hits before the failure are still captured to the end"
    assert any("en=user_engagement" in r.url for r in result.capture.tag_hits)


def test_a_click_after_a_navigation_waits_for_the_page_to_be_wired(harness: Harness) -> None:
    # The button shows before the script that gives it a handler has loaded (0.5 s late). A person waits
    # for the page; a harness that clicks at first sight clicks a dead button and the journey stalls.
    scenario = _steps(
        {"script": "location.href = '/late-handler'"},
        {"click": "#checkout-now"},
        {"wait_for_url": "**/landing", "timeout_ms": 3_000},
    )
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    assert result.capture.error is None, result.capture.error
    assert result.capture.steps[-1].url_after == "https://www.site.test/landing"


def test_a_page_that_never_loads_costs_its_grace_once_not_on_every_step(harness: Harness) -> None:
    # An image that never arrives keeps `load` away; the form is usable. The first action waits half its
    # step's time for `load`, then the journey goes on; later actions on that page do not wait again.
    fills = [{"fill": f"#{name}", "value": name} for name in "abcd"]
    scenario = _steps({"script": "location.href = '/hanging-form'"}, *fills)
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 2_000))
    assert result.capture.error is None, result.capture.error
    took = [s.ended_at - s.started_at for s in result.capture.steps[1:] if s.ended_at]
    assert len(took) == 4
    assert took[0] >= 0.9, "the first action gave the page its grace (1 s of 2 s)"
    assert all(t < 0.6 for t in took[1:]), took  # each a plain fill, where waiting again would take 1 s


def test_dialogs_are_accepted_as_a_visitor_going_on_would_and_recorded(harness: Harness) -> None:
    """Playwright dismisses dialogs by default: a confirm() before the order cancelled it without a word,
    and the run failed waiting for a confirmation page. The run accepts them and says so."""
    scenario = _steps({"goto": "/confirm-checkout"}, {"click": "#place"}, {"wait_for": "#done:has-text('ORD-9')"})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "T0K3N", 5_000))
    assert result.capture.error is None, result.capture.error
    assert [(d.kind, d.message, d.answer) for d in result.capture.dialogs] == [
        ("alert", "Free shipping today!", "accepted"),
        ("confirm", "Place the order for 12.50 EUR?", "accepted"),
    ]
    assert result.capture.dialogs[1].url == "https://www.site.test/confirm-checkout"
    assert [e.event for e in result.events if e.vendor == "meta_pixel" and e.event == "Purchase"] == ["Purchase"]



def test_a_page_that_asks_before_it_is_left_is_left_and_its_goodbye_hits_are_in(harness: Harness) -> None:
    """A checkout form with a 'leave site?' guard (beforeunload) once typed in: a link away and the run's
    own leaving each answer it as a visitor going on would; the pagehide beacon of each page is in."""
    scenario = _steps(
        {"goto": "/leave-guard"},
        {"fill": "#email", "value": "qa+{run}@example.test"},
        {"click": "#away"},
        {"wait_for_url": "**/leave-guard?again=1"},
        {"fill": "#email", "value": "again"},
    )
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "T0K3N", 5_000))
    capture = result.capture
    assert capture.error is None and capture.capture_complete, capture.error
    assert [(d.kind, d.answer) for d in capture.dialogs] == [("beforeunload", "accepted")] * 2
    left = [e.page_url for e in result.events if e.vendor == "ga4" and e.event == "form_leave"]
    assert left == ["https://www.site.test/leave-guard", "https://www.site.test/leave-guard?again=1"]


def test_what_a_step_set_off_leaves_before_the_next_step_unloads_its_page(harness: Harness) -> None:
    """A journey clicks on within milliseconds, a person after a second. The image pings an 'accept' sent
    (each to a host the browser had not met: each waits for its tunnel) and the pixel of the vendor script
    it loaded (300 ms to come) must not be cancelled by the next click's navigation: that loss would be
    the harness's speed, not the site's."""
    scenario = _steps({"goto": "/accept-and-go"}, {"click": "#accept"}, {"click": "#next"}, {"wait_for_url": "**/landing"})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 5_000))
    assert result.capture.error is None, result.capture.error
    sent_from = [e.params["cd"]["from"] for e in result.events if e.vendor == "meta_pixel" and "from" in e.params.get("cd", {})]
    assert sorted(sent_from) == sorted([*PACE_HOSTS, "slow-tag"])


def test_a_request_that_stays_open_holds_a_step_no_longer_than_a_persons_patience(harness: Harness) -> None:
    """A long poll (answered after 5 s) is no hit on its way out: the step that leaves the page waits for
    it at most PATIENCE_S, then goes on (the poll is cut, as a person leaving would cut it)."""
    from harness.browser.pace import PATIENCE_S

    scenario = _steps({"goto": "/live?poll=5"}, {"script": "location.href = '/landing'"}, {"wait_for_url": "**/landing"})
    result = harness.visit(CLICK, journey=scenario_journey(scenario.steps, "x", 8_000))
    assert result.capture.error is None, result.capture.error
    goto, leave, _ = result.capture.steps
    assert leave.ended_at is not None and goto.ended_at is not None
    assert leave.ended_at - goto.ended_at < PATIENCE_S + 1.5, "the step waited for the long poll's answer"


def test_a_pages_watch_does_not_keep_the_page_alive_after_its_run(harness: Harness) -> None:
    """Pace watches are kept per page in a WeakKeyDictionary: a watch holding its page kept every run's page
    (and what it held) alive for the rest of the suite."""
    import gc
    import weakref

    from harness.browser.pace import requests_in_flight

    pages: list[weakref.ref[Page]] = []
    steps = scenario_journey(_steps({"goto": "/accept-and-go"}, {"click": "#accept"}, {"click": "#next"}).steps, "x", 5_000)

    async def journey(page: Page, records: list[StepRecord]) -> Page:
        pages.append(weakref.ref(page))
        assert requests_in_flight(page) is requests_in_flight(page), "one watch per page"
        return await steps(page, records)

    assert harness.visit(CLICK, journey=journey).capture.error is None
    gc.collect()
    assert pages and pages[0]() is None, "the run's page outlived its run"
