"""The demo shop's fixed facts: host names, tag account IDs, products and a realistic ad click."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

TRACKER_HOST = "ads.demo.test"
SITE_HOST = "www.shop.demo.test"
API_HOST = "api.shop.demo.test"
HOSTS: tuple[str, ...] = (TRACKER_HOST, SITE_HOST, API_HOST)
# Cookies the tags write live on the site's registrable domain; the switches cookie spans the tracker too.
SITE_COOKIE_DOMAIN = ".shop.demo.test"
JOURNEY_COOKIE_DOMAIN = ".demo.test"

CURRENCY = "EUR"


class TagIds(BaseModel):
    """The account IDs the demo's tags send, in each vendor's own format."""

    model_config = ConfigDict(frozen=True)

    ga4: str = "G-DEMO12345"
    ads_conversion_id: str = "123456789"
    ads_purchase_label: str = "kD3xCJmV8pQZEJXo0rUD"
    meta_pixel: str = "1234567890123456"
    tiktok_pixel: str = "CDEMO5JC77U2CVGO3GQG"
    uet: str = "187654321"
    # Server-side credentials (fake, same shape as the real ones).
    meta_access_token: str = "EAAGdemoZBZCaccessZCtokenZD"
    tiktok_access_token: str = "d3m0e4c1f0a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9"
    ga4_api_secret: str = "dEm0ApiS3cr3t-Xq9ZrT"


TAG_IDS = TagIds()


class Product(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    price: float
    category: str
    brand: str


PRODUCTS: tuple[Product, ...] = (
    Product(
        sku="SKU-TRAIL-42", name="Trailrunner GTX Shoe", price=89.90, category="Shoes", brand="Northpeak"
    ),
    Product(sku="SKU-PACK-18", name="Summit 18L Daypack", price=54.50, category="Bags", brand="Northpeak"),
    Product(
        sku="SKU-SOCK-03", name="Merino Hiking Socks 3-pack", price=19.95, category="Socks", brand="Fellwool"
    ),
)
PRODUCTS_BY_SKU: dict[str, Product] = {p.sku: p for p in PRODUCTS}

# A click as the ad platforms append it: IDs in each platform's real shape.
SAMPLE_CLICK_PARAMS: dict[str, str] = {
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "spring_sale_2024",
    "utm_content": "trailrunner_ad_a",
    "gclid": "Cj0KCQjw8pKxBhD_ARIsAPrG45kKp3n1dYt8wZ6F-qLr0vQeX2bHcJ9sT4uM7yNaE1fGhIjKlMnOpQaAvXyEALw_wcB",
    "fbclid": "IwAR2xKp9vQ7mL3tRzN8bYcW1dFgH6jS0aUeVo4iTqXnCwEyB5rMhPkDlGs",
    "ttclid": "E.C.P.CqgBZ2Rlbw9vMDEyMzQ1Njc4OUFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla",
    "msclkid": "4f6c1e2a9b7d41c3a8e05d2f7b9c6a13",
}


def click_url(base: str = f"https://{TRACKER_HOST}", params: dict[str, str] | None = None) -> str:
    """The ad click URL a journey starts from (the tracker redirects it to the shop)."""
    return f"{base}/click?{urlencode(params if params is not None else SAMPLE_CLICK_PARAMS)}"
