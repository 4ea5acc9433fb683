"""What the HTML template shows, built from a (redacted) suite: plain, bounded, ready-to-escape values.

Everything a hit carries is untrusted. Here it is only made *bounded* and *decodable* (bodies cut at
``BODY_LIMIT`` with a note, a page-wide budget for raw bodies, invalid UTF-8 replaced, control characters
removed); escaping is the template's job (autoescape is on, and nothing here is marked safe).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from harness.browser.metrics import time_to_first_hit_ms, time_to_page_view_ms
from harness.chain import hop_queries
from harness.decoders.registry import is_tracked_param
from harness.gap import (
    STAGE_LABELS,
    STAGES,
    GapTable,
    condition_label,
    describe_conditions,
    gap_table,
    render_gap_svg,
)
from harness.models import (
    CapturedRequest,
    CheckFailure,
    ConsentState,
    DecodedEvent,
    PageMetrics,
    RedirectChain,
    RunCapture,
    RunResult,
)
from harness.report.reconcile import Reconciliation, is_purchase, platform_name, reconcile
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import ExpectedEvent

BODY_LIMIT = 64 * 1024  # per raw body shown
PAGE_BODY_BUDGET = 2 * 1024 * 1024  # raw bodies of one page together; the rest is in results.json
URL_LIMIT = 8 * 1024
SHORT_LIMIT = 200  # values in tables and one-line summaries
HEADER_LIMIT = 4 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(text: str, limit: int = SHORT_LIMIT) -> str:
    """``text`` without control characters or lone surrogates, cut to ``limit`` characters with an ellipsis."""
    text = _CONTROL.sub("\ufffd", text)
    return text if len(text) <= limit else text[:limit] + f"… (+{len(text) - limit} chars)"


class BodyBudget:
    """How many raw body characters the page may still hold, so a run of big hits keeps the page small."""

    def __init__(self, total: int = PAGE_BODY_BUDGET) -> None:
        self.left = total

    def take(self, wanted: int) -> int:
        granted = max(0, min(wanted, self.left))
        self.left -= granted
        return granted


# --- chain -----------------------------------------------------------------------------------------

CellState = Literal["present", "changed", "missing"]


@dataclass(frozen=True)
class HopView:
    index: int
    kind: str
    status: str
    host: str
    path: str
    url: str
    error: str | None


@dataclass(frozen=True)
class ParamCell:
    state: CellState
    value: str


@dataclass(frozen=True)
class ParamRowView:
    name: str
    cells: list[ParamCell]
    fate: str  # "kept", "dropped at hop 2", ...
    lost: bool


@dataclass(frozen=True)
class ChainView:
    hops: list[HopView]
    params: list[ParamRowView]
    loop_detected: bool


def chain_view(chain: RedirectChain) -> ChainView:
    hops = [
        HopView(
            index=h.index,
            kind=h.kind,
            status=str(h.status) if h.status is not None else "—",
            host=clean(h.host or "?", 120),
            path=clean(urlsplit(h.url).path or "/", 80),
            url=clean(h.url, URL_LIMIT),
            error=clean(h.error) if h.error else None,
        )
        for h in chain.hops
    ]
    return ChainView(hops=hops, params=_param_rows(chain), loop_detected=chain.loop_detected)


def _param_rows(chain: RedirectChain) -> list[ParamRowView]:
    """One row per tracked parameter any hop carries; each cell compares the hop's value with the first."""
    queries = hop_queries(chain.hops)
    names = list(dict.fromkeys(name for query in queries for name in query if is_tracked_param(name)))
    fates = {f.param: f for f in chain.params}
    rows = []
    for name in names:
        first = next(query[name] for query in queries if name in query)
        cells = [_cell(query.get(name), first) for query in queries]
        fate = fates.get(name)
        if fate is None:
            text, lost = ("added on the way" if name not in queries[0] else "kept"), False
        elif fate.fate == "kept":
            text, lost = "kept", False
        else:
            text, lost = f"{fate.fate} at hop {fate.hop}", True
        rows.append(ParamRowView(name=clean(name, 60), cells=cells, fate=text, lost=lost))
    return rows


def _cell(value: str | None, first: str) -> ParamCell:
    if value is None:
        return ParamCell("missing", "")
    return ParamCell("present" if value == first else "changed", clean(value, 60))


# --- timeline --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    vendor: str
    platform: str
    event: str
    value: str
    currency: str
    event_id: str
    transaction_id: str
    click_ids: str
    consent: str
    source: str
    purchase: bool
    malformed: str | None
    repeats: bool = False  # another hit of the same action (a redirect hop, a twin): shown, not counted


@dataclass(frozen=True)
class RawRequestView:
    method: str
    url: str
    http_version: str
    headers: list[tuple[str, str]]
    body: str
    body_note: str | None
    status: str
    response_headers: list[tuple[str, str]]
    error: str | None
    sinkholed: bool
    source: str


@dataclass(frozen=True)
class TimelineEntry:
    kind: Literal["hit", "navigation", "step", "dialog"]
    at_ms: int | None
    title: str
    detail: str = ""
    anchor: str = ""
    consent: str | None = None  # "accept"/"reject" for the step that answered the banner
    events: list[EventView] = field(default_factory=list)
    raw: RawRequestView | None = None
    error: str | None = None


def consent_summary(consent: ConsentState) -> str:
    """``ad_storage=denied analytics_storage=granted gcs=G100``; empty when the hit said nothing."""
    parts = [
        f"{name}={value}"
        for name, value in (
            ("ad_storage", consent.ad_storage),
            ("analytics_storage", consent.analytics_storage),
            ("ad_user_data", consent.ad_user_data),
            ("ad_personalization", consent.ad_personalization),
        )
        if value
    ]
    parts += [f"{name}={value}" for name, value in (("gcs", consent.gcs), ("gcd", consent.gcd)) if value]
    parts += [f"{k}={v}" for k, v in consent.other.items()]
    return clean(" ".join(parts))


def event_view(event: DecodedEvent) -> EventView:
    return EventView(
        vendor=clean(event.vendor, 60),
        platform=clean(platform_name(event.vendor), 60),
        event=clean(event.event, 120),
        value="" if event.value is None else f"{event.value:g}",
        currency=clean(event.currency or "", 20),
        event_id=clean(event.event_id or ""),
        transaction_id=clean(event.transaction_id or ""),
        click_ids=clean(" ".join(f"{k}={v}" for k, v in event.click_ids.items()), 400),
        consent=consent_summary(event.consent),
        source=event.source,
        purchase=is_purchase(event),
        malformed=clean(event.malformed_reason or "malformed") if event.malformed else None,
        repeats=event.repeats,
    )


def raw_request_view(request: CapturedRequest, budget: BodyBudget) -> RawRequestView:
    body, note = _body_text(request, budget)
    return RawRequestView(
        method=clean(request.method, 20),
        url=clean(request.url, URL_LIMIT),
        http_version=clean(request.http_version, 20),
        headers=[(clean(k, 200), clean(v, HEADER_LIMIT)) for k, v in request.request_headers],
        body=body,
        body_note=note,
        status=str(request.status) if request.status is not None else "no answer",
        response_headers=[(clean(k, 200), clean(v, HEADER_LIMIT)) for k, v in request.response_headers],
        error=clean(request.error) if request.error else None,
        sinkholed=request.sinkholed,
        source=request.source,
    )


def _body_text(request: CapturedRequest, budget: BodyBudget) -> tuple[str, str | None]:
    raw = request.body
    notes: list[str] = []
    if request.body_truncated:
        notes.append("the proxy kept only the start of this body")
    shown = budget.take(min(len(raw), BODY_LIMIT))
    if shown < len(raw):
        reason = "the page's body budget is spent" if shown < min(len(raw), BODY_LIMIT) else "64 KB limit"
        notes.append(f"showing {shown:,} of {len(raw):,} bytes ({reason}); the full body is in results.json")
    head = raw[:shown]
    if _invalid_utf8(head, cut=shown < len(raw)):
        notes.append("not valid UTF-8: undecodable bytes are shown as \ufffd")
    # Shown exactly as sent: pretty-printing would hide duplicate keys and reformat numbers.
    return clean(head.decode("utf-8", errors="replace"), BODY_LIMIT), "; ".join(notes) or None


def _invalid_utf8(head: bytes, cut: bool) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not (cut and exc.start >= len(head) - 3)  # a character split by the cut is no fault
    return False


def timeline(
    capture: RunCapture, events: Sequence[DecodedEvent], anchors: Mapping[str, str], budget: BodyBudget
) -> list[TimelineEntry]:
    """Tag hits in request order, with navigations and journey steps placed by time between them."""
    by_request: dict[str, list[DecodedEvent]] = {}
    for event in events:
        by_request.setdefault(event.request_id or "", []).append(event)
    markers = sorted(_markers(capture), key=lambda pair: pair[0])
    entries: list[TimelineEntry] = []
    for hit in sorted(capture.tag_hits, key=lambda r: r.seq):
        while markers and markers[0][0] <= hit.started_at:
            entries.append(markers.pop(0)[1])
        entries.append(_hit_entry(capture, hit, by_request.get(hit.id, []), anchors.get(hit.id, ""), budget))
    entries.extend(entry for _, entry in markers)
    return entries


def _relative_ms(capture: RunCapture, at: float) -> int | None:
    return round((at - capture.started_at) * 1000) if at else None


def _markers(capture: RunCapture) -> Iterable[tuple[float, TimelineEntry]]:
    for nav in capture.navigations:
        yield _marker(capture, nav.at, "navigation", clean(nav.url, 600))
    for handoff in capture.app_handoffs:
        yield _marker(capture, handoff.at, "navigation", clean(f"hand-off to an app: {handoff.url}", 600))
    for dialog in capture.dialogs:
        yield _marker(capture, dialog.at, "dialog", clean(f"{dialog.kind}: {dialog.message}", 300), detail=dialog.answer)
    for step in capture.steps:
        detail = clean(step.target or "", 300)
        if step.typed:
            detail += f" ← typed {clean(step.typed, 80)!r}"
        title = clean(f"{step.label} ({step.action})", 200)
        error = clean(step.error) if step.error else None
        yield _marker(capture, step.started_at, "step", title, detail=detail, consent=step.consent, error=error)


def _marker(capture: RunCapture, at: float, kind: MarkerKind, title: str, **more: Any) -> tuple[float, TimelineEntry]:
    return at, TimelineEntry(kind=kind, at_ms=_relative_ms(capture, at), title=title, **more)


MarkerKind = Literal["navigation", "step", "dialog"]


def _hit_entry(
    capture: RunCapture, hit: CapturedRequest, events: list[DecodedEvent], anchor: str, budget: BodyBudget
) -> TimelineEntry:
    return TimelineEntry(
        kind="hit",
        at_ms=_relative_ms(capture, hit.started_at),
        title=clean(f"{hit.method} {hit.host}{hit.path}", 200),
        anchor=anchor,
        events=[event_view(e) for e in events],
        raw=raw_request_view(hit, budget),
    )


# --- real-world conditions: speed, blocker, abandonment -----------------------------------------------


@dataclass(frozen=True)
class SpeedView:
    """Landing page timings and how long after the click the tags spoke, in ms ("—" when unknown)."""

    ttfb: str
    lcp: str
    dom_content_loaded: str
    load: str
    first_hit: str
    page_view: str


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def speed_view(result: RunResult) -> SpeedView | None:
    """None when the run has neither page metrics nor a tag hit (nothing to say)."""
    metrics = result.capture.metrics or PageMetrics()
    first_hit, page_view = time_to_first_hit_ms(result), time_to_page_view_ms(result)
    values = (metrics.ttfb_ms, metrics.lcp_ms, metrics.dom_content_loaded_ms, metrics.load_ms, first_hit, page_view)
    if all(v is None for v in values):
        return None
    return SpeedView(*(_ms(v) for v in values))


@dataclass(frozen=True)
class BlockerView:
    name: str  # the block list in force
    blocked_requests: int
    lost: list[str]  # "lost to ad blocker: meta_pixel Purchase value 89.9 EUR on https://..."
    hosts: list[str]  # hosts of the blocked requests, most blocked first


def blocker_view(run: ScenarioRun) -> BlockerView | None:
    """What the run's content blocker cost; None when no blocker was in force."""
    capture = run.result.capture
    if not run.conditions.blocker and not capture.blocked and not run.result.blocked_events:
        return None
    hosts: dict[str, int] = {}
    for request in capture.blocked:
        hosts[request.host] = hosts.get(request.host, 0) + 1
    return BlockerView(
        name=clean(run.conditions.blocker or "?", 200),
        blocked_requests=len(capture.blocked),
        lost=[clean(f"lost to ad blocker: {_event_line(e)}", 400) for e in run.result.blocked_events],
        hosts=[clean(h, 120) for h, _ in sorted(hosts.items(), key=lambda pair: -pair[1])],
    )


def _event_line(event: DecodedEvent) -> str:
    """``meta_pixel Purchase value 89.9 EUR on https://shop/thank-you``: one event, one line."""
    parts = [event.vendor, event.event]
    if event.value is not None:
        parts.append(f"value {event.value:g}" + (f" {event.currency}" if event.currency else ""))
    if event.page_url:
        parts.append(f"on {event.page_url}")
    return " ".join(parts)


@dataclass(frozen=True)
class AbandonmentView:
    left_after_ms: str
    reached: list[str]  # events whose hits left before the user did
    late: list[str]  # events sent only as the page was left or after (unload beacons), "" none


def abandonment_view(run: ScenarioRun) -> AbandonmentView | None:
    """When the run left the page early: what the platforms had by then; None for a run that stayed.

    The time shown is the condition's ``abandon_after_ms`` (counted from the click, as the user would);
    what "reached" is judged by the moment the page was really left (``capture.abandoned_at``)."""
    result = run.result
    capture = result.capture
    if capture.abandoned_at is None:
        return None
    sent = {r.id: r.started_at for r in capture.requests}
    reached: list[str] = []
    late: list[str] = []
    for event in result.events:
        at = sent.get(event.request_id or "")
        (reached if at is not None and at <= capture.abandoned_at else late).append(clean(_event_line(event), 400))
    planned = run.conditions.abandon_after_ms
    left_ms = planned if planned is not None else (capture.abandoned_at - capture.started_at) * 1000
    return AbandonmentView(left_after_ms=_ms(left_ms), reached=reached, late=late)


# --- failures, artifacts, runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceView:
    summary: str
    url: str
    anchor: str


@dataclass(frozen=True)
class FailureView:
    check: str
    title: str
    root_cause: str
    fix_direction: str
    expected: str
    seen: str
    evidence: list[EvidenceView]


def failure_view(failure: CheckFailure, anchors: Mapping[str, str]) -> FailureView:
    return FailureView(
        check=clean(failure.check, 100),
        title=clean(failure.title, 400),
        root_cause=failure.root_cause,
        fix_direction=clean(failure.fix_direction, 600),
        expected=clean(failure.expected, 1000),
        seen=clean(failure.seen, 1000),
        evidence=[
            EvidenceView(
                summary=clean(e.summary, 600),
                url=clean(e.url or "", 600),
                anchor=anchors.get(e.request_id or "", ""),
            )
            for e in failure.evidence
        ],
    )


def relative_href(path: str) -> str | None:
    """A link target for an artifact path, only when it is a relative path (never a URL elsewhere)."""
    path = path.replace("\\", "/")
    parts = urlsplit(path)
    if not path or parts.scheme or parts.netloc or path.startswith(("/", "//")):
        return None
    return quote(path, safe="/-_.~")


@dataclass(frozen=True)
class CookieView:
    name: str
    domain: str
    value: str


@dataclass(frozen=True)
class RunView:
    anchor: str
    test_id: str
    scenario: str
    device: str
    bugs: list[str]
    passed: bool
    ad_url: str
    final_url: str
    duration_s: float
    error: str | None
    capture_note: str | None
    chain: ChainView
    timeline: list[TimelineEntry]
    reconciliation: Reconciliation
    failures: list[FailureView]
    cookies: list[CookieView]
    screenshot: str | None
    artifact_links: list[tuple[str, str]]
    hit_count: int
    request_count: int
    conditions: str = ""  # "network=slow-3g,blocker=common"; "" without conditions
    speed: SpeedView | None = None
    blocker: BlockerView | None = None
    abandonment: AbandonmentView | None = None


@dataclass(frozen=True)
class RunRow:
    """A run's line in the summary table (read before any run's section is rendered)."""

    anchor: str
    test_id: str
    conditions: str
    passed: bool
    failure_count: int
    hit_count: int


def run_row(index: int, run: ScenarioRun, redact: Callable[[str], str] = str) -> RunRow:
    return RunRow(
        anchor=f"run{index}",
        test_id=clean(redact(run.test_id), 300),
        conditions=clean(redact(describe_conditions(run.conditions)), 300),
        passed=run.passed,
        failure_count=len(run.failures),
        hit_count=len(run.result.capture.tag_hits),
    )


def run_view(index: int, run: ScenarioRun, expected: Sequence[ExpectedEvent], budget: BodyBudget) -> RunView:
    capture = run.result.capture
    anchors = {r.id: f"run{index}-hit{n}" for n, r in enumerate(capture.requests)}
    screenshot = relative_href(run.artifacts.get("screenshot", ""))
    links = [
        (name, href)
        for name in ("trace", "har", "flows")
        if (href := relative_href(run.artifacts.get(name, ""))) is not None
    ]
    note = capture.capture_note or (
        "" if capture.capture_complete else "capture did not go quiet before the cap"
    )
    return RunView(
        anchor=f"run{index}",
        test_id=clean(run.test_id, 300),
        scenario=clean(run.scenario, 200),
        device=clean(run.device, 100),
        bugs=[clean(b, 60) for b in run.bugs],
        passed=run.passed,
        ad_url=clean(run.ad_url, URL_LIMIT),
        final_url=clean(capture.final_url, URL_LIMIT),
        duration_s=run.duration_s,
        error=clean(capture.error, 1000) if capture.error else None,
        capture_note=clean(note, 400) or None,
        chain=chain_view(capture.chain),
        timeline=timeline(capture, run.result.events, anchors, budget),
        reconciliation=reconcile(run, expected),
        failures=[failure_view(f, anchors) for f in run.failures],
        cookies=[
            CookieView(clean(c.name, 100), clean(c.domain, 100), clean(c.value, 120)) for c in capture.cookies
        ],
        screenshot=screenshot,
        artifact_links=links,
        hit_count=len(capture.tag_hits),
        request_count=len(capture.requests),
        conditions=clean(describe_conditions(run.conditions), 300),
        speed=speed_view(run.result),
        blocker=blocker_view(run),
        abandonment=abandonment_view(run),
    )


@dataclass(frozen=True)
class SummaryView:
    scenarios: int
    devices: list[str]
    runs: int
    passed: int
    failed: int
    root_causes: list[tuple[str, int]]
    unattributed: int
    started: str
    duration_s: float
    version: str
    gap: GapView | None = None
    interrupted: str | None = None  # "stopped by Ctrl-C after 2 of 6 runs"


@dataclass(frozen=True)
class GapRowView:
    label: str
    overall: bool  # the any-vendor row of its condition
    counts: list[str]  # one per stage; "n/a" where the vendor never sends that stage
    losses: list[str]  # "page views lost: user left after 300 ms x1"


@dataclass(frozen=True)
class GapView:
    stages: list[str]
    rows: list[GapRowView]
    svg: str  # from ``harness.gap.render_gap_svg``, every label escaped there; the writer marks it safe


def gap_view(suite: SuiteResult, labels: int) -> GapView | None:
    """The click-to-session gap table when the suite ran more than one condition label (``labels``: how
    many, counted by the summary's pass over the runs), else None."""
    if labels < 2:
        return None
    table: GapTable = gap_table(suite.runs)
    rows = [
        GapRowView(
            label=clean(row.label, 300),
            overall=row.vendor is None,
            counts=["n/a" if row.count(stage) is None else str(row.count(stage)) for stage in STAGES],
            losses=[
                clean(f"{STAGE_LABELS[stage]} lost: " + ", ".join(f"{c} x{n}" for c, n in row.causes(stage)), 600)
                for stage in STAGES[1:]
                if row.losses[stage]
            ],
        )
        for row in table.rows
    ]
    return GapView(stages=[STAGE_LABELS[s] for s in STAGES], rows=rows, svg=render_gap_svg(table))


def _stopped(suite: SuiteResult) -> str | None:
    """Why the suite ended before its last run, if it did."""
    had = f"after {len(suite.runs)} of {suite.planned_runs or len(suite.runs)} runs"
    if suite.aborted:
        return f"stopped {had}: {suite.aborted}. The runs not had are not in this report"
    if suite.interrupted:
        return f"stopped by Ctrl-C {had}: the runs not had are not in this report"
    return None


def summary_view(suite: SuiteResult) -> SummaryView:
    # One pass, one run at a time: a suite's runs are not all held at once (``RunList``).
    scenarios: set[str] = set()
    devices: dict[str, None] = {}
    labels: set[str] = set()
    passed = 0
    causes: Counter[str] = Counter()
    for run in suite.runs:
        scenarios.add(run.scenario)
        devices.setdefault(run.device)
        labels.add(condition_label(run))
        passed += run.passed
        causes.update(f.root_cause for f in run.failures)
    return SummaryView(
        scenarios=len(scenarios),
        devices=[clean(d, 100) for d in devices],
        runs=len(suite.runs),
        passed=passed,
        failed=len(suite.runs) - passed,
        root_causes=causes.most_common(),
        unattributed=len(suite.unattributed),
        started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(suite.started_at)),
        duration_s=max(0.0, suite.finished_at - suite.started_at),
        version=clean(suite.eventpath_version, 40),
        gap=gap_view(suite, len(labels)),
        interrupted=_stopped(suite),
    )
