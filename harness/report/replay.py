"""The replay kit beside a report: a run's mitmproxy flows file and HAR, built from what the proxy saw.

Both are rebuilt from the captured requests the report shows (redacted unless ``--no-redact``), so they
open in mitmproxy/mitmweb (``mitmweb -r flows.mitm``) and in any HAR viewer with no secret in them. They
hold every request that crossed the proxy, with its answer (sinkholed ones included); response bodies
only for documents, whose bodies the capture keeps. The Playwright trace beside them has every body.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from mitmproxy import connection, http, io
from mitmproxy.addons.savehar import SaveHar

from harness.models import CapturedRequest

FLOWS_NAME = "flows.mitm"
HAR_NAME = "run.har"


def _flow(request: CapturedRequest) -> http.HTTPFlow:
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=request.started_at)
    server = connection.Server(address=(parts.hostname or "", port))
    flow = http.HTTPFlow(client, server)
    flow.request = http.Request.make(
        request.method, request.url, request.body, [(k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in request.request_headers]
    )
    # The capture knows when a request started and when its answer ended, not the steps between.
    flow.request.timestamp_start = flow.request.timestamp_end = request.started_at
    if request.status is not None:
        flow.response = http.Response.make(
            request.status,
            request.response_body,
            [(k.encode(), v.encode("utf-8", "surrogateescape")) for k, v in request.response_headers],
        )
        ended = request.ended_at or request.started_at
        flow.response.timestamp_start = flow.response.timestamp_end = ended
    flow.metadata["eventpath"] = {"run_id": request.run_id, "tag_hit": request.tag_hit, "sinkholed": request.sinkholed}
    return flow


def write_replay_kit(requests: list[CapturedRequest], folder: Path) -> tuple[Path, Path]:
    """The flows file and the HAR of ``requests`` in ``folder``; returns their paths (flows, HAR)."""
    flows = [_flow(request) for request in requests]  # built once, written twice
    folder.mkdir(parents=True, exist_ok=True)
    flows_path, har_path = folder / FLOWS_NAME, folder / HAR_NAME
    with flows_path.open("wb") as handle:
        writer = io.FlowWriter(handle)
        for flow in flows:
            writer.add(flow)
    # mitmproxy's own HAR exporter. Undecodable header bytes are kept as lone surrogates; a HAR is UTF-8.
    har = SaveHar().make_har(flows)
    har_path.write_text(json.dumps(har, indent=1), encoding="utf-8", errors="replace")
    return flows_path, har_path
