"""The ad click tracker (ads.demo.test) and the shop's pages (www.shop.demo.test)."""

from __future__ import annotations

import mimetypes
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from harness.demo import pages
from harness.demo.catalog import PRODUCTS_BY_SKU, SITE_COOKIE_DOMAIN, SITE_HOST
from harness.demo.orders import OrderBook
from harness.demo.web import Request, Response

STATIC_DIR = Path(__file__).with_name("static")
SESSION_COOKIE = "shop_session"
SLOW_HERO_SECONDS = 4.5
_PRODUCT_PATH = re.compile(r"^/product/(?P<sku>[A-Za-z0-9-]+)/?$")
_STATIC_PATH = re.compile(r"^/static/(?P<name>[a-z0-9_-]+\.(?:js|css))$")


def tracker(request: Request) -> Response:
    """``/click`` is the ad platform's click tracker: it records the click and sends the browser on to
    the advertiser's URL with every parameter kept."""
    if request.path != "/click":
        return Response.text("ads.demo.test: unknown path\n", 404)
    return Response.redirect(f"{request.origin(SITE_HOST)}/go?{urlencode(request.query)}", 302)


class Site:
    def __init__(self, orders: OrderBook) -> None:
        self.orders = orders

    def respond(self, request: Request) -> Response:
        response = self._route(request)
        if response.content_type.startswith("text/html") and SESSION_COOKIE not in request.cookies:
            domain = SITE_COOKIE_DOMAIN if request.host.endswith(SITE_COOKIE_DOMAIN) else None
            response.set_cookie(SESSION_COOKIE, secrets.token_hex(12), domain, http_only=True)
        return response

    def _route(self, request: Request) -> Response:
        path = request.path
        config = {"bugs": sorted(request.switches)}
        if path == "/go":
            return self._campaign_redirect(request)
        if path in ("/", "/index.html"):
            if "fbclid_dropped_by_js_redirect" in request.switches and request.param("fbclid") is not None:
                return Response.html(pages.js_hop("fbclid"))
            return Response.html(pages.landing(config))
        if match := _PRODUCT_PATH.match(path):
            product = PRODUCTS_BY_SKU.get(match["sku"].upper())
            if product is None:
                return Response.html(pages.not_found(config), 404)
            return Response.html(pages.product(product, config))
        if path == "/cart":
            return Response.html(pages.cart(config))
        if path == "/checkout":
            return Response.html(pages.checkout(config))
        if path == "/thank-you":
            order = self.orders.order(request.param("order") or "")
            return Response.html(pages.thank_you(order, config), 200 if order else 404)
        if path == "/lead":
            return Response.html(pages.lead(config))
        if path == "/hero.png":
            delay = SLOW_HERO_SECONDS if "slow_page" in request.switches else 0.0
            return Response(body=pages.hero_png(), content_type="image/png", delay_seconds=delay)
        if match := _STATIC_PATH.match(path):
            return _static(match["name"])
        if path == "/favicon.ico":
            return Response(status=204, content_type="image/x-icon")
        return Response.html(pages.not_found(config), 404)

    def _campaign_redirect(self, request: Request) -> Response:
        """The shop's campaign URL: a 301 to the landing page that keeps the query string."""
        drop = {"gclid"} if "gclid_dropped_by_redirect" in request.switches else set()
        query = urlencode([(k, v) for k, v in request.query if k not in drop])
        return Response.redirect(f"{request.origin(SITE_HOST)}/" + (f"?{query}" if query else ""), 301)


def _static(name: str) -> Response:
    path = STATIC_DIR / name
    if not path.is_file():
        return Response.text("not found\n", 404)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(body=path.read_bytes(), content_type=f"{kind}; charset=utf-8")
