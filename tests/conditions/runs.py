"""Runs for the condition tests: real-format tag hits (GA4 ``/g/collect``, Meta ``/tr/``) on a clock,
decoded by the real registry into a ``RunResult``, optionally wrapped in a ``ScenarioRun``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from harness.decoders.registry import DecoderRegistry
from harness.models import (
    CapturedRequest,
    CheckFailure,
    CookieRecord,
    ParamFate,
    RedirectChain,
    RedirectHop,
    RunCapture,
    RunResult,
)
from harness.results import ScenarioRun
from harness.scenario import RunConditions

START = 1_717_000_000.0
GCLID = "EAIaIQobChMI8t2x9Zq0hwMVtest"
FBCLID = "IwAR2xTestFbclid0123456789"
SHOP = "https://shop.example"
LANDING = f"{SHOP}/?gclid={GCLID}"
THANK_YOU = f"{SHOP}/thank-you?order=1024"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
PIXEL_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36"
)


def ga4_hit(event: str, page_url: str, *, gclid: str | None = None, value: float | None = None) -> CapturedRequest:
    """gtag.js ``/g/collect`` with the event in the query (as an image/fetch GET sends it)."""
    query = {"v": "2", "tid": "G-8F2ZQ1Q9XY", "gcs": "G111", "cid": "1183042221.1716212400", "dl": page_url}
    if gclid:
        query["gclid"] = gclid
    query["en"] = event
    if value is not None:
        query.update({"epn.value": f"{value:g}", "cu": "EUR", "ep.transaction_id": "ORD-1"})
    return CapturedRequest(
        id="?", method="GET", url="https://region1.google-analytics.com/g/collect?" + urlencode(query),
        tag_hit=True, sinkholed=True, status=204,
    )


def meta_hit(event: str, page_url: str) -> CapturedRequest:
    url = f"https://www.facebook.com/tr/?id=1402533720264604&ev={event}&dl={quote(page_url, safe='')}&rqm=GET"
    return CapturedRequest(id="?", method="GET", url=url, tag_hit=True, sinkholed=True, status=200)


@dataclass
class RunBuilder:
    """Hits at given milliseconds after the click, plus the page navigation, cookies and chain."""

    landing: str = LANDING
    user_agent: str = PIXEL_UA
    landing_status: int | None = 200  # None: the landing page never answered
    landing_error: str | None = None
    requests: list[CapturedRequest] = field(default_factory=list)
    cookies: list[CookieRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.navigation(self.landing, 0, status=self.landing_status)

    def navigation(self, url: str, at_ms: float, *, status: int | None = 200, set_cookies: tuple[str, ...] = ()) -> None:
        headers = [("user-agent", self.user_agent), ("sec-fetch-dest", "document")]
        self._add(
            CapturedRequest(
                id="?", method="GET", url=url, request_headers=headers, status=status,
                response_headers=[("content-type", "text/html"), *(("set-cookie", c) for c in set_cookies)],
            ),
            at_ms,
        )

    def hit(self, request: CapturedRequest, at_ms: float) -> None:
        self._add(request, at_ms)

    def cookie(self, name: str, value: str, days: float | None, **fields: Any) -> None:
        expires = None if days is None else START + 10 + days * 86400
        self.cookies.append(CookieRecord(name=name, value=value, domain=".shop.example", expires=expires, **fields))

    def _add(self, request: CapturedRequest, at_ms: float) -> None:
        number = len(self.requests) + 1
        self.requests.append(
            request.model_copy(
                update={"id": f"r{number}", "seq": number, "run_id": "run-1", "started_at": START + at_ms / 1000}
            )
        )

    def capture(self) -> RunCapture:
        params = [
            ParamFate(param=name, value=value, reached_final=True, fate="kept")
            for name, value in RedirectHop(index=0, url=self.landing, kind="start").params
            if name in ("gclid", "fbclid")
        ]
        hop = RedirectHop(
            index=0, url=self.landing, kind="start", status=self.landing_status, error=self.landing_error, request_id="r1"
        )
        return RunCapture(
            run_id="run-1", start_url=self.landing, device="iPhone 13", chain=RedirectChain(hops=[hop], params=params),
            requests=list(self.requests), cookies=list(self.cookies), started_at=START, finished_at=START + 10,
        )

    def result(self) -> RunResult:
        return DecoderRegistry.default().decode_run(self.capture())

    def scenario_run(
        self, conditions: RunConditions | None = None, failures: list[CheckFailure] | None = None
    ) -> ScenarioRun:
        return ScenarioRun(
            scenario="checkout", device="Pixel 7", conditions=conditions or RunConditions(), ad_url=self.landing,
            result=self.result(), failures=list(failures or []),
        )
