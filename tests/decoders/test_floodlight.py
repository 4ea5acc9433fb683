"""Floodlight activity tags: matrix parameters, counting methods, redirect hops, what is not a hit."""

from __future__ import annotations

import pytest

from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.floodlight import FloodlightDecoder, matrix_params
from harness.models import CapturedRequest

DECODER = FloodlightDecoder()


def req(url: str, method: str = "GET", headers: tuple[tuple[str, str], ...] = ()) -> CapturedRequest:
    return CapturedRequest(id="r1", method=method, url=url, request_headers=list(headers))


@pytest.mark.parametrize(
    "url",
    [
        "https://ad.doubleclick.net/activity;src=1;type=g;cat=c;ord=1?",
        "https://ad.doubleclick.net/activityi;src=1;type=g;cat=c;ord=1?",
        "https://1234.fls.doubleclick.net/activityi;src=1234;type=g;cat=c;ord=5",
        "https://fls.doubleclick.net/activityj;src=1;type=g;cat=c",
        "https://ad.doubleclick.net/ddm/activity/src=1;cat=c;type=g;ord=1",
        "https://adservice.google.com/ddm/fls/z/dc_pre=CK;src=1;type=g;cat=c;ord=7",
    ],
)
def test_claims_activity_paths(url: str) -> None:
    assert DECODER.claims(req(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://ad.doubleclick.net/ddm/clk/512345678;312345678;k?https://shop.example/",
        "https://ad.doubleclick.net/ddm/trackclk/N1234.1234SITE/B1;dc_trk_aid=1",
        "https://ad.doubleclick.net/ddm/adj/N1.site/B2;sz=1x1",
        "https://securepubads.g.doubleclick.net/activity;src=1",
        "https://www.shop.example/activity;src=1;type=g;cat=c",
        "https://adservice.google.com/adsid/integrator.js",
        "https://www.shop.example/api/checkout",
    ],
)
def test_does_not_claim(url: str) -> None:
    assert not DECODER.claims(req(url))


def test_matrix_params_decode_and_skip_fragments() -> None:
    assert matrix_params("src=1;flag;~oref=https%3A%2F%2Fa.example%2F;u1=a%20b") == [
        ("src", "1"),
        ("~oref", "https://a.example/"),
        ("u1", "a b"),
    ]


def test_sales_tag_reads_cost_qty_and_order() -> None:
    url = "https://ad.doubleclick.net/activity;src=99;type=sales0;cat=purch0;qty=3;cost=149.50;ord=ORDER-77;u2=SKU9;gclid=GC1?"
    [event] = DECODER.decode(req(url))
    assert (event.event, event.account_id) == ("purch0", "99")
    assert (event.value, event.transaction_id) == (149.5, "ORDER-77")
    assert event.params["qty"] == 3.0 and event.params["counting"] == "sales"
    assert event.params["custom_variables"] == {"u2": "SKU9"}
    assert event.click_ids == {"gclid": "GC1"}
    assert "ord" not in event.params  # it is the transaction ID here


@pytest.mark.parametrize(
    ("matrix", "counting"),
    [
        ("ord=1", "unique"),
        ("ord=8123749812", "standard"),
        ("ord=1;num=555", "unique"),
        ("num=555", "per_session"),
    ],
)
def test_counter_tags_keep_ord_out_of_transaction(matrix: str, counting: str) -> None:
    [event] = DECODER.decode(req(f"https://ad.doubleclick.net/activity;src=1;type=g;cat=c;{matrix}?"))
    assert event.transaction_id is None and event.params["counting"] == counting


def test_cost_not_a_number() -> None:
    [event] = DECODER.decode(
        req("https://ad.doubleclick.net/activity;src=1;type=g;cat=c;qty=1;cost=N/A;ord=x?")
    )
    assert event.value is None and event.params["value_raw"] == "N/A"


def test_page_from_oref_else_referer_and_click_ids_from_page() -> None:
    [event] = DECODER.decode(
        req(
            "https://ad.doubleclick.net/activity;src=1;type=g;cat=c;~oref=https%3A%2F%2Fa.example%2F%3Fdclid%3DD9?"
        )
    )
    assert event.page_url == "https://a.example/?dclid=D9" and event.click_ids == {"dclid": "D9"}
    [other] = DECODER.decode(
        req(
            "https://ad.doubleclick.net/activity;src=1;type=g;cat=c?",
            headers=(("referer", "https://b.example/"),),
        )
    )
    assert other.page_url == "https://b.example/"


def test_gclgs_is_a_flag_not_a_click_id() -> None:
    url = "https://ad.doubleclick.net/activity;src=1;type=g;cat=c;gclgs=1;gclst=1425720;gcllp=136;gclaw=CjwK?"
    [event] = DECODER.decode(req(url))
    assert event.click_ids == {"gclaw": "CjwK"}
    assert (event.params["gclgs"], event.params["gclst"]) == ("1", "1425720")


def test_claims_ccm_collect_sent_to_floodlight_configs_only() -> None:
    registry = DecoderRegistry.default()
    for url in (
        "https://pagead2.googlesyndication.com/ccm/collect?tid=DC-11109278&en=page_view",
        "https://www.google.com/ccm/collect?tids=DC-1~DC-2&tid=DC-1&en=page_view",
    ):
        claimant = registry.claimant(req(url))
        assert DECODER.claims(req(url)) and claimant is not None and claimant.vendor == "floodlight", url
    for url in (
        "https://www.google.com/ccm/collect?tid=AW-1&en=page_view",
        "https://www.google.com/ccm/collect?tids=DC-1~AW-2&en=page_view",  # Google Ads' too: its decoder's
        "https://www.google.com/ccm/collect?en=page_view",
        "https://www.shop.example/ccm/collect?tid=DC-1&en=page_view",
    ):
        assert not DECODER.claims(req(url)), url


def test_ccm_collect_decodes_each_dc_destination() -> None:
    url = (
        "https://www.google.com/ccm/collect?tids=DC-1~DC-2&tid=DC-1&en=page_view&gcs=G100&npa=1"
        "&dl=https%3A%2F%2Fshop.example%2F%3Fdclid%3DD1&rnd=7"
    )
    events = DECODER.decode(req(url, "POST"))
    assert [(e.event, e.account_id) for e in events] == [("page_view", "DC-1"), ("page_view", "DC-2")]
    first = events[0]
    assert first.page_url == "https://shop.example/?dclid=D1" and first.click_ids == {"dclid": "D1"}
    assert first.consent.ad_storage == "denied" and first.consent.other["npa"] == "1"
    assert first.params == {"rnd": "7", "tag_format": "ccm"}
    [bad] = DECODER.decode(req("https://www.google.com/ccm/collect?tid=DC-1"))
    assert bad.malformed and bad.account_id == "DC-1"


def test_consent_and_privacy_flags() -> None:
    url = "https://ad.doubleclick.net/activity;src=1;type=g;cat=c;gcs=G100;gcd=13q3q3q3q5l1;npa=1;gdpr=1;gdpr_consent=CPabc;tfua=1?"
    [event] = DECODER.decode(req(url))
    assert event.consent.ad_storage == "denied" and event.consent.ad_personalization == "denied"
    assert event.consent.other["gdpr_consent"] == "CPabc" and event.consent.other["tfua"] == "1"
    assert "gdpr" not in event.params


def test_query_string_params_also_read() -> None:
    [event] = DECODER.decode(
        req("https://ad.doubleclick.net/activity;src=1;type=g;cat=c?u3=fromquery&cat=ignored")
    )
    assert event.event == "c" and event.params["custom_variables"] == {"u3": "fromquery"}


def test_adservice_hop_is_followup() -> None:
    [event] = DECODER.decode(
        req("https://adservice.google.com/ddm/fls/z/dc_pre=CKyx;src=4448269;type=bbycom;cat=BBY-S0;ord=61")
    )
    assert event.params["redirect_followup"] is True and event.params["tag_format"] == "fls"


@pytest.mark.parametrize(
    ("matrix", "reason"),
    [
        ("type=g;cat=c", "missing src"),
        ("src=1;cat=c", "missing type"),
        ("src=1;type=g;cat=", "missing cat"),
        ("", "missing src, type, cat"),
    ],
)
def test_malformed_when_identity_missing(matrix: str, reason: str) -> None:
    [event] = DECODER.decode(req(f"https://ad.doubleclick.net/activity;{matrix}?"))
    assert event.malformed and event.malformed_reason == reason


def test_sinkhole_iframe_gets_html() -> None:
    reply = DECODER.sinkhole_reply(req("https://1.fls.doubleclick.net/activityi;src=1;type=g;cat=c"))
    assert (reply.status, reply.content_type) == (200, "text/html")
    beacon = DECODER.sinkhole_reply(req("https://ad.doubleclick.net/activity;src=1;type=g;cat=c", "POST"))
    assert beacon.status == 204


def test_volatile_params() -> None:
    assert {"num", "dc_random", "ord", "auiddc"} <= DECODER.volatile_params


def test_redirect_hops_on_country_adservice_hosts_and_the_fls_hosts_ddm_path_are_claimed() -> None:
    # adservice.google.co.in (victoriassecret.com recording) and <src>.fls.doubleclick.net/ddm/fls/r/ (myuhc.com).
    for url in ("https://adservice.google.co.in/ddm/fls/i/dc_pre=CL;src=6677913;type=vsint0;cat=vs_ho0;ord=7",
                "https://adservice.google.com.au/ddm/fls/p/dc_pre=CL;src=1;type=g;cat=c;ord=7",
                "https://8584968.fls.doubleclick.net/ddm/fls/r/dc_pre=CJ;src=8584968;type=eiutv0;cat=lpg;ord=9"):  # fmt: skip
        assert DECODER.claims(req(url)) and DECODER.may_claim_host(req(url).host), url
        (event,) = DECODER.decode(req(url))
        assert event.repeats and event.params["redirect_followup"] is True and not event.malformed
    # Not Google's adservice host, nor another adservice path.
    for other in ("https://adservice.google.evil.example/ddm/fls/i/src=1;type=g;cat=c",
                  "https://adservice.google.com/ddm/regclk/x",
                  "https://adservice.google.co.in/pagead/regclk?x=1"):  # fmt: skip
        assert not DECODER.claims(req(other)), other


def test_the_google_tags_em_on_an_activity_is_user_data_not_a_raw_param() -> None:
    digest = "BI-OMq6JiBzU0PMlTnMSc3kiYbq8Gp00VKYUN-xHfqA"  # base64url SHA-256, as the Google tag sends it
    url = f"https://ad.doubleclick.net/activity;src=1;type=g;cat=c;ord=7;user_data_mode=a;em=tv.1~em.{digest}~pn.{digest}"
    (event,) = DECODER.decode(req(url))
    assert event.user_data == {"em": "sha256", "ph": "sha256"}
    assert event.params["em_status"] == "ok" and "em" not in event.params
    (empty,) = DECODER.decode(req("https://ad.doubleclick.net/activity;src=1;type=g;cat=c;ord=7;em=tv.1"))
    assert empty.user_data == {} and empty.params["em_status"] == "empty"
