"""UTM consistency: the ad's utm_* parameters reach the landing URL unchanged, and GA4's first page_view
reports that landing URL with them (GA4 reads the session's source/medium/campaign from its ``dl``)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from harness.checks.base import CheckContext, check, event_evidence
from harness.checks.click_ids import compact_url, param_loss_failure
from harness.models import CheckFailure, DecodedEvent


def utm_params(url: str) -> dict[str, str]:
    """The utm_* parameters of a URL, first value of each (keys as spelled)."""
    found: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key.lower().startswith("utm_"):
            found.setdefault(key, value)
    return found


def landing_page_views(events: list[DecodedEvent]) -> list[DecodedEvent]:
    """The first GA4 page_view of each measurement ID: the one that starts the session and sets its source.

    Later page_views (product, checkout) rightly carry no utm_* parameters."""
    first: dict[str | None, DecodedEvent] = {}
    for event in events:
        if event.vendor == "ga4" and event.event == "page_view" and not event.malformed:
            first.setdefault(event.account_id, event)
    return list(first.values())


@check("utm_consistent")
def utm_consistent(ctx: CheckContext) -> Iterator[CheckFailure]:
    """The ad's utm_* parameters reach the landing URL and GA4's landing page_view unchanged."""
    name = "utm_consistent"
    if not ctx.scenario.expect.utm_consistent:
        return
    chain = ctx.result.capture.chain
    ad_utms = utm_params(ctx.ad_url)
    if not ad_utms:
        return
    lost_in_chain = set()
    for fate in chain.params:
        if fate.param in ad_utms and not fate.reached_final:
            lost_in_chain.add(fate.param)
            yield param_loss_failure(ctx, name, chain, fate)
    # A parameter the redirects already lost is explained above; GA4 missing it too is the same bug.
    survivors = {k: v for k, v in ad_utms.items() if k not in lost_in_chain}
    for event in landing_page_views(ctx.events):
        failure = _page_view_failure(ctx, name, event, survivors)
        if failure is not None:
            yield failure


def _page_view_failure(
    ctx: CheckContext, name: str, event: DecodedEvent, ad_utms: dict[str, str]
) -> CheckFailure | None:
    reported = utm_params(event.page_url or "")
    wrong = {k: v for k, v in ad_utms.items() if reported.get(k) != v}
    if not wrong:
        return None
    expected = ", ".join(f"{k}={v}" for k, v in ad_utms.items())
    seen_parts = [f"{k}={reported[k]}" if k in reported else f"no {k}" for k in wrong]
    return ctx.failure(
        name,
        f"GA4 page_view ({event.account_id}) reports the landing page without the ad's "
        f"{', '.join(wrong)}: the session gets the wrong source",
        "Dropped parameters in redirects",
        expected=f"dl (page_location) carrying {expected}",
        seen=f"dl={compact_url(event.page_url) if event.page_url else '(none)'}: {', '.join(seen_parts)}",
        evidence=[event_evidence(event)],
        key=f"{name}:ga4:{event.account_id}",
        fix="Fire the GA4 config tag before the page rewrites its URL (history.replaceState), or set "
        "page_location to the URL the visitor landed on",
    )
