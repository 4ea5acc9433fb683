"""Builders for the click-ID, UTM, consent and PII check tests, on top of ``tests/checks/hits.py``.

They add what those checks read beyond the shared hits: click IDs and consent state on real-format
hits (``gclaw`` on a Google Ads conversion, ``fbc`` on a Meta ``/tr/`` hit, ``msclkid`` on UET, the
TikTok ``context.ad.callback``), a redirect chain made of real navigation requests and merged by
``harness.chain.build_chain``, cookies, and a ``CheckContext`` for an arbitrary ad URL.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.chain import build_chain
from harness.checks.base import CheckContext
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, CookieRecord, RunCapture
from tests.checks.hits import SHOP, Journey, _hit, scenario_for

GCLID = "EAIaIQobChMI8fK2x9Wb_wIVz4BQBh0Q1gAbEAAYASAAEgLk3fD_BwE"
FBCLID = "IwAR2xK9mQ4u1Zt7bLwE3nVh0pYcRf5sJdG8aN6oTiU2qXyB4vMzKeHjWl"
MSCLKID = "6f1c2a3b4d5e6f708192a3b4c5d6e7f8"
TTCLID = "E_C_P_CrQBz8kqW3nL5vT1yH9mR2pX7aD4fJ6uB0sK"
UTMS = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring_sale"}
THANK_YOU = f"{SHOP}/checkout/thank-you?order=1024"
GOOGLE_ADS_ID = "123456789"


def ad_url(
    click_ids: dict[str, str] | None = None, utms: dict[str, str] | None = None, base: str = f"{SHOP}/"
) -> str:
    return f"{base}?{urlencode({**(click_ids or {}), **(utms or {})})}"


def with_params(request: CapturedRequest, **params: str) -> CapturedRequest:
    """The same hit with query parameters set (added or replaced), as the tag would have sent them."""
    parts = urlsplit(request.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return request.model_copy(update={"url": urlunsplit(parts._replace(query=urlencode(query)))})


def with_header(request: CapturedRequest, name: str, value: str) -> CapturedRequest:
    headers = [(k, v) for k, v in request.request_headers if k.lower() != name.lower()] + [(name, value)]
    return request.model_copy(update={"request_headers": headers})


def with_ttclid(request: CapturedRequest, ttclid: str) -> CapturedRequest:
    """A TikTok pixel hit whose ``context.ad.callback`` (the ttclid pixel.js read from the URL) is ``ttclid``."""
    payload = json.loads(request.body)
    payload["context"]["ad"]["callback"] = ttclid
    return request.model_copy(update={"body": json.dumps(payload).encode()})


def fbc(fbclid: str, created_ms: int = 1717000000000) -> str:
    return f"fb.1.{created_ms}.{fbclid}"


def google_ads_conversion(
    page_url: str = THANK_YOU,
    *,
    gclaw: str | None = None,
    gcs: str | None = "G111",
    gcd: str | None = "13r3r3r3r5l1",
    value: float = 59.9,
    currency: str = "EUR",
    order_id: str = "ORD-10023",
) -> CapturedRequest:
    """gtag.js conversion ping ``/pagead/conversion/<id>/`` (image GET), ``gclaw`` from the _gcl_aw cookie."""
    query: dict[str, str] = {"random": "1717000000123", "cv": "11", "fst": "1717000000123", "fmt": "3"}
    if gcs:
        query["gcs"] = gcs
    if gcd:
        query["gcd"] = gcd
    query |= {"label": "AbC-dEf", "value": f"{value:g}", "currency_code": currency, "oid": order_id}
    if gclaw:
        query["gclaw"] = gclaw
    query["url"] = page_url
    url = f"https://www.googleadservices.com/pagead/conversion/{GOOGLE_ADS_ID}/?{urlencode(query)}"
    headers = [
        ("accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
        ("sec-fetch-dest", "image"),
        ("referer", f"{SHOP}/"),
    ]
    return _hit("GET", url, headers)


def navigation(
    url: str, seq: int, status: int = 200, location: str | None = None, body: bytes = b""
) -> CapturedRequest:
    """A top-level document request as the proxy records it (Chromium's navigation headers)."""
    return CapturedRequest(
        id=f"nav{seq}",
        seq=seq,
        method="GET",
        url=url,
        request_headers=[("sec-fetch-dest", "document"), ("accept", "text/html,application/xhtml+xml")],
        status=status,
        location=location,
        response_headers=[("content-type", "text/html")],
        response_body=body,
        started_at=1_716_999_990.0 + seq,
    )


def redirect_navigations(*urls: str, kinds: list[str] | None = None) -> list[CapturedRequest]:
    """Navigations from ``urls[0]`` to ``urls[-1]``; ``kinds[i]`` says how hop i+1 is reached (http/meta/js)."""
    kinds = kinds or ["http"] * (len(urls) - 1)
    navs: list[CapturedRequest] = []
    for index, url in enumerate(urls):
        kind = kinds[index] if index < len(kinds) else None
        if kind == "http":
            navs.append(navigation(url, index + 1, status=302, location=urls[index + 1]))
        elif kind == "meta":
            refresh = f'<meta http-equiv="refresh" content="0;url={urls[index + 1]}">'.encode()
            navs.append(navigation(url, index + 1, body=refresh))
        else:
            navs.append(navigation(url, index + 1))
    return navs


def cookie(name: str, value: str, domain: str = ".shop.example") -> CookieRecord:
    return CookieRecord(name=name, value=value, domain=domain, expires=1724776000.0)


def context_for(
    journey: Journey,
    ad: str,
    *,
    navigations: list[CapturedRequest] | None = None,
    cookies: list[CookieRecord] | None = None,
    **expect: Any,
) -> CheckContext:
    """The run of ``journey`` opened at ``ad`` (chain built from ``navigations``, else a single hop)."""
    navs = navigations or [navigation(ad, 1)]
    base = journey.capture()
    capture: RunCapture = base.model_copy(
        update={
            "start_url": ad,
            "chain": build_chain(ad, navs),
            "requests": [*navs, *base.requests],
            "cookies": cookies or [],
        }
    )
    result = DecoderRegistry.default().decode_run(capture)
    return CheckContext(scenario=scenario_for(journey.steps, expect), result=result, ad_url=ad)
