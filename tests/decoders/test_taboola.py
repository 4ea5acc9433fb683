"""Taboola decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.taboola import TaboolaDecoder
from harness.models import CapturedRequest

DECODER = TaboolaDecoder()


def request(url: str, referer: str | None = None) -> CapturedRequest:
    headers = [("referer", referer)] if referer else []
    return CapturedRequest(id="t", method="GET", url=url, request_headers=headers)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://trc.taboola.com/1234567/log/3/unip?en=page_view", True),
        ("https://trc.taboola.com/1234567/log/3/unip/?en=page_view", True),
        ("https://trc-events.taboola.com/1419468/log/3/unip?en=x", True),
        ("https://trc.taboola.com/1419468/trc/3/json", False),
        ("https://trc.taboola.com/123/log/3/click?article=abc", False),
        ("https://trc.taboola.com//log/3/unip?en=x", False),
        ("https://trc.taboola.com/a/b/log/3/unip?en=x", False),
        ("https://cdn.taboola.com/libtrc/unip/1234567/tfa.js", False),
        ("https://shop.example/1234567/log/3/unip?en=x", False),
    ],
)
def test_claims_unip_beacons_only(url: str, claimed: bool) -> None:
    req = request(url)
    assert DECODER.claims(req) is claimed
    assert DECODER.surely_claims(req.host, "GET", req.path) is claimed


def test_click_id_from_the_hit_or_the_landing_page() -> None:
    (hit,) = DECODER.decode(request("https://trc.taboola.com/1/log/3/unip?en=lead&tblci=GiA"))
    (page,) = DECODER.decode(
        request("https://trc.taboola.com/1/log/3/unip?en=lead", "https://shop.example/?tblci=GiB")
    )
    (server,) = DECODER.decode(
        request("https://trc.taboola.com/1/log/3/unip?id=1&click-id=GiC&en=x&orderId=O-9")
    )
    assert (hit.click_ids, page.click_ids) == ({"tblci": "GiA"}, {"tblci": "GiB"})
    assert (server.click_ids, server.transaction_id) == ({"tblci": "GiC"}, "O-9")


def test_pushed_id_that_disagrees_with_the_path_is_kept() -> None:
    (event,) = DECODER.decode(request("https://trc.taboola.com/1/log/3/unip?en=x&id=2"))
    assert (event.account_id, event.params["id"]) == ("1", "2")


def test_get_is_answered_with_the_gif() -> None:
    assert DECODER.sinkhole_reply(request("https://trc.taboola.com/1/log/3/unip?en=x")).body == PIXEL_GIF


def test_s2s_postback_is_claimed_only_on_its_documented_path_and_host() -> None:
    url = "https://trc.taboola.com/actions-handler/log/3/s2s-action?click-id=GiA&name=purchase"
    assert DECODER.claims(request(url))
    assert not DECODER.claims(request(url.replace("trc.taboola.com", "trc-events.taboola.com")))
    assert not DECODER.claims(request(url.replace("s2s-action", "other")))


def test_s2s_postback_from_a_backend_keeps_its_server_source() -> None:
    # As stape-io/taboola-tag (sGTM) builds it: name, click-id, revenue, currency, orderid.
    url = (
        "https://trc.taboola.com/actions-handler/log/3/s2s-action?name=make_purchase&click-id=GiCabc"
        "&revenue=59.90&currency=EUR&orderid=O-77&quantity=2"
    )
    (event,) = DECODER.decode(CapturedRequest(id="t", method="GET", url=url, source="server"))
    assert (event.event, event.value, event.currency, event.transaction_id) == ("make_purchase", 59.9, "EUR", "O-77")
    assert (event.click_ids, event.account_id, event.source) == ({"tblci": "GiCabc"}, None, "server")
    assert event.params == {"quantity": "2"}
    (no_name,) = DECODER.decode(request("https://trc.taboola.com/actions-handler/log/3/s2s-action?click-id=GiA"))
    assert no_name.malformed
