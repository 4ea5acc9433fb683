"""The click-to-session gap: of the ad clicks a suite made, how many landed, sent a page view and converted,
per real-world condition (network, consent, blocker, in-app browser, abandonment) and per tag vendor, with
the cause of each loss. Ad platforms count clicks, analytics counts sessions; this table explains the
difference cause by cause.

The funnel is strict: a run counts at a stage only when it reached every earlier one, so each lost run
is lost at exactly one stage, with one cause:

- **landing**: the redirect chain ended on a 2xx page (else: the run error or the final status);
- **page view**: a page view hit (GA4 ``page_view``, Meta ``PageView``, ...; see
  ``harness.browser.metrics.is_page_view``) was sent;
- **conversion**: a purchase-like event was sent, as the reconciliation table counts them
  (``harness.report.reconcile.is_purchase``).

A lost run's cause is the run's condition when one explains the loss (the user left, a blocker, consent
rejected), else the root cause of the run's first relevant check failure, else "unexplained".
Vendor rows skip the page view stage for vendors that never send one (Google Ads, Conversions APIs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from pydantic import BaseModel

from harness.browser.metrics import is_page_view
from harness.models import DecodedEvent
from harness.results import ScenarioRun
from harness.scenario import RunConditions, consent_means

BASELINE = "no conditions"
STAGES: tuple[str, ...] = ("clicks", "landings", "page_views", "conversions")
STAGE_LABELS = {"clicks": "ad clicks", "landings": "landings", "page_views": "page views", "conversions": "conversions"}

# Root causes that explain a missing page view or conversion, in the order they are preferred.
_PAGE_VIEW_CAUSES = ("Run error", "Missing tag", "Consent sequencing issue", "Slow page", "Wrong trigger")
_CONVERSION_CAUSES = (
    "Run error", "Missing tag", "Wrong trigger", "Consent sequencing issue", "Slow page", "Missing value",
)


def _is_purchase(event: DecodedEvent) -> bool:
    # Imported here: the report package may import this module, and reconcile lives in it.
    from harness.report.reconcile import is_purchase

    return not event.malformed and is_purchase(event)


@dataclass
class GapRow:
    """One funnel: a condition label and a vendor (None: any vendor)."""

    condition: str
    vendor: str | None
    clicks: int = 0
    landings: int = 0
    page_views: int | None = 0  # None: the vendor never sends page views, the stage is skipped
    conversions: int = 0
    losses: dict[str, Counter[str]] = field(default_factory=lambda: {s: Counter() for s in STAGES[1:]})

    @property
    def label(self) -> str:
        return self.condition if self.vendor is None else f"{self.condition} / {self.vendor}"

    def count(self, stage: str) -> int | None:
        value: int | None = getattr(self, stage)
        return value

    def causes(self, stage: str) -> list[tuple[str, int]]:
        """Why runs were lost at ``stage``, most frequent first."""
        return self.losses[stage].most_common()


@dataclass
class GapTable:
    rows: list[GapRow] = field(default_factory=list)

    def overall(self) -> list[GapRow]:
        """The any-vendor row of each condition."""
        return [r for r in self.rows if r.vendor is None]

    def lines(self) -> list[str]:
        """The table as plain text, one row a line, with the causes of each loss."""
        out = []
        for row in self.rows:
            counts = " -> ".join(
                f"{STAGE_LABELS[s]} {row.count(s)}" for s in STAGES if row.count(s) is not None
            )
            causes = "; ".join(
                f"{STAGE_LABELS[s]} lost: " + ", ".join(f"{c} x{n}" for c, n in row.causes(s))
                for s in STAGES[1:]
                if row.losses[s]
            )
            out.append(f"{row.label}: {counts}" + (f" ({causes})" if causes else ""))
        return out


def describe_conditions(conditions: RunConditions) -> str:
    """``network=slow-3g,consent=custom(analytics)``: like ``RunConditions.label`` but naming each custom
    consent choice or seed, so two of them in one matrix stay apart; "" for no conditions."""
    parts = []
    for name, value in conditions:
        if value in (None, "none", 1.0):
            continue
        text = value.label() if hasattr(value, "label") else "custom" if isinstance(value, BaseModel) else value
        parts.append(f"{name}={text}")
    return ",".join(parts)


def condition_label(run: ScenarioRun) -> str:
    return describe_conditions(run.conditions) or BASELINE


def gap_table(runs: Sequence[ScenarioRun]) -> GapTable:
    """The funnel of every condition, first for any vendor, then for each vendor seen in those runs.

    Two passes, one run at a time: a suite's runs need not all be in memory at once (``RunList``)."""
    conditions: dict[str, None] = {}  # in the order first seen
    vendors: set[str] = set()
    page_view_vendors: set[str] = set()
    for run in runs:
        conditions.setdefault(condition_label(run))
        for event in run.result.events:
            vendors.add(event.vendor)
            if is_page_view(event):
                page_view_vendors.add(event.vendor)
    row_vendors = (None, *sorted(vendors))  # None: any vendor
    rows: dict[tuple[str, str | None], GapRow] = {}
    for condition in conditions:
        for vendor in row_vendors:
            page_view_stage = vendor is None or vendor in page_view_vendors
            rows[condition, vendor] = GapRow(condition, vendor, page_views=0 if page_view_stage else None)
    for run in runs:
        condition = condition_label(run)
        for vendor in row_vendors:
            _count(rows[condition, vendor], run)
    return GapTable(rows=list(rows.values()))


def _count(row: GapRow, run: ScenarioRun) -> None:
    """Count ``run`` in ``row``'s funnel: at each stage it reached, and its loss at the first it did not."""
    vendor = row.vendor
    mine: Callable[[DecodedEvent], bool] = (lambda e: True) if vendor is None else (lambda e: e.vendor == vendor)
    row.clicks += 1
    if not _landed(run):
        row.losses["landings"][_landing_cause(run)] += 1
        return
    row.landings += 1
    events = [e for e in run.result.events if mine(e)]
    if row.page_views is not None:
        if not any(is_page_view(e) for e in events):
            row.losses["page_views"][_loss_cause(run, _PAGE_VIEW_CAUSES, "no page view sent")] += 1
            return
        row.page_views += 1
    if any(_is_purchase(e) for e in events):
        row.conversions += 1
    else:
        row.losses["conversions"][_loss_cause(run, _CONVERSION_CAUSES, "no conversion sent")] += 1


def _landed(run: ScenarioRun) -> bool:
    hops = run.result.capture.chain.hops
    return bool(hops) and hops[-1].status is not None and 200 <= hops[-1].status < 300


def _landing_cause(run: ScenarioRun) -> str:
    hops = run.result.capture.chain.hops
    last = hops[-1] if hops else None
    if last is not None and last.status is not None and not 300 <= last.status < 400:
        return f"landing page answered {last.status}"
    if run.conditions.abandon_after_ms is not None:
        # Gone mid-chain or before the landing page answered (leaving aborts that request: its error is ours).
        return f"user left after {run.conditions.abandon_after_ms} ms"
    if last is not None and last.error:
        return "landing page unreachable"
    if run.result.capture.chain.loop_detected:
        return "redirect loop"
    if last is not None and last.status is not None:
        return f"redirect chain stopped at a {last.status}"
    return "Run error" if run.result.capture.error else "landing page not reached"


def _loss_cause(run: ScenarioRun, relevant: tuple[str, ...], unexplained: str) -> str:
    conditions = run.conditions
    if conditions.abandon_after_ms is not None:
        return f"user left after {conditions.abandon_after_ms} ms"
    if conditions.blocker:
        return f"ad blocker ({conditions.blocker})"
    if (consent := consent_loss_cause(conditions)) is not None:
        return consent
    causes = {f.root_cause for f in run.failures}
    found = next((cause for cause in relevant if cause in causes), None)
    return found or f"{unexplained} (unexplained)"


def consent_loss_cause(conditions: RunConditions) -> str | None:
    """A consent condition that keeps tags quiet: rejected, never answered, or only some purposes granted."""
    means = consent_means(conditions.consent)
    if means == "reject":
        return "consent rejected"
    if means == "ignore":
        return "consent banner not answered"
    if conditions.consent is not None and means is None:
        return f"consent {describe_conditions(RunConditions(consent=conditions.consent)).removeprefix('consent=')}"
    return None


# --- SVG ---------------------------------------------------------------------------------------

_COLORS = {"clicks": "#4e79a7", "landings": "#59a14f", "page_views": "#f28e2b", "conversions": "#e15759"}
_LABEL_W, _BAR_MAX_W, _BAR_H, _GAP, _TOP, _FONT = 260, 420, 14, 2, 44, 12


def render_gap_svg(table: GapTable, rows: Sequence[GapRow] | None = None) -> str:
    """A self-contained SVG bar chart of the funnels (``rows``, default: the any-vendor rows): one group of
    bars per row, one bar per stage, widths relative to the largest click count. No scripts, no fonts to
    fetch; every label is escaped."""
    shown = list(rows) if rows is not None else table.overall()
    scale = max((r.clicks for r in shown), default=0) or 1
    group_h = len(STAGES) * (_BAR_H + _GAP) + 14
    height = _TOP + max(len(shown), 1) * group_h + 10
    width = _LABEL_W + _BAR_MAX_W + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{_FONT}" role="img">',
        "<title>Click-to-session gap by condition</title>",
        *_legend(),
    ]
    if not shown:
        parts.append(f'<text x="10" y="{_TOP + 14}">no runs</text>')
    for index, row in enumerate(shown):
        parts.extend(_group(row, _TOP + index * group_h, scale))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> list[str]:
    items = []
    for index, stage in enumerate(STAGES):
        x = 10 + index * 130
        items.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{_COLORS[stage]}"/>')
        items.append(f'<text x="{x + 16}" y="20">{escape(STAGE_LABELS[stage])}</text>')
    return items


def _group(row: GapRow, top: int, scale: int) -> list[str]:
    out = [f'<text x="10" y="{top + _BAR_H}">{escape(_clip(row.label))}<title>{escape(row.label)}</title></text>']
    for offset, stage in enumerate(STAGES):
        value = row.count(stage)
        y = top + offset * (_BAR_H + _GAP)
        text = "n/a" if value is None else str(value)
        bar_w = 0 if not value else max(1, round(_BAR_MAX_W * value / scale))
        lost = "; ".join(f"{cause} x{n}" for cause, n in row.causes(stage)) if stage != "clicks" else ""
        tooltip = f"{STAGE_LABELS[stage]}: {text}" + (f" (lost: {lost})" if lost else "")
        out.append(
            f'<rect x="{_LABEL_W}" y="{y}" width="{bar_w}" height="{_BAR_H}" fill="{_COLORS[stage]}">'
            f"<title>{escape(tooltip)}</title></rect>"
        )
        out.append(f'<text x="{_LABEL_W + bar_w + 4}" y="{y + _BAR_H - 3}">{escape(text)}</text>')
    return out


def _clip(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"
