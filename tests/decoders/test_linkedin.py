"""LinkedIn decoder behaviour beyond the fixtures: what it claims, what it answers, hostile bodies."""

from __future__ import annotations

import base64
import gzip
import json
import time

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.linkedin import LinkedInDecoder
from harness.models import CapturedRequest

DECODER = LinkedInDecoder()


def request(url: str, method: str = "GET", body: bytes = b"") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://px.ads.linkedin.com/collect/?pid=1&fmt=gif", True),
        ("https://px4.ads.linkedin.com/collect?pid=1&fmt=js", True),
        ("https://dc.ads.linkedin.com/collect/?pid=1", True),
        ("https://px.ads.linkedin.com/wa/?medium=fetch&fmt=g", True),
        ("https://px.ads.linkedin.com/attribution_trigger?pid=1", True),
        ("https://snap.licdn.com/li.lms-analytics/insight.min.js", False),
        ("https://www.linkedin.com/collect?pid=1", False),
        ("https://px.ads.linkedin.com/collectx?pid=1", False),
        ("https://ads.linkedin.com.evil.example/collect?pid=1", False),
    ],
)
def test_claims_exactly_the_insight_tag_endpoints(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_pixel_gets_a_gif_and_a_signal_post_gets_204() -> None:
    pixel = DECODER.sinkhole_reply(request("https://px.ads.linkedin.com/collect/?pid=1&fmt=gif"))
    assert (pixel.status, pixel.content_type, pixel.body) == (200, "image/gif", PIXEL_GIF)
    assert DECODER.sinkhole_reply(request("https://px.ads.linkedin.com/wa/", "POST", b"{}")).status == 204


def test_signal_for_two_partner_ids_is_two_events() -> None:
    body = json.dumps(
        {"pids": [111, "222"], "signalType": "PAGE_VISIT", "url": "https://a.example/"}
    ).encode()
    events = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", body))
    assert [(e.account_id, e.event, e.page_url) for e in events] == [
        ("111", "PAGE_VISIT", "https://a.example/"),
        ("222", "PAGE_VISIT", "https://a.example/"),
    ]


def test_raw_email_in_hem_is_reported_as_raw() -> None:
    body = json.dumps({"pids": [1], "signalType": "CLICK", "hem": "jane@example.com"}).encode()
    (event,) = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", body))
    assert event.user_data == {"em": "raw"}


def test_gzip_bomb_signal_is_refused_quickly() -> None:
    # 64 MB of JSON whitespace compresses to ~64 KB; the decoder must not inflate it all.
    bomb = base64.b64encode(gzip.compress(b"{" + b" " * (64 << 20) + b"}", compresslevel=9))
    started = time.monotonic()
    (event,) = DECODER.decode(request("https://px.ads.linkedin.com/wa/", "POST", bomb))
    assert event.malformed and "base64(gzip(JSON))" in (event.malformed_reason or "")
    assert time.monotonic() - started < 2


def test_timestamps_and_request_ids_are_volatile() -> None:
    assert {"time", "websiteSignalRequestId"} <= DECODER.volatile_params
