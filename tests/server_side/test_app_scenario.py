"""A scenario that starts its own backend (`app:`): the backend's server events reach the harness by
environment alone, are attributed to the run by the event ID they share with the Pixel, and paired."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.runner import SuiteRunner, plan_runs
from harness.scenario import Scenario
from tests.capture.site import CaptureTestSite

pytestmark = pytest.mark.browser
BACKEND = Path(__file__).parent / "backends" / "meta_sdk_app.py"
PIXEL = "1402533720264604"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def shop_site() -> Iterator[CaptureTestSite]:
    with CaptureTestSite(unload_hits=1) as site:
        yield site


def _scenario(site: CaptureTestSite, port: int, server_event_id: str) -> Scenario:
    # The page fires the Pixel Purchase and asks the shop's backend (the app) to report it server side.
    buy = (
        "(async () => {"
        f" new Image().src = 'https://www.facebook.com/tr/?id={PIXEL}&ev=Purchase&eid=EVT-4242&cd[value]=12.5&cd[currency]=EUR&cd[order_id]=ORD-4242';"
        " const fbclid = new URLSearchParams(location.search).get('fbclid');"
        " await fetch('https://api.app.test/purchase', {method: 'POST', mode: 'no-cors', body: JSON.stringify({"
        f"  event_id: '{server_event_id}', order_id: 'ORD-4242', value: 12.5, currency: 'EUR',"
        "   email: 'qa+4242@example.test', fbc: 'fb.1.1700000000000.' + fbclid, fbp: 'fb.1.1700000000000.42',"
        "   page_url: location.href})});"
        " return true; })()"
    )
    return Scenario.model_validate(
        {
            "name": "app-backend",
            "ad_click": {"url": "https://ads.test/click?to=/r301", "platform": "meta"},
            "resolve": [*(str(m) for m in site.mappings()), f"api.app.test=127.0.0.1:{port}"],
            "app": {"command": [sys.executable, str(BACKEND), "--port", str(port)], "port": port},
            "steps": [{"script": buy}],
            "expect": {
                "events": [
                    {"vendor": "meta_pixel", "event": "Purchase", "value": 12.5, "currency": "EUR", "event_id": "required"},
                    {"vendor": "meta_capi", "event": "Purchase", "value": 12.5, "currency": "EUR", "event_id": "required"},
                ],
                "order": [],
            },
        }
    )


@pytest.mark.parametrize(("server_event_id", "dedupe_ok"), [("EVT-4242", True), ("EVT-other", False)])
def test_the_apps_server_event_is_attributed_and_paired(
    shop_site: CaptureTestSite, tmp_path: Path, server_event_id: str, dedupe_ok: bool
) -> None:
    scenario = _scenario(shop_site, _free_port(), server_event_id)
    run = SuiteRunner(report_dir=tmp_path).run(plan_runs([(None, scenario)])).runs[0]
    capi = run.result.select("meta_capi", "Purchase")
    assert len(capi) == 1 and capi[0].source == "server", [f.title for f in run.failures]
    assert capi[0].event_id == server_event_id and capi[0].transaction_id == "ORD-4242"
    assert capi[0].user_data.get("em") == "sha256", "Meta's SDK hashed the email itself"
    assert (tmp_path / "app-1.log").is_file()
    dedupe = [f for f in run.failures if f.check == "browser_server_dedupe"]
    assert (dedupe == []) is dedupe_ok
    if not dedupe_ok:
        assert dedupe[0].root_cause == "Broken dedupe"
