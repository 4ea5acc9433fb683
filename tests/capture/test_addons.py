"""The capture addons, hook by hook, with mitmproxy's own test flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.http import Headers, Request, Response
from mitmproxy.test import taddons, tflow

from harness.capture.addons import (
    CONNECTION_RUN_KEY,
    END_OF_RUN_PATH,
    CaptureLog,
    HostMapper,
    Recorder,
    RunLanes,
    Sinkhole,
    _decoded_prefix,
)
from harness.capture.proxy import CaptureProxy
from harness.models import CapturedRequest, SinkholeReply


def _flow(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b"", run: str | None = None):
    request = Request.make(method, url, body, Headers(**(headers or {})))
    flow = tflow.tflow(req=request)
    if run:
        flow.metadata[CONNECTION_RUN_KEY] = run
    return flow


def _claims_collect(request: CapturedRequest) -> SinkholeReply | None:
    if request.path == "/g/collect" and request.method in ("GET", "POST"):
        return SinkholeReply(status=204)
    return None


def test_sinkhole_answers_a_claimed_hit_locally_with_cors_for_its_origin() -> None:
    sinkhole = Sinkhole(_claims_collect)
    with taddons.context(sinkhole):
        flow = _flow("https://sgtm.shop.example/g/collect?v=2&tid=G-1", "POST", {"origin": "https://shop.example"})
        sinkhole.request(flow)
    assert flow.response is not None and flow.response.status_code == 204
    assert flow.response.headers["access-control-allow-origin"] == "https://shop.example"
    assert flow.response.headers["access-control-allow-credentials"] == "true"
    assert flow.metadata["eventpath_tag_hit"] and flow.metadata["eventpath_sinkholed"]


def test_sinkhole_allows_the_preflight_of_a_hit_and_does_not_count_it_as_one() -> None:
    sinkhole = Sinkhole(_claims_collect)
    with taddons.context(sinkhole):
        flow = _flow(
            "https://sgtm.shop.example/g/collect?v=2",
            "OPTIONS",
            {"origin": "https://shop.example", "access-control-request-method": "POST",
             "access-control-request-headers": "content-type"},
        )
        sinkhole.request(flow)
    assert flow.response is not None and flow.response.status_code == 204
    assert flow.response.headers["access-control-allow-methods"] == "POST"
    assert flow.response.headers["access-control-allow-headers"] == "content-type"
    assert flow.metadata["eventpath_tag_hit"] is False


def test_sinkhole_leaves_the_sites_own_requests_alone() -> None:
    sinkhole = Sinkhole(_claims_collect)
    with taddons.context(sinkhole):
        flow = _flow("https://www.shop.example/api/checkout", "POST", body=b'{"sku": 1}')
        sinkhole.request(flow)
    assert flow.response is None
    assert "eventpath_tag_hit" not in flow.metadata


def test_extra_sinkhole_hosts_and_live_mode() -> None:
    sinkhole = Sinkhole(_claims_collect)
    with taddons.context(sinkhole) as tctx:
        tctx.configure(sinkhole, eventpath_sinkhole=["tags.example"])
        extra = _flow("https://tags.example/anything")
        sinkhole.request(extra)
        tctx.configure(sinkhole, eventpath_live=True)
        live = _flow("https://www.google-analytics.com/g/collect?v=2")
        sinkhole.request(live)
    assert extra.response is not None and extra.response.status_code == 204
    assert live.response is None, "--live forwards tag hits"
    assert live.metadata["eventpath_tag_hit"] is True


def test_host_mapper_sends_https_to_the_plain_http_server_keeping_the_host() -> None:
    mapper = HostMapper()
    with taddons.context(mapper) as tctx:
        tctx.configure(mapper, eventpath_resolve=["www.shop.example=127.0.0.1:8123"])
        flow = _flow("https://www.shop.example/checkout?x=1")
        mapper.request(flow)
    assert (flow.request.scheme, flow.request.host, flow.request.port) == ("http", "127.0.0.1", 8123)
    assert flow.request.host_header == "www.shop.example"
    assert flow.request.headers["x-forwarded-proto"] == "https"
    assert flow.metadata["eventpath_mapped_to"] == "127.0.0.1:8123"


def test_host_mapper_rejects_a_bad_mapping_with_one_line() -> None:
    mapper = HostMapper()
    with taddons.context(mapper) as tctx, pytest.raises(exceptions.OptionsError, match="HOST=ADDR:PORT"):
        tctx.configure(mapper, eventpath_resolve=["www.shop.example:8000"])


def test_recorder_attributes_by_lane_and_keeps_the_url_the_browser_sent() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    recorder, mapper = Recorder(log), HostMapper()
    with taddons.context(recorder, mapper) as tctx:
        tctx.configure(mapper, eventpath_resolve=["www.shop.example=127.0.0.1:8123"])
        mine = _flow("https://www.shop.example/?gclid=abc", run="run-a")
        stranger = _flow("https://www.shop.example/", run=None)
        background = _flow("https://update.googleapis.com/service/update2", run=None)
        for flow in (mine, stranger, background):
            recorder.requestheaders(flow)
            mapper.request(flow)
            flow.response = tflow.tresp()
            recorder.response(flow)
    [captured] = log.close_run("run-a")
    assert captured.url == "https://www.shop.example/?gclid=abc"
    assert captured.mapped_to == "127.0.0.1:8123" and captured.run_id == "run-a"
    assert [r.url for r in log.unattributed] == ["https://www.shop.example/"]
    assert [r.host for r in log.background] == ["update.googleapis.com"]


def test_recorder_counts_open_flows_and_records_errors_once() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    recorder = Recorder(log)
    flow = _flow("https://unreachable.example/", run="run-a")
    recorder.requestheaders(flow)
    assert log.activity("run-a").open_flows == 1
    flow.error = tflow.terr("Name or service not known")
    recorder.error(flow)
    recorder.error(flow)
    assert log.activity("run-a").open_flows == 0
    [captured] = log.close_run("run-a")
    assert captured.error == "Name or service not known" and captured.status is None


def test_an_event_stream_stops_holding_the_run_at_its_headers_and_open_requests_are_named() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    recorder = Recorder(log)
    stream = _flow("https://www.shop.example/events", run="run-a")
    poll = _flow("https://www.shop.example/poll?since=42", run="run-a")
    for flow in (stream, poll):
        flow.response = None
        recorder.requestheaders(flow)
    assert log.activity("run-a").open_flows == 2
    stream.response = Response.make(200, b"", {"content-type": "text/event-stream; charset=utf-8"})
    recorder.responseheaders(stream)
    assert log.activity("run-a").open_flows == 1
    [still_open] = log.open_requests("run-a")
    assert still_open.startswith("GET https://www.shop.example/poll?since=42 (open ")
    recorder.error(stream)  # the page is left: the stream ends, is recorded once and counted no further
    recorder.error(poll)
    assert log.activity("run-a").open_flows == 0 and log.open_requests("run-a") == []
    assert sorted(r.path for r in log.close_run("run-a")) == ["/events", "/poll"]


def test_a_hit_arriving_after_its_run_closed_is_late_not_moved() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    log.open_run("run-b")
    recorder = Recorder(log)
    log.close_run("run-a")
    flow = _flow("https://www.google-analytics.com/g/collect?v=2", run="run-a")
    recorder.requestheaders(flow)
    flow.response = tflow.tresp()
    recorder.response(flow)
    assert [r.run_id for r in log.late["run-a"]] == ["run-a"]
    assert log.close_run("run-b") == [] and log.unattributed == []


def test_end_of_run_beacon_is_answered_and_marks_the_run() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    recorder = Recorder(log)
    flow = _flow(f"https://www.shop.example{END_OF_RUN_PATH}", "POST", run="run-a")
    recorder.requestheaders(flow)
    recorder.request(flow)
    recorder.response(flow)
    assert flow.response is not None and flow.response.status_code == 204
    assert log.activity("run-a").end_seen_at is not None
    assert log.close_run("run-a") == [], "the end-of-run beacon is not a request of the run"


def _lane_connection(lanes: RunLanes, port: int, url: str) -> tflow.HTTPFlow:
    """A connection accepted on ``port``, and a flow on it."""
    flow = _flow(url)
    flow.client_conn.sockname = ("127.0.0.1", port)
    lanes.client_connected(flow.client_conn)
    return flow


def test_a_run_is_what_its_lane_says_and_a_connection_keeps_its_run_after_the_lane_moves_on() -> None:
    log = CaptureLog()
    lanes = RunLanes(log)
    lanes.assign(5001, "run-a")
    mine = _lane_connection(lanes, 5001, "https://shop.example/")
    backend = _lane_connection(lanes, 5999, "https://graph.facebook.com/v19.0/1/events")
    lanes.release(5001)
    lanes.assign(5001, "run-b")
    straggler = _flow("https://shop.example/late")
    straggler.client_conn = mine.client_conn  # opened while the lane was run-a's
    nexts = _lane_connection(lanes, 5001, "https://shop.example/")
    for flow in (mine, backend, straggler, nexts):
        lanes.requestheaders(flow)
    assert [f.metadata.get(CONNECTION_RUN_KEY) for f in (mine, backend, straggler, nexts)] == [
        "run-a", None, "run-a", "run-b",
    ]


def test_a_fresh_connection_counts_as_a_request_on_its_way_until_it_carries_one() -> None:
    """A beacon to a host the page never talked to needs a new connection: from its accept through the
    CONNECT and TLS to its request the run is not quiet, whatever the open-flow count says."""
    log = CaptureLog()
    log.open_run("run-a")
    lanes, recorder = RunLanes(log), Recorder(log)
    lanes.assign(5001, "run-a")
    connect = _lane_connection(lanes, 5001, "https://collect.example/")
    assert log.activity("run-a").fresh_connections == 1
    assert log.activity("run-a", fresh_age_s=0.0).fresh_connections == 0, "an old idle one is a preconnect"
    hit = _flow("https://collect.example/g/collect?v=2")
    hit.client_conn = connect.client_conn  # the request inside that tunnel
    lanes.requestheaders(hit)
    recorder.requestheaders(hit)
    assert log.activity("run-a").fresh_connections == 0 and log.activity("run-a").open_flows == 1

    unused = _lane_connection(lanes, 5001, "https://other.example/")
    assert log.activity("run-a").fresh_connections == 1
    lanes.client_disconnected(unused.client_conn)
    recorder.client_disconnected(unused.client_conn)
    assert log.activity("run-a").fresh_connections == 0, "a connection closed unused carries nothing more"


def test_the_end_beacon_says_how_long_its_trip_took_and_a_skewed_clock_is_ignored() -> None:
    import time as clock

    log = CaptureLog()
    recorder = Recorder(log)
    for run, sent_at in (("run-a", clock.time() * 1000 - 40), ("run-b", clock.time() * 1000 + 60_000), ("run-c", "x")):
        log.open_run(run)
        recorder.requestheaders(_flow(f"https://www.shop.example{END_OF_RUN_PATH}?sent_at={sent_at}", "POST", run=run))
    trip = log.activity("run-a").end_trip_s
    assert trip is not None and 0.04 <= trip < 1
    assert log.activity("run-b").end_trip_s is None, "a page clock ahead of ours is skew, not a trip"
    assert log.activity("run-c").end_trip_s is None and log.activity("run-c").end_seen_at is not None


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "identity"])
def test_the_start_of_a_compressed_document_is_decoded_though_the_body_was_cut(encoding: str) -> None:
    """The proxy keeps only the first bytes of a document (enough for a meta refresh and the chain): they
    decode in every encoding Chromium asks for, cut mid-stream as they are."""
    import base64
    import random
    import zlib

    import brotli
    import zstandard

    filler = base64.b64encode(random.Random(7).randbytes(200_000))
    html = b'<html><head><meta http-equiv="refresh" content="0;url=/landing?gclid=G1"></head><body>' + filler
    compress = {
        "gzip": lambda b: zlib.compress(b, wbits=16 + zlib.MAX_WBITS),
        "deflate": zlib.compress,
        "br": brotli.compress,
        "zstd": zstandard.ZstdCompressor().compress,
        "identity": lambda b: b,
    }[encoding]
    body = compress(html)
    start = _decoded_prefix(body[: len(body) // 2], encoding.upper())
    assert start.startswith(b'<html><head><meta http-equiv="refresh" content="0;url=/landing?gclid=G1">')


def test_informational_heads_are_dropped_but_101_and_partial_heads_are_kept() -> None:
    from h11._receivebuffer import ReceiveBuffer

    from harness.capture.informational import drop_informational_heads

    def left(data: bytes) -> bytes:
        buffer = ReceiveBuffer()
        buffer += data
        drop_informational_heads(buffer)
        return bytes(buffer)

    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
    hints = b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n"
    assert left(hints + answer) == answer
    assert left(b"HTTP/1.1 100 Continue\r\n\r\n" + hints + answer) == answer
    assert left(hints) == b""
    assert left(hints[:20]) == hints[:20], "a head not complete yet waits for the rest"
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"
    assert left(upgrade) == upgrade
    assert left(answer) == answer


def test_a_spare_connection_closed_unused_is_activity_and_is_told_apart_from_a_used_one() -> None:
    log = CaptureLog()
    log.open_run("run-a")
    lanes, recorder = RunLanes(log), Recorder(log)
    lanes.assign(5001, "run-a")
    used = _lane_connection(lanes, 5001, "https://collect.example/g/collect?v=2")
    lanes.requestheaders(used)
    recorder.requestheaders(used)
    recorder.client_disconnected(used.client_conn)
    assert log.activity("run-a").spare_closed_at is None, "it carried its request"
    spare = _lane_connection(lanes, 5001, "https://collect.example/")
    before = log.activity("run-a").last_activity
    recorder.client_disconnected(spare.client_conn)
    activity = log.activity("run-a")
    assert activity.spare_closed_at is not None and activity.last_activity == activity.spare_closed_at > before


@pytest.mark.parametrize("spare_closed", [True, False])
def test_after_a_spare_connection_closed_the_end_window_is_the_beacons_whole_trip(
    spare_closed: bool, tmp_path: Path
) -> None:
    """Chromium opens several connections to a host the page had not talked to, drops the spares once one
    speaks HTTP/2, and sends the unload hits queued for the host on that one in batches: on a busy machine
    after our end beacon, which went to another host. The hit below comes 60 ms after the beacon (its trip
    200 ms); a 10 ms quiet window ended the run before it. Without a spare closed, the window stays
    capped by the quiet window (a run is no slower than it was)."""
    import asyncio
    import time as clock

    proxy = CaptureProxy(lambda request: None, confdir=tmp_path)
    lanes, recorder = RunLanes(proxy.log), Recorder(proxy.log)
    proxy.log.open_run("run-a")
    lanes.assign(5001, "run-a")

    async def scenario() -> tuple[bool, int]:
        since = clock.monotonic()
        if spare_closed:
            spare = _lane_connection(lanes, 5001, "https://region1.collect.example/")
            recorder.client_disconnected(spare.client_conn)
        beacon = _lane_connection(lanes, 5001, f"https://www.shop.example{END_OF_RUN_PATH}")
        beacon.request.query["sent_at"] = str(clock.time() * 1000 - 200)
        lanes.requestheaders(beacon)
        recorder.requestheaders(beacon)

        async def late_hit() -> None:
            await asyncio.sleep(0.06)
            hit = _lane_connection(lanes, 5001, "https://region1.collect.example/g/collect?v=2&_n=6")
            lanes.requestheaders(hit)
            recorder.requestheaders(hit)
            hit.response = tflow.tresp()
            recorder.response(hit)

        arriving = asyncio.ensure_future(late_hit())
        complete = await proxy.wait_until_quiet("run-a", 10, 3_000, since=since, expect_end_beacon=True)
        caught = len(proxy.log.close_run("run-a")) if arriving.done() else 0
        await arriving
        return complete, caught

    complete, caught = asyncio.run(scenario())
    assert complete
    assert caught == (1 if spare_closed else 0)


def test_a_hit_waiting_for_a_busy_proxy_is_in_the_run_before_the_run_is_called_quiet(tmp_path: Path) -> None:
    """On a loaded machine the proxy's loop falls behind the kernel: the connection a page's unload beacons
    opened waited over 100 ms to be accepted while our end beacon, on an old connection, was already in,
    and the run was called quiet without them (all 25 lost). Here the proxy's loop is held busy while a
    hit's connection is opened and its request sent; the run must not be called quiet until the proxy
    has caught up and the hit is in."""
    import asyncio
    import socket
    import threading
    import time as clock

    with CaptureProxy(lambda request: SinkholeReply(status=204), confdir=tmp_path) as proxy:
        run_id = proxy.open_run()
        port = int(proxy.playwright_proxy(run_id)["server"].rsplit(":", 1)[1])
        proxy.log.mark_end_of_run(run_id, 0.005)  # our beacon, in on a connection of its own
        busy = threading.Event()

        def hold_the_loop() -> None:
            busy.set()
            clock.sleep(0.3)  # a loaded machine's proxy, in one blocking piece

        # The proxy's own loop, held from outside: no public way in, and none is wanted.
        assert proxy._loop is not None
        proxy._loop.call_soon_threadsafe(hold_the_loop)
        assert busy.wait(5)
        with socket.create_connection(("127.0.0.1", port)) as hit:  # accepted by the kernel, not yet by the proxy
            hit.sendall(b"GET http://collect.example/g/collect?v=2&en=user_engagement HTTP/1.1\r\nHost: collect.example\r\n\r\n")
            since = clock.monotonic()
            quiet = asyncio.run(proxy.wait_until_quiet(run_id, 10, 5_000, since=since, expect_end_beacon=True))
            captured = [request.url for request in proxy.close_run(run_id)]
    assert quiet
    assert captured == ["http://collect.example/g/collect?v=2&en=user_engagement"]
