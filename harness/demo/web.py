"""The small request/response types the shop's routes exchange, independent of http.server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    host: str  # lowercase, without port
    port: int | None  # the port the Host header named, None when it named none
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lowercase names
    body: bytes
    client_ip: str
    switches: frozenset[str] = frozenset()

    @classmethod
    def parse_host(cls, host_header: str) -> tuple[str, int | None]:
        host, _, port = host_header.strip().lower().rpartition(":")
        if not host or not port.isdigit():  # no port (or an IPv6 literal without one)
            return host_header.strip().lower(), None
        return host, int(port)

    @property
    def scheme(self) -> str:
        """The scheme the browser used. Behind the harness proxy the browser asked for https://host (no
        port) and the proxy speaks plain HTTP to us; a direct visit names the port."""
        forwarded = self.headers.get("x-forwarded-proto")
        if forwarded:
            return forwarded.split(",")[0].strip()
        return "http" if self.port is not None else "https"

    def origin(self, host: str) -> str:
        """The origin of another of the shop's hosts, as the browser reaches it."""
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def cookies(self) -> dict[str, str]:
        # Parsed by hand: SimpleCookie silently drops every cookie after one it dislikes.
        jar: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in jar:
                jar[name] = value.strip().strip('"')
        return jar

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay_seconds: float = 0.0  # the server waits this long before answering (slow_page)

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status=status, body=text.encode())

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(data).encode(), content_type="application/json")

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(
            status=status,
            content_type="text/plain; charset=utf-8",
            headers=[("Location", location)],
            body=f"Redirecting to {location}\n".encode(),
        )

    def set_cookie(
        self, name: str, value: str, domain: str | None, max_age: int | None = None, http_only: bool = False
    ) -> Response:
        parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
        if domain:
            parts.append(f"Domain={domain}")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if http_only:
            parts.append("HttpOnly")
        self.headers.append(("Set-Cookie", "; ".join(parts)))
        return self
