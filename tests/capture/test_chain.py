"""Building the redirect chain and the fate of each click ID from captured requests."""

from __future__ import annotations

from harness.chain import build_chain
from harness.models import CapturedRequest

NAV = [("sec-fetch-dest", "document"), ("sec-fetch-mode", "navigate")]


def _doc(seq: int, url: str, status: int = 200, location: str | None = None, body: bytes = b"", headers=None):
    return CapturedRequest(
        id=f"r{seq}", seq=seq, method="GET", url=url, request_headers=headers or NAV, status=status,
        location=location, response_body=body, started_at=float(seq),
    )


START = "https://ads.example/c?gclid=G1&fbclid=F1&utm_source=google&utm_medium=cpc&other=1"


def test_http_meta_and_js_hops_are_told_apart() -> None:
    requests = [
        _doc(1, START, 302, "https://www.shop.example/go?gclid=G1&fbclid=F1&utm_source=google&utm_medium=cpc"),
        _doc(2, "https://www.shop.example/go?gclid=G1&fbclid=F1&utm_source=google&utm_medium=cpc", 200,
             body=b'<html><meta http-equiv="refresh" content="0;url=/lp?gclid=G1&fbclid=F1&utm_source=google&utm_medium=cpc">'),
        _doc(3, "https://www.shop.example/lp?gclid=G1&fbclid=F1&utm_source=google&utm_medium=cpc", 200,
             body=b"<script>location.replace('/')</script>"),
        _doc(4, "https://www.shop.example/?gclid=G1&utm_source=google&utm_medium=email", 200),
    ]
    chain = build_chain(START, requests)
    assert [h.kind for h in chain.hops] == ["start", "http", "meta", "js"]
    assert [h.status for h in chain.hops] == [302, 200, 200, 200]
    fates = {p.param: p for p in chain.params}
    assert set(fates) == {"gclid", "fbclid", "utm_source", "utm_medium"}, "only click IDs and utm_* are tracked"
    assert fates["gclid"].reached_final and fates["gclid"].fate == "kept"
    assert (fates["fbclid"].fate, fates["fbclid"].hop) == ("dropped", 3)
    assert (fates["utm_medium"].fate, fates["utm_medium"].hop, fates["utm_medium"].changed_to) == ("changed", 3, "email")
    assert [p.param for p in chain.dropped] == ["fbclid", "utm_medium"]


def test_requests_that_are_not_top_level_documents_are_not_hops() -> None:
    iframe = _doc(2, "https://www.shop.example/frame?gclid=X", headers=[("sec-fetch-dest", "iframe")])
    xhr = _doc(3, "https://www.shop.example/api", headers=[("sec-fetch-dest", "empty")])
    chain = build_chain(START, [_doc(1, START, 200), iframe, xhr])
    assert len(chain.hops) == 1 and chain.final_url == START


def test_plain_http_navigations_are_recognised_without_sec_fetch_headers() -> None:
    plain = [("upgrade-insecure-requests", "1"), ("accept", "text/html,application/xhtml+xml")]
    url = "http://www.shop.example/?gclid=G1"
    chain = build_chain(url, [_doc(1, url, 301, "/lp", headers=plain), _doc(2, "http://www.shop.example/lp", headers=plain)])
    assert [h.kind for h in chain.hops] == ["start", "http"]
    assert chain.dropped[0].param == "gclid" and chain.dropped[0].hop == 1


def test_documents_after_landing_belong_to_the_journey_not_the_chain() -> None:
    requests = [_doc(1, START, 200), _doc(5, "https://www.shop.example/cart")]
    chain = build_chain(START, requests, landing_ended_at=2.0)
    assert len(chain.hops) == 1


def test_a_loop_is_detected_and_the_chain_is_capped() -> None:
    url = "https://www.shop.example/loop?gclid=G1"
    requests = [_doc(i, url, 302, url) for i in range(1, 40)]
    chain = build_chain(url, requests, max_hops=20)
    assert chain.loop_detected and len(chain.hops) == 21


def test_an_unreached_start_url_still_gives_a_one_hop_chain() -> None:
    chain = build_chain(START, [])
    assert [h.url for h in chain.hops] == [START] and all(p.reached_final for p in chain.params)


def test_a_redirect_to_an_app_or_its_store_is_the_chains_last_hop_and_carries_the_click_ids() -> None:
    """App-install and deep-link campaigns end in an app: the browser cannot follow, but the hand-off is the
    last hop, and the click IDs are judged on it (in a Google Play link, inside its install referrer)."""
    play = "market://details?id=com.shop&referrer=gclid%3DG1%26fbclid%3DF1%26utm_source%3Dgoogle%26utm_medium%3Dcpc"
    chain = build_chain(START, [_doc(1, START, 302, play)])
    assert [(h.kind, h.url, h.status) for h in chain.hops] == [("start", START, 302), ("app", play, None)]
    assert chain.dropped == [], "every click ID and UTM rides in the install referrer"

    deep_link = "shopapp://product/42?gclid=G1"  # an app's own scheme, keeping only gclid
    chain = build_chain(START, [_doc(1, START, 302, deep_link)])
    assert chain.hops[-1].kind == "app"
    assert sorted((p.param, p.hop) for p in chain.dropped) == [("fbclid", 1), ("utm_medium", 1), ("utm_source", 1)]

    store = "itms-apps://apps.apple.com/app/id123456789"  # the App Store takes no click ID
    chain = build_chain(START, [_doc(1, START, 301, "https://www.shop.example/app"), _doc(2, "https://www.shop.example/app", 302, store)])
    assert [h.kind for h in chain.hops] == ["start", "http", "app"]
    assert {p.param: p.hop for p in chain.dropped}["gclid"] == 1, "lost on the shop's own redirect, before the store"


def test_web_redirects_and_answers_are_no_hand_off() -> None:
    for location in ("https://www.shop.example/", "//cdn.shop.example/lp", "/lp"):
        chain = build_chain(START, [_doc(1, START, 302, location)])
        assert [h.kind for h in chain.hops] == ["start"], location
    assert [h.kind for h in build_chain(START, [_doc(1, START, 200)]).hops] == ["start"]


def test_a_refresh_header_is_a_refresh_hop_not_a_script() -> None:
    """Click trackers send 'Refresh: 0; url=...' instead of the meta tag: the same hop, not a script's."""
    headers_refresh = _doc(1, START, 200)
    headers_refresh.response_headers = [("refresh", "0; url=https://www.shop.example/lp")]
    chain = build_chain(START, [headers_refresh, _doc(2, "https://www.shop.example/lp")])
    assert [h.kind for h in chain.hops] == ["start", "meta"]


def test_an_ad_url_is_recognised_however_it_was_written() -> None:
    """The ad URL as typed (an IDN host, unencoded space, '|', braces, umlaut) is the first hop the browser
    sent percent-encoded and in punycode."""
    typed = "https://bücher.example/lp?gclid=G1&utm_campaign=spring sale|{x}&utm_term=straße"
    sent = "https://xn--bcher-kva.example/lp?gclid=G1&utm_campaign=spring%20sale%7C%7Bx%7D&utm_term=stra%C3%9Fe"
    chain = build_chain(typed, [_doc(1, sent, 302, "/end"), _doc(2, "https://xn--bcher-kva.example/end")])
    assert [h.kind for h in chain.hops] == ["start", "http"]
    assert {p.param for p in chain.dropped} == {"gclid", "utm_campaign", "utm_term"}


# --- a click tracker's link, the landing URL inside it ----------------------------------------------

LANDING = "https://www.shop.example/lp?gclid=G1&utm_source=google"
TRACKER = "https://clicks.example/r?id=7&url=https%3A%2F%2Fwww.shop.example%2Flp%3Fgclid%3DG1%26utm_source%3Dgoogle"


def test_click_ids_inside_a_trackers_destination_are_followed_to_the_landing() -> None:
    chain = build_chain(TRACKER, [_doc(1, TRACKER, 302, LANDING), _doc(2, LANDING)])
    assert {(p.param, p.fate) for p in chain.params} == {("gclid", "kept"), ("utm_source", "kept")}


def test_a_tracker_that_hands_on_its_destination_without_the_query_drops_them_at_its_hop() -> None:
    chain = build_chain(TRACKER, [_doc(1, TRACKER, 302, "https://www.shop.example/lp"), _doc(2, "https://www.shop.example/lp")])
    assert {(p.param, p.fate, p.hop) for p in chain.params} == {("gclid", "dropped", 1), ("utm_source", "dropped", 1)}


def test_a_tracker_behind_a_tracker_is_no_drop_the_landing_is_judged_by_its_own_query() -> None:
    inner = "https://t2.example/go?to=https%3A%2F%2Fwww.shop.example%2Flp%3Fgclid%3DG1"
    outer = "https://t1.example/c?u=" + inner.replace("%", "%25").replace(":", "%3A").replace("/", "%2F").replace("?", "%3F").replace("=", "%3D")
    ok = build_chain(outer, [_doc(1, outer, 302, inner), _doc(2, inner, 302, LANDING), _doc(3, LANDING)])
    assert [(p.param, p.fate) for p in ok.params] == [("gclid", "kept")]
    # The last page carries gclid only inside a parameter of its own (a login's ?next=): the tags never see it.
    login = "https://www.shop.example/login?next=https%3A%2F%2Fwww.shop.example%2Flp%3Fgclid%3DG1"
    lost = build_chain(outer, [_doc(1, outer, 302, inner), _doc(2, inner, 302, login), _doc(3, login)])
    assert [(p.param, p.fate, p.hop) for p in lost.params] == [("gclid", "dropped", 2)]


def test_only_absolute_urls_with_a_query_are_read_as_a_destination() -> None:
    for value in ("shop.example%2F%3Fgclid%3DG1", "https%3A%2F%2Fshop.example%2F", "%2Flp%3Fgclid%3DG1"):
        url = f"https://clicks.example/r?url={value}"
        assert build_chain(url, [_doc(1, url)]).params == []
    # Encoded twice (a tracker's template escaping an already escaped URL) is still read.
    twice = "https://clicks.example/r?url=https%253A%252F%252Fshop.example%252F%253Fgclid%253DG1"
    assert [p.param for p in build_chain(twice, [_doc(1, twice)]).params] == ["gclid"]


def test_a_tracker_that_never_redirects_loses_what_it_carried_at_its_own_hop() -> None:
    chain = build_chain(TRACKER, [_doc(1, TRACKER, 200)])
    assert {(p.param, p.fate, p.reached_final) for p in chain.params} == {("gclid", "dropped", False), ("utm_source", "dropped", False)}
