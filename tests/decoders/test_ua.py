"""Universal Analytics Measurement Protocol v1: GET pixels, POST beacons and /batch."""

from __future__ import annotations

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.ua import UniversalAnalyticsDecoder
from harness.models import CapturedRequest

DECODER = UniversalAnalyticsDecoder()


def req(
    url: str, method: str = "GET", body: str = "", headers: tuple[tuple[str, str], ...] = ()
) -> CapturedRequest:
    return CapturedRequest(id="r1", method=method, url=url, body=body.encode(), request_headers=list(headers))


def test_claims_collect_paths_on_ga_hosts() -> None:
    for url in (
        "https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview",
        "https://www.google-analytics.com/r/collect?v=1&tid=UA-1-1&t=pageview",
        "https://www.google-analytics.com/j/collect?v=1&tid=UA-1-1&t=pageview",
        "https://ssl.google-analytics.com/batch",
        "https://stats.g.doubleclick.net/r/collect?v=1&tid=UA-1-1&t=dc",
    ):
        assert DECODER.claims(req(url)), url


def test_does_not_claim_scripts_ga4_or_site_paths() -> None:
    for url in (
        "https://www.google-analytics.com/analytics.js",
        "https://www.google-analytics.com/g/collect?v=2&tid=G-1",
        "https://www.google-analytics.com/mp/collect?measurement_id=G-1",
        "https://shop.example/collect?v=1&tid=UA-1-1",
        "https://www.shop.example/api/checkout",
    ):
        assert not DECODER.claims(req(url)), url


def test_pageview_fields() -> None:
    url = (
        "https://www.google-analytics.com/collect?v=1&_v=j101&a=1&t=pageview&dl=https%3A%2F%2Fshop.example%2F"
        "%3Fdclid%3DDC1&tid=UA-77-2&cid=1.2&gcs=G101&z=123"
    )
    [event] = DECODER.decode(req(url))
    assert (event.vendor, event.event, event.account_id) == ("ua", "pageview", "UA-77-2")
    assert event.page_url == "https://shop.example/?dclid=DC1"
    assert event.click_ids == {"dclid": "DC1"}
    assert event.consent.ad_storage == "denied" and event.consent.analytics_storage == "granted"
    assert event.params["z"] == "123" and "t" not in event.params


def test_event_value_numeric_string() -> None:
    [event] = DECODER.decode(
        req("https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=event&ec=a&ea=b&ev=42")
    )
    assert event.value == 42.0


def test_event_value_not_a_number() -> None:
    [event] = DECODER.decode(req("https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=event&ev=lots"))
    assert event.value is None and event.params["value_raw"] == "lots"


def test_enhanced_ecommerce_purchase_on_pageview() -> None:
    url = "https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview&pa=purchase&ti=T7&tr=99.95&cu=CHF&pr1id=P1"
    [event] = DECODER.decode(req(url))
    assert (event.value, event.currency, event.transaction_id) == (99.95, "CHF", "T7")
    assert event.params["pa"] == "purchase" and event.params["pr1id"] == "P1"


def test_post_beacon_hit_in_body() -> None:
    body = "v=1&_v=j101&t=event&tid=UA-9-1&cid=1.2&ec=Form&ea=submit&dh=shop.example&dp=%2Fcontact"
    [event] = DECODER.decode(
        req("https://www.google-analytics.com/collect", "POST", body, (("content-type", "text/plain"),))
    )
    assert event.event == "event" and event.account_id == "UA-9-1"
    assert event.page_url == "https://shop.example/contact"


def test_batch_splits_lines_and_flags_bad_line() -> None:
    body = "v=1&tid=UA-1-1&cid=1&t=pageview\r\nv=1&tid=UA-1-1&cid=1\r\nv=1&tid=UA-1-1&cid=1&t=item&ti=T1&in=Tee&ip=10&iq=2\r\n"
    events = DECODER.decode(req("https://www.google-analytics.com/batch", "POST", body))
    assert [e.event for e in events] == ["pageview", "(malformed)", "item"]
    assert events[1].malformed and events[1].malformed_reason == "missing t (hit type)"
    assert events[1].account_id == "UA-1-1"
    assert events[2].transaction_id == "T1" and events[2].value is None


def test_malformed_version_and_missing_tid() -> None:
    [ga4_like] = DECODER.decode(req("https://www.google-analytics.com/collect?v=2&tid=G-1&t=pageview"))
    assert ga4_like.malformed and "v='2'" in (ga4_like.malformed_reason or "")
    [no_tid] = DECODER.decode(req("https://www.google-analytics.com/collect?v=1&t=pageview"))
    assert no_tid.malformed_reason == "missing tid"
    [json_body] = DECODER.decode(req("https://www.google-analytics.com/collect", "POST", '{"v": 1}'))
    assert json_body.malformed


def test_sinkhole_gif_for_get_and_200_for_post() -> None:
    get = DECODER.sinkhole_reply(req("https://www.google-analytics.com/collect?v=1"))
    assert (get.status, get.content_type, get.body) == (200, "image/gif", PIXEL_GIF)
    post = DECODER.sinkhole_reply(req("https://www.google-analytics.com/collect", "POST", "v=1"))
    assert post.status == 200 and post.body == b""


def test_volatile_params() -> None:
    assert {"z", "cid", "_s", "a"} <= DECODER.volatile_params


def test_an_enhanced_ecommerce_purchase_counts_as_a_purchase_whatever_its_hit_type() -> None:
    for hit_type in ("pageview", "event"):
        url = f"https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t={hit_type}&pa=purchase&ti=T7&tr=10"
        [event] = DECODER.decode(req(url))
        assert event.event.lower() in DECODER.profile.purchase_events
        assert (event.event, event.params["t"], event.value) == ("purchase", hit_type, 10.0)
    # Other product actions keep their hit type as the event: only the purchase is a sale.
    [detail] = DECODER.decode(
        req("https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview&pa=detail")
    )
    assert detail.event == "pageview" and detail.event.lower() not in DECODER.profile.purchase_events


def test_collect_with_a_slash_before_the_query_is_a_hit() -> None:
    assert DECODER.claims(req("https://www.google-analytics.com/collect/?v=1&tid=UA-1-1&t=pageview"))
    assert not DECODER.claims(req("https://www.google-analytics.com/collect/extra?v=1"))


def test_a_path_only_location_is_joined_to_the_host_name() -> None:
    url = "https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview&dl=%2Fthanks%3Fgclid%3Dg1&dh=shop.example"
    [event] = DECODER.decode(req(url))
    assert event.page_url == "https://shop.example/thanks?gclid=g1"
