"""The shop's HTML. Every page shares one layout: the consent banner, the tag scripts and a config
object (``window.EVENTPATH_DEMO``) telling the scripts which page this is and which switches are on.

Element IDs journeys click or fill are stable and listed in ``harness.demo.hits.SELECTORS``.
"""

from __future__ import annotations

import functools
import json
import random
import struct
import zlib
from html import escape
from typing import Any

from harness.demo.catalog import CURRENCY, PRODUCTS, TAG_IDS, Product
from harness.demo.orders import Order

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2a33;background:#f7f5f0}
header,footer{background:#1d3b2f;color:#fff;padding:12px 20px}
header a{color:#fff;margin-right:16px;text-decoration:none}
main{max-width:980px;margin:0 auto;padding:20px}
#hero{display:block;width:100%;height:auto;border-radius:8px}
.grid{display:flex;gap:16px;flex-wrap:wrap}
.card{background:#fff;border-radius:8px;padding:12px;flex:1 1 220px}
button,.button{background:#d9622b;color:#fff;border:0;border-radius:6px;padding:10px 16px;font-size:16px;
cursor:pointer;text-decoration:none;display:inline-block}
label{display:block;margin:8px 0 2px}
input{padding:8px;width:100%;max-width:360px;box-sizing:border-box}
#consent-banner{position:fixed;bottom:0;left:0;right:0;background:#fff;border-top:3px solid #1d3b2f;
padding:16px;box-shadow:0 -2px 8px rgba(0,0,0,.2)}
#consent-banner button{margin-right:8px}
#consent-close{background:transparent;color:#1d2a33;float:right}
"""


def _config_script(config: dict[str, Any]) -> str:
    # "</" inside a script element would end it early.
    text = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    return f"<script>window.EVENTPATH_DEMO={text};</script>"


def layout(title: str, body: str, config: dict[str, Any]) -> str:
    base_config = {
        "ids": TAG_IDS.model_dump(
            include={"ga4", "ads_conversion_id", "ads_purchase_label", "meta_pixel", "tiktok_pixel", "uet"}
        ),
        "currency": CURRENCY,
        "products": {p.sku: p.model_dump() for p in PRODUCTS},
    }
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | Northpeak Outdoor</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style>
{_config_script({**base_config, **config})}
<script src="/static/sha256.js"></script>
<script src="/static/tags.js"></script>
</head><body>
<header><a id="nav-home" href="/">Northpeak Outdoor</a><a id="nav-cart" href="/cart">Cart</a>
<a id="nav-lead" href="/lead">Get a fitting</a></header>
<main>{body}</main>
<footer>Northpeak Outdoor GmbH &middot; eventpath demo shop</footer>
<div id="consent-banner" role="dialog" aria-label="Cookie consent" hidden>
<button id="consent-close" aria-label="Close">&times;</button>
<p>We use cookies for analytics and ads. Is that OK?</p>
<button id="consent-accept">Accept all</button><button id="consent-reject">Reject all</button>
</div>
<script src="/static/shop.js"></script>
</body></html>
"""


def _product_card(product: Product) -> str:
    return (
        f'<div class="card"><h3>{escape(product.name)}</h3><p>{product.price:.2f} {CURRENCY}</p>'
        f'<a class="button" id="product-{product.sku.lower()}" data-sku="{product.sku}" '
        f'href="/product/{product.sku}">View</a></div>'
    )


def landing(config: dict[str, Any]) -> str:
    cards = "".join(_product_card(p) for p in PRODUCTS)
    # With slow_page the content waits for the (slow) hero before it shows, as a hero-first page
    # hydrating late does: nothing large paints before the hero, on any viewport.
    hold = ' style="visibility:hidden"' if "slow_page" in config.get("bugs", ()) else ""
    reveal = ' onload="document.getElementById(\'landing-content\').style.visibility=\'visible\'"' if hold else ""
    body = f"""<div id="landing-content"{hold}><h1 id="headline">Spring sale: trail gear for every season</h1>
<p>Free shipping from 50 EUR. Order today, wear it on the trail this weekend.</p>
<div class="grid">{cards}</div></div>
<img id="hero" src="/hero.png" width="960" height="600" alt="Trail runners on a ridge at sunrise"{reveal}>"""
    return layout("Trail gear", body, {**config, "page": "landing"})


def js_hop(drop_param: str) -> str:
    """A landing hop that reloads the page without one parameter (what some consent or A/B scripts do)."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Loading…</title>
<script>var u=new URL(location.href);u.searchParams.delete({json.dumps(drop_param)});
location.replace(u.pathname+u.search+u.hash);</script></head><body>Loading…</body></html>
"""


def product(item: Product, config: dict[str, Any]) -> str:
    body = f"""<h1 id="product-name">{escape(item.name)}</h1>
<p id="product-price" data-price="{item.price}">{item.price:.2f} {CURRENCY}</p>
<p>{escape(item.brand)} &middot; {escape(item.category)}</p>
<button id="add-to-cart" data-sku="{item.sku}">Add to cart</button>
<button id="checkout-now">Checkout</button>
<p id="added-to-cart" hidden>Added to your cart. <a id="view-cart" href="/cart">View cart</a></p>"""
    return layout(item.name, body, {**config, "page": "product", "product": item.model_dump()})


def cart(config: dict[str, Any]) -> str:
    body = """<h1>Your cart</h1><ul id="cart-items"></ul>
<p>Total: <span id="cart-total">0.00</span> EUR</p>
<button id="checkout">Checkout</button>"""
    return layout("Cart", body, {**config, "page": "cart"})


def checkout(config: dict[str, Any]) -> str:
    fields = [
        ("email", "Email", "email", "email"),
        ("phone", "Phone", "tel", "tel"),
        ("first-name", "First name", "text", "given-name"),
        ("last-name", "Last name", "text", "family-name"),
        ("address", "Street and number", "text", "street-address"),
        ("postcode", "Postcode", "text", "postal-code"),
        ("city", "City", "text", "address-level2"),
        ("country", "Country", "text", "country-name"),
    ]
    inputs = "".join(
        f'<label for="{fid}">{label}</label><input id="{fid}" name="{fid}" type="{kind}" autocomplete="{auto}">'
        for fid, label, kind, auto in fields
    )
    body = f"""<h1>Checkout</h1><ul id="cart-items"></ul>
<p>Total: <span id="cart-total">0.00</span> EUR</p>
<form id="checkout-form">{inputs}<p><button id="place-order" type="submit">Place order</button></p></form>
<p id="checkout-error" role="alert" hidden></p>"""
    return layout("Checkout", body, {**config, "page": "checkout"})


def thank_you(order: Order | None, config: dict[str, Any]) -> str:
    if order is None:
        body = '<h1>Order not found</h1><p id="order-missing">We could not find that order.</p>'
        return layout("Order not found", body, {**config, "page": "thank_you", "purchase": None})
    purchase = {
        "order_id": order.order_id,
        "value": order.value,
        "currency": order.currency,
        "event_id": order.event_id,
        "email": order.email,
        "items": [i.model_dump() for i in order.items],
    }
    body = f"""<h1>Thank you for your order!</h1>
<p>Order number: <strong id="order-id">{escape(order.order_id)}</strong></p>
<p>Total: <strong id="order-total" data-value="{order.value}">{order.value:.2f}</strong>
<span id="order-currency">{escape(order.currency)}</span></p>
<p>A confirmation is on its way to {escape(order.email)}.</p>"""
    return layout("Thank you", body, {**config, "page": "thank_you", "purchase": purchase})


def lead(config: dict[str, Any]) -> str:
    body = """<h1>Book a free shoe fitting</h1>
<form id="lead-form">
<label for="lead-name">Name</label><input id="lead-name" name="name" autocomplete="name">
<label for="lead-email">Email</label><input id="lead-email" name="email" type="email" autocomplete="email">
<label for="lead-phone">Phone</label><input id="lead-phone" name="phone" type="tel" autocomplete="tel">
<input type="hidden" id="lead-gclid" name="gclid"><input type="hidden" id="lead-fbc" name="fbc">
<input type="hidden" id="lead-ttclid" name="ttclid"><input type="hidden" id="lead-msclkid" name="msclkid">
<p><button id="lead-submit" type="submit">Book my fitting</button></p></form>
<p id="lead-done" hidden>Thanks! We will call you within one working day. Reference: <span id="lead-id"></span></p>
<p id="lead-error" role="alert" hidden></p>"""
    return layout("Shoe fitting", body, {**config, "page": "lead"})


def not_found(config: dict[str, Any]) -> str:
    return layout("Not found", '<h1 id="not-found">Page not found</h1>', {**config, "page": "not_found"})


@functools.cache
def hero_png() -> bytes:
    """A noisy (high-entropy) hero image. Chrome leaves low-content images out of Largest Contentful
    Paint (a flat or vector picture did not count in Chromium 156), and the slow_page switch needs the
    hero to be the largest paint."""
    width, height = 320, 200
    noise = random.Random(42).randbytes(width * height * 3)
    rows = b"".join(b"\x00" + noise[y * width * 3 : (y + 1) * width * 3] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
