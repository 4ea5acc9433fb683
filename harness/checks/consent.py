"""Consent sequencing: ad tags wait for the visitor's answer, and Google tags report the state in force.

The consent moment comes from the journey (the step whose ``consent`` is accept/reject) or, without
such a step, from ``expect.consent`` (``ignore``: the banner is never answered). Rules per phase:

- before the answer (and the whole run with ``ignore``): no ad vendor fires, except Google consent-mode
  pings (google_ads/floodlight whose gcs/gcd say ad_storage denied); no hit claims a signal granted.
- after a reject (and before it): the same, and every Google hit (ga4, ua, google_ads, floodlight)
  must carry a consent state at all.
- after an accept: anything goes.

A hit that started while the consent step itself ran is not judged: the click happens somewhere inside
that window and its own hits may start before the step's end is recorded. ``expect.consent: accept``
without a consent step gives no moment to judge against, so nothing is checked. Server-side events
(CAPI, Events API) are the server's business, not the browser's consent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from harness.checks.base import CheckContext, check, event_evidence
from harness.checks.click_ids import compact_url
from harness.decoders.registry import vendor_profile
from harness.models import CheckFailure, DecodedEvent, StepRecord
from harness.scenario import consent_means

SIGNALS = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")

Phase = Literal["before", "during", "accepted", "rejected", "ignored"]
_DECLARED_PHASE: dict[str, Phase] = {"accept": "accepted", "reject": "rejected", "ignore": "ignored"}


@dataclass(frozen=True)
class ConsentTimeline:
    """The consent answers of the run in order; ``phase_at`` says which rules apply at a moment."""

    answers: tuple[StepRecord, ...]
    declared: Literal["accept", "reject", "ignore"] | None

    def phase_at(self, at: float | None) -> tuple[Phase, StepRecord | None]:
        if not self.answers:
            # Only the declared choice: it holds for the whole run.
            return _DECLARED_PHASE.get(self.declared or "", "accepted"), None
        phase: Phase = "before"
        step: StepRecord | None = self.answers[0]
        if at is None:
            return ("rejected" if self.answers[0].consent == "reject" else "accepted"), step
        for answer in self.answers:
            if at < answer.started_at:
                break
            step = answer
            if answer.ended_at is not None and at <= answer.ended_at:
                phase = "during"
                break
            phase = "accepted" if answer.consent == "accept" else "rejected"
        return phase, step

    @property
    def judged(self) -> bool:
        return bool(self.answers) or self.declared in ("reject", "ignore")


def consent_timeline(ctx: CheckContext) -> ConsentTimeline:
    answers = tuple(s for s in ctx.steps if s.consent in ("accept", "reject"))
    # The run's consent condition says what the visitor did when the scenario's expectation does not.
    declared = ctx.scenario.expect.consent or consent_means(ctx.conditions.consent)
    return ConsentTimeline(answers=answers, declared=declared)


def granted_signals(event: DecodedEvent) -> list[str]:
    return [s for s in SIGNALS if getattr(event.consent, s) == "granted"]


def pre_consent_problem(event: DecodedEvent) -> str | None:
    """Why this hit may not leave before consent (or without it), or None when it may."""
    role = vendor_profile(event.vendor).consent
    if role == "ad_tag":
        return "fired"
    granted = granted_signals(event)
    if granted:
        return f"claims {', '.join(granted)} granted"
    if role == "consent_mode_ad_tag" and event.consent.ad_storage != "denied":
        return "is not a consent-mode ping (it does not say ad_storage denied)"
    return None


def rejected_problem(event: DecodedEvent) -> str | None:
    """Why this hit may not leave once the visitor rejected, or None when it may."""
    problem = pre_consent_problem(event)
    if problem is not None:
        return problem
    profile = vendor_profile(event.vendor)
    if profile.consent in ("consent_mode_ad_tag", "consent_mode_tag") and not event.consent.declared:
        platform = profile.platform_name or event.vendor
        return f"carries no consent state, so {platform} treats it as consented"
    return None


def _timing(at: float | None, step: StepRecord | None, phase: Phase, choice: str | None) -> str:
    if phase == "before" and step is not None and at is not None:
        return f"{step.started_at - at:.1f} s before the consent click ({step.label!r})"
    if phase == "rejected" and step is not None and at is not None and at >= step.started_at:
        return f"{at - step.started_at:.1f} s after the visitor rejected ({step.label!r})"
    if phase == "rejected":
        return "although the visitor rejects consent"
    if phase == "ignored":
        return "although the consent banner was never answered"
    return f"before consent ({choice or 'no answer'})"


def _expected(phase: Phase) -> str:
    if phase == "rejected":
        return "after a reject: no non-Google ad hits; Google hits with consent mode saying denied"
    return "before consent: no ad hits except Google consent-mode pings (ad_storage denied), nothing granted"


@check("consent_respected")
def consent_respected(ctx: CheckContext) -> Iterator[CheckFailure]:
    """No ad hit before consent, none (or only denied Google pings) after a reject or without an answer."""
    name = "consent_respected"
    timeline = consent_timeline(ctx)
    if not timeline.judged:
        return
    started = {r.id: r.started_at for r in ctx.result.capture.requests}
    # One failure per vendor, event and problem; every offending hit is its evidence.
    grouped: dict[str, list[tuple[DecodedEvent, str, Phase]]] = {}
    for event in ctx.events:
        if event.source != "browser" or event.malformed:
            continue
        at = started.get(event.request_id or "")
        phase, step = timeline.phase_at(at)
        if phase in ("accepted", "during"):
            continue
        problem = rejected_problem(event) if phase == "rejected" else pre_consent_problem(event)
        if problem is None:
            continue
        when = _timing(at, step, phase, step.consent if step else timeline.declared)
        key = f"{name}:{phase}:{event.vendor}:{event.event}:{problem}"
        grouped.setdefault(key, []).append((event, f"{problem} {when}", phase))
    for key, hits in grouped.items():
        first, what, phase = hits[0]
        times = f" ({len(hits)} hits)" if len(hits) > 1 else ""
        yield ctx.failure(
            name,
            f"{first.vendor} {first.event} {what}{times}",
            "Consent sequencing issue",
            expected=_expected(phase),
            seen=_seen(first),
            evidence=[event_evidence(e) for e, _, _ in hits],
            key=key,
        )


def _seen(event: DecodedEvent) -> str:
    state = ", ".join(f"{s}={getattr(event.consent, s)}" for s in SIGNALS if getattr(event.consent, s))
    raw = ", ".join(f"{k}={v}" for k, v in (("gcs", event.consent.gcs), ("gcd", event.consent.gcd)) if v)
    consent = "; ".join(p for p in (state, raw) if p) or "no consent state"
    page = compact_url(event.page_url) if event.page_url else "(page unknown)"
    return f"{event.vendor} {event.event} on {page} ({consent})"
