"""impact.com decoder behaviour beyond the fixtures."""

from __future__ import annotations

import hashlib
import json

import pytest

from harness.decoders.vendors.impact import ImpactDecoder, email_form
from harness.models import CapturedRequest

DECODER = ImpactDecoder()
URL = "https://api.impact.com/Advertisers/IRAbc123/Conversions"
FORM = [("content-type", "application/x-www-form-urlencoded")]


def request(
    url: str = URL, method: str = "POST", body: str = "", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(
        id="t",
        method=method,
        url=url,
        request_headers=FORM if headers is None else headers,
        body=body.encode(),
    )


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (URL, "POST", True),
        (URL + "/", "POST", True),
        (URL, "GET", False),  # reads conversions back
        ("https://api.impact.com/Advertisers/IRAbc123/Actions", "POST", False),
        ("https://api.impact.com/MediaPartners/IRAbc123/Conversions", "POST", False),
        ("https://trkapi.impact.com/PageLoad", "POST", False),
        ("https://utt.impactcdn.com/A1450388-e24d-4d48-8f36-14ba28d599111.js", "GET", False),
        ("https://shop.example/Advertisers/IRAbc123/Conversions", "POST", False),
    ],
)
def test_claims_conversion_submissions_only(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_amount_wins_over_items() -> None:
    (event,) = DECODER.decode(request(body="CampaignId=1&OrderId=A&Amount=20&ItemPrice1=100&ItemQuantity1=2"))
    assert event.value == 20.0


def test_item_subtotals_less_order_discount() -> None:
    body = "CampaignId=1&OrderId=A&ItemSubTotal1=28.00&ItemSubtotal2=99.00&ItemPrice3=5&ItemQuantity3=2&OrderDiscount=15"
    (event,) = DECODER.decode(request(body=body))
    assert event.value == pytest.approx(28 + 99 + 10 - 15)


@pytest.mark.parametrize(
    "body",
    [
        "CampaignId=1&ItemPrice1=x&ItemQuantity1=1",
        "CampaignId=1&ItemPrice1=3&OrderDiscount=n/a",
        "CampaignId=1",
    ],
)
def test_no_value_when_items_cannot_be_summed(body: str) -> None:
    (event,) = DECODER.decode(request(body=body))
    assert event.value is None and not event.malformed


def test_unreadable_amount_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(body="CampaignId=1&Amount=1.234,56"))
    assert (event.value, event.params["value_raw"]) == (None, "1.234,56")


def test_raw_identifiers_are_flagged_and_not_copied() -> None:
    body = (
        "CampaignId=1&OrderId=A&CustomerEmail=jane%40example.com&PhoneNumber=%2B4915112345678&CustomerId=u1"
    )
    (event,) = DECODER.decode(request(body=body))
    assert event.user_data == {"em": "raw", "ph": "raw"}
    assert "CustomerEmail" not in event.params and "PhoneNumber" not in event.params
    assert event.params["CustomerId"] == "u1"


def test_email_digests() -> None:
    address = b"user123@email.com"
    assert email_form(hashlib.sha256(address).hexdigest()) == "sha256"
    assert email_form(hashlib.sha1(address).hexdigest()) is None  # hashed, in a form user_data lacks
    assert email_form("user123@email.com") == "raw"
    assert email_form("") is None


def test_account_is_the_campaign_else_the_account_sid() -> None:
    (event,) = DECODER.decode(request(body="OrderId=A&EventTypeId=9"))
    assert event.account_id == "IRAbc123"
    assert event.params["account_sid"] == "IRAbc123"


def test_json_body_is_read_too() -> None:
    body = json.dumps({"CampaignId": 1000, "OrderId": "A", "Amount": "12.50", "CurrencyCode": "EUR"})
    (event,) = DECODER.decode(request(body=body, headers=[("content-type", "application/json")]))
    assert (event.account_id, event.value, event.currency, event.transaction_id) == ("1000", 12.5, "EUR", "A")


@pytest.mark.parametrize("body", ["", "[1, 2]", "not a form body"])
def test_request_without_fields_is_malformed(body: str) -> None:
    (event,) = DECODER.decode(request(body=body, headers=[]))
    assert (event.malformed, event.event) == (True, "conversion")


def test_reply_is_json() -> None:
    reply = DECODER.sinkhole_reply(request(body="CampaignId=1"))
    assert (reply.status, reply.content_type) == (200, "application/json")


def test_event_date_is_volatile() -> None:
    assert "EventDate" in DECODER.volatile_params
    assert DECODER.profile.click_ids == ("irclickid",)
