"""Block lists: the adblock-style host rules a content blocker applies, and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.blocklists import load_blocklist, parse_blocklist
from harness.errors import BadInput

LIST = """[Adblock Plus 2.0]
! a comment
# another comment
||google-analytics.com^
||facebook.com/tr^
||s.pinimg.com/ct/
tracker.example
0.0.0.0 hostsfile.example
example.com##.cookie-banner
"""


def test_rules_of_each_kind_match_what_a_blocker_blocks() -> None:
    blocklist = parse_blocklist(LIST, "mine.txt")
    assert blocklist.matches("https://region1.google-analytics.com/g/collect?v=2&en=page_view")
    assert blocklist.matches("https://google-analytics.com/analytics.js")
    assert not blocklist.matches("https://notgoogle-analytics.com/x"), "a suffix matches at a dot only"
    assert blocklist.matches("https://www.facebook.com/tr/?id=1&ev=PageView")
    assert blocklist.matches("https://www.facebook.com/tr?id=1")
    assert not blocklist.matches("https://www.facebook.com/trending"), "^ needs a separator after /tr"
    assert not blocklist.matches("https://www.facebook.com/shop"), "facebook.com itself stays reachable"
    assert blocklist.matches("https://s.pinimg.com/ct/core.js")
    assert blocklist.matches("http://tracker.example/p.gif")
    assert not blocklist.matches("https://sub.tracker.example/p.gif"), "a plain host is that host only"
    assert blocklist.matches("https://hostsfile.example/")
    assert not blocklist.matches("data:image/gif;base64,R0lGOD")
    assert len(blocklist) == 5


def test_the_common_list_blocks_every_decoded_tag_host_but_not_the_shop() -> None:
    common = load_blocklist("common")
    for url in (
        "https://www.googletagmanager.com/gtag/js?id=G-1",
        "https://www.google-analytics.com/g/collect?v=2",
        "https://www.googleadservices.com/pagead/conversion/123/",
        "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/",
        "https://www.google.com/pagead/1p-conversion/123/",
        "https://connect.facebook.net/en_US/fbevents.js",
        "https://www.facebook.com/tr/?id=1",
        "https://analytics.tiktok.com/api/v2/pixel",
        "https://bat.bing.com/action/0?ti=1",
        "https://px.ads.linkedin.com/collect/?pid=1",
        "https://tr.snapchat.com/p",
        "https://ct.pinterest.com/v3/?tid=1",
        "https://alb.reddit.com/rp.gif?id=1",
        "https://analytics.twitter.com/1/i/adsct?txn_id=1",
        "https://t.co/1/i/adsct?txn_id=1",
        "https://api.segment.io/v1/t",
    ):
        assert common.matches(url), url
    for url in ("https://shop.example/", "https://www.facebook.com/somepage", "https://t.co/abc", "https://www.google.com/"):
        assert not common.matches(url), url


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("@@||shop.example^", "exception rules"),
        ("||ads.example^$third-party", "rule options"),
        ("||ads.*.example^", "wildcards"),
        ("not a host name", "expected a host"),
        ("||bad_host!^", "is not a host name"),
    ],
)
def test_a_line_it_cannot_read_is_a_one_line_error_naming_file_and_line(line: str, problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_blocklist(f"||ok.example^\n! fine\n{line}\n", "lists/mine.txt")
    message = str(caught.value)
    assert message.startswith("block list lists/mine.txt, line 3: ")
    assert problem in message and line in message and "\n" not in message


def test_a_file_is_loaded_by_path_and_a_missing_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "shop.txt"
    path.write_text("||collector.shop.example^\n", encoding="utf-8")
    assert load_blocklist(str(path)).matches("https://collector.shop.example/e")
    with pytest.raises(BadInput, match="block list '.*nope.txt' not found: use a built-in list \\(common\\)"):
        load_blocklist(tmp_path / "nope.txt")
