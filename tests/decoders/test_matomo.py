"""Matomo decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.matomo import MatomoDecoder
from harness.models import CapturedRequest

DECODER = MatomoDecoder()
HIT = "https://stats.shop.example/matomo.php"
FORM = [("content-type", "application/x-www-form-urlencoded; charset=UTF-8")]


def request(
    url: str, method: str = "GET", body: str = "", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=body.encode())


def bulk(*entries: object) -> CapturedRequest:
    # piwik.js sends its bulk JSON with the form content type of its other POSTs.
    return request(HIT, "POST", json.dumps({"requests": list(entries)}), FORM)


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (f"{HIT}?idsite=1&rec=1&action_name=Home", True),
        ("https://shop.example/analytics/piwik.php?idsite=3&rec=1", True),
        ("https://shop.example/matomo/js/?idsite=3&rec=1", True),  # js/index.php tracks when given a query
        ("https://shop.example/matomo/js/tracker.php?idsite=3&rec=1", True),
        (f"{HIT}?idsite=1&action_name=Home", False),  # no rec=1: Matomo records nothing
        (f"{HIT}?idsite=&rec=1", False),
        (f"{HIT}?rec=1&e_c=a&e_a=b", False),
        ("https://shop.example/matomo.js", False),
        ("https://shop.example/piwik.js?idsite=1&rec=1", False),
        ("https://shop.example/matomo/js/tracker.php", False),  # the tracker script served by Matomo
        ("https://shop.example/stats.php?idsite=1&rec=1", False),
        ("https://stats.example/ppms.php?idsite=1&rec=1&idgoal=0&ec_id=A1", False),  # Piwik PRO
    ],
)
def test_claims_the_tracking_endpoint_with_the_api_signature(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_claims_a_post_form_body_and_a_bulk_body_but_not_a_json_lookalike() -> None:
    assert DECODER.claims(request(HIT, "POST", "idsite=2&rec=1&action_name=Cart", FORM))
    assert DECODER.claims(bulk("?idsite=2&rec=1&action_name=A", "?idsite=2&rec=1&ping=1"))
    assert not DECODER.claims(request(HIT, "POST", '{"requests": ["?action_name=A"]}'))
    assert not DECODER.claims(request(HIT, "POST", '{"events": [{"idsite": 1, "rec": 1}]}'))
    assert not DECODER.claims(request(f"{HIT}?idsite=1&rec=1", "PUT"))


def test_js_tracker_ecommerce_order_with_consent_and_click_id() -> None:
    # piwik.js logEcommerce: idgoal=0&ec_id=..&revenue=..&ec_st/ec_tx/ec_sh/ec_dt&ec_items, then getRequest's
    # idsite, rec, url, _rcn/_rck, and consent=1 when requireConsent was satisfied.
    page = "https%3A%2F%2Fshop.example%2Fthanks%3Fgclid%3DCj0-abc%26mtm_campaign%3Dspring"
    items = "%5B%5B%22SKU1%22%2C%22Hat%22%2C%22Hats%22%2C11.5%2C2%5D%5D"
    url = (
        f"{HIT}?idgoal=0&ec_id=ORD-1001&revenue=30.5&ec_st=23&ec_tx=4.5&ec_sh=5&ec_dt=2&ec_items={items}"
        f"&idsite=4&rec=1&r=123456&url={page}&_rcn=spring&_rck=hats&uid=jane%40example.com&consent=1"
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.account_id, event.value, event.currency, event.transaction_id) == (
        "ecommerce_order",
        "4",
        30.5,
        None,
        "ORD-1001",
    )
    assert event.click_ids == {"gclid": "Cj0-abc"}
    assert event.user_data == {"uid": "raw", "em": "raw"}
    assert event.consent.other == {"consent": "1"} and not event.consent.declared
    assert event.params["ec_items"] == [["SKU1", "Hat", "Hats", 11.5, 2]]
    assert {k: event.params[k] for k in ("_rcn", "_rck", "ec_tx", "ec_sh", "ec_dt")} == {
        "_rcn": "spring",
        "_rck": "hats",
        "ec_tx": "4.5",
        "ec_sh": "5",
        "ec_dt": "2",
    }
    assert "uid" not in event.params and "ec_id" not in event.params


def test_the_order_is_the_purchase_and_nothing_else_is() -> None:
    profile = DecoderRegistry.default().profiles()["matomo"]
    assert profile.purchase_events == frozenset({"ecommerce_order"})
    assert profile.consent == "not_judged"


@pytest.mark.parametrize(
    ("query", "name", "value"),
    [
        ("idgoal=3&revenue=9.99", "goal", 9.99),
        ("idgoal=0&revenue=12", "cart_update", 12.0),
        ("e_c=Video&e_a=Play&e_n=Intro&e_v=3", "Play", 3.0),
        ("e_c=Video&e_n=Intro&e_v=3", "event", 3.0),  # no action: still an event, never a page view
        ("search=hats&search_cat=shop&search_count=4", "site_search", None),
        ("link=https%3A%2F%2Fpartner.example%2F", "outlink", None),
        ("download=https%3A%2F%2Fshop.example%2Fa.pdf", "download", None),
        ("c_n=Banner&c_p=%2Fimg.png&c_i=click", "content_interaction", None),
        ("c_n=Banner&c_p=%2Fimg.png", "content_impression", None),
        ("ping=1", "ping", None),
        ("ca=1&fa_pv=1", "action", None),
        ("action_name=Home&revenue=5", "page_view", None),  # revenue counts on goals only
    ],
)
def test_what_a_request_reports(query: str, name: str, value: float | None) -> None:
    (event,) = DECODER.decode(request(f"{HIT}?idsite=1&rec=1&{query}"))
    assert (event.event, event.value, event.malformed) == (name, value, False)


def test_an_unreadable_revenue_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(f"{HIT}?idsite=1&rec=1&idgoal=0&ec_id=7&revenue=12%2C50"))
    assert (event.value, event.params["value_raw"]) == (None, "12,50")


def test_bulk_decodes_one_event_per_entry_and_a_bad_entry_alone_is_malformed() -> None:
    events = DECODER.decode(bulk("?idsite=1&rec=1&action_name=A", 42, "?idsite=1&action_name=B"))
    assert [(e.event, e.malformed) for e in events] == [
        ("page_view", False),
        ("(malformed)", True),
        ("page_view", True),
    ]
    assert events[1].malformed_reason == "bulk entry 1 is not a query string"
    assert events[2].malformed_reason == "bulk entry 2 has no idsite and rec=1"


def test_post_form_hit_and_page_from_referer_when_url_is_empty() -> None:
    hit = request(
        HIT, "POST", "idsite=2&rec=1&url=&e_c=Cart&e_a=Add", FORM + [("referer", "https://shop.example/")]
    )
    (event,) = DECODER.decode(hit)
    assert (event.event, event.page_url) == ("Add", "https://shop.example/")


@pytest.mark.parametrize("hit", [request(HIT), request(HIT, "POST", "not json"), bulk()])
def test_unreadable_requests_decode_to_one_malformed_event(hit: CapturedRequest) -> None:
    (event,) = DECODER.decode(hit)
    assert event.malformed


def test_sinkhole_answers_as_matomo_does() -> None:
    assert DECODER.sinkhole_reply(request(f"{HIT}?idsite=1&rec=1&send_image=1")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(f"{HIT}?idsite=1&rec=1&send_image=0")).status == 204
    assert DECODER.sinkhole_reply(request(HIT, "POST", "idsite=1&rec=1&send_image=0", FORM)).status == 204
    reply = DECODER.sinkhole_reply(bulk("?idsite=1&rec=1", "?idsite=1&rec=1&ping=1"))
    assert (reply.status, json.loads(reply.body)) == (200, {"status": "success", "tracked": 2, "invalid": 0})


def test_per_run_values_are_volatile() -> None:
    assert {"r", "_id", "_idts", "pv_id", "gt_ms"} <= DECODER.volatile_params
    assert not {"idsite", "ec_id", "revenue", "_rcn"} & DECODER.volatile_params
