"""What the correct demo shop sends on its purchase journey, as data: which vendor events fire on which
page and on what trigger. Tests through the real capture proxy compare decoded events against it.

Vendor and event names follow the decoder field conventions (``DecodedEvent.vendor`` / ``.event``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.demo.catalog import PRODUCTS

Page = Literal["landing", "product", "cart", "checkout", "thank_you", "lead", "server"]
Trigger = Literal["load", "consent_accept", "click", "leave", "checkout_request", "lead_submit"]

# The elements journeys click or fill, by role.
SELECTORS: dict[str, str] = {
    "consent_accept": "#consent-accept",
    "consent_reject": "#consent-reject",
    "consent_close": "#consent-close",
    "consent_banner": "#consent-banner",
    "product_link": "#product-{sku_lower}",  # on the landing page, e.g. #product-sku-trail-42
    "add_to_cart": "#add-to-cart",
    "checkout_now": "#checkout-now",
    "cart_checkout": "#checkout",
    "email": "#email",
    "phone": "#phone",
    "first_name": "#first-name",
    "last_name": "#last-name",
    "address": "#address",
    "postcode": "#postcode",
    "city": "#city",
    "country": "#country",
    "place_order": "#place-order",
    "order_id": "#order-id",
    "order_total": "#order-total",
    "lead_name": "#lead-name",
    "lead_email": "#lead-email",
    "lead_phone": "#lead-phone",
    "lead_submit": "#lead-submit",
    "lead_done": "#lead-done",
}

JOURNEY_PRODUCT = PRODUCTS[0]
CHECKOUT_FORM: dict[str, str] = {
    "#email": "jane.doe@example.com",
    "#phone": "+49 151 23456789",
    "#first-name": "Jane",
    "#last-name": "Doe",
    "#address": "Bergstrasse 12",
    "#postcode": "10115",
    "#city": "Berlin",
    "#country": "Germany",
}


class JourneyStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Literal["open_click_url", "click", "fill"]
    selector: str | None = None
    value: str | None = None
    lands_on: Page | None = None  # the page a step navigates to


PURCHASE_JOURNEY: tuple[JourneyStep, ...] = (
    JourneyStep(action="open_click_url", lands_on="landing"),
    JourneyStep(action="click", selector=SELECTORS["consent_accept"]),
    JourneyStep(action="click", selector=f"#product-{JOURNEY_PRODUCT.sku.lower()}", lands_on="product"),
    JourneyStep(action="click", selector=SELECTORS["add_to_cart"]),
    JourneyStep(action="click", selector=SELECTORS["checkout_now"], lands_on="checkout"),
    *(JourneyStep(action="fill", selector=sel, value=val) for sel, val in CHECKOUT_FORM.items()),
    JourneyStep(action="click", selector=SELECTORS["place_order"], lands_on="thank_you"),
)


class ExpectedHit(BaseModel):
    """One event the correct shop sends on the purchase journey."""

    model_config = ConfigDict(frozen=True)

    page: Page
    vendor: str
    event: str
    trigger: Trigger
    transport: Literal["beacon POST", "image GET", "server POST"]
    # Events sharing a batch name travel in one request (GA4 batches, one event per body line).
    batch: str | None = None
    gcs: str | None = None  # the consent state a Google hit reports


def _page_view(page: Page, gcs: str = "G111", ad_trigger: Trigger = "load") -> list[ExpectedHit]:
    return [
        ExpectedHit(
            page=page, vendor="ga4", event="page_view", trigger="load", transport="beacon POST", gcs=gcs
        ),
        ExpectedHit(
            page=page, vendor="meta_pixel", event="PageView", trigger=ad_trigger, transport="image GET"
        ),
        ExpectedHit(
            page=page, vendor="tiktok_pixel", event="Pageview", trigger=ad_trigger, transport="beacon POST"
        ),
        ExpectedHit(
            page=page, vendor="bing_uet", event="pageLoad", trigger=ad_trigger, transport="image GET"
        ),
    ]


def _leave(page: Page) -> ExpectedHit:
    return ExpectedHit(
        page=page, vendor="ga4", event="user_engagement", trigger="leave", transport="beacon POST", gcs="G111"
    )


PURCHASE_JOURNEY_HITS: tuple[ExpectedHit, ...] = (
    # Landing: GA4 sends a cookieless ping (gcs=G100, gcd=13p3p3p3p5l1); the ad tags wait for accept.
    *_page_view("landing", gcs="G100", ad_trigger="consent_accept"),
    _leave("landing"),
    *_page_view("product"),
    ExpectedHit(
        page="product", vendor="ga4", event="view_item", trigger="load", transport="beacon POST", gcs="G111"
    ),
    ExpectedHit(
        page="product", vendor="meta_pixel", event="ViewContent", trigger="load", transport="image GET"
    ),
    ExpectedHit(
        page="product", vendor="tiktok_pixel", event="ViewContent", trigger="load", transport="beacon POST"
    ),
    ExpectedHit(
        page="product", vendor="meta_pixel", event="AddToCart", trigger="click", transport="image GET"
    ),
    ExpectedHit(
        page="product", vendor="tiktok_pixel", event="AddToCart", trigger="click", transport="beacon POST"
    ),
    ExpectedHit(
        page="product",
        vendor="ga4",
        event="add_to_cart",
        trigger="click",
        transport="beacon POST",
        batch="cart",
        gcs="G111",
    ),
    ExpectedHit(
        page="product", vendor="meta_pixel", event="InitiateCheckout", trigger="click", transport="image GET"
    ),
    ExpectedHit(
        page="product",
        vendor="tiktok_pixel",
        event="InitiateCheckout",
        trigger="click",
        transport="beacon POST",
    ),
    ExpectedHit(
        page="product",
        vendor="ga4",
        event="begin_checkout",
        trigger="click",
        transport="beacon POST",
        batch="cart",
        gcs="G111",
    ),
    _leave("product"),
    *_page_view("checkout"),
    _leave("checkout"),
    ExpectedHit(
        page="server",
        vendor="meta_capi",
        event="Purchase",
        trigger="checkout_request",
        transport="server POST",
    ),
    ExpectedHit(
        page="server",
        vendor="tiktok_events_api",
        event="CompletePayment",
        trigger="checkout_request",
        transport="server POST",
    ),
    ExpectedHit(
        page="server", vendor="ga4_mp", event="purchase", trigger="checkout_request", transport="server POST"
    ),
    *_page_view("thank_you"),
    ExpectedHit(
        page="thank_you", vendor="ga4", event="purchase", trigger="load", transport="beacon POST", gcs="G111"
    ),
    ExpectedHit(
        page="thank_you",
        vendor="google_ads",
        event="conversion",
        trigger="load",
        transport="image GET",
        gcs="G111",
    ),
    ExpectedHit(
        page="thank_you", vendor="meta_pixel", event="Purchase", trigger="load", transport="image GET"
    ),
    ExpectedHit(
        page="thank_you",
        vendor="tiktok_pixel",
        event="CompletePayment",
        trigger="load",
        transport="beacon POST",
    ),
    ExpectedHit(page="thank_you", vendor="bing_uet", event="purchase", trigger="load", transport="image GET"),
)

# The lead journey (landing, accept, /lead, submit) adds these on the lead page.
LEAD_HITS: tuple[ExpectedHit, ...] = (
    *_page_view("lead"),
    ExpectedHit(
        page="lead",
        vendor="ga4",
        event="generate_lead",
        trigger="lead_submit",
        transport="beacon POST",
        gcs="G111",
    ),
    ExpectedHit(page="lead", vendor="meta_pixel", event="Lead", trigger="lead_submit", transport="image GET"),
    ExpectedHit(
        page="lead", vendor="tiktok_pixel", event="SubmitForm", trigger="lead_submit", transport="beacon POST"
    ),
    ExpectedHit(
        page="lead", vendor="bing_uet", event="submit_lead_form", trigger="lead_submit", transport="image GET"
    ),
)


def hits_on(page: Page, hits: tuple[ExpectedHit, ...] = PURCHASE_JOURNEY_HITS) -> list[tuple[str, str]]:
    """(vendor, event) pairs expected on one page, in the documented order."""
    return [(h.vendor, h.event) for h in hits if h.page == page]
