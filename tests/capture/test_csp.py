"""Reading a page's Content-Security-Policy for where the end-of-run beacon may go (connect-src)."""

from __future__ import annotations

import pytest

from harness.browser.csp import end_beacon_url

PAGE = "https://www.shop.example/thank-you?order=1#top"
OWN = "https://www.shop.example/__eventpath__/end-of-run"


@pytest.mark.parametrize(
    "policies",
    [
        [],
        ["script-src 'self' https://www.googletagmanager.com"],  # neither connect-src nor default-src
        ["connect-src 'self' https://www.google-analytics.com"],
        ["default-src 'self'; img-src *"],
        ["connect-src *"],
        ["connect-src https:"],
        ["connect-src https://www.shop.example"],
        ["connect-src www.shop.example:443"],
        ["connect-src *.shop.example"],
        ["connect-src https://www.shop.example/__eventpath__/"],
        ["connect-src https://www.shop.example/"],
        ["default-src 'none'; connect-src 'self'"],  # connect-src wins over default-src
        ["connect-src 'self', img-src *"],  # two policies in one header: both allow
        ["CONNECT-SRC 'SELF'"],
    ],
)
def test_policies_that_let_the_page_beacon_its_own_origin(policies: list[str]) -> None:
    assert end_beacon_url(PAGE, policies) == OWN


@pytest.mark.parametrize(
    ("policies", "beacon"),
    [
        (
            ["connect-src https://www.google-analytics.com https://api.shop.example"],
            "https://www.google-analytics.com",
        ),
        (
            ["default-src https://cdn.shop.example; img-src *"],
            "https://cdn.shop.example",
        ),  # default-src governs too
        (
            ["connect-src api.shop.example:8443"],
            "https://api.shop.example:8443",
        ),  # the page's scheme, the port kept
        (["connect-src https://api.shop.example:*"], "https://api.shop.example"),
        # A path and another scheme name no origin a beacon can go to; the next source does.
        (
            ["connect-src https://api.shop.example/v1/ wss://ws.shop.example https://ok.example"],
            "https://ok.example",
        ),
        # A wildcard source: a subdomain the proxy answers for without a lookup.
        (["connect-src https://*.cdn.example"], "https://eventpath-end-of-run.cdn.example"),
        # Two policies: the first origin both allow.
        (
            ["connect-src https://a.example https://b.example", "connect-src https://b.example"],
            "https://b.example",
        ),
    ],
)
def test_a_policy_that_leaves_the_own_origin_out_gets_the_beacon_on_an_origin_it_names(
    policies: list[str], beacon: str
) -> None:
    """The proxy answers the end-of-run beacon itself whatever its host, so any allowed origin will do."""
    assert end_beacon_url(PAGE, policies) == beacon + "/__eventpath__/end-of-run"


@pytest.mark.parametrize(
    "policies",
    [
        ["default-src 'none'"],
        ["connect-src 'none'"],
        ["connect-src 'self'", "connect-src https://www.google-analytics.com"],  # every policy must allow it
        ["connect-src 'self', connect-src https://api.shop.example"],
        [
            "connect-src https://api.shop.example; connect-src 'self'",
            "connect-src 'self'",
        ],  # the first occurrence counts
        ["connect-src 'nonce-abc' 'unsafe-inline' 'strict-dynamic'"],  # no URL at all
    ],
)
def test_policies_that_allow_no_beacon_at_all(policies: list[str]) -> None:
    assert end_beacon_url(PAGE, policies) is None


@pytest.mark.parametrize(
    "source",
    [
        "*.www.shop.example",  # a wildcard matches subdomains only
        "https://www.shop.example:8443",
        "https://www.shop.example/api/",  # another path
        "https://www.shop.example/__eventpath__",  # an exact path, not the beacon's
        "'nonce-abc'",
        "'unsafe-inline'",
        "wss://www.shop.example",
    ],
)
def test_sources_that_do_not_match_the_own_origin(source: str) -> None:
    assert end_beacon_url(PAGE, [f"connect-src {source}"]) != OWN


def test_an_http_source_also_allows_the_upgraded_https_origin() -> None:
    assert end_beacon_url(PAGE, ["connect-src http:"]) == OWN
    assert end_beacon_url(PAGE, ["connect-src http://www.shop.example"]) == OWN


def test_an_http_page_under_an_https_only_policy_beacons_its_own_host_upgraded() -> None:
    assert end_beacon_url("http://www.shop.example/", ["connect-src https:"]) == OWN
    assert end_beacon_url("http://www.shop.example:8080/", ["connect-src 'self'"]) == (
        "http://www.shop.example:8080/__eventpath__/end-of-run"
    )


def test_pages_that_cannot_take_the_beacon() -> None:
    assert end_beacon_url("about:blank", []) is None
    assert end_beacon_url("data:text/html,hi", []) is None
    assert end_beacon_url("https://www.shop.example:99999/", []) is None


def test_an_ipv6_literal_page_gets_a_beacon_url_the_browser_accepts() -> None:
    """A dev server on [::1]: without its brackets the URL is invalid, sendBeacon throws, and the run would
    wait for its beacon until the capture cap."""
    assert end_beacon_url("http://[::1]:8000/lp", []) == "http://[::1]:8000/__eventpath__/end-of-run"
    assert end_beacon_url("https://[2001:db8::1]/lp", ["connect-src 'self'"]) == "https://[2001:db8::1]/__eventpath__/end-of-run"

