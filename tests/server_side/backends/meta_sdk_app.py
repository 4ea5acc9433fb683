"""A backend that reports purchases to Meta with Meta's own ``facebook-business`` SDK, as a shop would.

Run: ``python meta_sdk_app.py --port 8123``; ``POST /purchase`` {event_id, order_id, value, currency,
email, fbc, fbp, page_url}.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.event_request import EventRequest
from facebook_business.adobjects.serverside.user_data import UserData
from facebook_business.api import FacebookAdsApi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _http import serve  # noqa: E402

PIXEL_ID = os.environ.get("META_PIXEL_ID", "1402533720264604")
FacebookAdsApi.init(access_token=os.environ.get("META_ACCESS_TOKEN", "EAAB-backend-token"), crash_log=False)


def send_purchase(order: dict[str, Any]) -> dict[str, Any]:
    user = UserData(
        emails=[order["email"]],  # the SDK normalises and hashes
        client_ip_address=order.get("client_ip", "203.0.113.7"),
        client_user_agent=order.get("user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        fbc=order.get("fbc"),
        fbp=order.get("fbp"),
    )
    event = Event(
        event_name="Purchase",
        event_time=int(time.time()),
        event_id=order["event_id"],
        event_source_url=order.get("page_url"),
        action_source=ActionSource.WEBSITE,
        user_data=user,
        custom_data=CustomData(value=order["value"], currency=order["currency"], order_id=order["order_id"]),
    )
    response = EventRequest(events=[event], pixel_id=PIXEL_ID).execute()
    return {"events_received": response.events_received, "fbtrace_id": response.fbtrace_id}


if __name__ == "__main__":
    serve(send_purchase)
