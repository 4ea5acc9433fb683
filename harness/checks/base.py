"""The check plug-in point: a check is one function that reads a run and yields failures.

Register with ``@check("name")``; the engine never lists checks by name. Third parties register theirs
under the entry point group ``eventpath.checks`` (the entry point names the function).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from harness.models import CheckFailure, DecodedEvent, Evidence, RootCauseName, RunResult, StepRecord
from harness.scenario import RunConditions, Scenario


class RootCause(NamedTuple):
    breaks: str
    fix: str


# The seed root-cause table, plus the causes checks need beyond it.
ROOT_CAUSES: dict[RootCauseName, RootCause] = {
    "Missing tag": RootCause("Events never reach platform", "Reinstall or repair tag/container"),
    "Wrong trigger": RootCause("Event fires too early or too late", "Tie conversion to the actual success state"),
    "Duplicate trigger": RootCause("Same action counted multiple times", "Use order IDs, event IDs and trigger guards"),
    "Broken dedupe": RootCause("Pixel and API both count the same action", "Align event name and event ID"),
    "Missing value": RootCause("ROAS and value bidding become unreliable", "Pass dynamic value and currency"),
    "Consent sequencing issue": RootCause(
        "Tags fire before consent state or are blocked unexpectedly", "Audit CMP and tag firing order"
    ),
    "Missing click IDs": RootCause(
        "Offline imports cannot match back to ads",
        "Capture gclid, gbraid, wbraid, fbclid, ttclid where relevant",
    ),
    "Dropped parameters in redirects": RootCause("Sessions lose their source", "Preserve the query string on every hop"),
    "Stripped by the browser": RootCause(
        "The browser removes the click ID before the site sees it: no tag or redirect can pass it on",
        "Match these conversions without the URL's click ID: enhanced conversions or a conversions API with "
        "hashed user data; UTM parameters survive",
    ),
    "PII in hit": RootCause(
        "Raw personal data reaches ad platforms (policy breach, account risk)",
        "Hash identifiers (SHA-256, normalised) or stop sending them",
    ),
    "Unexpected vendor": RootCause(
        "Data goes to a platform nobody expects", "Remove the tag or add the vendor to the expectations"
    ),
    "Event order": RootCause(
        "Platforms attribute the conversion to no session", "Fire page_view before conversion events"
    ),
    "Slow page": RootCause(
        "Users leave before tags fire; clicks never become sessions", "Load tags early; speed up the landing page"
    ),
    "Broken page": RootCause(
        "Paid clicks land on an error page: the visit and its conversion are lost, whatever the tags send",
        "Restore the page or 301 it to a live one, or correct the ad's final URL",
    ),
    "Event definition drift": RootCause(
        "What the site sends changed since the baseline: reports shift without anyone deciding it",
        "Review the change (container publish, release); fix it, or accept it with --update-baseline",
    ),
    "Run error": RootCause("The journey could not be completed", "Fix the scenario or the site, then rerun"),
}


@dataclass
class CheckContext:
    """What every check reads: the scenario's expectations and one run's results."""

    scenario: Scenario
    result: RunResult
    ad_url: str  # the URL the run opened, click IDs included
    conditions: RunConditions = field(default_factory=RunConditions)
    scenario_file: Path | None = None  # where the scenario came from (baselines live beside it)

    @property
    def events(self) -> list[DecodedEvent]:
        return self.result.events

    @property
    def steps(self) -> list[StepRecord]:
        return self.result.capture.steps

    def typed_values(self) -> list[str]:
        """What the journey typed into fields (emails, phones, names): the PII check looks for them."""
        return [s.typed for s in self.steps if s.typed]

    def failure(
        self,
        check: str,
        title: str,
        root_cause: RootCauseName,
        expected: str,
        seen: str,
        evidence: Iterable[Evidence] = (),
        key: str | None = None,
        fix: str | None = None,
    ) -> CheckFailure:
        """A failure with the fix direction of its root cause (unless a more specific one is given)."""
        return CheckFailure(
            check=check,
            title=title,
            root_cause=root_cause,
            fix_direction=fix or ROOT_CAUSES[root_cause].fix,
            expected=expected,
            seen=seen,
            evidence=list(evidence),
            key=key or f"{check}:{title}",
        )


def event_evidence(event: DecodedEvent) -> Evidence:
    parts = [event.vendor, event.event]
    if event.event_id:
        parts.append(f"event_id={event.event_id}")
    if event.transaction_id:
        parts.append(f"transaction_id={event.transaction_id}")
    if event.value is not None or event.currency:
        parts.append(f"value={event.value} {event.currency or ''}".rstrip())
    if event.page_url:
        parts.append(f"on {event.page_url}")
    return Evidence(request_id=event.request_id, summary=" ".join(parts), url=event.page_url)


CheckFunction = Callable[[CheckContext], Iterable[CheckFailure]]


@dataclass
class RegisteredCheck:
    name: str
    function: CheckFunction
    description: str = ""


BUILTIN_CHECKS: list[RegisteredCheck] = []


def check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: register a built-in check under ``name`` (its first docstring line describes it)."""

    def register(function: CheckFunction) -> CheckFunction:
        doc = (function.__doc__ or "").strip().splitlines()
        if not any(c.name == name for c in BUILTIN_CHECKS):
            BUILTIN_CHECKS.append(RegisteredCheck(name, function, doc[0] if doc else ""))
        return function

    return register


@dataclass
class CheckOutcome:
    failures: list[CheckFailure] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
