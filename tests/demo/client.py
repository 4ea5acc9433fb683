"""A tiny HTTP client for the shop: talks to 127.0.0.1 and names the demo host in the Host header,
the way a proxy mapping or host-resolver rule would deliver the request."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def headers_named(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    host: str,
    path: str,
    method: str = "GET",
    *,
    body: bytes | dict | None = None,
    headers: dict[str, str] | None = None,
    with_port: bool = True,
) -> Reply:
    """``with_port=False`` sends ``Host: host`` alone, as the harness proxy does for https://host."""
    all_headers = {"Host": f"{host}:{port}" if with_port else host, **(headers or {})}
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()
