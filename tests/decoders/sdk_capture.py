"""Capture the exact HTTP request a vendor's server SDK sends, without a network.

Meta's ``facebook-business`` sends through a ``requests.Session``: we mount a transport adapter that
records the ``PreparedRequest`` and answers like the Graph API. TikTok's
``tiktok-business-api-sdk-official`` sends through a urllib3 pool manager: we swap in one that
records the call and answers like the Business API. Both become ``CapturedRequest``s (source
"server") for the decoders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import requests
from requests.adapters import BaseAdapter

from harness.models import CapturedRequest


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


class RecordingAdapter(BaseAdapter):
    """A ``requests`` transport that records every request and answers with a fixed JSON 200."""

    def __init__(self, reply: dict[str, Any]):
        super().__init__()
        self.reply = reply
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self.reply).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def prepared_to_captured(prepared: requests.PreparedRequest, request_id: str = "sdk") -> CapturedRequest:
    return CapturedRequest(
        id=request_id,
        method=prepared.method or "POST",
        url=prepared.url or "",
        request_headers=[(k, str(v)) for k, v in prepared.headers.items()],
        body=_body_bytes(prepared.body),
        source="server",
    )


def meta_sdk_version() -> str:
    return version("facebook-business")


def capture_meta_event_request(events: list[Any], pixel_id: str, **request_kwargs: Any) -> CapturedRequest:
    """Run ``EventRequest(...).execute()`` of facebook-business and return what it sent."""
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.api import FacebookAdsApi

    api = FacebookAdsApi.init(access_token="EAAB-test-token", crash_log=False)
    adapter = RecordingAdapter({"events_received": len(events), "messages": [], "fbtrace_id": "AtestTrace"})
    api._session.requests.mount("https://", adapter)
    EventRequest(events=events, pixel_id=pixel_id, **request_kwargs).execute()
    assert len(adapter.sent) == 1, f"expected one request, the SDK sent {len(adapter.sent)}"
    return prepared_to_captured(adapter.sent[0])


@dataclass
class _Urllib3Reply:
    """Just enough of a urllib3 response for the swagger-generated TikTok client."""

    data: bytes
    status: int = 200
    reason: str = "OK"

    def getheaders(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.getheaders().get(name, default)


@dataclass
class RecordingPoolManager:
    reply: dict[str, Any]
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> _Urllib3Reply:
        self.calls.append((method, url, kwargs))
        return _Urllib3Reply(json.dumps(self.reply).encode())


def tiktok_sdk_version() -> str:
    return version("tiktok-business-api-sdk-official")


def capture_tiktok_call(call_name: str, body: Any, access_token: str = "tt-test-token") -> CapturedRequest:
    """Call ``EventCallbackApi.<call_name>(access_token, body=...)`` and return what it sent."""
    from business_api_client.api.event_callback_api import EventCallbackApi
    from business_api_client.api_client import ApiClient

    client = ApiClient()
    pool = RecordingPoolManager({"code": 0, "message": "OK", "request_id": "test", "data": {}})
    client.rest_client.pool_manager = pool
    getattr(EventCallbackApi(client), call_name)(access_token, body=body)
    assert len(pool.calls) == 1, f"expected one request, the SDK sent {len(pool.calls)}"
    method, url, kwargs = pool.calls[0]
    return CapturedRequest(
        id="sdk",
        method=method,
        url=url,
        request_headers=[(k, str(v)) for k, v in (kwargs.get("headers") or {}).items()],
        body=_body_bytes(kwargs.get("body")),
        source="server",
    )
