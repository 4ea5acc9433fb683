"""Adobe Experience Platform Web SDK decoder behaviour beyond the fixtures: claims, event names, values,
identities, consent, malformed requests and the sinkhole's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.vendors.adobe_web_sdk import AdobeWebSdkDecoder
from harness.models import CapturedRequest

DECODER = AdobeWebSdkDecoder()
DATASTREAM = "3f2b9c1e-8d4a-4e6b-9a0c-5d7e1f2a3b4c"
INTERACT = f"https://edge.adobedc.net/ee/irl1/v1/interact?configId={DATASTREAM}&requestId=5122fec8-fd82-468f"
PAGE = "https://shop.example/thanks?gclid=g-1"


def request(url: str = INTERACT, body: Any = None, method: str = "POST") -> CapturedRequest:
    text = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return CapturedRequest(
        id="t", method=method, url=url, body=text.encode(), request_headers=[("content-type", "text/plain")]
    )


def events_of(*entries: dict[str, Any], **request_level: Any) -> list:
    return DECODER.decode(request(body={"events": list(entries), **request_level}))


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (INTERACT, "POST", True),
        (f"https://edge.adobedc.net/ee/v1/collect?configId={DATASTREAM}&requestId=1", "POST", True),
        (f"https://adobedc.demdex.net/ee/v1/interact?configId={DATASTREAM}", "POST", True),
        (f"https://metrics.shop.example/ee/or2/v1/interact?configId={DATASTREAM}", "POST", True),  # CNAME
        (
            f"https://metrics.shop.example/edge/v1/interact?configId={DATASTREAM}",
            "POST",
            True,
        ),  # edgeBasePath
        (
            f"https://edge.adobedc.net/ee/v1/interact?configId={DATASTREAM}:dev",
            "POST",
            True,
        ),  # tag extension env
        (f"https://edge.adobedc.net/ee/v1/interact?configId={DATASTREAM.upper()}", "POST", True),
        (INTERACT, "GET", False),
        ("https://edge.adobedc.net/ee/v1/interact?requestId=1", "POST", False),
        ("https://edge.adobedc.net/ee/v1/interact?configId=configId", "POST", False),  # not a datastream ID
        (f"https://edge.adobedc.net/ee/v1/privacy/set-consent?configId={DATASTREAM}", "POST", False),
        (f"https://edge.adobedc.net/ee/v1/identity/acquire?configId={DATASTREAM}", "POST", False),
        (f"https://edge.adobedc.net/ee/va/v1/sessionStart?configId={DATASTREAM}", "POST", False),  # media
        (f"https://server.adobedc.net/ee/v2/interact?configId={DATASTREAM}", "POST", False),  # server API
        (f"https://edge.adobedc.net/v1/interact?configId={DATASTREAM}", "POST", False),  # no base path
        ("https://shop.example/api/v1/collect?configId=main", "POST", False),
    ],
)
def test_claims_by_path_shape_and_datastream_id(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method=method)) is claimed


def test_one_event_per_entry_named_by_its_event_type() -> None:
    page_view = {
        "xdm": {"eventType": "web.webpagedetails.pageViews", "web": {"webPageDetails": {"URL": PAGE}}}
    }
    add = {"xdm": {"eventType": "commerce.productListAdds", "commerce": {"productListAdds": {"value": 1}}}}
    found = events_of(page_view, add)
    assert [(e.event, e.account_id, e.page_url) for e in found] == [
        ("web.webpagedetails.pageViews", DATASTREAM, PAGE),
        ("commerce.productListAdds", DATASTREAM, None),
    ]
    assert found[0].click_ids == {"gclid": "g-1"}


def test_adobe_commerce_place_order_reports_the_order_total() -> None:
    # The xdm adobe/commerce-events' placeOrder handler sends (its test's expectation), as alloy posts it.
    xdm = {
        "commerce": {
            "order": {
                "purchaseID": "111111",
                "currencyCode": "USD",
                "payments": [
                    {
                        "currencyCode": "USD",
                        "paymentAmount": 30,
                        "paymentType": "credit card",
                        "transactionID": "111111",
                    },
                    {
                        "currencyCode": "USD",
                        "paymentAmount": 39.98,
                        "paymentType": "cash",
                        "transactionID": "111111",
                    },
                ],
                "priceTotal": 69.98,
                "orderType": "checkout",
                "discountAmount": 0,
                "taxAmount": 0,
            },
            "promotionID": "",
            "shipping": {"shippingMethod": "ground", "shippingAmount": 5.99},
            "purchases": {"value": 1},
        },
        "personalEmail": {"address": "beacon3@commerce.com"},
        "productListItems": [
            {"SKU": "ts001", "name": "T-Shirt", "quantity": 1, "priceTotal": 20, "currencyCode": "USD"},
            {"SKU": "h001", "name": "Hoodie", "quantity": 1, "priceTotal": 50, "currencyCode": "USD"},
        ],
        "eventType": "commerce.purchases",
    }
    (order,) = events_of({"xdm": xdm})
    assert (order.event, order.value, order.currency, order.transaction_id) == (
        "commerce.purchases",
        69.98,
        "USD",
        "111111",
    )
    assert order.user_data == {"personalEmail": "raw"}
    assert "personalEmail" not in order.params["xdm"]
    assert DECODER.profile.purchase_events == frozenset({"commerce.purchases"})


def test_without_an_order_total_the_value_is_the_sum_of_the_lines() -> None:
    lines = [{"SKU": "a", "priceTotal": 10.5}, {"SKU": "b", "priceTotal": "4.5"}, {"SKU": "c"}]
    (event,) = events_of({"xdm": {"eventType": "commerce.productListViews", "productListItems": lines}})
    assert event.value == 15.0


def test_an_unreadable_order_total_is_kept_as_sent() -> None:
    xdm = {"eventType": "commerce.purchases", "commerce": {"order": {"priceTotal": "69,98"}}}
    (event,) = events_of({"xdm": xdm})
    assert (event.value, event.params["value_raw"]) == (None, "69,98")


def test_an_order_without_event_type_is_named_as_analytics_counts_it() -> None:
    # Adobe Analytics: "Orders are mapped to commerce.purchases.value", whatever the eventType.
    xdm = {"commerce": {"purchases": {"value": 1}, "order": {"priceTotal": 12, "currencyCode": "GBP"}}}
    (order,) = events_of({"xdm": xdm})
    (other,) = events_of({"xdm": {"web": {"webPageDetails": {"name": "home"}}}})
    assert (order.event, order.value, order.currency) == ("commerce.purchases", 12.0, "GBP")
    assert other.event == "(no eventType)"


def test_an_analytics_data_object_purchase_gives_its_revenue_and_order() -> None:
    # Adobe's data object mapping: data.__adobe.analytics in AppMeasurement syntax.
    analytics = {
        "events": "purchase,event5",
        "products": ";SKU1;1;24.99,;SKU2;2;10.00",
        "purchaseID": "A-42",
        "currencyCode": "CAD",
        "pageURL": "https://shop.example/done",
    }
    (order,) = events_of({"data": {"__adobe": {"analytics": analytics}}})
    assert (order.event, order.value, order.currency, order.transaction_id, order.page_url) == (
        "commerce.purchases",
        pytest.approx(34.99),
        "CAD",
        "A-42",
        "https://shop.example/done",
    )


def test_currency_falls_back_to_a_lines_currency() -> None:
    lines = [{"SKU": "a", "priceTotal": 3, "currencyCode": "JPY"}]
    (event,) = events_of({"xdm": {"eventType": "commerce.productListAdds", "productListItems": lines}})
    assert event.currency == "JPY"


def test_the_xdm_event_id_is_the_event_id() -> None:
    (event,) = events_of({"xdm": {"eventType": "commerce.purchases", "_id": "evt-1"}})
    assert (event.event_id, "_id" in event.params["xdm"]) == ("evt-1", False)


def test_identities_other_than_ecid_are_user_data() -> None:
    ecid = {"ECID": [{"id": "35552459430463926303818781044955490049", "primary": True}]}
    entry = {
        "xdm": {
            "eventType": "web.webpagedetails.pageViews",
            "identityMap": {
                "CRMID": [{"id": "cust-9", "authenticatedState": "authenticated"}],
                "Phone_SHA256": [{"id": "a" * 64}],
            },
        }
    }
    (event,) = events_of(entry, xdm={"identityMap": ecid})  # alloy adds ECID at the request level
    assert event.user_data == {"CRMID": "raw", "Phone_SHA256": "sha256"}
    assert event.params["ECID"] == ["35552459430463926303818781044955490049"]
    assert "ECID" in DECODER.volatile_params


@pytest.mark.parametrize(
    ("cookie", "consent"), [("general=out", {"general": "out"}), ("general=in", {"general": "in"})]
)
def test_the_consent_cookie_alloy_transfers_is_the_consent(cookie: str, consent: dict[str, str]) -> None:
    meta = {
        "state": {
            "domain": "shop.example",
            "cookiesEnabled": True,
            "entries": [
                {"key": "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity", "value": "CiY3"},
                {"key": "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent", "value": cookie},
            ],
        }
    }
    (event,) = events_of({"xdm": {"eventType": "web.webpagedetails.pageViews"}}, meta=meta)
    assert event.consent.other == consent
    assert event.params["meta"] == {
        "state": {"domain": "shop.example", "cookiesEnabled": True}
    }  # no cookie values


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "body is not an Edge Network request (no events list)"),
        ({"events": {"xdm": {}}}, "body is not an Edge Network request (no events list)"),
        ({"events": []}, "Edge Network request with an empty events list"),
    ],
)
def test_unreadable_requests_are_one_malformed_event(body: Any, reason: str) -> None:
    (event,) = DECODER.decode(request(body=body))
    assert (event.vendor, event.malformed, event.malformed_reason) == ("adobe_web_sdk", True, reason)


def test_an_unreadable_entry_is_malformed_beside_the_good_ones() -> None:
    good = {"xdm": {"eventType": "web.webpagedetails.pageViews"}}
    found = events_of(good, "oops", {"query": {"personalization": {}}})
    assert [(e.event, e.malformed_reason) for e in found] == [
        ("web.webpagedetails.pageViews", None),
        ("(malformed)", "event 1 is not an object"),
        ("(malformed)", "event 2 has neither xdm nor data"),
    ]


def test_interact_gets_an_edge_answer_collect_a_204() -> None:
    answer = DECODER.sinkhole_reply(request())
    beacon = DECODER.sinkhole_reply(request(f"https://edge.adobedc.net/ee/v1/collect?configId={DATASTREAM}"))
    assert (answer.status, answer.content_type) == (200, "application/json")
    assert json.loads(answer.body) == {"requestId": "5122fec8-fd82-468f", "handle": []}
    assert (beacon.status, beacon.body) == (204, b"")
