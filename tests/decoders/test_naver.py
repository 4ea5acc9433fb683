"""Naver (wcslog.js) decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.naver import NaverDecoder
from harness.models import CapturedRequest

DECODER = NaverDecoder()
IMAGE = "https://wcs.naver.com/m"


def request(
    url: str, method: str = "GET", body: bytes = b"", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body, request_headers=headers or [])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{IMAGE}?wa=s_1&u=x", True),
        ("https://wcs.naver.com/b", True),
        ("https://wcs.naver.net/wcslog.js", False),
        ("https://wcs.naver.com/wcslog.js", False),
        ("https://wcs.naver.com/m/extra", False),
        ("https://nam.veta.naver.com/nac/2", False),
        ("https://www.naver.com/m?wa=s_1", False),
    ],
)
def test_claims_the_two_collection_paths_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_hit_without_site_id_is_malformed() -> None:
    (event,) = DECODER.decode(request(f"{IMAGE}?u=https%3A%2F%2Fa.kr%2F&wa=&vs=0.6.5"))
    assert (event.malformed, event.malformed_reason) == (True, "no site ID (wa)")


def test_empty_cnv_is_a_page_view_that_keeps_it() -> None:
    # wcs.cnv returns "" on a reload of the same page: no conversion is counted.
    (event,) = DECODER.decode(request(f"{IMAGE}?u=https%3A%2F%2Fa.kr%2Fdone&wa=s_1&cnv=&EOU"))
    assert (event.event, event.value, event.params.get("cnv")) == ("pageview", None, "")


def test_conversion_with_a_pipe_inside_a_field_keeps_the_rest() -> None:
    (event,) = DECODER.decode(request(f"{IMAGE}?wa=s_1&cnv=cnvType%3D2%7CcnvValue%3D1%7Cbroken"))
    assert (event.event, event.value, event.params["cnv.cnvType"]) == ("cnv", 1.0, "2")
    assert "cnv.broken" not in event.params


def test_form_beacon_reads_like_the_image() -> None:
    hit = request(
        "https://wcs.naver.com/b", "POST", b"wa=s_9&u=https%3A%2F%2Fa.kr%2F%3FNaPm%3Dci%253D1&vs=0.8.17"
    )
    (event,) = DECODER.decode(hit)
    assert (event.account_id, event.page_url, event.click_ids) == (
        "s_9",
        "https://a.kr/?NaPm=ci%3D1",
        {"NaPm": "ci=1"},
    )


def test_unreadable_beacon_body_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://wcs.naver.com/b", "POST", b"\xff\x00garbage"))
    assert event.malformed is True


def test_replies_a_gif_to_the_image_and_an_empty_answer_to_the_beacon() -> None:
    assert DECODER.sinkhole_reply(request(f"{IMAGE}?wa=s_1")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request("https://wcs.naver.com/b", "POST", b"{}")).status == 204


def test_times_are_volatile_and_napm_is_the_click_id() -> None:
    assert {"nt", "bt"} <= DECODER.volatile_params
    assert (DECODER.profile.click_ids, DECODER.profile.hit_click_ids) == (("NaPm",), ())
