"""``eventpath trace`` as an engineer runs it."""

from __future__ import annotations

import json
import subprocess

import pytest

from harness.cli import main
from tests.capture.site import CaptureTestSite

pytestmark = pytest.mark.browser


def _resolve_args(site: CaptureTestSite) -> list[str]:
    return [arg for m in site.mappings() for arg in ("--resolve", str(m))]


def test_trace_json_names_the_dropped_click_id_and_its_hop(site: CaptureTestSite, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://ads.test/click?to=/drop-gclid&gclid=EAIaIQobChMI8t2&utm_source=google"
    code = main(["trace", url, "--json", "--device", "iPhone 13", *_resolve_args(site)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1, "a dropped click ID is a problem found"
    assert out["start_url"] == url and out["final_url"] == "https://www.site.test/landing?utm_source=google"
    assert [(h["kind"], h["status"]) for h in out["chain"]] == [("start", 302), ("http", 301), ("http", 200)]
    assert out["dropped"] == [{"param": "gclid", "hop": 2, "fate": "dropped"}]
    assert out["device"] == "iPhone 13"
    ga4 = [e for hit in out["hits"] for e in hit["events"] if e["vendor"] == "ga4"]
    assert {"scroll", "view_item"} <= {e["event"] for e in ga4}, "body lines of a batch are events"
    assert all(hit["sinkholed"] for hit in out["hits"])
    assert isinstance(out["cookies"], list)


def test_trace_text_shows_the_chain_and_exits_0_when_nothing_is_lost(
    site: CaptureTestSite, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["trace", "https://ads.test/click?to=/meta&fbclid=IwAR2xYz", *_resolve_args(site)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Redirect chain" in out and " meta " in out and "fbclid" in out and "reached the landing page" in out
    assert "Tag hits" in out and "PageView" in out


def test_trace_with_link_protection_shows_the_browser_removing_the_click_id(
    site: CaptureTestSite, capsys: pytest.CaptureFixture[str]
) -> None:
    # "The fbclid disappears on iOS": Safari Private Browsing removes it before the click tracker sees it.
    url = "https://ads.test/click?to=/meta&fbclid=IwAR2xYz&utm_source=facebook"
    code = main(["trace", url, "--link-protection", "safari", "--device", "iPhone 13", *_resolve_args(site)])
    out = capsys.readouterr().out
    assert code == 1, "a removed click ID is a problem found"
    chain = out.split("Redirect chain", 1)[1].split("Click IDs", 1)[0]
    assert " start " in chain and " stripped " in chain and "fbclid" not in chain.split(" stripped ", 1)[1]
    assert "REMOVED by the browser before the first request" in out
    assert "utm_source" in out and "reached the landing page" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "not a url"], "give an absolute http:// or https:// URL"),
        (["trace", "https://x.test/", "--resolve", "x.test:80"], "expected HOST=ADDR:PORT"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run(["eventpath", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
