"""Suites for report tests, built from hits in each vendor's real wire format and decoded by the registry.

The main run ("checkout") is a Google + Meta click whose redirect chain drops ``fbclid`` and changes
``utm_medium``; the journey accepts consent, types an email and buys one order of 59.90 EUR. Meta's pixel
fires Purchase twice with one event ID, GA4 never sends purchase, GA4 MP reports 49.90, Meta CAPI and the
TikTok Events API match. Hits carry secrets (CAPI ``access_token``, MP ``api_secret``, TikTok
``Access-Token``, an ``Authorization`` header), cookies and the typed email in several spellings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from harness.chain import param_fates
from harness.checks.base import CheckContext, event_evidence
from harness.decoders.registry import DecoderRegistry
from harness.models import (
    CapturedRequest,
    CheckFailure,
    CookieRecord,
    Navigation,
    RedirectChain,
    RedirectHop,
    RunCapture,
    RunResult,
    StepRecord,
)
from harness.results import BackendTruth, ScenarioRun, SuiteResult, TruthOrder
from harness.scenario import Scenario

T0 = 1_716_212_400.0  # run start, epoch seconds
GCLID = "EAIaIQobChMIreportTestGclid"
FBCLID = "IwARreportTestFbclid"
TYPED_EMAIL = "Jane.Doe+shop@Example.com"
CAPI_TOKEN = "EAAcapiSecretToken123"
MP_SECRET = "mpSecretValue42"
TIKTOK_TOKEN = "tiktokAccessToken777"
BEARER = "sk_live_bearerToken999"
FBP_COOKIE = "fb.1.1716212400.987654321"
SESSION_COOKIE = "sessionCookieValue555"
LANDING = "https://shop.example/"
THANK_YOU = "https://shop.example/checkout/thank-you"
AD_URL = f"https://ads.example/click?gclid={GCLID}&fbclid={FBCLID}&utm_source=google&utm_medium=cpc"


# --- real-format hits ------------------------------------------------------------------------------


def request(
    seq: int,
    url: str,
    *,
    at: float,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    source: str = "browser",
    tag_hit: bool = True,
) -> CapturedRequest:
    return CapturedRequest(
        id=f"req-{seq}",
        run_id="run-1",
        seq=seq,
        method=method,
        url=url,
        request_headers=headers or [],
        body=body,
        status=204 if tag_hit else 200,
        started_at=T0 + at,
        tag_hit=tag_hit,
        sinkholed=tag_hit,
        source=source,  # type: ignore[arg-type]
    )


def ga4_hit(seq: int, at: float, event: str, page: str, extra: str = "") -> CapturedRequest:
    url = (
        "https://www.google-analytics.com/g/collect?v=2&tid=G-8F2ZQ1Q9XY&gtm=45je5150v9116948458za200"
        f"&_p=1716212458528&gcs=G111&cid=1183042221.1716212400&ul=de-de&sr=1920x1080&_s=1&sid=1716212399"
        f"&sct=1&seg=1&dl={quote(page, safe='')}&dt=Shop&en={quote(event, safe='')}{extra}"
    )
    return request(seq, url, at=at, method="POST", headers=[("content-type", "text/plain;charset=UTF-8")])


def meta_pixel_hit(seq: int, at: float, event: str, *, eid: str = "", value: str = "") -> CapturedRequest:
    params = [("id", "180595369100633"), ("ev", event), ("dl", THANK_YOU), ("rl", ""), ("if", "false")]
    params += [("ts", "1716212458528"), ("sw", "1280"), ("sh", "720"), ("v", "2.9.48"), ("r", "stable")]
    if value:
        params += [("cd[value]", value), ("cd[currency]", "EUR")]
    if eid:
        params.append(("eid", eid))
    params += [("ud[em]", TYPED_EMAIL.lower()), ("fbp", FBP_COOKIE), ("rqm", "GET")]  # raw email: PII
    headers = [("accept", "image/avif,image/webp,*/*"), ("sec-fetch-dest", "image")]
    headers.append(("cookie", f"_fbp={FBP_COOKIE}; sid={SESSION_COOKIE}"))
    return request(seq, "https://www.facebook.com/tr/?" + urlencode(params), at=at, headers=headers)


def meta_capi_hit(seq: int, at: float) -> CapturedRequest:
    body = {
        "data": [
            {
                "event_name": "Purchase",
                "event_time": int(T0) + 30,
                "event_id": "ord-1",
                "user_data": {"em": ["309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"]},
                "custom_data": {"currency": "EUR", "value": 59.9},
                "event_source_url": THANK_YOU,
                "action_source": "website",
            }
        ]
    }
    return request(
        seq,
        f"https://graph.facebook.com/v18.0/1234567890/events?access_token={CAPI_TOKEN}",
        at=at,
        method="POST",
        headers=[("content-type", "application/json"), ("authorization", f"Bearer {BEARER}")],
        body=json.dumps(body).encode(),
        source="server",
    )


def ga4_mp_hit(seq: int, at: float, value: float) -> CapturedRequest:
    body = {
        "client_id": "1183042221.1716212400",
        "events": [
            {"name": "purchase", "params": {"transaction_id": "ord-1", "value": value, "currency": "EUR"}}
        ],
    }
    return request(
        seq,
        f"https://www.google-analytics.com/mp/collect?measurement_id=G-8F2ZQ1Q9XY&api_secret={MP_SECRET}",
        at=at,
        method="POST",
        headers=[("content-type", "application/json")],
        body=json.dumps(body).encode(),
        source="server",
    )


def tiktok_events_api_hit(seq: int, at: float) -> CapturedRequest:
    body = {
        "event_source": "web",
        "event_source_id": "CABCDE12345FGHIJ6789",
        "data": [
            {
                "event": "CompletePayment",
                "event_time": int(T0) + 31,
                "event_id": "ord-1",
                "user": {"email": quote(TYPED_EMAIL, safe=""), "ttclid": "E.C.P.reportTest"},
                "properties": {"currency": "EUR", "value": 59.9, "order_id": "ord-1"},
                "page": {"url": THANK_YOU},
            }
        ],
    }
    return request(
        seq,
        "https://business-api.tiktok.com/open_api/v1.3/event/track/",
        at=at,
        method="POST",
        headers=[("content-type", "application/json"), ("access-token", TIKTOK_TOKEN)],
        body=json.dumps(body).encode(),
        source="server",
    )


# --- a run -----------------------------------------------------------------------------------------


def checkout_chain() -> RedirectChain:
    hops = [
        RedirectHop(index=0, url=AD_URL, kind="start", status=302, request_id="req-0"),
        RedirectHop(
            index=1,
            url=f"https://track.example/r?gclid={GCLID}&utm_source=google&utm_medium=cpc",
            kind="http",
            status=302,
        ),
        RedirectHop(
            index=2, url=f"{LANDING}?gclid={GCLID}&utm_source=google&utm_medium=paid", kind="js", status=200
        ),
    ]
    return RedirectChain(hops=hops, params=param_fates(hops))


def checkout_scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "checkout",
            "ad_click": {"url": "https://ads.example/click", "platform": "google"},
            "steps": [
                {"click": "#accept", "name": "accept cookies", "consent": "accept"},
                {"fill": "#email", "value": TYPED_EMAIL, "name": "email"},
                {"click": "#buy", "name": "place order"},
            ],
            "expect": {
                "events": [
                    {"vendor": "ga4", "event": "purchase", "value": 59.9, "currency": "EUR"},
                    {"vendor": "meta_pixel", "event": "Purchase", "value": 59.9, "currency": "EUR"},
                ]
            },
        }
    )


def checkout_capture(extra_requests: Sequence[CapturedRequest] = ()) -> RunCapture:
    landing_doc = request(
        1,
        f"{LANDING}?gclid={GCLID}&utm_source=google&utm_medium=paid",
        at=0.30,
        headers=[("cookie", f"sid={SESSION_COOKIE}")],
        tag_hit=False,
    )
    requests = [
        landing_doc,
        # A custom parameter carrying the email, encoded the way a hand-made tag encodes it (@ kept).
        ga4_hit(2, 0.45, "page_view", LANDING, "&ep.user_email=" + quote(TYPED_EMAIL.lower(), safe="@")),
        meta_pixel_hit(3, 0.50, "PageView"),
        meta_pixel_hit(4, 3.20, "Purchase", eid="ord-1", value="59.9"),
        meta_pixel_hit(5, 3.25, "Purchase", eid="ord-1", value="59.9"),
        meta_capi_hit(6, 3.40),
        ga4_mp_hit(7, 3.50, 49.9),
        tiktok_events_api_hit(8, 3.60),
        *extra_requests,
    ]
    return RunCapture(
        run_id="run-1",
        start_url=AD_URL,
        device="Pixel 7",
        chain=checkout_chain(),
        navigations=[
            Navigation(
                index=0, url=f"{LANDING}?gclid={GCLID}&utm_source=google&utm_medium=paid", at=T0 + 0.30
            ),
            Navigation(index=1, url=THANK_YOU, at=T0 + 3.10, step=2),
        ],
        steps=[
            StepRecord(
                index=0,
                label="accept cookies",
                action="click",
                target="#accept",
                started_at=T0 + 1.0,
                ended_at=T0 + 1.1,
                consent="accept",
            ),
            StepRecord(
                index=1,
                label="email",
                action="fill",
                target="#email",
                started_at=T0 + 2.0,
                ended_at=T0 + 2.1,
                typed=TYPED_EMAIL,
            ),
            StepRecord(
                index=2,
                label="place order",
                action="click",
                target="#buy",
                started_at=T0 + 3.0,
                ended_at=T0 + 3.1,
                url_after=THANK_YOU,
            ),
        ],
        requests=requests,
        cookies=[
            CookieRecord(name="_fbp", value=FBP_COOKIE, domain=".shop.example"),
            CookieRecord(name="sid", value=SESSION_COOKIE, domain="shop.example", http_only=True),
        ],
        started_at=T0,
        finished_at=T0 + 5.0,
    )


def checkout_failures(scenario: Scenario, result: RunResult) -> list[CheckFailure]:
    """The failures the built-in checks would report for this run, made with the shared helpers."""
    context = CheckContext(scenario=scenario, result=result, ad_url=AD_URL)
    meta = result.select("meta_pixel", "Purchase")
    pii_hit = result.select("meta_pixel", "PageView")[0]
    return [
        context.failure(
            "event_count",
            "meta_pixel Purchase fired 2 times, expected 1",
            "Duplicate trigger",
            expected="1 meta_pixel Purchase",
            seen="2 meta_pixel Purchase with event_id=ord-1",
            evidence=[event_evidence(e) for e in meta],
        ),
        context.failure(
            "event_count",
            "ga4 purchase fired 0 times, expected 1",
            "Missing tag",
            expected="1 ga4 purchase",
            seen="ga4 page_view only",
        ),
        context.failure(
            "redirect_params",
            "fbclid dropped at hop 1 (track.example)",
            "Dropped parameters in redirects",
            expected="fbclid on the landing URL",
            seen="https://track.example/r?gclid=... without fbclid",
        ),
        context.failure(
            "no_pii",
            "raw email in meta_pixel PageView",
            "PII in hit",
            expected="no raw email",
            seen=f"ud[em]={TYPED_EMAIL.lower()}",
            evidence=[event_evidence(pii_hit)],
        ),
    ]


def scenario_run(
    capture: RunCapture,
    scenario: Scenario,
    *,
    truth: BackendTruth | None,
    with_failures: bool = True,
    artifacts: dict[str, str] | None = None,
) -> ScenarioRun:
    result = DecoderRegistry.default().decode_run(capture)
    return ScenarioRun(
        scenario=scenario.name,
        device=capture.device,
        ad_url=AD_URL,
        result=result,
        failures=checkout_failures(scenario, result) if with_failures else [],
        checks_run=["event_count", "redirect_params", "no_pii"],
        duration_s=5.2,
        truth=truth,
        artifacts=artifacts or {},
    )


BACKEND = BackendTruth(
    source="order API https://shop.example/api/orders",
    orders=[TruthOrder(order_id="ord-1", value=59.9, currency="EUR")],
)


@pytest.fixture
def scenario() -> Scenario:
    return checkout_scenario()


@pytest.fixture
def checkout_run(scenario: Scenario) -> ScenarioRun:
    return scenario_run(checkout_capture(), scenario, truth=BACKEND)


@pytest.fixture
def suite(checkout_run: ScenarioRun) -> SuiteResult:
    return SuiteResult(started_at=T0, finished_at=T0 + 6.0, runs=[checkout_run])


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
