"""Criteo OneTag decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

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


# --- S2S Events API (widget.criteo.com/m/event) ---

S2S = "https://widget.criteo.com/m/event?version=s2s_v0"


def s2s(body: dict[str, object], url: str = S2S) -> CapturedRequest:
    return CapturedRequest(id="t", method="POST", url=url, body=json.dumps(body).encode(), source="server")


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (S2S, True),
        ("http://widget.eu.criteo.com/m/event?data=%7B%7D", True),
        ("http://widget.as.criteo.com/m/event", True),
        ("http://widget.cn.criteo.com/m/event/", True),
        ("https://sslwidget.criteo.com/m/event?version=s2s_v0", False),  # the tag's host serves no S2S
        ("https://shop.example/m/event?version=s2s_v0", False),
        ("https://widget.criteo.com/m/other", False),
        ("https://gum.criteo.com/m/event", False),
    ],
)
def test_claims_the_s2s_endpoint_on_criteo_widget_hosts_only(url: str, claimed: bool) -> None:
    req = request(url, "POST")
    assert DECODER.claims(req) is claimed
    assert DECODER.surely_claims(req.host, "POST", req.path) is claimed


def test_s2s_events_are_named_by_the_tags_codes_and_set_calls_are_context() -> None:
    body = {
        "account": "976",
        "id": {"mapped_user_id": "gum1", "mapping_key": "70"},
        "events": [
            {
                "event": "setHashedEmail",
                "email": "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514",
            },
            {"event": "viewItem", "item": {"id": "P1", "price": "19.99"}},
            {"event": "beginCheckout", "item": [{"id": "P1", "price": 19.99}]},
        ],
    }
    events = DECODER.decode(s2s(body))
    assert [(e.event, e.value, e.params["onetag_call"]) for e in events] == [
        ("vp", 19.99, "viewItem"),
        ("beginCheckout", None, "beginCheckout"),  # no tag code: kept as sent, no value claimed
    ]
    assert all(e.user_data == {"em": "sha256"} and e.source == "server" for e in events)


@pytest.mark.parametrize(
    ("email", "form"),
    [
        ({"raw": "jane@example.com"}, {"em": "raw"}),
        ({"md5": "5f4dcc3b5aa765d61d8327deb882cf99"}, {}),  # MD5 only: no form eventpath names
        ({"md5": "5f4dcc3b5aa765d61d8327deb882cf99", "sha256": "a" * 64}, {"em": "sha256"}),
    ],
)
def test_s2s_email_forms(email: dict[str, str], form: dict[str, str]) -> None:
    (event,) = DECODER.decode(
        s2s({"account": "1", "id": {"email": email}, "events": [{"event": "viewHome"}]})
    )
    assert event.user_data == form


def test_s2s_order_value_is_none_when_a_price_is_missing() -> None:
    body = {
        "account": "1",
        "events": [{"event": "trackTransaction", "id": "T1", "item": [{"id": "a", "quantity": 1}]}],
    }
    (event,) = DECODER.decode(s2s(body))
    assert (event.event, event.transaction_id, event.value) == ("vc", "T1", None)


@pytest.mark.parametrize(
    "req",
    [
        s2s({"events": [{"event": "viewHome"}]}),  # no account
        s2s({"account": "1", "events": []}),
        s2s({"account": "1", "events": [{"item": "x"}]}),  # no event name
        s2s({"account": True, "events": [{"event": "viewHome"}]}),
        CapturedRequest(id="t", method="POST", url=S2S, body=b"not json"),
        request("http://widget.eu.criteo.com/m/event?data=%7Bbroken"),
        request(S2S),  # a GET with no data
    ],
)
def test_unreadable_s2s_calls_are_one_malformed_event(req: CapturedRequest) -> None:
    (event,) = DECODER.decode(req)
    assert event.malformed


def test_s2s_sinkhole_reply_is_json_without_errors() -> None:
    reply = DECODER.sinkhole_reply(s2s({"account": "1", "events": [{"event": "viewHome"}]}))
    assert (reply.status, reply.content_type, json.loads(reply.body)) == (
        200,
        "application/json",
        {"errors": [], "warnings": []},
    )
