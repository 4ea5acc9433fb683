"""Criteo OneTag decoder behaviour beyond the fixtures."""

from __future__ import annotations

import pytest

from harness.decoders.vendors.criteo import CriteoDecoder
from harness.models import CapturedRequest

DECODER = CriteoDecoder()
BASE = "https://sslwidget.criteo.com/event?a=4216&v=5.46.0"


def request(url: str, method: str = "GET") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{BASE}&p0=e%3Dvh", True),
        ("http://widget.criteo.com/event?a=1&p0=e%3Dvh", True),
        ("https://sslwidget.criteo.com/event/?a=1", True),
        ("https://gum.criteo.com/syncframe?topUrl=delife.de", False),
        ("https://static.criteo.net/js/ld/ld.js", False),
        ("https://dynamic.criteo.com/js/ld/ld.js?a=4216", False),
        ("https://sslwidget.criteo.com/other?a=1&p0=e%3Dvh", False),
        ("https://shop.example/event?a=1&p0=e%3Dvh", False),
    ],
)
def test_claims_the_event_endpoint_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed
    assert DECODER.surely_claims(request(url).host, "GET", request(url).path) is claimed


def test_each_call_of_a_batch_is_one_event_in_wire_order_and_context_is_shared() -> None:
    url = f"{BASE}&p1=e%3Dvp%26p%3D1&p0=e%3Dexd%26site_type%3Dm&p2=e%3Dvb%26c%3DEUR%26p%3D%255Bi%25253D1%252526pr%25253D2%255D"
    events = DECODER.decode(request(url))
    assert [(e.event, e.value, e.currency) for e in events] == [("vp", None, None), ("vb", 2.0, "EUR")]
    assert all(e.params["exd.site_type"] == "m" for e in events)


def test_a_context_only_batch_still_decodes_its_first_call() -> None:
    (event,) = DECODER.decode(request(f"{BASE}&p0=e%3Dce%26m%3D%255Bjane%2540example.com%255D"))
    assert (event.event, event.user_data) == ("ce", {"em": "raw"})


def test_set_calls_are_batch_setters_and_setcurrency_fills_events_without_a_currency() -> None:
    url = f"{BASE}&p0=e%3Dvb%26p%3D%255Bi%25253D1%252526pr%25253D2%255D&p1=e%3Dsetcurrency%26c%3DUSD&p2=e%3Dvc%26id%3DT1%26c%3DEUR"
    events = DECODER.decode(request(url))
    assert [(e.event, e.currency) for e in events] == [("vb", "USD"), ("vc", "EUR")]
    assert events[0].params["setcurrency.c"] == "USD"


@pytest.mark.parametrize(
    ("ce", "form"),
    [
        ("m%3D%255B%255D%26h%3Dnone", {}),
        (
            "m%3D%255B3b2bdca572f2bb14cba6d83bf0c91e1627b0a24e791e9af16869520e5ead5b6c%255D%26h%3Dsha256",
            {"em": "sha256"},
        ),
        (
            "m%3D%255B5f4dcc3b5aa765d61d8327deb882cf99%255D%26h%3Dmd5",
            {},
        ),  # hashed, but not SHA-256: params only
        ("m%3D%255Bjane%2540example.com%255D", {"em": "raw"}),
    ],
)
def test_set_email_forms(ce: str, form: dict[str, str]) -> None:
    (event,) = DECODER.decode(request(f"{BASE}&p0=e%3Dce%26{ce}&p1=e%3Dvh"))
    assert event.user_data == form


def test_value_is_none_when_an_item_price_is_unreadable() -> None:
    url = f"{BASE}&p0=e%3Dvc%26id%3DT1%26p%3D%255Bi%25253D1%252526pr%25253D1%252C299.00%252526q%25253D1%255D"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.transaction_id, event.value) == ("vc", "T1", None)


def test_no_partner_id_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://sslwidget.criteo.com/event?p0=e%3Dvh"))
    assert event.malformed and event.malformed_reason == "no partner id (a)"


def test_the_hit_is_answered_with_an_empty_script() -> None:
    reply = DECODER.sinkhole_reply(request(f"{BASE}&p0=e%3Dvh"))
    assert (reply.status, reply.content_type, reply.body) == (200, "application/javascript", b"")


def test_cache_buster_and_ids_are_volatile() -> None:
    assert {"dtycbr", "ceid", "bundle"} <= DECODER.volatile_params
