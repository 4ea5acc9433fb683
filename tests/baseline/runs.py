"""A purchase run for baseline tests, from real-format hits decoded by the registry.

``build_run(seed=..., **changes)`` is one paid click (gclid + fbclid + UTMs) through a click tracker and a
redirect to a shop, then GA4, Meta Pixel, Meta CAPI, TikTok and UET purchase hits. ``seed`` changes every
value that differs between two runs of an unchanged site (client and session IDs, timestamps, order and
event IDs, click IDs, cookie values); the keyword changes are the site changes baselines must catch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from harness.chain import param_fates
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, CookieRecord, RedirectChain, RedirectHop, RunCapture, RunResult
from harness.results import ScenarioRun, SuiteResult
from harness.scenario import RunConditions
from tests.checks.hits import (
    SHOP,
    Journey,
    bing_uet_hit,
    ga4_hit,
    meta_capi_hit,
    meta_pixel_hit,
    tiktok_pixel_hit,
)

GTM_BUILD = "45je5150v9116948458za200"
TRACKER = "https://clicks.example/r/42"
UTMS = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring_sale"}
DEFAULT_COOKIES = ("_ga", "_gcl_aw", "_fbc", "_fbp")

# Literal volatile values of tests/checks/hits.py builders, and how each seed rewrites them (longest first,
# so a timestamp's millisecond form is rewritten before its seconds form).
_VOLATILE_LITERALS: tuple[tuple[str, Callable[[int], str]], ...] = (
    ("messageId-1717000000123-1234567890123", lambda s: f"messageId-{1717000000123 + s}-{s}234567890123"),
    ("2024-05-29T16:26:40.123Z", lambda s: f"2024-05-29T16:{26 + s % 30}:40.123Z"),
    ("1183042221.1716212400", lambda s: f"{1183042221 + s}.{1716212400 + s}"),
    ("fb.1.1716999000000.1234567890", lambda s: f"fb.1.{1716999000000 + s}.{1234567890 + s}"),
    ("1717000000123", lambda s: str(1717000000123 + s * 1000)),
    ("1716212399", lambda s: str(1716212399 + s)),
    ("1717000000", lambda s: str(1717000000 + s)),
    ("2hQ9Zr1tE0Wf3yG1oP2mK8sL4vA", lambda s: f"2hQ9Zr1tE0Wf3yG1oP2mK8sL{s:03d}"),
    ("eeb8884c-7abb-0791-3ae6-6348dd889664", lambda s: f"eeb8884c-7abb-0791-3ae6-{s:012d}"),
    ("E.C.P.v2abcdEFGH1234", lambda s: f"E.C.P.v2abcdEFGH{s:04d}"),
)


def vary(request: CapturedRequest, seed: int) -> CapturedRequest:
    """The same hit with every per-run value rewritten for ``seed`` (seed 0: unchanged)."""
    url, body = request.url, request.body.decode()
    for literal, make in _VOLATILE_LITERALS:
        url, body = url.replace(literal, make(seed)), body.replace(literal, make(seed))
    return request.model_copy(update={"url": url, "body": body.encode()})


def with_body(request: CapturedRequest, extra: str) -> CapturedRequest:
    """A GA4 hit whose event line carries more parameters (``&ep.coupon=SUMMER``)."""
    return request.model_copy(update={"body": request.body + extra.encode()})


def gtm_script(container: str, version: str | None) -> CapturedRequest:
    """The GTM container script the page loaded; its body (when kept) names the live version."""
    body = f'var data = {{"resource": {{"version":"{version}","macros":[]}}}};'.encode() if version else b""
    return CapturedRequest(
        id="unstamped",
        method="GET",
        url=f"https://www.googletagmanager.com/gtm.js?id={container}&l=dataLayer",
        request_headers=[("sec-fetch-dest", "script")],
        status=200,
        response_body=body,
    )


def _chain(seed: int, hops: Sequence[str], drop_gclid: bool) -> RedirectChain:
    click_ids = {"gclid": f"EAIaIQobChMI{seed:020d}", "fbclid": f"IwAR{seed:030d}"}
    query = urlencode({**click_ids, **UTMS})
    kept = urlencode({k: v for k, v in {**click_ids, **UTMS}.items() if not (drop_gclid and k == "gclid")})
    urls = [
        f"{TRACKER}?{query}",
        *(f"{SHOP}{path}?{query}" for path in hops[:-1]),
        f"{SHOP}{hops[-1]}?{kept}",
    ]
    last = len(urls) - 1
    built = [
        RedirectHop(index=i, url=u, kind="start" if i == 0 else "http", status=302 if i < last else 200)
        for i, u in enumerate(urls)
    ]
    return RedirectChain(hops=built, params=param_fates(built))


def build_run(
    seed: int = 0,
    *,
    gtm_build: str = GTM_BUILD,
    container_version: str | None = None,
    ga4_value: float | None = 59.9,
    currency: str = "EUR",
    ga4_transaction_id: bool = True,
    ga4_extra: str = "",
    meta_purchase: bool = True,
    ga4_purchases: int = 1,
    tiktok: bool = True,
    hops: Sequence[str] = ("/go", "/"),
    drop_gclid: bool = False,
    cookies: Sequence[str] = DEFAULT_COOKIES,
    thank_you_path: str = "/checkout/thank-you",
    device: str = "Pixel 7",
    meta_email: str | None = None,
    ga4_gcs: str = "G111",
) -> RunResult:
    order = f"ORD-{10_000 + seed}"
    event_id = f"evt-{seed * 7919:08d}"
    chain = _chain(seed, hops, drop_gclid)
    landing, thank_you = chain.final_url, f"{SHOP}{thank_you_path}?order={10_000 + seed}"
    journey = Journey(start=1_717_000_000.0 + seed * 3600)
    hits: list[CapturedRequest] = [gtm_script("GTM-ABC123", container_version), ga4_hit("page_view", landing)]
    hits.append(meta_pixel_hit("PageView", landing))
    for _ in range(ga4_purchases):
        ga4 = ga4_hit(
            "purchase",
            thank_you,
            value=ga4_value,
            currency=currency,
            transaction_id=order if ga4_transaction_id else None,
        )
        hits.append(with_body(ga4, ga4_extra))
    if meta_purchase:
        pixel = meta_pixel_hit(
            "Purchase", thank_you, value=59.9, currency=currency, order_id=order, event_id=event_id
        )
        if meta_email is not None:  # Advanced Matching: ud[em] as the tag sent it (hashed or, wrongly, raw)
            pixel = pixel.model_copy(update={"url": pixel.url + f"&ud[em]={quote(meta_email)}"})
        hits.append(pixel)
    hits.append(
        meta_capi_hit("Purchase", thank_you, value=59.9, currency=currency, order_id=order, event_id=event_id)
    )
    if tiktok:
        hits.append(
            tiktok_pixel_hit(
                "CompletePayment", thank_you, value=59.9, currency=currency, order_id=order, event_id=event_id
            )
        )
    hits.append(bing_uet_hit("purchase", thank_you, value=59.9, currency=currency))
    for hit in hits:
        varied = vary(hit, seed)
        url = varied.url.replace(GTM_BUILD, gtm_build).replace("gcs=G111", f"gcs={ga4_gcs}")
        journey.hit(varied.model_copy(update={"url": url}))
    capture = RunCapture(
        run_id=f"run-{seed}",
        start_url=chain.start_url,
        device=device,
        chain=chain,
        requests=journey.requests,
        cookies=[CookieRecord(name=n, value=f"{n}-value-{seed}", domain=".shop.example") for n in cookies],
        started_at=journey.start,
        finished_at=journey.clock + 1,
    )
    return DecoderRegistry.default().decode_run(capture)


def scenario_run(
    result: RunResult, file: str | None, bugs: Sequence[str] = (), conditions: RunConditions | None = None
) -> ScenarioRun:
    return ScenarioRun(
        scenario="shop-purchase",
        file=file,
        device=result.capture.device,
        bugs=list(bugs),
        conditions=conditions or RunConditions(),
        ad_url=result.capture.start_url,
        result=result,
    )


def suite_of(*runs: ScenarioRun) -> SuiteResult:
    return SuiteResult(started_at=1_717_000_000.0, finished_at=1_717_000_100.0, runs=list(runs))


SCENARIO_YAML = """\
name: shop-purchase
ad_click: {{url: "{tracker}", platform: google}}
baseline_noise: {noise}
"""


def write_scenario(folder: Any, noise: Sequence[str] = ()) -> Any:
    path = folder / "shop-purchase.scenario.yaml"
    path.write_text(SCENARIO_YAML.format(tracker=TRACKER, noise=json.dumps(list(noise))), encoding="utf-8")
    return path
