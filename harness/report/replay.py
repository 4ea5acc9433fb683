"""The replay kit beside a report: the mitmproxy flows file of a run, and the HAR redacted like the report.

The flows file is rebuilt from the (redacted) captured requests, so it opens in mitmproxy/mitmweb
(``mitmweb -r flows.mitm``) with no secret in it; the HAR is Playwright's, redacted in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import connection, http, io

from harness.models import CapturedRequest
from harness.report.redact import COOKIE_MARK, SECRET_HEADERS, Replacement, replace_everywhere

FLOWS_NAME = "flows.mitm"


def _flow(request: CapturedRequest) -> http.HTTPFlow:
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=request.started_at)
    server = connection.Server(address=(parts.hostname or "", port))
    flow = http.HTTPFlow(client, server)
    flow.request = http.Request.make(
        request.method, request.url, request.body, [(k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in request.request_headers]
    )
    flow.request.timestamp_start = request.started_at
    if request.status is not None:
        flow.response = http.Response.make(
            request.status,
            request.response_body,
            [(k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in request.response_headers],
        )
        flow.response.timestamp_end = request.ended_at
    flow.metadata["eventpath"] = {"run_id": request.run_id, "tag_hit": request.tag_hit, "sinkholed": request.sinkholed}
    return flow


def write_flows(requests: list[CapturedRequest], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        writer = io.FlowWriter(handle)
        for request in requests:
            writer.add(_flow(request))
    return path


def _redact_headers(headers: list[dict[str, Any]]) -> None:
    for header in headers:
        name = str(header.get("name", "")).lower()
        if name in SECRET_HEADERS:
            header["value"] = "[redacted-secret]"
        elif name in ("cookie", "set-cookie"):
            header["value"] = COOKIE_MARK


def redact_har(path: Path, replacements: list[Replacement]) -> None:
    """Cookie values, secret headers, typed PII and secrets out of a Playwright HAR, in place."""
    try:
        har = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for entry in har.get("log", {}).get("entries", []):
        for side in ("request", "response"):
            part = entry.get(side, {})
            _redact_headers(part.get("headers", []))
            for cookie in part.get("cookies", []):
                cookie["value"] = COOKIE_MARK
    path.write_text(json.dumps(replace_everywhere(har, replacements)), encoding="utf-8")
