"""Drive the demo shop's journeys in a fresh browser context and collect what they sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, Page

from harness.demo.hits import CHECKOUT_FORM, JOURNEY_PRODUCT, SELECTORS
from harness.demo.server import DemoShop
from harness.demo.server_events import OutgoingRequest, RecordingSender
from tests.demo.vendor_hits import VendorCapture


@dataclass
class JourneyResult:
    capture: VendorCapture
    landing_url: str = ""
    navigations: list[str] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    order: dict[str, Any] | None = None
    lead: dict[str, Any] | None = None
    server_events: list[OutgoingRequest] = field(default_factory=list)
    hits_before_reload: int = 0
    lcp_ms: float | None = None


def run_journey(
    browser: Browser,
    shop: DemoShop,
    switches: tuple[str, ...] = (),
    *,
    kind: str = "purchase",
    consent: str = "accept",
    reload_thank_you: bool = False,
    measure_lcp: bool = False,
) -> JourneyResult:
    sender = shop.sender
    assert isinstance(sender, RecordingSender)
    sender.clear()
    context = browser.new_context()
    capture = VendorCapture().attach(context)
    result = JourneyResult(capture=capture)
    page = context.new_page()
    page.on("framenavigated", lambda frame: frame == page.main_frame and result.navigations.append(frame.url))
    try:
        page.goto(shop.click_url(switches=switches, direct=True))
        page.wait_for_url("**/?**")
        page.wait_for_load_state("load")
        result.landing_url = page.url
        if measure_lcp:
            # The entry for a late image arrives a frame or two after load: collect briefly, keep the last.
            result.lcp_ms = page.evaluate(
                """() => new Promise(resolve => {
                     let last = null;
                     new PerformanceObserver(list => { const e = list.getEntries(); last = e[e.length - 1]; })
                       .observe({type: 'largest-contentful-paint', buffered: true});
                     setTimeout(() => resolve(last && last.startTime), 500);
                   })"""
            )
        capture.wait_for(page, "ga4", "page_view", on="landing")
        if consent == "accept":
            page.click(SELECTORS["consent_accept"])
        elif consent == "reject":
            page.click(SELECTORS["consent_reject"])
        else:  # "close": dismiss without answering; the banner comes back on every page
            page.click(SELECTORS["consent_close"])
        capture.settle(page, quiet=0.2)
        if kind == "lead":
            page.click("#nav-lead")
            page.wait_for_url("**/lead")
            capture.wait_for(page, "ga4", "page_view", on="lead")
            _dismiss_banner(page, consent)
            page.fill(SELECTORS["lead_name"], "Jane Doe")
            page.fill(SELECTORS["lead_email"], "jane.doe@example.com")
            page.fill(SELECTORS["lead_phone"], "+49 151 23456789")
            page.click(SELECTORS["lead_submit"])
            page.wait_for_selector(SELECTORS["lead_done"], state="visible")
            capture.wait_for(page, "ga4", "generate_lead", on="lead")
            capture.settle(page, quiet=0.2)
            lead_id = page.text_content("#lead-id")
            leads = [lead for lead in shop.orders.leads() if lead.lead_id == lead_id]
            result.lead = leads[0].model_dump() if leads else None
        else:
            page.click(f"#product-{JOURNEY_PRODUCT.sku.lower()}")
            page.wait_for_url("**/product/**")
            capture.wait_for(page, "ga4", "view_item", on="product")
            _dismiss_banner(page, consent)
            page.click(SELECTORS["add_to_cart"])
            page.wait_for_selector("#added-to-cart", state="visible")
            page.click(SELECTORS["checkout_now"])
            page.wait_for_url("**/checkout")
            capture.wait_for(page, "ga4", "page_view", on="checkout")
            _dismiss_banner(page, consent)
            for selector, value in CHECKOUT_FORM.items():
                page.fill(selector, value)
            page.click(SELECTORS["place_order"])
            page.wait_for_url("**/thank-you?order=*")
            capture.wait_for(page, "ga4", "page_view", on="thank_you")
            capture.settle(page)
            order_id = page.text_content(SELECTORS["order_id"])
            order = shop.orders.order(order_id or "")
            result.order = order.model_dump() if order else None
            result.hits_before_reload = len(capture.hits)
            if reload_thank_you:
                page.reload()
                capture.wait_for(page, "ga4", "page_view", on="thank_you", count=2)
                capture.settle(page)
        result.cookies = {c["name"]: c["value"] for c in context.cookies()}
        result.server_events = sender.wait_for(0) if kind != "purchase" else _server_events(sender, switches)
    finally:
        context.close()
    return result


def _dismiss_banner(page: Page, consent: str) -> None:
    if consent == "close":
        page.click(SELECTORS["consent_close"])


def _server_events(sender: RecordingSender, switches: tuple[str, ...]) -> list[OutgoingRequest]:
    expected = 6 if "server_event_twice" in switches else 3
    return sender.wait_for(expected, timeout=5)
