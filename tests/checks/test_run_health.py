"""run_completed: run errors, failed steps and cut-off captures."""

from __future__ import annotations

from harness.checks.run_health import run_completed
from harness.models import CheckFailure
from tests.checks.hits import CHECKOUT, LANDING, THANK_YOU, Journey, ga4_hit


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def journey_to_thank_you() -> Journey:
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.step("pay", target="#pay", url_after=THANK_YOU)
    journey.hit(ga4_hit("purchase", THANK_YOU, value=1, currency="EUR"))
    return journey


def test_a_clean_run_passes() -> None:
    assert list(run_completed(journey_to_thank_you().context())) == []


def test_run_error_is_reported_with_the_error() -> None:
    journey = journey_to_thank_you()
    journey.capture_fields["error"] = "net::ERR_NAME_NOT_RESOLVED at https://track.adnet.example/click"
    failure = only(list(run_completed(journey.context())))
    assert failure.root_cause == "Run error"
    assert "ERR_NAME_NOT_RESOLVED" in failure.title and "ERR_NAME_NOT_RESOLVED" in failure.seen
    assert failure.fix_direction == "Fix the scenario or the site, then rerun"


def test_failed_step_is_named() -> None:
    journey = Journey()
    journey.hit(ga4_hit("page_view", CHECKOUT))
    journey.step("pay", target="#pay", error="Timeout 30000ms exceeded waiting for locator('#pay')")
    failure = only(list(run_completed(journey.context())))
    assert failure.root_cause == "Run error"
    assert failure.title == "step 1 'pay' failed: Timeout 30000ms exceeded waiting for locator('#pay')"
    assert "#pay" in failure.expected and "click" in failure.expected
    assert "selector" in failure.fix_direction


def test_incomplete_capture_warns_that_hits_may_be_missing() -> None:
    journey = journey_to_thank_you()
    journey.capture_fields.update(capture_complete=False, capture_note="3 flows still open after 15 s")
    failure = only(list(run_completed(journey.context())))
    assert failure.root_cause == "Run error"
    assert "hits sent after it may be missing" in failure.title
    assert failure.seen == "3 flows still open after 15 s"
    assert "missing-event verdicts" in failure.fix_direction


def test_every_problem_of_a_run_is_reported_once() -> None:
    journey = Journey()
    journey.step("pay", error="element is not visible")
    journey.capture_fields.update(error="navigation timeout", capture_complete=False)
    failures = list(run_completed(journey.context()))
    assert [f.key for f in failures] == [
        "run_completed:error",
        "run_completed:step:0",
        "run_completed:incomplete",
    ]
    assert "network never went quiet" in failures[2].seen


def test_a_run_that_ended_on_a_failed_step_says_so_once_as_that_step() -> None:
    """The run's error repeats its failed step's (a journey step, the consent answer): reported twice, it
    read as two problems. Once, as the step (its fix names the selector), with the run's fuller text."""
    journey = Journey()
    journey.hit(ga4_hit("page_view", CHECKOUT))
    journey.step("pay", target="#pay", error="waited 5000 ms for '#pay', it never came")
    journey.capture_fields["error"] = (
        "journey: step 1 (click): waited 5000 ms for '#pay', it never came; the page stopped answering"
    )
    failure = only(list(run_completed(journey.context())))
    assert failure.key == "run_completed:step:0" and "selector" in failure.fix_direction
    assert failure.seen.endswith("the page stopped answering")
