"""A backend that reports purchases to TikTok with TikTok's own ``tiktok-business-api-sdk-official``.

Run: ``python tiktok_sdk_app.py --port 8124``; ``POST /purchase`` {event_id, order_id, value, currency,
email_sha256, ttclid, ttp, page_url} (this SDK model has no order_id). The SDK reads neither HTTPS_PROXY nor SSL_CERT_FILE itself; the
harness's environment (its sitecustomize on PYTHONPATH) is what routes it.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

from business_api_client.api.event_callback_api import EventCallbackApi
from business_api_client.api_client import ApiClient
from business_api_client.models.pixel_context import PixelContext
from business_api_client.models.pixel_context_ad import PixelContextAd
from business_api_client.models.pixel_context_page import PixelContextPage
from business_api_client.models.pixel_context_user import PixelContextUser
from business_api_client.models.pixel_properties import PixelProperties
from business_api_client.models.pixel_track_body import PixelTrackBody

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _http import serve  # noqa: E402

PIXEL_CODE = os.environ.get("TIKTOK_PIXEL_CODE", "CABCDE12345FGHIJ6789")
ACCESS_TOKEN = os.environ.get("TIKTOK_ACCESS_TOKEN", "tt-backend-token")


def send_purchase(order: dict[str, Any]) -> dict[str, Any]:
    body = PixelTrackBody(
        pixel_code=PIXEL_CODE,
        event="CompletePayment",
        event_id=order["event_id"],
        timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        context=PixelContext(
            ad=PixelContextAd(callback=order.get("ttclid")),
            page=PixelContextPage(url=order.get("page_url")),
            user=PixelContextUser(email=order.get("email_sha256"), ttp=order.get("ttp")),
            ip=order.get("client_ip", "203.0.113.7"),
            user_agent=order.get("user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        ),
        properties=PixelProperties(currency=order["currency"], value=order["value"]),
    )
    reply = EventCallbackApi(ApiClient()).pixel_track(ACCESS_TOKEN, body=body)
    answer = reply if isinstance(reply, dict) else reply.to_dict()
    return {"request_id": answer.get("request_id")}


if __name__ == "__main__":
    serve(send_purchase)
