"""LINE Tag decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.line_tag import LineTagDecoder
from harness.models import CapturedRequest

DECODER = LineTagDecoder()
TAG = "34e8f29d-a401-4dcc-b551-e49132bbd5d4"


def request(url: str, method: str = "GET") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"https://tr.line.me/tag.gif?c_t=lap&t_id={TAG}&e=pv&noscript=1", True),
        ("https://tr.line.me/tag.gif", True),  # LINE's endpoint, malformed without t_id/e
        ("https://d.line-scdn.net/n/line_tag/public/release/v1/lt.js", False),
        (f"https://tr.line.me/other.gif?t_id={TAG}&e=pv", False),
        (f"https://line.me/tag.gif?t_id={TAG}&e=pv", False),
    ],
)
def test_claims_the_tag_gif_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_other_event_codes_keep_their_wire_name() -> None:
    (event,) = DECODER.decode(request(f"https://tr.line.me/tag.gif?c_t=lap&t_id={TAG}&e=cv"))
    assert (event.event, event.account_id, event.value) == ("cv", TAG, None)


@pytest.mark.parametrize(
    ("query", "event", "reason"),
    [
        ("c_t=lap&t_id=" + TAG, "(malformed)", "no event type (e)"),
        ("c_t=lap&e=pv&noscript=1", "PageView", "no tag ID (t_id)"),
    ],
)
def test_hit_without_its_essentials_is_malformed(query: str, event: str, reason: str) -> None:
    (decoded,) = DECODER.decode(request(f"https://tr.line.me/tag.gif?{query}"))
    assert (decoded.event, decoded.malformed, decoded.malformed_reason) == (event, True, reason)


def test_tag_gif_answers_with_the_gif() -> None:
    reply = DECODER.sinkhole_reply(request(f"https://tr.line.me/tag.gif?c_t=lap&t_id={TAG}&e=pv"))
    assert (reply.status, reply.content_type, reply.body) == (200, "image/gif", PIXEL_GIF)
