"""``eventpath trace URL``: one run from an ad URL, to see where a click ID or UTM parameter is lost."""

from __future__ import annotations

import argparse
import json
from typing import Any, get_args

from harness.browser.visit import VisitPlan
from harness.cli.common import BOLD, DIM, GREEN, RED, add_run_options, paint, run_options, use_color
from harness.engine import Harness
from harness.models import DecodedEvent, RunResult
from harness.scenario import LinkProtection, RunConditions

NAME = "trace"
HELP = "follow an ad URL through its redirects; show dropped click IDs, tag hits and cookies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the ad's landing URL, with its click IDs and UTM parameters")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--link-protection",
        choices=get_args(LinkProtection),
        help="click as this browser would: its link tracking protection removes click IDs from the URL first "
        "(Safari Private Browsing and links from Mail/Messages, Firefox Strict mode, Brave)",
    )
    add_run_options(parser)


def trace_json(result: RunResult) -> dict[str, Any]:
    capture = result.capture
    events_by_request: dict[str, list[DecodedEvent]] = {}
    for event in result.events:
        events_by_request.setdefault(event.request_id or "", []).append(event)
    return {
        "run_id": capture.run_id,
        "device": capture.device,
        "start_url": capture.start_url,
        "final_url": capture.final_url,
        "chain": [{"url": h.url, "status": h.status, "kind": h.kind, "error": h.error} for h in capture.chain.hops],
        "params": [p.model_dump(mode="json") for p in capture.chain.params],
        "dropped": [{"param": p.param, "hop": p.hop, "fate": p.fate} for p in capture.chain.dropped],
        "loop_detected": capture.chain.loop_detected,
        "hits": [
            {
                "method": r.method,
                "url": r.url,
                "status": r.status,
                "sinkholed": r.sinkholed,
                "events": [e.model_dump(mode="json") for e in events_by_request.get(r.id, [])],
            }
            for r in capture.tag_hits
        ],
        "cookies": [c.model_dump(mode="json") for c in capture.cookies],
        "capture_complete": capture.capture_complete,
        "error": capture.error,
    }


def _event_line(event: DecodedEvent) -> str:
    parts = [event.vendor, event.event]
    if event.account_id:
        parts.append(event.account_id)
    if event.value is not None or event.currency:
        parts.append(f"value={event.value} {event.currency or ''}".strip())
    if event.event_id:
        parts.append(f"event_id={event.event_id}")
    if event.transaction_id:
        parts.append(f"transaction_id={event.transaction_id}")
    if event.click_ids:
        parts.append("click_ids=" + ",".join(f"{k}={v}" for k, v in event.click_ids.items()))
    if event.malformed:
        parts.append(f"MALFORMED: {event.malformed_reason}")
    return "  ".join(parts)


def trace_text(result: RunResult, color: bool) -> str:
    capture = result.capture
    lines = [paint(f"eventpath trace  ({capture.device}, {capture.run_id})", BOLD, color), "", "Redirect chain"]
    for hop in capture.chain.hops:
        status = str(hop.status) if hop.status is not None else "---"
        lines.append(f"  {hop.index:>2}  {hop.kind:<8} {status:>3}  {hop.url}")
        if hop.error:
            lines.append(paint(f"          {hop.error}", RED, color))
    if capture.chain.loop_detected:
        lines.append(paint("  redirect loop: the chain was stopped", RED, color))
    lines += ["", "Click IDs and UTM parameters"]
    if not capture.chain.params:
        lines.append(paint("  (none on the first URL)", DIM, color))
    for fate in capture.chain.params:
        if fate.reached_final:
            lines.append(f"  {fate.param:<14} " + paint("reached the landing page", GREEN, color))
        elif fate.hop is not None and capture.chain.hops[fate.hop].kind == "stripped":
            lines.append(f"  {fate.param:<14} " + paint("REMOVED by the browser before the first request", RED, color))
        else:
            what = "DROPPED" if fate.fate == "dropped" else f"CHANGED to {fate.changed_to!r}"
            hop_url = capture.chain.hops[fate.hop].url if fate.hop is not None else ""
            lines.append(f"  {fate.param:<14} " + paint(f"{what} at hop {fate.hop}", RED, color) + f"  {hop_url}")
    lines += ["", f"Tag hits ({len(capture.tag_hits)})"]
    events_by_request: dict[str, list[DecodedEvent]] = {}
    for event in result.events:
        events_by_request.setdefault(event.request_id or "", []).append(event)
    for request in capture.tag_hits:
        decoded = events_by_request.get(request.id, [])
        if decoded:
            lines.extend(f"  {_event_line(e)}" for e in decoded)
        else:
            lines.append(f"  {request.method} {request.url}")
    lines += ["", f"Cookies ({len(capture.cookies)})"]
    for cookie in capture.cookies:
        value = cookie.value if len(cookie.value) <= 60 else cookie.value[:57] + "..."
        lines.append(f"  {cookie.name:<20} {cookie.domain:<24} {value}")
    if not capture.capture_complete:
        lines += ["", paint(f"capture incomplete: {capture.capture_note}", RED, color)]
    if capture.error:
        lines += ["", paint(f"run error: {capture.error}", RED, color)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    options = run_options(args)
    with Harness(options) as harness:
        conditions = RunConditions(link_protection=args.link_protection)
        result = harness.visit(args.url, plan=VisitPlan(conditions=conditions))
    if args.json:
        print(json.dumps(trace_json(result), indent=2))
    else:
        print(trace_text(result, use_color()))
    problems = bool(result.capture.chain.dropped) or result.capture.error is not None
    return 1 if problems else 0
