"""Speed: a landing page slower than the scenario allows, and hits lost because the user left first.

``page_speed`` reads the run's page metrics (``RunCapture.metrics``, a ``PageMetrics`` once the engine
records it) against ``expect.max_lcp_ms``; both are read defensively until the models carry them, and a
run without a measured LCP is not judged. ``abandonment`` runs only under the ``abandon_after_ms``
condition: the user leaves that long after the click, so what the platforms had by then is all they get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.browser.metrics import page_view_times
from harness.checks.base import CheckContext, check, event_evidence
from harness.decoders.registry import is_click_id
from harness.models import CapturedRequest, CheckFailure, Evidence


def _metric(metrics: Any, name: str) -> float | None:
    """A metric from a ``PageMetrics`` or its JSON form; None when absent."""
    value = metrics.get(name) if isinstance(metrics, dict) else getattr(metrics, name, None)
    return float(value) if isinstance(value, int | float) else None


@check("page_speed")
def page_speed(ctx: CheckContext) -> Iterator[CheckFailure]:
    """The landing page's Largest Contentful Paint is within the scenario's ``max_lcp_ms``."""
    bound = getattr(ctx.scenario.expect, "max_lcp_ms", None)
    metrics = getattr(ctx.result.capture, "metrics", None)
    lcp = _metric(metrics, "lcp_ms") if metrics is not None else None
    if bound is None or lcp is None or lcp <= bound:
        return
    ttfb = _metric(metrics, "ttfb_ms")
    landing = ctx.result.capture.final_url or ctx.result.capture.start_url
    slow_server = ttfb is not None and ttfb > bound / 2
    yield ctx.failure(
        "page_speed",
        f"the landing page painted its main content after {lcp:.0f} ms (limit {bound} ms)",
        "Slow page",
        expected=f"largest contentful paint within {bound} ms",
        seen=f"LCP {lcp:.0f} ms" + (f", first byte after {ttfb:.0f} ms" if ttfb is not None else "")
        + _network_note(ctx),
        evidence=[Evidence(summary=f"LCP {lcp:.0f} ms on {landing}", url=landing)],
        key="page_speed:lcp",
        fix="Speed up the server response (most of the time went to the first byte), and load tags early"
        if slow_server
        else None,
    )


def _network_note(ctx: CheckContext) -> str:
    network = ctx.conditions.network
    if network == "none":
        return ""
    return f" under network {network if isinstance(network, str) else 'custom'}"


# --- abandonment ---------------------------------------------------------------------------------


@check("abandonment")
def abandonment(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Under ``abandon_after_ms``, the page_view and the click IDs reached the platforms before the user left."""
    leave_ms = ctx.conditions.abandon_after_ms
    if leave_ms is None:
        return
    capture = ctx.result.capture
    # When the run really left (the timer starts at the click, a little after the run began).
    deadline = capture.abandoned_at or capture.started_at + leave_ms / 1000
    yield from _page_view_lost(ctx, leave_ms, deadline)
    yield from _click_ids_lost(ctx, leave_ms, deadline)


def _page_view_lost(ctx: CheckContext, leave_ms: int, deadline: float) -> Iterator[CheckFailure]:
    timed = page_view_times(ctx.result)
    if any(at <= deadline for _, at in timed):
        return
    late = timed[0] if timed else None
    seen = (
        f"the first page view ({late[0].vendor} {late[0].event}) left "
        f"{(late[1] - ctx.result.capture.started_at) * 1000:.0f} ms after the click"
        if late
        else "no page view was sent at all"
    )
    yield ctx.failure(
        "abandonment",
        f"lost to abandonment: page_view never sent before the user left after {leave_ms} ms",
        "Slow page",
        expected=f"a page view hit within {leave_ms} ms of the click",
        seen=seen,
        evidence=[event_evidence(late[0])] if late else [],
        key="abandonment:page_view",
    )


def _click_ids_lost(ctx: CheckContext, leave_ms: int, deadline: float) -> Iterator[CheckFailure]:
    sent_in_time = [r for r in ctx.result.capture.tag_hits if r.started_at <= deadline]
    for fate in ctx.result.capture.chain.params:
        if not is_click_id(fate.param) or not fate.value:
            continue
        if any(_carries(request, fate.value) for request in sent_in_time):
            continue
        later = next((r for r in ctx.result.capture.tag_hits if _carries(r, fate.value)), None)
        yield ctx.failure(
            "abandonment",
            f"lost to abandonment: {fate.param} never reached a platform before the user left after {leave_ms} ms",
            "Slow page",
            expected=f"a tag hit carrying {fate.param} within {leave_ms} ms of the click",
            seen=f"first hit with {fate.param} {_after(ctx, later)}" if later else f"no hit carried {fate.param}",
            evidence=[Evidence(request_id=later.id, summary=f"{later.host}{later.path}", url=later.url)]
            if later
            else [],
            key=f"abandonment:{fate.param}",
        )


def _carries(request: CapturedRequest, value: str) -> bool:
    # Raw search: a click ID travels in a URL, a body or a cookie-derived field (_gcl_aw, fbc) of any vendor.
    return value in request.url or value in request.text


def _after(ctx: CheckContext, request: CapturedRequest) -> str:
    return f"left {(request.started_at - ctx.result.capture.started_at) * 1000:.0f} ms after the click"
