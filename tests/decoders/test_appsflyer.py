"""AppsFlyer decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.vendors.appsflyer import AppsFlyerDecoder
from harness.models import CapturedRequest

DECODER = AppsFlyerDecoder()
WEB = "https://wa.appsflyer.com/events?site-id=9153e79f-b987-4d9c-9027-189af3551d4c"


def post(url: str, body: Any) -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body)
    return CapturedRequest(id="t", method="POST", url=url, request_headers=[("content-type", "text/plain")],
                           body=text.encode())


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (WEB, True),
        ("https://api2.appsflyer.com/inappevent/id123456789", True),
        ("https://webs2s.appsflyer.com/v1/bundle-1/event", True),
        ("https://webs2s.appsflyer.com/v1/bundle-1/setcuid", False),
        ("https://api2.appsflyer.com/inappevent/", False),
        ("https://api2.appsflyer.com/inappevent/a/b", False),
        ("https://wa.appsflyer.com/other", False),
        ("https://websdk.appsflyer.com/?st=banners,pba", False),
        ("https://shop.example/events", False),
    ],
)
def test_claims_the_event_endpoints_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(post(url, "{}")) is claimed


def test_web_event_reads_the_documented_fields() -> None:
    data = {"eventType": "EVENT", "eventName": "af_purchase", "eventRevenue": 42, "eventRevenueCurrency": "USD",
            "eventValue": {"af_order_id": "o-1", "af_content_id": "sku"}, "customerUserId": "jane@example.com",
            "afWebUserId": "abc-p", "webAppId": "9153e79f-b987-4d9c-9027-189af3551d4c"}
    (event,) = DECODER.decode(post(WEB, {"data": data, "meta": {"locationHref": "https://shop.example/thanks"}}))
    assert (event.event, event.value, event.currency, event.transaction_id) == ("af_purchase", 42.0, "USD", "o-1")
    assert (event.user_data, event.page_url, event.source) == (
        {"customer_user_id": "raw"}, "https://shop.example/thanks", "browser")


def test_revenue_and_currency_fall_back_to_event_value() -> None:
    body = {"eventName": "af_purchase", "eventValue": json.dumps({"af_revenue": "oops", "af_currency": "BRL"})}
    (event,) = DECODER.decode(post("https://api2.appsflyer.com/inappevent/com.app", body))
    assert (event.value, event.params["value_raw"], event.currency) == (None, "oops", "BRL")


@pytest.mark.parametrize(
    ("url", "body", "reason"),
    [
        (WEB, "not json", "body is not a JSON object"),
        (WEB, {"meta": {}}, "no data object"),
        (WEB, {"data": {"eventType": "EVENT"}}, "no event name (eventName / eventType)"),
        ("https://api2.appsflyer.com/inappevent/com.app", {"eventValue": "{}"}, "no event name (eventName)"),
    ],
)
def test_unreadable_hits_are_malformed(url: str, body: Any, reason: str) -> None:
    (event,) = DECODER.decode(post(url, body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_event_value_that_is_not_json_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(post("https://api2.appsflyer.com/inappevent/com.app",
                                   {"eventName": "x", "eventValue": "{broken"}))
    assert event.params["eventValue"] == "{broken"


def test_replies() -> None:
    assert DECODER.sinkhole_reply(post(WEB, "{}")).status == 204
    assert DECODER.sinkhole_reply(post("https://api2.appsflyer.com/inappevent/com.app", "{}")).status == 200
