"""Universal Analytics (legacy analytics.js / gtag UA-): Measurement Protocol v1 hits.

``/collect`` (GET pixel or POST beacon with the hit in the body), ``/r/collect`` and ``/j/collect``
(display features / beacon transports), and ``/batch`` (one hit per body line), on
``*.google-analytics.com`` and ``stats.g.doubleclick.net``. Parameter meanings follow Google's
Measurement Protocol v1 reference (``v``, ``tid``, ``t``, ``ec``/``ea``/``el``/``ev``, ``ti``/``tr``/``cu``)
as Omnibug's UniversalAnalytics provider reads them.

An Enhanced Ecommerce purchase is not a hit type of its own: the product action ``pa=purchase`` rides on
a pageview or event hit with ``ti``/``tr`` (Google's Measurement Protocol developer guide, "Enhanced
E-commerce": ``t=pageview&...&ti=T12345&tr=37.39&pa=purchase&pr1id=P12345``; analytics.js sends it so
after ``ga('ec:setAction', 'purchase', ...)``). Such a hit decodes as the event ``purchase`` (its hit type
stays in params as ``t``), so it counts as the sale it reports; classic ecommerce's ``t=transaction``
stays ``transaction``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import Decoder, VendorProfile, host_matches, new_event, pixel_reply, register
from harness.decoders.google_consent import consent_from_params, consumed_consent_params
from harness.decoders.vendors.ga4 import body_lines
from harness.decoders.vendors.google_ads import google_click_ids
from harness.decoders.wire import number_keeping_raw, params_dict, query_dict
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply

UA_HOSTS: tuple[str, ...] = (".google-analytics.com", "stats.g.doubleclick.net")
# "/collect/": server-side senders write the path with a slash before the query (a CallTrackingMetrics
# trigger posts ``google-analytics.com/collect/?v=1&t=pageview&...&pa=purchase``).
UA_PATHS = frozenset({"/collect", "/collect/", "/r/collect", "/j/collect", "/batch"})
_CONSUMED = frozenset({"t", "tid", "tr", "cu", "ti", "dl", "gclid", "dclid"}) | consumed_consent_params()


@register
class UniversalAnalyticsDecoder(Decoder):
    vendor = "ua"
    profile = VendorProfile(
        tag_name="Universal Analytics",
        platform_name="Universal Analytics",
        consent="consent_mode_tag",
        purchase_events=frozenset({"transaction", "purchase"}),
        reports_sale=lambda event: event.params.get("pa") == "purchase",  # Enhanced Ecommerce on any hit
    )
    claim_hosts = UA_HOSTS
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"z", "a", "_s", "cid", "jid", "gjid", "qt", "_gid", "_v", "_u"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        return path in UA_PATHS and host_matches(host, UA_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        shared = query_dict(request.url)
        lines = body_lines(request.text) if request.body else []
        if lines is None:
            return [self.malformed(request, "body is not Measurement Protocol hits")]
        hits = [{**shared, **params_dict(line)} for line in lines] or [shared]
        return [self._event(request, hit) for hit in hits]

    def _event(self, request: CapturedRequest, hit: dict[str, str]) -> DecodedEvent:
        problem = _problem(hit)
        if problem:
            bad = self.malformed(request, problem)
            bad.account_id = hit.get("tid") or None
            return bad
        hit_type = hit["t"]
        purchase = hit.get("pa") == "purchase"
        page_url = _page_url(hit) or request.header("referer")
        # Revenue for transactions and enhanced-ecommerce purchases; the event value for events.
        raw_value = hit.get("tr") if "tr" in hit else (hit.get("ev") if hit_type == "event" else None)
        params: dict[str, Any] = {k: v for k, v in hit.items() if k not in _CONSUMED}
        if purchase:
            params["t"] = hit_type
        value = number_keeping_raw(raw_value, params)
        return new_event(
            vendor=self.vendor,
            event="purchase" if purchase else hit_type,
            account_id=hit["tid"],
            value=value,
            currency=hit.get("cu") or None,
            transaction_id=hit.get("ti") or None,
            click_ids=google_click_ids(hit, page_url),
            consent=consent_from_params(hit),
            page_url=page_url,
            source=self.source,
            params=params,
        )

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return pixel_reply(request)


def _problem(hit: dict[str, str]) -> str | None:
    if hit.get("v") != "1":
        return f"protocol version v={hit.get('v')!r}, expected 1"
    if not hit.get("tid"):
        return "missing tid"
    if not hit.get("t"):
        return "missing t (hit type)"
    return None


def _page_url(hit: dict[str, str]) -> str | None:
    """``dl``; a ``dl`` that is only a path (server-side senders write one) joined to ``dh``."""
    location = hit.get("dl")
    if location and location.startswith("/") and hit.get("dh"):
        return f"https://{hit['dh']}{location}"
    return location or _page_from_parts(hit)


def _page_from_parts(hit: dict[str, str]) -> str | None:
    """``dh`` + ``dp`` when a hit names its page by parts instead of ``dl``."""
    if hit.get("dh") and hit.get("dp"):
        return f"https://{hit['dh']}{hit['dp']}"
    return None
