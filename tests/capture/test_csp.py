"""Reading a page's Content-Security-Policy for the end-of-run beacon to its own origin (connect-src)."""

from __future__ import annotations

import pytest

from harness.browser.csp import beacon_allowed

PAGE = "https://www.shop.example/thank-you?order=1#top"


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
    assert beacon_allowed(PAGE, policies)


@pytest.mark.parametrize(
    "policies",
    [
        ["connect-src https://www.google-analytics.com https://api.shop.example"],
        ["default-src 'none'"],
        ["connect-src 'none'"],
        ["default-src https://cdn.shop.example; img-src *"],  # default-src governs beacons too
    ],
)
def test_policies_that_block_it(policies: list[str]) -> None:
    assert not beacon_allowed(PAGE, policies)


def test_every_policy_must_allow_it() -> None:
    assert not beacon_allowed(PAGE, ["connect-src 'self'", "connect-src https://www.google-analytics.com"])
    assert not beacon_allowed(PAGE, ["connect-src 'self', connect-src https://api.shop.example"])


def test_the_first_occurrence_of_a_directive_counts() -> None:
    assert not beacon_allowed(PAGE, ["connect-src https://api.shop.example; connect-src 'self'"])


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
def test_sources_that_do_not_match_the_beacon(source: str) -> None:
    assert not beacon_allowed(PAGE, [f"connect-src {source}"])


def test_an_http_source_also_allows_the_upgraded_https_origin() -> None:
    assert beacon_allowed(PAGE, ["connect-src http:"])
    assert beacon_allowed(PAGE, ["connect-src http://www.shop.example"])


def test_pages_that_cannot_take_the_beacon() -> None:
    assert not beacon_allowed("about:blank", [])
    assert not beacon_allowed("data:text/html,hi", [])
