"""pages_answer: a landing page or a journey page that answers with an HTTP error."""

from __future__ import annotations

from harness.checks.pages import pages_answer
from harness.models import CapturedRequest, CheckFailure, RedirectChain, RedirectHop
from tests.checks.hits import CHECKOUT, LANDING, Journey, ga4_hit

AD_CLICK = "https://ads.example/click?gclid=G1"


def only(failures: list[CheckFailure]) -> CheckFailure:
    assert len(failures) == 1, [f.title for f in failures]
    return failures[0]


def _document(url: str, status: int, request_id: str, started_at: float) -> CapturedRequest:
    return CapturedRequest(
        id=request_id,
        method="GET",
        url=url,
        request_headers=[("sec-fetch-dest", "document"), ("sec-fetch-mode", "navigate")],
        status=status,
        started_at=started_at,
    )


def _landing_on(status: int) -> Journey:
    journey = Journey()
    journey.capture_fields["chain"] = RedirectChain(
        hops=[
            RedirectHop(index=0, url=AD_CLICK, kind="start", status=302, request_id="d0"),
            RedirectHop(index=1, url=LANDING, kind="http", status=status, request_id="d1"),
        ]
    )
    # The 404 template carries the container: the page view fires, the click looks fine to every tag check.
    journey.hit(ga4_hit("page_view", LANDING))
    return journey


def test_a_live_landing_and_journey_pass() -> None:
    journey = _landing_on(200)
    journey.step("checkout")
    journey.requests.append(_document(CHECKOUT, 200, "d2", journey.clock))
    assert list(pages_answer(journey.context())) == []


def test_a_landing_page_that_answers_404_is_a_broken_page_though_its_tags_fire() -> None:
    failure = only(list(pages_answer(_landing_on(404).context())))
    assert failure.root_cause == "Broken page"
    assert failure.title == f"the ad's landing page answers HTTP 404: {LANDING}"
    assert "hop 1" in failure.seen and failure.evidence[0].request_id == "d1"
    assert "final URL" in failure.fix_direction


def test_a_journey_page_that_answers_500_names_the_step_before_it() -> None:
    journey = _landing_on(200)
    journey.step("place order", target="#pay")
    journey.tick()
    journey.requests.append(_document(CHECKOUT, 500, "d2", journey.clock))
    journey.requests.append(  # an iframe's error and a failed API call are not pages of the journey
        CapturedRequest(id="x1", method="GET", url="https://shop.example/api/cart", status=500, started_at=journey.clock)
    )
    journey.requests.append(
        CapturedRequest(
            id="x2",
            method="GET",
            url="https://chat.widget.example/frame",
            request_headers=[("sec-fetch-dest", "iframe"), ("sec-fetch-mode", "navigate")],
            status=503,
            started_at=journey.clock,
        )
    )
    failure = only(list(pages_answer(journey.context())))
    assert failure.title == f"a page of the journey answers HTTP 500 after step 'place order': {CHECKOUT}"
    assert failure.evidence[0].request_id == "d2"


def test_a_scenario_can_expect_an_error_page() -> None:
    journey = _landing_on(410)
    assert list(pages_answer(journey.context(pages_answer=False))) == []
