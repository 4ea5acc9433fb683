"""Microsoft UET decoder: claimed hosts and paths, page loads, custom events, consent and beacons."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.bing_uet import BingUetDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import fixture_request, load_fixture

DECODER = BingUetDecoder()
BASE = "https://bat.bing.com/action/0?ti=343102454&Ver=2&mid=02fc8be7&sid=4b1e&vid=4b1e7c&rn=118692"


def request(url: str, method: str = "GET", body: str = "", referer: str | None = None) -> CapturedRequest:
    headers = [("referer", referer)] if referer else []
    return CapturedRequest(id="u1", method=method, url=url, body=body.encode(), request_headers=headers)


def decode_one(url: str, **kwargs: object):
    events = DECODER.decode(request(url, **kwargs))  # type: ignore[arg-type]
    assert len(events) == 1
    return events[0]


@pytest.mark.parametrize(
    "url",
    [
        BASE + "&evt=pageLoad",
        "https://bat.bing.net/action/0?ti=1&evt=pageLoad",
        "https://bat.r.msn.com/action/0?ti=1&evt=pageLoad",
        "https://bat.bing.com/actionp/0?ti=1&evt=pageHide",
        "https://bat.bing.com/action/0?ti=1&Ver=2",
    ],
)
def test_claims_uet_hits(url: str) -> None:
    assert DECODER.claims(request(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://bat.bing.com/bat.js",
        "https://bat.bing.net/bat.js?ti=97247724",
        "https://bat.bing.com/p/action/26101359.js",
        "https://www.shop.example/action/0?ti=1&evt=pageLoad",
        "https://www.bing.com/action/0?ti=1",
        "https://bat.bing.com/action/x?ti=1",
        "https://c.bing.com/c.gif?Red3=MSPH_pd",
    ],
)
def test_does_not_claim_scripts_or_other_hosts(url: str) -> None:
    assert not DECODER.claims(request(url))


def test_page_load() -> None:
    event = decode_one(BASE + "&evt=pageLoad&p=https%3A%2F%2Fshop.example%2F&tl=Home&sw=1280&lt=388&msclkid=N")
    assert (event.vendor, event.event, event.account_id) == ("bing_uet", "pageLoad", "343102454")
    assert event.page_url == "https://shop.example/"
    assert event.click_ids == {}  # "N" is bat.js' placeholder for no click
    assert event.params["tl"] == "Home" and event.params["sw"] == 1280.0 and event.params["lt"] == 388.0


def test_custom_event_action_value_and_currency() -> None:
    event = decode_one(BASE + "&evt=custom&ec=checkout&ea=purchase&el=web&ev=3&gv=1299.50&gc=JPY&msclkid=abc123")
    assert (event.event, event.value, event.currency) == ("purchase", 1299.5, "JPY")
    assert event.click_ids == {"msclkid": "abc123"}
    assert event.params["ec"] == "checkout" and event.params["el"] == "web" and event.params["ev"] == 3.0
    assert "ea" not in event.params and "gv" not in event.params


def test_custom_event_without_action_is_named_custom() -> None:
    event = decode_one(BASE + "&evt=custom&pagetype=product&prodid=SKU1")
    assert event.event == "custom" and event.params["prodid"] == "SKU1"


def test_action_on_a_non_custom_event_stays_in_params() -> None:
    event = decode_one(BASE + "&evt=pageLoad&ea=odd")
    assert event.event == "pageLoad" and event.params["ea"] == "odd"


def test_non_numeric_goal_value() -> None:
    event = decode_one(BASE + "&evt=custom&ea=purchase&gv=12%2C50&gc=EUR")
    assert event.value is None and event.currency == "EUR"


def test_enhanced_conversion_pid_identifiers_are_user_data_and_a_raw_email_shows_as_raw() -> None:
    hashed = "8d9b70fd20e23919cfe664ea5e571db39d72ba1bf17bf57e909ada24be9aa3aa"
    raw = decode_one(BASE + "&evt=custom&ea=lead&pid=em%3Djane%40example.com%26ph%3D" + hashed)
    assert raw.user_data == {"em": "raw", "ph": "sha256"}
    assert raw.params["pid"] == f"em=jane@example.com&ph={hashed}"  # kept as sent
    assert decode_one(BASE + "&evt=custom&ea=lead&pid=em%3D%26other%3D1").user_data == {}


@pytest.mark.parametrize(("asc", "state"), [("G", "granted"), ("D", "denied"), ("X", None)])
def test_asc_consent_flag(asc: str, state: str | None) -> None:
    event = decode_one(BASE + f"&evt=pageLoad&asc={asc}")
    assert event.consent.ad_storage == state and event.consent.other == {"asc": asc}


def test_no_asc_says_nothing_about_consent() -> None:
    assert not decode_one(BASE + "&evt=pageLoad").consent.declared


def test_noscript_hit_is_an_implied_page_load_with_referer_as_page() -> None:
    event = decode_one("https://bat.bing.com/action/0?ti=5223675&Ver=2", referer="https://shop.example/a")
    assert event.event == "pageLoad" and event.params["evt_implied"] is True
    assert event.page_url == "https://shop.example/a"


def test_beacon_with_form_body() -> None:
    event = decode_one("https://bat.bing.com/actionp/0?ti=1", method="POST", body="evt=pageHide&mid=x")
    assert event.event == "pageHide" and event.params["mid"] == "x"


@pytest.mark.parametrize("url", ["https://bat.bing.com/action/0?evt=pageLoad", "https://bat.bing.com/action/0?ti=%20&evt=custom"])
def test_missing_tag_id_is_malformed(url: str) -> None:
    event = decode_one(url)
    assert event.malformed and event.malformed_reason == "UET hit without ti (tag ID)"


def test_sinkhole_replies() -> None:
    image = DECODER.sinkhole_reply(request(BASE + "&evt=pageLoad"))
    assert (image.status, image.content_type, image.body) == (200, "image/gif", PIXEL_GIF)
    beacon = DECODER.sinkhole_reply(request("https://bat.bing.com/actionp/0?ti=1&evt=pageHide", method="POST"))
    assert beacon.status == 204 and beacon.body == b""


def test_volatile_params() -> None:
    assert {"rn", "mid", "sid", "vid"} <= DECODER.volatile_params


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=200))
def test_decode_never_raises(query: str) -> None:
    (event,) = DECODER.decode(request("https://bat.bing.com/action/0?" + query))
    assert event.malformed or (event.event and event.account_id)


# --- UET Conversions API (server) -----------------------------------------------------------------------

CAPI_URL = "https://capi.uet.microsoft.com/v1/343102454/events"


def capi_request(body: object, *headers: tuple[str, str], url: str = CAPI_URL) -> CapturedRequest:
    return CapturedRequest(
        id="s", method="POST", url=url, body=json.dumps(body).encode(), request_headers=list(headers)
    )


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("POST", CAPI_URL, True),
        ("POST", CAPI_URL + "/", True),
        ("GET", CAPI_URL, False),
        ("POST", "https://capi.uet.microsoft.com/v1/343102454/other", False),
        ("POST", "https://capi.uet.microsoft.com/v2/343102454/events", False),
        ("POST", "https://capi.uet.microsoft.com/v1/events", False),
        ("POST", "https://bat.bing.com/v1/343102454/events", False),
        ("POST", "https://capi.uet.microsoft.com.evil.example/v1/343102454/events", False),
    ],
)
def test_claims_the_conversions_api_endpoint_only(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(CapturedRequest(id="t", method=method, url=url)) is claimed


def test_capi_answers_how_many_events_it_received() -> None:
    body = {"data": [{"eventType": "pageLoad"}, {"eventType": "custom", "eventName": "purchase"}]}
    reply = DECODER.sinkhole_reply(capi_request(body))
    assert (reply.status, reply.content_type, json.loads(reply.body)) == (
        200,
        "application/json",
        {"eventsReceived": 2},
    )


def test_capi_raw_email_is_raw_and_no_identifier_or_token_is_copied() -> None:
    body = {"data": [{"eventType": "custom", "eventName": "lead", "userData": {"em": "Jane@Example.com", "ph": "+1 415"}}]}
    (event,) = DECODER.decode(capi_request(body, ("Authorization", "Bearer uet-secret-token")))
    assert event.user_data == {"em": "raw", "ph": "raw"} and event.params["access_token_present"] is True
    dumped = event.model_dump_json()
    assert not any(secret in dumped for secret in ("Jane@Example.com", "+1 415", "uet-secret-token"))


def test_capi_custom_event_matches_the_tag_custom_hit_of_the_same_action() -> None:
    browser = decode_one(BASE + "&evt=custom&ea=purchase&gv=59.80&gc=EUR&msclkid=abc123")
    body = {
        "data": [
            {
                "eventType": "custom",
                "eventName": "purchase",
                "eventId": "evt-1",
                "userData": {"msclkid": "abc123"},
                "customData": {"value": 59.8, "currency": "EUR"},
            }
        ]
    }
    (server,) = DECODER.decode(capi_request(body))
    fields = ("vendor", "event", "account_id", "value", "currency", "click_ids")
    assert [getattr(server, f) for f in fields] == [getattr(browser, f) for f in fields]
    assert (server.source, server.event_id) == ("server", "evt-1")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "UET Conversions API body is not a JSON object"),
        (b'{"data": []}', "UET Conversions API body has no data list"),
        (b'{"data": [{"eventName": "purchase"}]}', "UET Conversions API event without eventType"),
        (b'{"data": [7]}', "UET Conversions API event is not an object"),
    ],
)
def test_capi_body_without_its_essentials_is_malformed(body: bytes, reason: str) -> None:
    (event,) = DECODER.decode(CapturedRequest(id="s", method="POST", url=CAPI_URL, body=body))
    assert event.malformed and event.malformed_reason == reason and event.source == "server"


# --- Microsoft Advertising offline conversions (Campaign Management SOAP service) --------------------------

SOAP_FIXTURES = Path(__file__).parent / "fixtures" / "bing_uet"
SOAP_URL = "https://campaign.api.bingads.microsoft.com/Api/Advertiser/CampaignManagement/v13/CampaignManagementService.svc"
SANDBOX_URL = SOAP_URL.replace("campaign.api.", "campaign.api.sandbox.")
V13 = "https://bingads.microsoft.com/CampaignManagement/v13"
SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
    f' xmlns:tns="{V13}"><SOAP-ENV:Header>'
    "<tns:AuthenticationToken>soap-secret-access-token</tns:AuthenticationToken><tns:CustomerAccountId>180535609"
    "</tns:CustomerAccountId><tns:CustomerId>251186883</tns:CustomerId><tns:DeveloperToken>soap-secret-developer-token"
    "</tns:DeveloperToken>{extra_header}</SOAP-ENV:Header><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
ONE_CONVERSION = (
    "<tns:ApplyOfflineConversionsRequest><tns:OfflineConversions><tns:OfflineConversion>{fields}"
    "</tns:OfflineConversion></tns:OfflineConversions></tns:ApplyOfflineConversionsRequest>"
)


def sdk_fixture(name: str) -> CapturedRequest:
    """A call recorded from Microsoft's ``bingads`` SDK (see the fixture's source)."""
    return fixture_request(load_fixture(SOAP_FIXTURES / name))


def soap_request(
    body: str = ONE_CONVERSION.format(fields="<tns:MicrosoftClickId>abc123</tns:MicrosoftClickId>"),
    action: str | None = '"ApplyOfflineConversions"',
    url: str = SOAP_URL,
    method: str = "POST",
    doctype: str = "",
    extra_header: str = "",
    raw: bytes | None = None,
) -> CapturedRequest:
    headers = [("content-type", "text/xml; charset=utf-8")] + (
        [("SOAPAction", action)] if action is not None else []
    )
    text = SOAP_ENVELOPE.format(doctype=doctype, extra_header=extra_header, body=body)
    return CapturedRequest(
        id="soap",
        method=method,
        url=url,
        request_headers=headers,
        body=raw if raw is not None else text.encode(),
        source="server",
    )


@pytest.mark.parametrize(
    "req",
    [
        pytest.param(sdk_fixture("bingads_sdk_apply_offline_conversions.json"), id="sdk-upload"),
        pytest.param(
            sdk_fixture("bingads_sdk_apply_offline_conversion_adjustments.json"), id="sdk-offline-adjustment"
        ),
        pytest.param(
            sdk_fixture("bingads_sdk_apply_online_conversion_adjustments.json"), id="sdk-online-adjustment"
        ),
        pytest.param(soap_request(action="ApplyOfflineConversions"), id="unquoted-action"),
        pytest.param(soap_request(action=' "ApplyOfflineConversions" '), id="spaced-action"),
        pytest.param(soap_request(url=SANDBOX_URL), id="sandbox"),
        pytest.param(soap_request(url=SOAP_URL.lower()), id="path-in-lower-case"),
        pytest.param(soap_request(url=SOAP_URL.replace(".com/", ".com./")), id="host-with-trailing-dot"),
        pytest.param(soap_request(action=None), id="no-action-body-says"),
        pytest.param(soap_request(action='""'), id="empty-action-body-says"),
    ],
)
def test_claims_offline_conversion_uploads(req: CapturedRequest) -> None:
    assert DECODER.claims(req)
    claimant = DecoderRegistry.default().claimant(req)
    assert claimant is not None and claimant.vendor == "bing_uet"


def get_campaigns(action: str | None) -> CapturedRequest:
    body = "<tns:GetCampaignsByAccountIdRequest><tns:AccountId>180535609</tns:AccountId></tns:GetCampaignsByAccountIdRequest>"
    return soap_request(body, action=action)


# What bingads 13.0.30.1 sends for GetCampaignsByAccountId(AccountId=180535609, CampaignType="Search"), recorded
# through the capture proxy with a local answer (the same URL and header as its uploads; credentials replaced).
SDK_GET_CAMPAIGNS = (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tns="https://bingads.microsoft.com/CampaignManagement/v13"'
    ' xmlns:ns0="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="https://bingads.microsoft.com/CampaignManagement/v13">'
    "<SOAP-ENV:Header><tns:AuthenticationToken>REDACTED-ACCESS-TOKEN</tns:AuthenticationToken><tns:CustomerAccountId>"
    "180535609</tns:CustomerAccountId><tns:CustomerId>251186883</tns:CustomerId><tns:DeveloperToken>REDACTED-DEVELOPER-TOKEN"
    "</tns:DeveloperToken></SOAP-ENV:Header><ns0:Body><ns1:GetCampaignsByAccountIdRequest><ns1:AccountId>180535609"
    "</ns1:AccountId><ns1:CampaignType>Search</ns1:CampaignType></ns1:GetCampaignsByAccountIdRequest></ns0:Body>"
    "</SOAP-ENV:Envelope>"
)


def sdk_get_campaigns() -> CapturedRequest:
    upload = sdk_fixture("bingads_sdk_apply_offline_conversions.json")
    headers = [
        (k, '"GetCampaignsByAccountId"' if k == "soapaction" else v) for k, v in upload.request_headers
    ]
    return upload.model_copy(update={"request_headers": headers, "body": SDK_GET_CAMPAIGNS.encode()})


def with_action(req: CapturedRequest, action: str | None) -> CapturedRequest:
    headers = [(k, v) for k, v in req.request_headers if k.lower() != "soapaction"]
    return req.model_copy(update={"request_headers": headers + ([("SOAPAction", action)] if action else [])})


@pytest.mark.parametrize(
    ("req", "upload_twin"),
    [
        # Each call that must go on is paired with the upload it differs from in one respect, which is claimed.
        pytest.param(
            sdk_get_campaigns(),
            sdk_fixture("bingads_sdk_apply_offline_conversions.json"),
            id="sdk-get-campaigns",
        ),
        pytest.param(get_campaigns('"GetCampaignsByAccountId"'), soap_request(), id="get-campaigns"),
        pytest.param(get_campaigns(None), soap_request(action=None), id="get-campaigns-no-action"),
        pytest.param(
            soap_request(action='"GetOfflineConversionReports"'),
            soap_request(),
            id="reports-of-offline-conversions",
        ),
        pytest.param(
            with_action(soap_request(), '"GetCampaignsByAccountId"'),
            soap_request(),
            id="action-decides-not-body",
        ),
        pytest.param(
            soap_request(action='"applyofflineconversions"'), soap_request(), id="action-in-other-case"
        ),
        pytest.param(soap_request(method="GET"), soap_request(), id="get"),
        pytest.param(
            soap_request(url=SOAP_URL.replace("CampaignManagementService", "BulkService")),
            soap_request(),
            id="other-svc",
        ),
        pytest.param(soap_request(url=SOAP_URL + "/x"), soap_request(), id="longer-path"),
        pytest.param(
            soap_request(url=SOAP_URL.replace("campaign.api.", "bulk.api.")), soap_request(), id="bulk-host"
        ),
        pytest.param(
            soap_request(url=SOAP_URL.replace(".com/", ".com.evil.example/")),
            soap_request(),
            id="lookalike-host",
        ),
    ],
)
def test_does_not_claim_other_campaign_management_calls(
    req: CapturedRequest, upload_twin: CapturedRequest
) -> None:
    registry = DecoderRegistry.default()
    assert not DECODER.claims(req) and registry.claimant(req) is None
    assert DECODER.claims(upload_twin)
    claimant = registry.claimant(upload_twin)
    assert claimant is not None and claimant.vendor == "bing_uet"


def test_sdk_upload_decodes_one_conversion_each_without_copying_credentials() -> None:
    req = sdk_fixture("bingads_sdk_apply_offline_conversions.json")
    first, second = DECODER.decode(req)
    assert (first.vendor, first.event, first.source, first.account_id) == (
        "bing_uet",
        "conversion",
        "server",
        "180535609",
    )
    assert (first.value, first.currency, first.transaction_id) == (49.95, "EUR", None)
    assert first.click_ids == {"msclkid": "6e1f4b2c9d3a4e5f8a7b6c5d4e3f2a1b"}
    assert first.user_data == {"em": "sha256", "ph": "sha256"}
    assert first.params["hashed_emails"] == [
        "2481f36dfc515ca76451aaadf1399026942a01ee50c6d0a61988b43cef039bc2"
    ]
    assert (second.value, second.currency, second.user_data) == (None, None, {})
    for event in (first, second):
        assert event.params["authentication_token_present"] is event.params["developer_token_present"] is True
        assert "REDACTED" not in event.model_dump_json()
        assert not {"AuthenticationToken", "DeveloperToken", "HashedPhoneNumber"} & event.params.keys()


def test_soap_credentials_are_recorded_as_present_only() -> None:
    extra = (
        "<tns:UserName>someone@example.com</tns:UserName><tns:Password>soap-secret-password</tns:Password>"
    )
    (event,) = DECODER.decode(soap_request(extra_header=extra))
    assert event.params["password_present"] is event.params["user_name_present"] is True
    dumped = event.model_dump_json()
    assert not any(s in dumped for s in ("soap-secret", "someone@example.com"))
    assert event.params["customer_id"] == "251186883" and event.account_id == "180535609"


def test_a_raw_email_is_raw_and_not_kept_and_a_non_numeric_value_is_kept_raw() -> None:
    fields = (
        "<tns:ConversionName>Lead</tns:ConversionName><tns:ConversionValue>12,50</tns:ConversionValue>"
        "<tns:HashedEmailAddress>Jane@Example.com</tns:HashedEmailAddress>"
        '<tns:ConversionCurrencyCode xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    )
    (event,) = DECODER.decode(soap_request(ONE_CONVERSION.format(fields=fields)))
    assert event.user_data == {"em": "raw"} and "hashed_emails" not in event.params
    assert "Jane@Example.com" not in event.model_dump_json()
    assert (event.value, event.params["value_raw"], event.currency) == (None, "12,50", None)
    assert event.params["ConversionName"] == "Lead" and event.click_ids == {}


def test_without_a_soap_action_the_body_names_the_method() -> None:
    (event,) = DECODER.decode(soap_request(action=None))
    assert (event.event, event.params["method"], event.click_ids) == (
        "conversion",
        "ApplyOfflineConversions",
        {"msclkid": "abc123"},
    )


ENTITY_BODY = ONE_CONVERSION.format(fields="<tns:MicrosoftClickId>&leak;</tns:MicrosoftClickId>")


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (
            soap_request(ENTITY_BODY, doctype='<!DOCTYPE x [<!ENTITY leak "entity-was-expanded">]>'),
            "SOAP body declares a DOCTYPE or entities (refused, not parsed)",
        ),
        (
            soap_request(ENTITY_BODY, doctype='<!doctype x [<!ENTITY leak "entity-was-expanded">]>'),
            "SOAP body declares a DOCTYPE or entities (refused, not parsed)",
        ),
        (
            # UTF-16 hides "<!DOCTYPE" from a byte search, and expat would read it: refused before parsing.
            soap_request(
                raw=SOAP_ENVELOPE.format(
                    doctype='<!DOCTYPE x [<!ENTITY leak "entity-was-expanded">]>',
                    extra_header="",
                    body=ENTITY_BODY,
                )
                .replace("UTF-8", "UTF-16")
                .encode("utf-16")
            ),
            "SOAP body is not UTF-8",
        ),
        (soap_request(raw=b"<SOAP-ENV:Envelope"), None),
        (soap_request(raw=b"not xml at all"), None),
        (soap_request(raw=b"<Envelope><Header/></Envelope>"), "not a SOAP envelope with a Body"),
        (
            soap_request(
                "<tns:ApplyOfflineConversionsRequest><tns:OfflineConversions/></tns:ApplyOfflineConversionsRequest>"
            ),
            "ApplyOfflineConversions without any OfflineConversion",
        ),
        (
            soap_request("<tns:ApplyOfflineConversionsRequest/>"),
            "ApplyOfflineConversions without any OfflineConversion",
        ),
        (
            soap_request(action='"ApplyOfflineConversionAdjustments"'),
            "SOAP body is no ApplyOfflineConversionAdjustmentsRequest",
        ),
    ],
)
def test_unreadable_uploads_are_one_malformed_server_event(req: CapturedRequest, reason: str | None) -> None:
    assert DECODER.claims(req)  # still answered locally: it is an upload, whatever its body
    (event,) = DECODER.decode(req)
    assert event.malformed and event.source == "server" and event.vendor == "bing_uet"
    if reason is None:
        assert (event.malformed_reason or "").startswith("SOAP body is not XML")
    else:
        assert event.malformed_reason == reason
    assert "entity-was-expanded" not in event.model_dump_json()


def test_an_empty_conversion_among_others_is_malformed_alone() -> None:
    body = (
        "<tns:ApplyOfflineConversionsRequest><tns:OfflineConversions><tns:OfflineConversion>"
        "<tns:MicrosoftClickId>abc123</tns:MicrosoftClickId></tns:OfflineConversion><tns:OfflineConversion/>"
        "</tns:OfflineConversions></tns:ApplyOfflineConversionsRequest>"
    )
    good, empty = DECODER.decode(soap_request(body))
    assert not good.malformed and good.click_ids == {"msclkid": "abc123"}
    assert empty.malformed and (empty.event, empty.malformed_reason) == (
        "conversion",
        "empty OfflineConversion",
    )


@pytest.mark.parametrize(
    ("req", "response"),
    [
        (sdk_fixture("bingads_sdk_apply_offline_conversions.json"), "ApplyOfflineConversionsResponse"),
        (
            sdk_fixture("bingads_sdk_apply_offline_conversion_adjustments.json"),
            "ApplyOfflineConversionAdjustmentsResponse",
        ),
        (
            sdk_fixture("bingads_sdk_apply_online_conversion_adjustments.json"),
            "ApplyOnlineConversionAdjustmentsResponse",
        ),
        (soap_request(action=None, url=SANDBOX_URL), "ApplyOfflineConversionsResponse"),
    ],
)
def test_soap_sinkhole_reply_is_the_methods_response_without_errors(
    req: CapturedRequest, response: str
) -> None:
    reply = DECODER.sinkhole_reply(req)
    assert (reply.status, reply.content_type) == (200, "text/xml; charset=utf-8")
    envelope = ET.fromstring(reply.body)
    soap = "{http://schemas.xmlsoap.org/soap/envelope/}"
    assert envelope.tag == f"{soap}Envelope"
    (tracking,) = envelope.find(f"{soap}Header") or []
    assert tracking.tag == f"{{{V13}}}TrackingId" and tracking.text
    (answer,) = envelope.find(f"{soap}Body") or []
    assert answer.tag == f"{{{V13}}}{response}"
    (errors,) = list(answer)
    assert errors.tag == f"{{{V13}}}PartialErrors"
    assert errors.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_the_bingads_sdk_reads_the_sinkhole_reply() -> None:
    """Fed to the SDK's own SOAP client (suds' reply injection; its endpoint set to a closed local port)."""
    pytest.importorskip("bingads")
    from bingads.authorization import AuthorizationData, OAuthDesktopMobileAuthCodeGrant, OAuthTokens
    from bingads.service_client import ServiceClient

    authentication = OAuthDesktopMobileAuthCodeGrant(
        client_id="test", oauth_tokens=OAuthTokens(access_token="test")
    )
    service = ServiceClient(
        "CampaignManagementService",
        version=13,
        authorization_data=AuthorizationData(
            developer_token="test", authentication=authentication, customer_id=1, account_id=2
        ),
        location="https://127.0.0.1:9/",
    )
    for fixture, method, array in [
        ("bingads_sdk_apply_offline_conversions.json", "ApplyOfflineConversions", "OfflineConversions"),
        (
            "bingads_sdk_apply_online_conversion_adjustments.json",
            "ApplyOnlineConversionAdjustments",
            "OnlineConversionAdjustments",
        ),
    ]:
        reply = DECODER.sinkhole_reply(sdk_fixture(fixture))
        items = service.factory.create(f"ArrayOf{array[:-1]}")
        answer = getattr(service, method)(**{array: items, "__inject": {"reply": reply.body}})
        assert answer is None  # no PartialErrors: suds unwraps the response's only (nil) element
        assert service.get_response_header()["TrackingId"]


@settings(max_examples=200, deadline=None)
@given(
    inner=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "<tns:OfflineConversions>",
                    "</tns:OfflineConversions>",
                    "<tns:OfflineConversion>",
                    "</tns:OfflineConversion>",
                    "<tns:ConversionValue>",
                    "</tns:ConversionValue>",
                    "<tns:HashedEmailAddress/>",
                    '<x xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
                    "&amp;",
                    "&bogus;",
                    "<!--c-->",
                    "\x00",
                    "é",
                    "1e999",
                    "NaN",
                ]
            ),
            max_size=20,
        ).map("".join),
    ),
    action=st.sampled_from(['"ApplyOfflineConversions"', None]),
)
def test_soap_decode_never_raises(inner: str, action: str | None) -> None:
    body = f"<tns:ApplyOfflineConversionsRequest>{inner}</tns:ApplyOfflineConversionsRequest>"
    req = soap_request(body, action=action)
    events = DECODER.decode(req)
    assert events and all(e.vendor == "bing_uet" and e.source == "server" for e in events)
    for event in events:
        assert event.malformed or event.event == "conversion"
        event.model_dump_json()
    assert DECODER.sinkhole_reply(req).status == 200
