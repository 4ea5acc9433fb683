"""Pages that answer with an HTTP error. A paid click that lands on a 404 or a 500 is a wasted click even
when the error page's tags fire (many sites' 404 template carries the container, so the page view and the
click IDs look fine); a journey page that errors stops the conversion."""

from __future__ import annotations

from collections.abc import Iterator

from harness.checks.base import CheckContext, check
from harness.models import CapturedRequest, CheckFailure, Evidence, StepRecord

NAME = "pages_answer"


@check(NAME)
def pages_answer(ctx: CheckContext) -> Iterator[CheckFailure]:
    """The landing page and every page of the journey answered without an HTTP error (4xx/5xx)."""
    if not ctx.scenario.expect.pages_answer:
        return
    capture = ctx.result.capture
    chain_requests = {hop.request_id for hop in capture.chain.hops if hop.request_id}
    for hop in capture.chain.hops:
        if hop.status is not None and hop.status >= 400:
            place = "the ad's landing page" if hop.index == len(capture.chain.hops) - 1 else f"hop {hop.index}"
            yield ctx.failure(
                NAME,
                f"{place} answers HTTP {hop.status}: {hop.url}",
                "Broken page",
                expected="the ad's click to reach a live landing page (2xx after its redirects)",
                seen=f"HTTP {hop.status} at {hop.url} (hop {hop.index} of the redirect chain)",
                evidence=[Evidence(request_id=hop.request_id, summary=f"HTTP {hop.status} {hop.url}", url=hop.url)],
                key=f"{NAME}:landing:{hop.index}",
            )
    for request in capture.requests:
        if request.id in chain_requests or request.source != "browser" or request.tag_hit:
            continue
        if request.status is None or request.status < 400 or not request.is_navigation:
            continue
        step = _step_at(capture.steps, request.started_at)
        during = f" after step {step.label!r}" if step else ""
        yield ctx.failure(
            NAME,
            f"a page of the journey answers HTTP {request.status}{during}: {request.url}",
            "Broken page",
            expected="every page the journey opens to answer without an HTTP error",
            seen=f"HTTP {request.status} at {request.url}{during}",
            evidence=[_evidence(request)],
            key=f"{NAME}:page:{request.url}",
            fix="Fix the page (or the link that leads to it), then rerun: the conversion cannot happen past it",
        )


def _step_at(steps: list[StepRecord], at: float | None) -> StepRecord | None:
    """The last step that had started when the page was requested."""
    if at is None:
        return None
    started = [s for s in steps if s.index >= 0 and s.started_at <= at]
    return started[-1] if started else None


def _evidence(request: CapturedRequest) -> Evidence:
    return Evidence(request_id=request.id, summary=f"HTTP {request.status} {request.method} {request.url}", url=request.url)
