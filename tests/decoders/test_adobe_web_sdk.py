"""Adobe Experience Platform Web SDK decoder behaviour beyond the fixtures: claims, event names, values,
identities, consent, malformed requests and the sinkhole's answers."""

from __future__ import annotations

import json
from typing import Any, Literal

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
        (f"https://server.adobedc.net/ee/v2/interact?datastreamId={DATASTREAM}", "POST", True),  # server API
        (f"https://server.adobedc.net/ee/v2/collect?dataStreamId={DATASTREAM}", "POST", True),
        (f"https://edge.adobedc.net/ee/v2/interact?configId={DATASTREAM}", "POST", True),  # v1's name on v2
        (f"https://edge.adobedc.net/ee/or2/v2/interact?dataStreamId={DATASTREAM}", "POST", True),  # hint
        (f"https://irl1.server.adobedc.net/ee/v2/collect?dataStreamId={DATASTREAM}", "POST", True),
        (f"https://edge.adobedc.net/ee-pre-prd/v2/interact?dataStreamId={DATASTREAM}", "POST", True),  # stage
        (f"https://www.adobe.com/experienceedge/v2/collect?dataStreamId={DATASTREAM}", "POST", True),
        (f"https://server.adobedc.net/ee/v2/interact?dataStreamId={DATASTREAM}", "GET", False),
        ("https://server.adobedc.net/ee/v2/interact?dataStreamId={DATASTREAM_ID}", "POST", False),
        (f"https://server.adobedc.net/ee/v2/interact?requestId={DATASTREAM}", "POST", False),
        (f"https://server.adobedc.net/ee/v3/interact?dataStreamId={DATASTREAM}", "POST", False),
        (f"https://server.adobedc.net/v2/interact?dataStreamId={DATASTREAM}", "POST", False),  # no base path
        ("https://my.optscale.com/arcee/v2/collect", "POST", False),
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


# The Edge Network Server API (v2): one ``event`` on interact, an ``events`` batch on collect.
SERVER_INTERACT = f"https://server.adobedc.net/ee/v2/interact?dataStreamId={DATASTREAM}&requestId=req-7"
SERVER_COLLECT = f"https://server.adobedc.net/ee/v2/collect?dataStreamId={DATASTREAM}&requestId=req-8"
CREDENTIALS = [
    ("Authorization", "Bearer token-value"),
    ("x-api-key", "key-value"),
    ("x-gw-ims-org-id", "ORG@AdobeOrg"),
]


def server_request(
    body: Any,
    url: str = SERVER_INTERACT,
    source: Literal["browser", "server"] = "server",
    headers: list[tuple[str, str]] | None = None,
) -> CapturedRequest:
    return CapturedRequest(
        id="s",
        method="POST",
        url=url,
        body=json.dumps(body).encode(),
        request_headers=[
            *(CREDENTIALS if headers is None else headers),
            ("content-type", "application/json"),
        ],
        source=source,
    )


def test_a_server_api_purchase_reads_the_xdm_commerce_order() -> None:
    # The API reference's commerce example (order 123, priceTotal 100 USD, purchases value 34) as one event.
    commerce = {
        "order": {"purchaseID": "123", "priceTotal": 100, "currencyCode": "USD"},
        "purchases": {"value": 34},
    }
    event = {"xdm": {"eventType": "commerce.purchases", "commerce": commerce, "_id": "evt-9"}}
    (found,) = DECODER.decode(server_request({"event": event}))
    assert (found.event, found.value, found.currency, found.transaction_id, found.event_id) == (
        "commerce.purchases",
        100.0,
        "USD",
        "123",
        "evt-9",
    )
    assert (found.account_id, found.source, found.malformed) == (DATASTREAM, "server", False)


def test_a_server_api_batch_is_one_event_per_entry() -> None:
    entries = [
        {"xdm": {"eventType": "web.webpagedetails.pageViews"}},
        {"xdm": {"eventType": "commerce.productListAdds"}},
    ]
    found = DECODER.decode(server_request({"events": entries}, url=SERVER_COLLECT))
    assert [(e.event, e.source) for e in found] == [
        ("web.webpagedetails.pageViews", "server"),
        ("commerce.productListAdds", "server"),
    ]


def test_a_v2_event_takes_the_requests_source() -> None:
    body = {"event": {"xdm": {"eventType": "web.webpagedetails.pageViews"}}}
    (from_page,) = DECODER.decode(server_request(body, source="browser", headers=[]))
    (from_server,) = DECODER.decode(server_request(body, headers=[]))
    assert (from_page.source, from_server.source) == ("browser", "server")
    assert from_page.params["edge_api"] == "v2" and "authenticated" not in from_page.params


def test_a_page_sending_the_api_credentials_is_flagged_without_their_values() -> None:
    body = {"event": {"xdm": {"eventType": "web.webpagedetails.pageViews"}}}
    (from_page,) = DECODER.decode(server_request(body, source="browser"))
    (from_server,) = DECODER.decode(server_request(body))
    assert (from_page.params["authenticated"], from_page.params.get("sent_from_browser")) == (True, True)
    assert (from_server.params["authenticated"], from_server.params.get("sent_from_browser")) == (True, None)
    assert "token-value" not in json.dumps(from_page.params) and "key-value" not in json.dumps(
        from_page.params
    )


def test_first_party_device_ids_are_kept_in_params_not_user_data() -> None:
    identity_map = {
        "FPID": [{"id": "79bf8e83-f708-414b-b1ed-5789ff33bf0b", "primary": "true"}],
        "Email": [{"id": "test123@adobetest.com"}],
    }
    (found,) = DECODER.decode(server_request({"event": {"xdm": {"identityMap": identity_map}}}))
    assert found.user_data == {"Email": "raw"}
    assert found.params["FPID"] == ["79bf8e83-f708-414b-b1ed-5789ff33bf0b"]
    assert "FPID" in DECODER.volatile_params


def test_an_iab_tcf_consent_string_in_the_xdm_is_consent() -> None:
    # alloy's functional test C224676 ('Passing a positive Consent in the sendEvent command').
    strings = [
        {
            "consentStandard": "IAB TCF",
            "consentStandardVersion": "2.0",
            "consentStringValue": "CO052l-O052l-DGAMBFRACBgAIBAAAAAAIYgEawAQEagAAAA",
            "gdprApplies": True,
            "containsPersonalData": False,
        }
    ]
    (v1,) = events_of({"xdm": {"eventType": "web.webpagedetails.pageViews", "consentStrings": strings}})
    (v2,) = DECODER.decode(server_request({"event": {"xdm": {"consentStrings": strings}}}))
    for found in (v1, v2):
        assert found.consent.other == {
            "IAB TCF": "CO052l-O052l-DGAMBFRACBgAIBAAAAAAIYgEawAQEagAAAA",
            "gdprApplies": "true",
        }
        assert "consentStrings" not in found.params["xdm"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"event": "page view"},
            "body is not an Edge Network Server API request (no event object or events list)",
        ),
        (
            {"xdm": {"eventType": "web.webpagedetails.pageViews"}},
            "body is not an Edge Network Server API request (no event object or events list)",
        ),
        ({"events": []}, "Edge Network request with an empty events list"),
        ({"event": {"query": {}}}, "event 0 has neither xdm nor data"),
    ],
)
def test_unreadable_server_api_requests_are_one_malformed_event(body: Any, reason: str) -> None:
    (event,) = DECODER.decode(server_request(body))
    assert (event.vendor, event.malformed, event.malformed_reason) == ("adobe_web_sdk", True, reason)


def test_server_api_answers_interact_with_handles_collect_with_202_or_silence() -> None:
    interact = DECODER.sinkhole_reply(server_request({}))
    collect = DECODER.sinkhole_reply(server_request({}, url=SERVER_COLLECT))
    silent = DECODER.sinkhole_reply(server_request({}, url=f"{SERVER_COLLECT}&silent=true"))
    assert (interact.status, json.loads(interact.body)) == (200, {"requestId": "req-7", "handle": []})
    assert (collect.status, collect.content_type, json.loads(collect.body)) == (
        202,
        "application/json",
        {"requestId": "req-8"},
    )
    assert (silent.status, silent.body) == (204, b"")
