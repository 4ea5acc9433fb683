"""Google Ads conversion / remarketing / ccm hits and the shared Google wire helpers."""

from __future__ import annotations

import pytest

from harness.decoders.base import PIXEL_GIF
from harness.decoders.vendors.google_ads import (
    GoogleAdsDecoder,
    google_click_ids,
    semicolon_pairs,
    strip_gcl_cookie,
    user_data_from_em,
)
from harness.models import CapturedRequest

DECODER = GoogleAdsDecoder()
HASH = "BI-OMq6JiBzU0PMlTnMSc3kiYbq8Gp00VKYUN-xHfqA"


def req(
    url: str, method: str = "GET", body: str = "", headers: tuple[tuple[str, str], ...] = ()
) -> CapturedRequest:
    return CapturedRequest(id="r1", method=method, url=url, body=body.encode(), request_headers=list(headers))


@pytest.mark.parametrize(
    "url",
    [
        "https://www.googleadservices.com/pagead/conversion/123456789/?label=x",
        "https://googleads.g.doubleclick.net/pagead/conversion/123456789/?label=x",
        "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123456789/?random=1",
        "https://www.google.com/pagead/1p-conversion/123456789/?random=1",
        "https://www.google.co.uk/pagead/1p-user-list/123456789/?random=1",
        "https://www.google.com.au/pagead/1p-user-list/123456789/?random=1",
        "https://www.google.com/rmkt/collect/123456789/?random=1",
        "https://td.doubleclick.net/td/rul/123456789?random=1",
        "https://www.google.com/ccm/collect?en=page_view&tid=AW-1",
        "https://googleads.g.doubleclick.net/pagead/landing?gclid=x",
    ],
)
def test_claims_ads_endpoints(url: str) -> None:
    assert DECODER.claims(req(url))


@pytest.mark.parametrize(
    "url",
    [
        "https://www.googleadservices.com/pagead/conversion_async.js",
        "https://www.googleadservices.com/pagead/conversion.js",
        "https://www.googletagmanager.com/gtag/js?id=AW-123456789",
        "https://www.google.com/search?q=pagead",
        "https://www.google.com/recaptcha/api.js",
        "https://www.shop.example/pagead/conversion/123/",
        "https://www.shop.example/api/checkout",
        "https://securepubads.g.doubleclick.net/pagead/conversion/123/",
        "https://td.doubleclick.net/td/fls/rul/activityi;fledge=1",
        "https://www.google.evil.example/pagead/conversion/123/",
    ],
)
def test_does_not_claim(url: str) -> None:
    assert not DECODER.claims(req(url))


def test_conversion_fields() -> None:
    url = (
        "https://www.googleadservices.com/pagead/conversion/987654321/?random=1&cv=11&fst=2&label=LbL-1"
        "&value=1%2C5&currency_code=EUR&oid=O-1&gclaw=GCL.1700000000.CjGCLAW&gclgb=GCL.1700000001.GB2"
        "&url=https%3A%2F%2Fshop.example%2Fthanks%3Fwbraid%3DWB3&gcs=G111&gcd=13r3r3r3r5l1"
        f"&em=tv.1~em.{HASH}~pn.{HASH}&ec_mode=a"
    )
    [event] = DECODER.decode(req(url))
    assert (event.event, event.account_id) == ("conversion", "AW-987654321")
    assert event.value is None and event.params["value_raw"] == "1,5"
    assert event.currency == "EUR" and event.transaction_id == "O-1"
    assert event.click_ids == {"gclaw": "CjGCLAW", "gclgb": "GB2", "wbraid": "WB3"}
    assert event.page_url == "https://shop.example/thanks?wbraid=WB3"
    assert event.user_data == {"em": "sha256", "ph": "sha256"}
    assert event.consent.ad_user_data == "granted"
    assert event.params["label"] == "LbL-1" and event.params["endpoint"] == "conversion"
    assert {"random", "fst"} <= DECODER.volatile_params & set(event.params)


def test_event_from_en_beats_data() -> None:
    [event] = DECODER.decode(
        req("https://www.google.com/ccm/collect?tid=AW-1&en=purchase&data=event%3Dpage_view")
    )
    assert event.event == "purchase"


def test_data_gtag_config_event() -> None:
    url = "https://td.doubleclick.net/td/rul/10862264272?random=1&data=event%3Dgtag.config"
    [event] = DECODER.decode(req(url))
    assert event.event == "gtag.config" and event.params["endpoint"] == "rul"


def test_conversion_id_with_aw_prefix_in_path() -> None:
    [event] = DECODER.decode(req("https://www.googleadservices.com/pagead/conversion/AW-555/?label=x"))
    assert event.account_id == "AW-555"


def test_redirect_followups_are_flagged() -> None:
    [hop] = DECODER.decode(
        req("https://www.google.com/pagead/1p-user-list/42/?random=1&data=event%3Dpage_view")
    )
    assert hop.params["redirect_followup"] is True and hop.params["endpoint"] == "1p-user-list"
    [first] = DECODER.decode(
        req("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/42/?random=1")
    )
    assert "redirect_followup" not in first.params


def test_landing_ping_default_event() -> None:
    [event] = DECODER.decode(req("https://www.googleadservices.com/pagead/landing/42?gclid=G1"))
    assert event.event == "landing" and event.click_ids == {"gclid": "G1"}


def test_ccm_without_any_account_is_malformed_only_without_an_event() -> None:
    [event] = DECODER.decode(req("https://www.google.com/ccm/collect?rcb=8&frm=0"))
    assert event.malformed and "tid" in (event.malformed_reason or "")
    # GTM's own Google tag names no destination: its events are real, of no one account.
    [container] = DECODER.decode(req("https://www.google.com/ccm/collect?en=page_view&gcs=G101"))
    assert not container.malformed and (container.event, container.account_id) == ("page_view", None)
    assert container.consent.ad_storage == "denied"


def test_ccm_floodlight_destinations_are_not_google_ads() -> None:
    # A Floodlight config's (DC-) ccm hit is floodlight's; a hit to both decodes here for its Ads ones.
    assert not DECODER.claims(req("https://pagead2.googlesyndication.com/ccm/collect?tid=DC-1&en=page_view"))
    assert not DECODER.claims(req("https://www.google.com/ccm/collect?tids=DC-1~DC-2&en=page_view"))
    mixed = req("https://www.google.com/ccm/collect?tids=DC-1~AW-2&tid=DC-1&en=page_view")
    assert DECODER.claims(mixed)
    assert [e.account_id for e in DECODER.decode(mixed)] == ["AW-2"]
    assert not DECODER.surely_claims("www.google.com", "GET", "/ccm/collect")


def test_ccm_value_from_event_param() -> None:
    [numeric] = DECODER.decode(req("https://www.google.com/ccm/collect?tid=AW-1&en=add_to_cart&epn.value=10"))
    assert numeric.value == 10.0 and "epn.value" not in numeric.params
    [text] = DECODER.decode(req("https://www.google.com/ccm/collect?tid=AW-1&en=purchase&ep.value=n%2Fa"))
    assert text.value is None and text.params["value_raw"] == "n/a"


def test_ccm_fans_out_to_each_destination() -> None:
    events = DECODER.decode(req("https://www.google.com/ccm/collect?en=page_view&tids=AW-1~AW-2~"))
    assert [e.account_id for e in events] == ["AW-1", "AW-2"]


def test_ccm_post_text_plain_body_adds_pairs() -> None:
    events = DECODER.decode(
        req(
            "https://www.google.com/ccm/collect?tid=AW-7",
            "POST",
            "en=page_view&dl=https%3A%2F%2Fa.example%2F",
            (("content-type", "text/plain"),),
        )
    )
    assert [(e.event, e.page_url) for e in events] == [("page_view", "https://a.example/")]


def test_json_body_is_ignored_not_misread() -> None:
    [event] = DECODER.decode(req("https://www.google.com/rmkt/collect/9/?random=1", "POST", '{"a": 1}'))
    assert event.event == "page_view" and '{"a": 1}' not in event.params


def test_default_event_without_en_or_data_event() -> None:
    # A remarketing endpoint's hit naming no event is a conversion only with a label; a conversion
    # endpoint's is one, label or not.
    cases = [
        ("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/42/?random=1", "page_view"),
        ("https://www.google.com/rmkt/collect/42/?random=1", "page_view"),
        ("https://www.google.com/pagead/1p-user-list/42/?random=1", "page_view"),
        ("https://td.doubleclick.net/td/rul/42?random=1", "page_view"),
        ("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/42/?label=L", "conversion"),
        ("https://td.doubleclick.net/td/rul/42?random=1&label=L&data=ads_data_redaction%3D0", "conversion"),
        ("https://www.googleadservices.com/pagead/conversion/42/?random=1", "conversion"),
        ("https://www.google.com/pagead/1p-conversion/42/?random=1", "conversion"),
    ]
    assert [(url, DECODER.decode(req(url))[0].event) for url, _ in cases] == cases


def test_sinkhole_by_destination() -> None:
    image = DECODER.sinkhole_reply(
        req("https://www.googleadservices.com/pagead/conversion/1/", headers=(("sec-fetch-dest", "image"),))
    )
    assert (image.status, image.body) == (200, PIXEL_GIF)
    iframe = DECODER.sinkhole_reply(
        req("https://td.doubleclick.net/td/rul/1", headers=(("sec-fetch-dest", "iframe"),))
    )
    assert (iframe.status, iframe.content_type) == (200, "text/html")
    script = DECODER.sinkhole_reply(
        req("https://www.googleadservices.com/pagead/conversion/1/", headers=(("sec-fetch-dest", "script"),))
    )
    assert script.content_type == "application/javascript"
    beacon = DECODER.sinkhole_reply(req("https://www.google.com/ccm/collect?tid=AW-1", "POST"))
    assert beacon.status == 204


# --- shared helpers -----------------------------------------------------------------------------


def test_strip_gcl_cookie() -> None:
    assert strip_gcl_cookie("GCL.1712345678.EAIaIQob") == "EAIaIQob"
    assert strip_gcl_cookie("EAIaIQob") == "EAIaIQob"


def test_gclgs_is_a_flag_not_a_click_id() -> None:
    # gclgs=1 (with gclst/gcllp) rides beside the gclaw click ID it says nothing about.
    assert google_click_ids({"gclgs": "1", "gclst": "1553", "gclaw": "GCL.1.CjGCLAW"}) == {"gclaw": "CjGCLAW"}
    [event] = DECODER.decode(
        req("https://td.doubleclick.net/td/rul/46?random=1&label=L&gclgs=1&gclst=1553&gcllp=17&gclaw=CjG")
    )
    assert event.click_ids == {"gclaw": "CjG"}
    assert (event.params["gclgs"], event.params["gclst"], event.params["gcllp"]) == ("1", "1553", "17")


def test_google_click_ids_param_wins_over_page_url() -> None:
    ids = google_click_ids({"gclid": "P"}, "https://a.example/?gclid=U&gbraid=B&fbclid=F")
    assert ids == {"gclid": "P", "gbraid": "B"}


def test_user_data_from_em_hex_and_unknown_keys() -> None:
    found, status = user_data_from_em("tv.1~em." + "f" * 64 + "~zz9.abc")
    assert found == {"em": "sha256", "zz": "raw"} and status == "ok"
    assert user_data_from_em(None) == ({}, None)


def test_semicolon_pairs() -> None:
    assert semicolon_pairs("event=purchase;value=10;;noeq;=x") == {"event": "purchase", "value": "10"}


def test_the_tag_gateways_ccm_collect_is_claimed_on_a_first_party_host_only_with_an_ads_destination() -> None:
    hit = "https://shop.example/_t/x/gs/ccm/collect?rcb=12&frm=0&tid=AW-862529334&en=page_view&dl=https%3A%2F%2Fshop.example%2F"
    assert DECODER.claims(req(hit))
    (event,) = DECODER.decode(req(hit))
    assert (event.event, event.account_id, event.params["first_party"]) == ("page_view", "AW-862529334", True)
    # A site's own path of that name, or a GA4-only or Floodlight destination: not Google Ads'.
    for other in ("https://shop.example/api/gs/ccm/collect?foo=1",
                  "https://shop.example/_t/x/gs/ccm/collect?tid=G-ABC123&en=page_view",
                  "https://shop.example/_t/x/gs/ccm/collect?tid=AW-862529334",
                  "https://shop.example/_t/x/gs/ccm/collect?tid=DC-11109278&en=page_view"):  # fmt: skip
        assert not DECODER.claims(req(other)), other


def test_enhanced_conversions_form_data_hits_are_the_conversions_user_data_not_a_conversion() -> None:
    # www.google.com / google.com /pagead/form-data/<ID> and /ccm/form-data/<ID> (dealls.com, 2026 capture).
    for url, endpoint in (
        (
            f"https://www.google.com/ccm/form-data/11398465741?gtm=45be6231&ec_mode=a&em=tv.1~em.{HASH}",
            "ccm-form-data",
        ),
        (
            f"https://google.com/pagead/form-data/954385190?gtm=45be6231&em=tv.1~em.{HASH}~pn.{HASH}",
            "form-data",
        ),
    ):
        assert DECODER.claims(req(url, "POST")), url
        (event,) = DECODER.decode(req(url, "POST"))
        assert (event.event, event.params["endpoint"], event.repeats) == (
            "user_provided_data",
            endpoint,
            True,
        )
        assert event.account_id.startswith("AW-") and event.user_data["em"] == "sha256"
    # Only Google's own domains, only a numeric conversion ID.
    for other in ("https://www.shop.example/pagead/form-data/123?em=tv.1",
                  "https://www.google.com/pagead/form-data/",
                  "https://www.google.com/ccm/form-data/abc"):  # fmt: skip
        assert not DECODER.claims(req(other, "POST")), other


def test_measurement_conversion_is_a_ga4_event_forwarded_to_ads_on_googles_hosts_only() -> None:
    query = "?random=1&tid=G-YX57SVDKYQ&en=form_submit&gacid=9.1&url=https%3A%2F%2Fshop.example%2F"
    for host in ("www.google.com", "pagead2.googlesyndication.com", "region1.analytics.google.com"):
        hit = req(f"https://{host}/measurement/conversion{query}", "POST")
        assert DECODER.claims(hit), host
        (event,) = DECODER.decode(hit)
        assert (event.event, event.account_id, event.repeats) == ("form_submit", "G-YX57SVDKYQ", True)
        assert (
            event.params["endpoint"] == "measurement-conversion" and event.page_url == "https://shop.example/"
        )
    for other in ("https://yuyu-tei.jp/measurement/conversion" + query,
                  "https://www.google.com/measurement/conversions" + query):  # fmt: skip
        assert not DECODER.claims(req(other, "POST")), other
