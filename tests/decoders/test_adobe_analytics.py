"""Adobe Analytics decoder behaviour beyond the fixtures: claims, events and their values, malformed hits,
the sinkhole's answers."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.adobe_analytics import AdobeAnalyticsDecoder, parse_products
from harness.models import CapturedRequest

DECODER = AdobeAnalyticsDecoder()
# Omnibug's test hit path (AppMeasurement 2.1.0 on omnibug.d1.sc.omtrdc.net).
HIT = "https://omnibug.d1.sc.omtrdc.net/b/ss/omnibug-test/1/JS-2.1.0-D7QN/s78921068678131"


def request(
    url: str, method: str = "GET", body: str = "", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body.encode(), request_headers=headers or [])


def decode(query: str) -> list:
    return DECODER.decode(request(f"{HIT}?AQB=1&ndh=1&{query}&AQE=1"))


@pytest.mark.parametrize(
    ("url", "method", "claimed"),
    [
        (f"{HIT}?AQB=1&AQE=1", "GET", True),
        (HIT, "POST", True),  # XMLHttpRequest and sendBeacon posts
        ("https://metrics.example.com/b/ss/rsid/1/JS-2.27.0/s12345", "GET", True),  # first-party, any host
        (
            "https://example.data.adobedc.net/b/ss/examplersid/1/s234234238479?AQB=1&AQE=1",
            "GET",
            True,
        ),  # docs
        (
            "https://track.example.sc.omtrdc.net/b/ss/rsid/0?pe=tnt&tnta=1",
            "GET",
            True,
        ),  # A4T: no more segments
        ("https://tracking.lg.com/b/ss/lgname/1/0.8392?events=event6", "GET", True),  # Math.random() buster
        ("https://x.sc.omtrdc.net/b/ss/a%2Cb/0/JAVA-4.8.1-AN/s12916002", "POST", True),  # mobile SDK
        ("https://x.sc.omtrdc.net/b/ss/rsid/5.10/JS-2.0.0/s1", "GET", True),  # AppMeasurement mobile build
        ("https://x.sc.omtrdc.net/b/ss/rsid/1/JS-2.0.0/s1", "OPTIONS", False),
        ("https://x.sc.omtrdc.net/b/ss/rsid/1/JS-2.0.0/s1", "PUT", False),
        ("https://x.sc.omtrdc.net/b/ss/", "GET", False),
        ("https://x.sc.omtrdc.net/b/ss/rsid", "GET", False),
        ("https://x.sc.omtrdc.net/b/ss//6", "POST", False),  # Data Insertion API (XML), not decoded
        ("https://x.sc.omtrdc.net/b/ss/rsid/abc/s1", "GET", False),  # the hit source is a number
        ("https://x.sc.omtrdc.net/b/ss/rsid/1/a/b/c", "GET", False),
        ("https://shop.example/api/b/ss/rsid/1/s1", "GET", False),
        ("https://flipkart.d1.sc.omtrdc.net/id?d_visid_ver=1.5.4", "GET", False),
    ],
)
def test_claims_the_hit_path_on_any_host(url: str, method: str, claimed: bool) -> None:
    assert DECODER.claims(request(url, method)) is claimed


def test_the_registry_hands_first_party_hits_to_adobe() -> None:
    hit = request(
        "https://smetrics.example-shop.com/b/ss/shopprod/1/JS-2.27.0/s6254?AQB=1&pageName=home&AQE=1"
    )
    claimant = DecoderRegistry.default().claimant(hit)
    assert claimant is not None and claimant.vendor == "adobe_analytics"


def test_a_page_view_is_followed_by_one_event_per_success_event() -> None:
    events = decode("pageName=thanks&events=purchase%2Cevent1%2CscCheckout")
    assert [e.event for e in events] == ["page_view", "purchase", "event1", "scCheckout"]
    assert {e.params["pageName"] for e in events} == {"thanks"}


def test_a_link_call_is_named_by_its_link_type() -> None:
    (link,) = decode("pe=lnk_e&pev1=https%3A%2F%2Fpartner.example%2F&pev2=partner")
    assert (link.event, link.params["pev1"], link.params["pev2"]) == (
        "lnk_e",
        "https://partner.example/",
        "partner",
    )


def test_purchase_revenue_is_the_sum_of_the_price_fields_not_times_quantity() -> None:
    # Adobe's products examples: the price is already the line's total; products are comma-separated.
    (_, purchase) = decode(
        "events=purchase&cc=EUR&purchaseID=ORD-7&products=Example%20category%3BExample%20product%201%3B9%3B26.91"
        "%2CExample%20category%3BExample%20product%202%3B4%3B9.96"
    )
    assert (purchase.value, purchase.currency, purchase.transaction_id) == (
        pytest.approx(36.87),
        "EUR",
        "ORD-7",
    )
    (_, socks) = decode("events=purchase&products=Womens%3BSocks%3B5%3B4.50")
    assert socks.value == 4.5


def test_prices_count_only_on_a_purchase() -> None:
    (_, add) = decode("events=scAdd&products=%3BSKU1%3B1%3B19.99")
    assert add.value is None


def test_purchase_without_products_or_prices_has_no_value() -> None:
    (_, bare) = decode("events=purchase&purchaseID=o1")
    (_, unpriced) = decode("events=purchase&products=%3BSKU1")
    assert (bare.value, unpriced.value) == (None, None)


def test_an_unreadable_price_is_kept_as_sent() -> None:
    (_, purchase) = decode("events=purchase&products=%3BSKU1%3B1%3B12%2C50")  # "12,50" splits the product
    (_, comma_free) = decode("events=purchase&products=%3BSKU1%3B1%3B12.5O")
    assert comma_free.value is None
    assert comma_free.params["value_raw"] == "12.5O"
    # A comma starts a new product (Adobe: strip commas from the fields), so "12,50" is a price of 12.
    assert (purchase.params["items"][0]["price"], purchase.value) == ("12", 12.0)


def test_an_events_amount_wins_over_the_products_amount() -> None:
    # Adobe: "If you set a currency value in both the events variable and the products variable, the
    # currency value in events is used."
    (_, listed) = decode("events=event1%3D9.99&products=cat%3Bprod%3B1%3B0%3Bevent1%3D1.29")
    (_, from_products) = decode("events=event1&products=cat%3Bprod%3B1%3B0%3Bevent1%3D1.29")
    assert (listed.value, from_products.value) == (9.99, 1.29)


def test_a_counter_events_amount_that_is_no_number_is_kept_as_sent() -> None:
    (_, counter) = decode("events=event1%3Dten")
    assert (counter.value, counter.params["value_raw"]) == (None, "ten")


def test_serialized_events_carry_their_id() -> None:
    # Adobe's event serialization example: s.events = "event1:ABC123,event2:ABC123".
    (_, first, second) = decode("events=event1%3AABC123%2Cevent2%3AABC123")
    assert [(e.event, e.event_id) for e in (first, second)] == [("event1", "ABC123"), ("event2", "ABC123")]


def test_shorthand_names_are_read() -> None:
    # Adobe's query-parameter list: ev for events, pl for products, gn for pageName.
    (view, purchase) = decode("gn=thanks&ev=purchase&pl=%3BSKU1%3B2%3B40.00")
    assert (view.params["gn"], purchase.event, purchase.value) == ("thanks", "purchase", 40.0)


def test_the_page_url_joins_g_and_its_continuation() -> None:
    (view,) = decode("g=https%3A%2F%2Fshop.example%2Fthanks%3Fgclid%3D&-g=abc123&pageName=x")
    assert (view.page_url, view.click_ids) == (
        "https://shop.example/thanks?gclid=abc123",
        {"gclid": "abc123"},
    )


def test_without_g_the_page_is_the_referer() -> None:
    hit = request(f"{HIT}?pageName=x", headers=[("referer", "https://shop.example/?msclkid=m1")])
    (view,) = DECODER.decode(hit)
    assert (view.page_url, view.click_ids) == ("https://shop.example/?msclkid=m1", {"msclkid": "m1"})


def test_context_data_is_unnested_and_the_opt_in_flag_is_consent() -> None:
    # AppMeasurement sets contextData["cm.ssf"]=1 when the opt-in service does not approve Audience Manager.
    (view,) = decode("c.&cm.&ssf=1&.cm&author=jane&a.&activitymap.&link=Buy&.activitymap&.a&.c&pageName=x")
    assert view.params["c.author"] == "jane"
    assert view.params["c.a.activitymap.link"] == "Buy"
    assert view.consent.other == {"cm.ssf": "1"}
    assert "c." not in view.params and ".c" not in view.params


def test_every_event_of_a_hit_has_its_own_params() -> None:
    view, purchase = decode("events=purchase&products=%3BA%3B1%3B5")
    view.params["pageName"] = "changed"
    assert "pageName" not in purchase.params


def test_report_suites_are_the_account_as_sent() -> None:
    hit = request(
        "https://x.sc.omtrdc.net/b/ss/suite1%2Csuite2/0/JAVA-4.8.1-AN/s1", "POST", "pageName=home&ndh=1"
    )
    (view,) = DECODER.decode(hit)
    assert (view.account_id, view.params["hit_source"], view.params["library_version"]) == (
        "suite1,suite2",
        "0",
        "JAVA-4.8.1-AN",
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/b/ss/rsid/1/JS-2.27.0/s6254",
            {"hit_source": "1", "library_version": "JS-2.27.0", "cache_buster": "s6254"},
        ),
        (
            "/b/ss/rsid/1/s234234238479",
            {"hit_source": "1", "cache_buster": "s234234238479"},
        ),  # hardcoded docs
        ("/b/ss/rsid/1/0.8392", {"hit_source": "1", "cache_buster": "0.8392"}),  # Math.random()
        ("/b/ss/rsid/0/MOBILE-1.0", {"hit_source": "0", "library_version": "MOBILE-1.0"}),  # A4T docs
        ("/b/ss/rsid/0", {"hit_source": "0"}),
    ],
)
def test_the_path_segments_after_the_report_suites(path: str, expected: dict[str, str]) -> None:
    (event,) = DECODER.decode(request(f"https://x.sc.omtrdc.net{path}?pageName=home"))
    found = {
        k: event.params[k] for k in ("hit_source", "library_version", "cache_buster") if k in event.params
    }
    assert found == expected


def test_a_send_beacon_post_reads_the_query() -> None:
    # sendBeacon(url) posts the whole hit in the URL with no body (AppMeasurement's exit links).
    (exit_link,) = DECODER.decode(request(f"{HIT}?AQB=1&pe=lnk_e&pev2=out&AQE=1", "POST"))
    assert (exit_link.event, exit_link.malformed) == ("lnk_e", False)


@pytest.mark.parametrize(
    ("hit", "reason"),
    [
        # The Flipkart capture cut before its end, as a 2,047-character cap cuts it.
        (
            request(
                "https://flipkart.d1.sc.omtrdc.net/b/ss/flipkart-prd/1/JS-1.5.1/s06728813578744?AQB=1&ndh=1&pf=1"
                "&pageName=HomePage&g=https%3A%2F%2Fwww.flipkart.com%2F&cc=INR&events=event1%2Cevent199"
            ),
            "truncated: AQB=1 without the closing AQE=1",
        ),
        (request(HIT), "hit without parameters"),
        (
            request(HIT, "POST", '{"pageName": "home"}', [("content-type", "text/plain")]),
            "POST body is not a form-encoded hit",
        ),
    ],
)
def test_unreadable_hits_are_one_malformed_event(hit: CapturedRequest, reason: str) -> None:
    (event,) = DECODER.decode(hit)
    assert (event.vendor, event.malformed, event.malformed_reason) == ("adobe_analytics", True, reason)


def test_parse_products_keeps_fields_as_sent() -> None:
    (item,) = parse_products("cat;prod;3;12.60;event1=1.4|event2=9;eVar1=Merch value|eVar2=Another")
    assert item == {
        "category": "cat",
        "product": "prod",
        "quantity": "3",
        "price": "12.60",
        "events": {"event1": "1.4", "event2": "9"},
        "eVars": {"eVar1": "Merch value", "eVar2": "Another"},
    }


def test_an_image_hit_gets_the_gif_a_postback_hit_a_script_a_post_a_200() -> None:
    image = DECODER.sinkhole_reply(request(f"{HIT}?AQB=1&AQE=1", headers=[("sec-fetch-dest", "image")]))
    script = DECODER.sinkhole_reply(request(f"{HIT}?AQB=1&AQE=1", headers=[("sec-fetch-dest", "script")]))
    callback = DECODER.sinkhole_reply(request(f"{HIT}?AQB=1&callback=s_c_il[1].doPostbacks&AQE=1"))
    posted = DECODER.sinkhole_reply(request(HIT, "POST", "AQB=1&AQE=1"))
    assert (image.content_type, image.body) == ("image/gif", PIXEL_GIF)
    assert script.content_type == callback.content_type == "application/javascript"
    assert (posted.status, posted.content_type) == (200, "text/plain")


def test_profile_counts_purchase_and_keeps_per_run_ids_volatile() -> None:
    assert DECODER.profile.purchase_events == frozenset({"purchase"})
    assert {"t", "mid", "sdid", "cache_buster"} <= DECODER.volatile_params
