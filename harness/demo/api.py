"""The shop's backend (api.shop.demo.test): checkout, leads, and the order truth reports reconcile against.

On checkout it sends the server-side purchase events; the browser never waits for them.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

from harness.demo.catalog import SITE_HOST
from harness.demo.orders import CheckoutError, OrderBook
from harness.demo.server_events import PurchaseContext, Sender, VendorEndpoints, purchase_requests
from harness.demo.site import SESSION_COOKIE
from harness.demo.switches import BUGS_HEADER
from harness.demo.web import Request, Response

log = logging.getLogger(__name__)


class Api:
    def __init__(self, orders: OrderBook, sender: Sender, endpoints: VendorEndpoints) -> None:
        self.orders = orders
        self.sender = sender
        self.endpoints = endpoints

    def respond(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            response = Response(status=204, content_type="text/plain")
        else:
            response = self._route(request)
        return _with_cors(request, response)

    def _route(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        if route == ("POST", "/api/checkout"):
            return self._checkout(request)
        if route == ("POST", "/api/lead"):
            return self._lead(request)
        if route == ("GET", "/api/orders"):
            session = _session_asked(request)
            return Response.json({"orders": [o.model_dump() for o in self.orders.orders(session)]})
        if route == ("GET", "/api/leads"):
            session = _session_asked(request)
            return Response.json({"leads": [lead.model_dump() for lead in self.orders.leads(session)]})
        return Response.json({"error": f"no route {request.method} {request.path}"}, 404)

    def _checkout(self, request: Request) -> Response:
        try:
            order = self.orders.create_order(request.cookies.get(SESSION_COOKIE), request.json())
        except CheckoutError as exc:
            return Response.json({"error": str(exc)}, 400)
        thank_you_url = f"{_site_origin(request)}/thank-you?order={order.order_id}"
        context = PurchaseContext(
            cookies=request.cookies,
            client_ip=(request.headers.get("x-forwarded-for") or request.client_ip).split(",")[0].strip(),
            user_agent=request.headers.get("user-agent", ""),
            page_url=thank_you_url,
        )
        for outgoing in purchase_requests(order, context, request.switches, self.endpoints):
            if outgoing.event_id:
                self.orders.record_server_event(order.order_id, outgoing.vendor, outgoing.event_id)
            try:
                self.sender.send(outgoing)
            except Exception:  # the purchase stands whatever the vendor call does
                log.exception("could not hand the %s event to the sender", outgoing.vendor)
        return Response.json(
            {
                "order_id": order.order_id,
                "value": order.value,
                "currency": order.currency,
                "event_id": order.event_id,
                "thank_you_url": thank_you_url,
            }
        )

    def _lead(self, request: Request) -> Response:
        try:
            lead = self.orders.create_lead(request.cookies.get(SESSION_COOKIE), request.json())
        except CheckoutError as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json({"lead_id": lead.lead_id, "event_id": str(uuid.uuid4())})


def _session_asked(request: Request) -> str | None:
    """``?all=1`` -> every session (None); ``?session=<id>``; else the caller's shop session cookie."""
    if request.param("all") in ("1", "true", "yes"):
        return None
    return request.param("session") or request.cookies.get(SESSION_COOKIE) or ""


def _site_origin(request: Request) -> str:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}"
    return request.origin(SITE_HOST)


def _with_cors(request: Request, response: Response) -> Response:
    """Credentialed CORS for the shop's own site (any scheme or port), nothing for other origins."""
    origin = request.headers.get("origin", "")
    host = (urlsplit(origin).hostname or "") if origin else ""
    if host == SITE_HOST or (host and host == request.host):
        response.headers += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", f"Content-Type, {BUGS_HEADER}"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
        ]
    return response
