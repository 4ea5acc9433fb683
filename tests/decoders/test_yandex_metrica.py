"""Yandex Metrica decoder behaviour beyond the fixtures."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry, click_id_params
from harness.decoders.vendors.yandex_metrica import YandexMetricaDecoder, browser_info, identifier_form
from harness.models import CapturedRequest

DECODER = YandexMetricaDecoder()
WATCH = "https://mc.yandex.ru/watch/12345678"
EMAIL = "name@yandex.ru"
# Yandex's own test digest for name@yandex.ru (firstPartyParamsHashed docs).
EMAIL_SHA256_HEX = "41b86f44151924a940be6fa30d93f2471683ca74ac361d3b827a9b72c80a7623"


def request(
    url: str, method: str = "GET", body: str = "", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    return CapturedRequest(id="t", method=method, url=url, body=body.encode(), request_headers=headers or [])


def site_info(value: object) -> str:
    return "site-info=" + quote(json.dumps(value, separators=(",", ":")), safe="")


def params_hit(value: object, flags: str = "pa%3A1%3Aar%3A1") -> CapturedRequest:
    """A parameters hit as tag.js POSTs it: /watch/<id>/1, site-info in an urlencoded body."""
    url = f"{WATCH}/1?page-url=https%3A%2F%2Fshop.example%2Fthanks&charset=utf-8&browser-info={flags}"
    headers = [("content-type", "application/x-www-form-urlencoded")]
    return request(url, "POST", site_info(value), headers)


# --- claims ---


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://mc.yandex.ru/watch/12345678?page-url=https%3A%2F%2Fa.example%2F", True),
        ("https://mc.yandex.ru/watch/12345678/1?page-url=https%3A%2F%2Fa.example%2F", True),
        ("https://mc.yandex.com/watch/12345678", True),
        ("https://mc.yandex.com.tr/watch/12345678", True),
        ("https://mc.yandex.kz/watch/12345678", True),
        ("https://mc.webvisor.org/watch/12345678", True),
        ("https://MC.Yandex.RU/watch/12345678", True),
        ("https://mc.yandex.ru/webvisor/12345678?wv-part=1", True),
        ("https://mc.yandex.ru/clmap/12345678?pointer-click=x", True),
        ("https://mc.yandex.ru/watch/abc", True),  # Metrica's endpoint, malformed
        ("https://mc.yandex.ru/metrika/tag.js", False),
        ("https://mc.yandex.ru/metrika/watch.js", False),
        ("https://mc.webvisor.org/metrika/tag_ww.js?id=1", False),
        ("https://mc.yandex.ru/metrika/metrika_match.html", False),
        ("https://mc.yandex.ru/informer/12345678/3_1_FFFFFFFF_EFEFEFFF_0_pageviews", False),
        ("https://mc.yandex.md/cc?wmode=7", False),
        ("https://mc.yandex.ru/watch", False),
        ("https://shop.example/watch/12345678", False),
        ("https://yandex.ru/watch/12345678", False),
        ("https://mc.yandex.ru.evil.example/watch/12345678", False),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", False),
        # The Measurement Protocol: Metrica's /collect only, never a site's or Google's.
        ("https://mc.yandex.ru/collect?tid=1&cid=2&t=pageview", True),
        ("https://mc.yandex.ru/collect/?tid=1&cid=2&t=pageview", True),
        ("https://mc.yandex.ru/collector", False),
        ("https://shop.example/collect?tid=1&t=pageview", False),
        ("https://metrics.shop.example/collect/?tid=1&cid=2&t=event&ea=lead", False),
    ],
)
def test_claims_metrica_collection_endpoints_only(url: str, claimed: bool) -> None:
    hit = request(url)
    assert DECODER.claims(hit) is claimed
    claimant = DecoderRegistry.default().claimant(hit)
    assert (claimant.vendor if claimant else None) == ("yandex_metrica" if claimed else None)


def test_hints_agree_with_claims() -> None:
    assert not DECODER.claims(request("https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview"))
    assert DECODER.surely_claims("mc.yandex.ru", "POST", "/collect") and DECODER.may_claim_path(
        "GET", "/collect/"
    )
    assert DECODER.may_claim_host("mc.yandex.by") and not DECODER.may_claim_host("yandex.ru")
    assert DECODER.may_claim_path("GET", "/watch/1") and not DECODER.may_claim_path("GET", "/metrika/tag.js")
    assert DECODER.surely_claims("mc.yandex.ru", "POST", "/webvisor/1")
    assert not DECODER.surely_claims("shop.example", "GET", "/watch/1")


# --- kinds of hits ---


def test_deferred_counter_hit_is_init_not_a_page_view() -> None:
    # tag.js marks the first hit of a counter initialised with defer:true nohit=1 (src/api/watch DEFER_KEY).
    url = f"{WATCH}?wmode=7&nohit=1&page-url=https%3A%2F%2Fa.example%2F&browser-info=pv%3A1"
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.page_url, event.params["nohit"]) == ("init", "https://a.example/", "1")


def test_file_method_sets_both_link_flags_and_is_a_file_download() -> None:
    # ym(..., 'file', url) sends dl:1 and ln:1 (src/providers/clicks: counterMethod passes isExternalLink).
    url = (
        f"{WATCH}?page-url=https%3A%2F%2Fcdn.example%2Fprice.pdf&page-ref=https%3A%2F%2Fa.example%2Fprices"
        "&browser-info=dl%3A1%3Aln%3A1%3Aar%3A1"
    )
    (event,) = DECODER.decode(request(url))
    assert (event.event, event.page_url) == ("file", "https://a.example/prices")
    assert event.params["page-url"] == "https://cdn.example/price.pdf"


def test_unflagged_hit_is_a_page_view_and_a_link_without_page_ref_falls_back_to_referer() -> None:
    # A minimal client's hit() carries no pv flag; its file() no page-ref (a public client's jest spec).
    (hit,) = DECODER.decode(
        request(f"{WATCH}?browser-info=rn%3A123%3Ac%3A1&rn=123&page-url=http%3A%2F%2Flocalhost%2F")
    )
    assert (hit.event, hit.page_url) == ("pageview", "http://localhost/")
    referer = [("referer", "https://a.example/")]
    file_url = f"{WATCH}?browser-info=dl%3A1%3Aln%3A1&rn=123&page-url=https%3A%2F%2Fexample.com%2Ffile.zip"
    (download,) = DECODER.decode(request(file_url, headers=referer))
    assert (download.event, download.page_url) == ("file", "https://a.example/")


def test_yclid_rides_on_the_page_url_of_whatever_the_hit_is_about() -> None:
    landing = quote("https://shop.example/?utm_source=yandex&yclid=5706464119106903882", safe="")
    (view,) = DECODER.decode(request(f"{WATCH}?page-url={landing}&browser-info=pv%3A1"))
    assert view.click_ids == {"yclid": "5706464119106903882"}
    goal_url = f"{WATCH}?page-url=goal%3A%2F%2Fshop.example%2Flead&page-ref={landing}&browser-info=ar%3A1"
    (goal,) = DECODER.decode(request(goal_url))
    assert (goal.event, goal.click_ids) == ("lead", {"yclid": "5706464119106903882"})
    # The referrer's yclid is another page's: not this hit's click.
    (later,) = DECODER.decode(
        request(f"{WATCH}?page-url=https%3A%2F%2Fshop.example%2Fcart&page-ref={landing}")
    )
    assert later.click_ids == {}


def test_goal_revenue_that_is_not_a_number_is_kept_as_sent() -> None:
    url = f"{WATCH}/1?page-url=goal%3A%2F%2Fa.example%2Forder&page-ref=https%3A%2F%2Fa.example%2F"
    (event,) = DECODER.decode(
        request(url, "POST", site_info({"order_price": "1 000,35", "currency": "RUB", "x": 1}))
    )
    assert (event.event, event.value, event.currency) == ("order", None, "RUB")
    assert event.params["value_raw"] == "1 000,35" and event.params["site-info"] == {"x": 1}


def test_site_info_that_is_not_json_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(f"{WATCH}?page-url=https%3A%2F%2Fa.example%2F&site-info=%7Bbroken"))
    assert (event.event, event.malformed, event.params["site-info"]) == ("pageview", False, "{broken")


# --- e-commerce ---


def test_each_action_of_an_ecommerce_object_is_an_event_and_only_a_purchase_has_an_order_id() -> None:
    item = {
        "currencyCode": "RUB",
        "add": {"actionField": {"id": "L-1"}, "products": [{"id": "1", "price": 150, "quantity": 1}]},
        "purchase": {"actionField": {"id": "ORDER-7", "revenue": 150}, "products": [{"id": "1"}]},
    }
    add, purchase = DECODER.decode(params_hit({"__ym": {"ecommerce": [item]}}))
    assert (add.event, add.value, add.currency, add.transaction_id) == ("add", None, "RUB", None)
    assert add.params["actionField"] == {"id": "L-1"} and add.params["products"][0]["price"] == 150
    assert (purchase.event, purchase.value, purchase.currency, purchase.transaction_id) == (
        "purchase",
        150.0,
        "RUB",
        "ORDER-7",
    )
    assert "actionField" not in purchase.params  # id and revenue became typed fields


def test_purchase_without_revenue_has_no_value_and_an_unreadable_one_is_kept() -> None:
    no_revenue = {"purchase": {"actionField": {"id": "A1"}, "products": []}}
    (event,) = DECODER.decode(params_hit({"__ym": {"ecommerce": [no_revenue]}}))
    assert (event.value, event.transaction_id) == (None, "A1") and "value_raw" not in event.params
    text_revenue = {"purchase": {"actionField": {"id": "A2", "revenue": "35,43"}}}
    (event,) = DECODER.decode(params_hit({"__ym": {"ecommerce": [text_revenue]}}))
    assert (event.value, event.params["value_raw"]) == (None, "35,43")


def test_unreadable_ecommerce_decodes_to_malformed_events() -> None:
    (event,) = DECODER.decode(params_hit({"__ym": {"ecommerce": {"purchase": {}}}}))
    assert event.malformed and "ecommerce" in (event.malformed_reason or "")
    good = {"detail": {"products": [{"id": "1"}]}}
    bad, detail, nothing = DECODER.decode(
        params_hit({"__ym": {"ecommerce": ["x", good, {"currencyCode": "RUB"}]}})
    )
    assert (bad.malformed, detail.event, detail.malformed, nothing.malformed) == (True, "detail", False, True)


def test_ecommerce_on_a_page_view_adds_events_after_the_page_view() -> None:
    value = {"__ym": {"ecommerce": [{"detail": {"products": [{"id": "9"}]}}]}, "section": "shoes"}
    url = f"{WATCH}?page-url=https%3A%2F%2Fa.example%2Fp%2F9&browser-info=pv%3A1&{site_info(value)}"
    view, detail = DECODER.decode(request(url))
    assert (view.event, detail.event) == ("pageview", "detail")
    assert view.params["site-info"] == {"section": "shoes"} == detail.params["site-info"]


# --- first-party contact data ---


def test_first_party_params_are_user_data_in_their_hashed_forms() -> None:
    digest = hashlib.sha256(EMAIL.encode()).digest()
    fpp = [["email", base64.b64encode(digest).decode()], ["yandex_cid", "1000034426"]]
    (tag_hashed,) = DECODER.decode(params_hit({"__ym": {"fpp": fpp}}))
    assert tag_hashed.user_data == {"email": "sha256"}
    assert tag_hashed.params["yandex_cid"] == "1000034426" and "site-info" not in tag_hashed.params
    fpmh = [["email", EMAIL_SHA256_HEX], ["phone_number", "70123456789"], ["address", [["city", "Moscow"]]]]
    (site_hashed,) = DECODER.decode(params_hit({"__ym": {"fpmh": fpmh, "ite": 1}}))
    assert site_hashed.user_data == {"email": "sha256", "phone_number": "raw", "address.city": "raw"}
    assert site_hashed.params["site-info"] == {"__ym": {"ite": 1}}


def test_first_party_data_that_is_not_a_list_of_pairs_stays_in_params() -> None:
    (event,) = DECODER.decode(params_hit({"__ym": {"fpp": "mail@example.com"}}))
    assert event.user_data == {} and event.params["site-info"] == {"__ym": {"fpp": "mail@example.com"}}


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (EMAIL_SHA256_HEX, "sha256"),
        (base64.b64encode(bytes(32)).decode(), "sha256"),
        (base64.b64encode(bytes(16)).decode(), "raw"),
        (EMAIL, "raw"),
        ("70123456789", "raw"),
        ("Мария", "raw"),
    ],
)
def test_identifier_form(value: str, form: str) -> None:
    assert identifier_form(value) == form


# --- malformed ---


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://mc.yandex.ru/watch/abc?page-url=https%3A%2F%2Fa.example%2F", "counter ID"),
        ("https://mc.yandex.ru/watch/?page-url=https%3A%2F%2Fa.example%2F", "counter ID"),
        ("https://mc.yandex.ru/watch/1/2/3", "counter ID"),
        (f"{WATCH}?page-url=goal%3A%2F%2Fa.example%2F&browser-info=ar%3A1", "goal name"),
    ],
)
def test_unreadable_hits_are_one_malformed_event(url: str, reason: str) -> None:
    (event,) = DECODER.decode(request(url, headers=[("referer", "https://a.example/")]))
    assert event.malformed and reason in (event.malformed_reason or "")
    assert (event.vendor, event.page_url) == ("yandex_metrica", "https://a.example/")


def test_session_replay_and_click_map_decode_to_no_event() -> None:
    assert DECODER.decode(request("https://mc.yandex.ru/webvisor/1?wv-part=1", "POST", "\x00binary")) == []
    assert DECODER.decode(request("https://mc.yandex.ru/clmap/1?pointer-click=rn%3A1")) == []


# --- browser-info ---


def test_browser_info_keeps_colons_in_the_title_and_the_first_of_a_repeated_key() -> None:
    assert browser_info("pv:1:fp:249:fp:300:t:Акции: график (онлайн)") == {
        "pv": "1",
        "fp": "249",
        "t": "Акции: график (онлайн)",
    }
    assert browser_info("we:1:st") == {"we": "1", "st": ""}
    assert browser_info("") == {} and browser_info(None) == {}


# --- sinkhole ---


def test_sinkhole_answers_the_form_each_transport_waits_for() -> None:
    fetch = DECODER.sinkhole_reply(request(f"{WATCH}?wmode=7&page-url=x"))
    assert fetch.content_type == "application/json" and "settings" in json.loads(fetch.body)
    jsonp = DECODER.sinkhole_reply(request(f"{WATCH}?callback=_ymjsp123456&wmode=5"))
    assert jsonp.content_type == "application/javascript" and jsonp.body.startswith(b"_ymjsp123456(")
    hostile = DECODER.sinkhole_reply(request(f"{WATCH}?callback=alert(1)%3B&wmode=5"))
    assert hostile.body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request(WATCH)).body == PIXEL_GIF  # the noscript image
    assert DECODER.sinkhole_reply(request(f"{WATCH}/1?force-urlencoded=1", "POST")).body == PIXEL_GIF
    assert DECODER.sinkhole_reply(request("https://mc.yandex.ru/webvisor/1?wmode=0", "POST")).status == 200


# --- profile ---


def test_profile_declares_yclid_and_an_ad_tag_without_consent_mode() -> None:
    profile = DECODER.profile
    assert (profile.click_ids, profile.consent, profile.purchase_events) == (
        ("yclid",),
        "ad_tag",
        frozenset({"purchase"}),
    )
    assert "yclid" in click_id_params()  # followed through redirects like the well-known click IDs
    assert {"hittoken", "rn", "i", "et", "st"} <= DECODER.volatile_params


# --- the Measurement Protocol (/collect) ---

MP = "https://mc.yandex.ru/collect"


def mp_hit(query: str, method: str = "POST") -> CapturedRequest:
    if method == "GET":
        return request(f"{MP}?{query}")
    return request(MP, "POST", query, [("content-type", "application/x-www-form-urlencoded")])


def test_measurement_protocol_secret_never_reaches_params() -> None:
    events = DECODER.decode(mp_hit("tid=42&cid=7&ms=s3cr3t-token&t=event&ea=lead&pa=purchase&tr=10&ti=A1"))
    assert [e.event for e in events] == ["lead", "purchase"]
    assert all("ms" not in e.params and "s3cr3t-token" not in json.dumps(e.params) for e in events)


def test_measurement_protocol_only_a_purchase_has_revenue_kept_as_sent_when_no_number() -> None:
    (add,) = DECODER.decode(mp_hit("tid=42&cid=7&t=event&pa=add&tr=10&pr1id=SKU"))
    assert (add.event, add.value, add.transaction_id) == ("add", None, None)
    (purchase,) = DECODER.decode(mp_hit("tid=42&cid=7&t=event&pa=purchase&tr=12%2C50&ti=A1", "GET"))
    assert purchase.value is None and purchase.params["value_raw"] == "12,50"
    assert purchase.transaction_id == "A1" and "tr" not in purchase.params and "ti" not in purchase.params


def test_measurement_protocol_page_carries_yclid_and_the_request_source() -> None:
    hit = mp_hit("tid=42&cid=7&t=pageview&dl=https%3A%2F%2Fshop.example%2F%3Fyclid%3D123", "GET")
    hit = hit.model_copy(update={"source": "server"})
    (event,) = DECODER.decode(hit)
    assert (event.event, event.page_url, event.click_ids, event.source) == (
        "pageview",
        "https://shop.example/?yclid=123",
        {"yclid": "123"},
        "server",
    )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("cid=7&t=pageview", "tag ID"),
        ("tid=42&cid=7&t=transaction", "unknown type"),
        ("tid=42&cid=7", "unknown type"),
        ("tid=42&cid=7&t=event&ec=x", "without a goal"),
    ],
)
def test_unreadable_measurement_protocol_hits_are_one_malformed_event(query: str, reason: str) -> None:
    events = DECODER.decode(mp_hit(query))
    assert len(events) == 1 and events[0].malformed and reason in (events[0].malformed_reason or "")
