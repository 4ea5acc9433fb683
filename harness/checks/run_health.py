"""Run health: the journey finished and the capture is whole, or the other checks' verdicts are in doubt."""

from __future__ import annotations

from collections.abc import Iterator

from harness.checks.base import CheckContext, check
from harness.models import CheckFailure, Evidence, StepRecord


@check("run_completed")
def run_completed(ctx: CheckContext) -> Iterator[CheckFailure]:
    """The run finished without error, every step ran cleanly and the capture ended on the quiet window."""
    capture = ctx.result.capture
    failed_steps = [step for step in capture.steps if step.error]
    # A run that ended on a failed step says so once, as that step's failure (with the run's fuller text).
    ended_by_step = next((s for s in failed_steps if capture.error and s.error and s.error in capture.error), None)
    if capture.error and ended_by_step is None:
        yield ctx.failure(
            "run_completed",
            f"the run did not finish: {capture.error}",
            "Run error",
            expected="the journey to run to its end",
            seen=f"{capture.error} (last page: {_last_page(ctx)})",
            evidence=[Evidence(summary=f"run error: {capture.error}", url=_last_page(ctx))],
            key="run_completed:error",
        )
    for step in failed_steps:
        yield _step_failure(ctx, step, capture.error if step is ended_by_step else None)
    if not capture.capture_complete:
        note = capture.capture_note or "the network never went quiet before the capture cap"
        yield ctx.failure(
            "run_completed",
            "the capture was cut off: hits sent after it may be missing",
            "Run error",
            expected="the end-of-run beacon and a quiet network before the capture cap",
            seen=note,
            evidence=[Evidence(summary=f"capture incomplete: {note}", url=_last_page(ctx))],
            key="run_completed:incomplete",
            fix="Treat missing-event verdicts of this run with doubt; raise the capture timeout or find the "
            "request that keeps the page busy (long polling, streaming, a retrying beacon), then rerun",
        )


def _step_failure(ctx: CheckContext, step: StepRecord, run_error: str | None = None) -> CheckFailure:
    target = f" {step.target}" if step.target else ""
    return ctx.failure(
        "run_completed",
        f"step {step.index + 1} {step.label!r} failed: {step.error}",
        "Run error",
        expected=f"step {step.label!r} ({step.action}{target}) to complete",
        seen=run_error or step.error or "",
        evidence=[
            Evidence(summary=f"step {step.label!r} {step.action}{target}: {step.error}", url=step.url_after)
        ],
        key=f"run_completed:step:{step.index}",
        fix="Fix the step's selector or URL in the scenario, or the page it waits for, then rerun",
    )


def _last_page(ctx: CheckContext) -> str:
    capture = ctx.result.capture
    if capture.navigations:
        return capture.navigations[-1].url
    return capture.final_url or capture.start_url
