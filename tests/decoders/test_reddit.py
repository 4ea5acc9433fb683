"""Reddit decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.reddit import RedditDecoder
from harness.models import CapturedRequest

DECODER = RedditDecoder()


def request(url: str, method: str = "GET", body: bytes = b"") -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body)


@pytest.mark.parametrize(
    ("method", "url", "claimed"),
    [
        ("GET", "https://alb.reddit.com/rp.gif?id=t2_x&event=PageVisit", True),
        ("GET", "https://www.redditstatic.com/ads/pixel.js", False),
        ("GET", "https://alb.reddit.com/other.gif?id=t2_x", False),
        ("POST", "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_x", True),
        ("POST", "https://ads-api.reddit.com/api/v3/pixels/a2_x/conversion_events", True),
        ("GET", "https://ads-api.reddit.com/api/v3/pixels/a2_x/conversion_events", False),
        ("POST", "https://ads-api.reddit.com/api/v3/ad_accounts/a2_x/campaigns", False),
    ],
)
def test_claims_pixel_and_capi_endpoints_only(method: str, url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_legacy_value_is_used_when_value_decimal_is_empty() -> None:
    (event,) = DECODER.decode(
        request("https://alb.reddit.com/rp.gif?id=t2_x&event=Purchase&m.value=12&m.valueDecimal=")
    )
    assert event.value == 12.0


def test_empty_parameters_do_not_clutter_params() -> None:
    (event,) = DECODER.decode(
        request("https://alb.reddit.com/rp.gif?id=t2_x&event=PageVisit&m.itemCount=&aaid=&sh=900")
    )
    assert event.params == {"sh": "900"} and event.user_data == {}


def test_capi_event_that_is_not_an_object_is_malformed_and_the_rest_decode() -> None:
    body = json.dumps({"events": ["oops", {"event_type": {"tracking_type": "SignUp"}}]}).encode()
    events = DECODER.decode(
        request("https://ads-api.reddit.com/api/v2.0/conversions/events/t2_x", "POST", body)
    )
    assert [(e.event, e.malformed) for e in events] == [("(malformed)", True), ("SignUp", False)]


def test_pixel_answers_with_the_gif() -> None:
    assert (
        DECODER.sinkhole_reply(request("https://alb.reddit.com/rp.gif?id=t2_x&event=PageVisit")).body
        == PIXEL_GIF
    )


def test_timestamp_and_browser_uuid_are_volatile() -> None:
    assert {"ts", "uuid"} <= DECODER.volatile_params


def test_unreadable_value_is_kept_raw_and_esurl_is_the_page() -> None:
    (event,) = DECODER.decode(
        request(
            "https://alb.reddit.com/rp.gif?id=t2_x&event=Purchase&m.value=&m.valueDecimal=12%2C55&m.currency=EUR"
            "&esurl=https%3A%2F%2Fshop.example%2Fthanks%3Frdt_cid%3Dc1"
        )
    )
    assert (event.value, event.params["value_raw"]) == (None, "12,55")
    assert (event.page_url, event.click_ids) == ("https://shop.example/thanks?rdt_cid=c1", {"rdt_cid": "c1"})
    assert "esurl" not in event.params


def test_capi_v2_value_is_in_minor_units_and_v3_in_whole_ones() -> None:
    from harness.decoders.vendors.reddit import RedditDecoder

    decoder = RedditDecoder()

    def v2(metadata: dict[str, object]) -> float | None:
        body = {"events": [{"event_type": {"tracking_type": "Purchase"}, "event_metadata": metadata}]}
        url = "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_abc"
        req = CapturedRequest(id="r", method="POST", url=url, body=json.dumps(body).encode(), source="server")
        return decoder.decode(req)[0].value

    assert v2({"value": 1099, "currency": "USD"}) == 10.99
    assert v2({"value": 1099, "currency": "JPY"}) == 1099  # no minor unit
    assert v2({"value": 1099, "currency": "KWD"}) == 1.099  # a thousandth
    assert v2({"value": 1099, "value_decimal": 10.99, "currency": "USD"}) == 10.99  # value_decimal wins
    body = {
        "data": {
            "events": [
                {"type": {"tracking_type": "Purchase"}, "metadata": {"value": 10.99, "currency": "USD"}}
            ]
        }
    }
    url = "https://ads-api.reddit.com/api/v3/pixels/a2_abc/conversion_events"
    req = CapturedRequest(id="r", method="POST", url=url, body=json.dumps(body).encode(), source="server")
    assert decoder.decode(req)[0].value == 10.99  # v3: whole units


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://alb.reddit.com/snoo.gif?q=CAAHAAABAAoACQAAAAmui0GsAA==&s=sig", True),
        ("https://alb.reddit.com/snoo.gif/?q=CAAH&s=sig", True),
        ("https://www.reddit.com/snoo.gif?q=CAAH&s=sig", False),  # reddit.com's own pages and images
        ("https://shop.example/snoo.gif?q=CAAH&s=sig", False),
    ],
)
def test_claims_the_legacy_conversion_pixel_on_the_pixel_host_only(url: str, claimed: bool) -> None:
    assert DECODER.claims(request(url)) is claimed


def test_legacy_conversion_pixel_is_a_conversion_whose_advertiser_is_not_guessed() -> None:
    (event,) = DECODER.decode(
        request("https://alb.reddit.com/snoo.gif?q=CAAHAAABAAoACQAAAAmui0GsAA==&s=sig&ts=")
    )
    assert (event.event, event.account_id, event.malformed) == ("conversion", None, False)
    assert event.params == {"q": "CAAHAAABAAoACQAAAAmui0GsAA==", "s": "sig"}  # empty ts: not set


def test_snoo_gif_with_an_event_reads_as_the_current_pixel() -> None:
    (event,) = DECODER.decode(request("https://alb.reddit.com/snoo.gif?id=t2_x&event=Lead"))
    assert (event.event, event.account_id) == ("Lead", "t2_x")


def test_snoo_gif_without_token_or_event_is_malformed() -> None:
    (event,) = DECODER.decode(request("https://alb.reddit.com/snoo.gif?s=sig"))
    assert event.malformed


def test_legacy_conversion_pixel_gets_a_gif() -> None:
    reply = DECODER.sinkhole_reply(request("https://alb.reddit.com/snoo.gif?q=CAAH&s=sig"))
    assert (reply.status, reply.body) == (200, PIXEL_GIF)


def test_capi_ip_and_user_agent_are_match_keys_and_other_user_fields_stay_in_params() -> None:
    # user as RudderStack's reddit destination sends it (dataDelivery/business.ts), the IP here unhashed.
    user = {
        "email": "ac144532d9e4efeab19475d9253a879173ea12a3d2238d1cb8a332a7b3a105f2",
        "ip_address": "198.51.100.7",
        "user_agent": "Mozilla/5.0",
        "uuid": "1684189007728.7a5b8c3d",
        "screen_dimensions": {"width": 1920, "height": 1080},
    }
    body = json.dumps({"events": [{"event_type": {"tracking_type": "Lead"}, "user": user}]}).encode()
    url = "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_abc"
    (event,) = DECODER.decode(request(url, "POST", body))
    assert event.user_data == {"em": "sha256", "ip_address": "raw", "user_agent": "raw"}
    assert event.params["user.uuid"] == "1684189007728.7a5b8c3d"
    assert event.params["user.screen_dimensions"] == {"width": 1920, "height": 1080}
    # The plain IP is personal data: reported as a form, never copied into params.
    assert "198.51.100.7" not in json.dumps(event.params)
