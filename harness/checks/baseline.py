"""baseline_drift: the run's event definitions against the baseline stored beside its scenario file.

No baseline file, no section for this device and conditions, or a run that did not finish: nothing to
compare, no failure. Runs with
demo bug switches on are compared too (that is how the demo shows drift being caught); they just never
write baselines. A container change alone is not a failure: it is the context of the other drifts.
"""

from __future__ import annotations

from collections.abc import Iterator

from harness.baseline import Drift, baseline_path, drift_of_run
from harness.checks.base import CheckContext, check, event_evidence
from harness.errors import BadInput
from harness.models import CheckFailure, Evidence, RootCauseName

NAME = "baseline_drift"

# A drift is reported under the matching entry of the root-cause table where one fits (an event that
# disappeared is a missing tag); the rest (a parameter added or retyped, ...) is event definition drift.
DRIFT_ROOT_CAUSE: RootCauseName = "Event definition drift"

# Cookies that carry a click ID: losing one is a click-ID problem, not a missing tag.
CLICK_ID_COOKIES = frozenset(
    {
        "_gcl_aw",
        "_gcl_gb",
        "_gcl_dc",
        "_fbc",
        "ttclid",
        "_uetmsclkid",
        "_epik",
        "_scclid",
        "_rdt_cid",
        "li_fat_id",
    }
)

FIX = (
    "If the change was intended (a new GTM version, a site release), accept it with "
    "`eventpath run --update-baseline`; otherwise restore the tag's previous definition"
)


def drift_root_cause(drift: Drift) -> RootCauseName:
    """The root cause a drift is reported under (see DRIFT_ROOT_CAUSE)."""
    field = drift.path.rsplit(".", 1)[-1]
    if drift.kind == "event_disappeared":
        return "Missing tag"
    if drift.kind == "event_appeared":
        if (drift.occurrence or 1) > 1:
            return "Duplicate trigger"
        return "Unexpected vendor" if "not in the baseline" in drift.message else "Wrong trigger"
    if drift.kind == "click_id_lost":
        return "Missing click IDs" if drift.vendor else "Dropped parameters in redirects"
    if drift.kind in ("hop_added", "hop_removed"):
        return "Dropped parameters in redirects"
    if drift.kind == "cookie_lost":
        return (
            "Missing click IDs"
            if field in CLICK_ID_COOKIES or drift.before in CLICK_ID_COOKIES
            else "Missing tag"
        )
    if drift.kind == "cookie_added":
        return "Unexpected vendor"
    if ".consent." in drift.path:
        return "Consent sequencing issue"
    if ".user_data." in drift.path and drift.after == "raw":
        return "PII in hit"
    if drift.kind == "value_became_null" and field == "event_id":
        return "Broken dedupe"
    if drift.kind == "value_changed" and field == "page":
        return "Wrong trigger"
    if drift.kind == "value_changed" and field == "account_id":
        return "Missing tag"
    if drift.kind == "value_became_null" or field in ("value", "currency", "transaction_id"):
        return "Missing value"
    return DRIFT_ROOT_CAUSE


def _evidence(ctx: CheckContext, drift: Drift) -> list[Evidence]:
    """The hit that shows the drift (the run's Nth event of that name), or the hop or cookie."""
    if drift.vendor and drift.event:
        events = ctx.result.select(drift.vendor, drift.event)
        index = (drift.occurrence or 1) - 1
        if 0 <= index < len(events):
            return [event_evidence(events[index])]
        return []
    if drift.kind == "hop_added":
        hops = ctx.result.capture.chain.hops
        index = int(drift.path.split(".")[1])
        return (
            [
                Evidence(
                    request_id=hops[index].request_id,
                    summary=f"hop {index} {hops[index].url}",
                    url=hops[index].url,
                )
            ]
            if index < len(hops)
            else []
        )
    if drift.kind == "cookie_added":
        found = [c for c in ctx.result.capture.cookies if c.name == drift.after]
        return [Evidence(summary=f"cookie {c.name} on {c.domain}{c.path}") for c in found[:1]]
    return []


def _shown(value: str | None) -> str:
    return value if value is not None else "(absent)"


def drift_failure(ctx: CheckContext, drift: Drift, baseline_file: str) -> CheckFailure:
    return ctx.failure(
        NAME,
        drift.message,
        drift_root_cause(drift),
        expected=f"{drift.path}: {_shown(drift.before)} as in {baseline_file}",
        seen=f"{drift.path}: {_shown(drift.after)}",
        evidence=_evidence(ctx, drift),
        key=f"{NAME}:{drift.kind}:{drift.path}:{drift.occurrence or ''}",
        fix=FIX,
    )


@check(NAME)
def baseline_drift(ctx: CheckContext) -> Iterator[CheckFailure]:
    """Event definitions, redirect chain, click IDs and cookies match the stored baseline."""
    if ctx.scenario_file is None or ctx.result.capture.error:
        return  # a run that could not finish is reported by run_health; its "drift" would only be noise
    path = baseline_path(ctx.scenario_file)
    try:
        drifts = drift_of_run(ctx.scenario_file, ctx.result, ctx.conditions, ctx.scenario.baseline_noise)
    except BadInput as exc:
        yield ctx.failure(
            NAME,
            f"baseline {path.name} cannot be read",
            "Run error",
            expected="a baseline written by eventpath",
            seen=str(exc),
            fix="rewrite it with `eventpath run --update-baseline` or delete it",
        )
        return
    for drift in drifts or []:
        if not drift.informational:
            yield drift_failure(ctx, drift, str(path))
