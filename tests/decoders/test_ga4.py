"""GA4 /g/collect: what is claimed, how batches split, and how odd hits decode."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.vendors.ga4 import GA4Decoder, body_lines, parse_item
from harness.models import CapturedRequest

DECODER = GA4Decoder()
BASE = "https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2"


def req(
    url: str, method: str = "GET", body: str = "", headers: tuple[tuple[str, str], ...] = ()
) -> CapturedRequest:
    return CapturedRequest(id="r1", method=method, url=url, body=body.encode(), request_headers=list(headers))


# --- claims -------------------------------------------------------------------------------------


def test_claims_google_hosts() -> None:
    for host in (
        "www.google-analytics.com",
        "region1.google-analytics.com",
        "analytics.google.com",
        "region1.analytics.google.com",
    ):
        assert DECODER.claims(req(f"https://{host}/g/collect?v=2&tid=G-X&en=page_view")), host


def test_claims_google_host_even_without_signature() -> None:
    # Google's own endpoint: a broken hit there is GA4's and must surface as malformed, not vanish.
    assert DECODER.claims(req("https://www.google-analytics.com/g/collect"))


def test_claims_first_party_only_with_signature() -> None:
    assert DECODER.claims(req("https://metrics.shop.example/g/collect?v=2&tid=G-ABC123&en=page_view"))
    assert DECODER.claims(req("https://shop.example/x9z/g/collect?v=2&tid=G-ABC123"))
    assert not DECODER.claims(req("https://shop.example/g/collect?v=2&tid=UA-1-1"))
    assert not DECODER.claims(req("https://shop.example/g/collect?v=1&tid=G-ABC123"))
    assert not DECODER.claims(req("https://shop.example/g/collect?foo=1"))


def test_claims_both_tag_gateway_short_paths_only_with_signature() -> None:
    for short in ("ag", "ga"):
        assert DECODER.claims(req(f"https://shop.example/0fb1/{short}/g/c?v=2&tid=G-ABC123&en=page_view"))
        assert not DECODER.claims(req(f"https://shop.example/0fb1/{short}/g/c?v=1&tid=G-ABC123"))
        assert not DECODER.claims(req(f"https://www.google-analytics.com/{short}/g/c?v=2&tid=G-ABC123"))
    [event] = DECODER.decode(req("https://shop.example/0fb1/ga/g/c?v=2&tid=G-ABC123&en=view_cart&cu=BRL"))
    assert (event.event, event.currency) == ("view_cart", "BRL")


def test_does_not_claim_scripts_lookalikes_or_signals() -> None:
    for url in (
        "https://www.googletagmanager.com/gtag/js?id=G-TEST123",
        "https://www.google-analytics.com/analytics.js",
        "https://www.google-analytics.com/g/collect/extra?v=2&tid=G-X",
        "https://www.shop.example/api/checkout",
        "https://stats.g.doubleclick.net/g/collect?v=2&tid=G-TEST123&cid=1",
        "https://www.google-analytics.com/mp/collect?measurement_id=G-X",
    ):
        assert not DECODER.claims(req(url)), url


# --- decoding -----------------------------------------------------------------------------------


def test_get_hit_fields() -> None:
    url = (
        BASE + "&en=purchase&epn.value=12.50&cu=USD&ep.transaction_id=T-9&ep.event_id=evt-1"
        "&dl=https%3A%2F%2Fshop.example%2Fok%3Fgbraid%3DGB1&up.plan=pro&upn.age=41&gtm=45je5150"
    )
    [event] = DECODER.decode(req(url))
    assert (event.vendor, event.event, event.account_id) == ("ga4", "purchase", "G-TEST123")
    assert event.value == 12.5 and event.currency == "USD"
    assert event.transaction_id == "T-9" and event.event_id == "evt-1"
    assert event.page_url == "https://shop.example/ok?gbraid=GB1"
    assert event.click_ids == {"gbraid": "GB1"}
    assert event.params["user_properties"] == {"plan": "pro", "age": 41.0}
    assert event.params["gtm"] == "45je5150"
    # consumed fields do not repeat in params
    assert "en" not in event.params and "epn.value" not in event.params and "event_params" not in event.params


def test_currency_falls_back_to_event_param() -> None:
    [event] = DECODER.decode(req(BASE + "&en=purchase&epn.value=5&ep.currency=GBP"))
    assert event.currency == "GBP"


def test_numeric_value_sent_as_ep_text() -> None:
    [event] = DECODER.decode(req(BASE + "&en=purchase&ep.value=19.99"))
    assert event.value == 19.99


def test_non_numeric_value_is_kept_raw() -> None:
    [event] = DECODER.decode(req(BASE + "&en=purchase&epn.value=12%2C50"))
    assert event.value is None
    assert event.params["value_raw"] == "12,50"


def test_numeric_transaction_id_reads_as_text() -> None:
    [event] = DECODER.decode(req(BASE + "&en=purchase&epn.transaction_id=1001"))
    assert event.transaction_id == "1001"


def test_url_encoded_keys_and_values() -> None:
    [event] = DECODER.decode(req(BASE + "&en=view%20item&ep.search%5Fterm=caf%C3%A9%20%26%20bar"))
    assert event.event == "view item"
    assert event.params["event_params"] == {"search_term": "café & bar"}


def test_batched_beacon_lines_override_and_extend_query() -> None:
    body = "en=page_view&_ss=1&dl=https%3A%2F%2Fa.example%2F\nen=scroll&epn.percent_scrolled=90\n\nen=click&cid=override\n"
    events = DECODER.decode(
        req(BASE + "&dl=https%3A%2F%2Fq.example%2F", "POST", body, (("content-type", "text/plain"),))
    )
    assert [e.event for e in events] == ["page_view", "scroll", "click"]
    assert events[0].page_url == "https://a.example/" and events[1].page_url == "https://q.example/"
    assert events[0].params["_ss"] is True
    assert events[1].params["cid"] == "1.2" and events[2].params["cid"] == "override"


def test_post_with_empty_body_uses_query() -> None:
    [event] = DECODER.decode(req(BASE + "&en=page_view", "POST", ""))
    assert event.event == "page_view"


def test_missing_en_in_one_line_is_malformed_alone() -> None:
    events = DECODER.decode(req(BASE, "POST", "en=scroll\n_et=5\n"))
    assert [e.malformed for e in events] == [False, True]
    assert events[1].malformed_reason == "missing en (event name)"
    assert events[1].account_id == "G-TEST123"


def test_missing_tid_is_malformed() -> None:
    [event] = DECODER.decode(req("https://www.google-analytics.com/g/collect?v=2&en=page_view"))
    assert event.malformed and event.malformed_reason == "missing tid"


def test_json_body_is_malformed() -> None:
    [event] = DECODER.decode(req(BASE, "POST", '{"en": "page_view"}'))
    assert event.malformed and "body" in (event.malformed_reason or "")


def test_page_url_falls_back_to_referer() -> None:
    [event] = DECODER.decode(req(BASE + "&en=page_view", headers=(("referer", "https://shop.example/p"),)))
    assert event.page_url == "https://shop.example/p"


def test_user_data_em_states() -> None:
    hashed = "BI-OMq6JiBzU0PMlTnMSc3kiYbq8Gp00VKYUN-xHfqA"
    [ok] = DECODER.decode(req(BASE + f"&en=x&em=tv.1~em.{hashed}~fn0.{hashed}~co0.{hashed}"))
    assert ok.user_data == {"em": "sha256", "fn": "sha256", "country": "sha256"}
    [raw] = DECODER.decode(req(BASE + "&en=x&em=tv.1~em.jane%40example.com"))
    assert raw.user_data == {"em": "raw"}
    [empty] = DECODER.decode(req(BASE + "&en=x&em=tv.1~em."))
    assert empty.user_data == {} and empty.params["em_status"] == "empty"
    [error] = DECODER.decode(req(BASE + "&en=x&em=tv.1~em.e1"))
    assert error.user_data == {} and error.params["em_status"] == "error"


def test_flags_and_counters_are_typed() -> None:
    [event] = DECODER.decode(req(BASE + "&en=x&_c=1&_fv=1&_ss=0&_dbg=1&_et=250&_s=3&tfd=abc"))
    assert event.params["_c"] is True and event.params["_fv"] is True and event.params["_ss"] is False
    assert event.params["_dbg"] is True
    assert event.params["_et"] == 250 and event.params["_s"] == 3
    assert event.params["tfd"] == "abc"  # not a number: kept as sent


def test_consent_decoded() -> None:
    [event] = DECODER.decode(req(BASE + "&en=x&gcs=G100&gcd=13p3p3p3p5l1&npa=1"))
    assert event.consent.ad_storage == "denied" and event.consent.ad_user_data == "denied"
    assert event.consent.other["npa"] == "1"
    assert "gcs" not in event.params and "npa" not in event.params


# --- items --------------------------------------------------------------------------------------


def test_items_in_order_with_numbers_and_custom_params() -> None:
    url = (
        BASE
        + "&en=add_to_cart&pr2=idB~nmSecond~pr2~qt1&pr1=idA~nmFirst~c2Adult~lp1~ds0.5~k0size~v0XL&pr10=idJ"
    )
    [event] = DECODER.decode(req(url))
    items = event.params["items"]
    assert [i["item_id"] for i in items] == ["A", "B", "J"]
    assert items[0] == {
        "item_id": "A",
        "item_name": "First",
        "item_category2": "Adult",
        "index": 1.0,
        "discount": 0.5,
        "size": "XL",
    }
    assert items[1]["price"] == 2.0 and items[1]["quantity"] == 1.0


def test_item_non_numeric_price_kept_as_text() -> None:
    assert parse_item("idA~prfree~qt")["price"] == "free"


def test_body_lines_rejects_non_pair_bodies() -> None:
    assert body_lines("just text") is None
    assert body_lines("[1,2]") is None
    assert body_lines("\r\n\n") == []


# --- reply and volatility -----------------------------------------------------------------------


def test_sinkhole_answers_204() -> None:
    reply = DECODER.sinkhole_reply(req(BASE + "&en=x", headers=(("sec-fetch-dest", "image"),)))
    assert reply.status == 204 and reply.body == b""


def test_volatile_params_cover_run_specific_values() -> None:
    assert {"_p", "_s", "_et", "sid", "cid", "_z", "tfd"} <= DECODER.volatile_params
    assert "gtm" not in DECODER.volatile_params  # baselines read the build string


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=120), body=st.binary(max_size=200))
def test_never_raises(query: str, body: bytes) -> None:
    request = CapturedRequest(id="f", method="POST", url=BASE + "&" + query, body=body)
    events = DECODER.decode(request)
    assert events and all(e.vendor == "ga4" for e in events)
