"""``eventpath decode URL``: decode one tag hit an analyst pasted from devtools, without a browser."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mitmproxy.net.encoding import decode as decode_content

from harness.decoders.registry import DecoderRegistry
from harness.errors import BadInput
from harness.models import CapturedRequest, DecodedEvent

NAME = "decode"
HELP = "Decode one tag hit (a URL, optionally with method, body and headers) into vendor events."

_METHOD = re.compile(r"^[A-Za-z]+$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url", help="the request URL as copied from devtools (https:// is assumed if missing)"
    )
    parser.add_argument("--method", help="HTTP method (default: POST when --body is given, else GET)")
    parser.add_argument("--body", metavar="FILE|-", help="request body from a file, or - to read stdin")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'K: V'",
        help="a request header, e.g. 'Content-Type: text/plain' (repeatable)",
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="the hit was sent by a backend (a Conversions API call from a server's log), not a page: "
        "decoded as the capture proxy decodes a backend's hits",
    )
    parser.add_argument("--json", action="store_true", help="print the events as a JSON list")


def run(args: argparse.Namespace) -> int:
    request = build_request(args.url, args.method, args.body, args.header, server=args.server)
    registry = DecoderRegistry.default()
    if registry.claimant(request) is None:
        print(f"no decoder claimed {request.url}", file=sys.stderr)
        return 1
    events = registry.decode(request)
    if args.json:
        print(json.dumps([event.model_dump(mode="json") for event in events], indent=2))
    else:
        print("\n\n".join(format_event(index, event) for index, event in enumerate(events, start=1)))
    return 0


# --- input ----------------------------------------------------------------------------------------


def build_request(
    url: str, method: str | None, body_source: str | None, headers: list[str], *, server: bool = False
) -> CapturedRequest:
    body = _read_body(body_source) if body_source is not None else b""
    if method is None:
        method = "POST" if body_source is not None else "GET"
    if not _METHOD.match(method):
        raise BadInput(f"--method: {method!r} is not an HTTP method; use e.g. --method POST")
    request_headers = [_parse_header(header) for header in headers]
    encoding = next((v for k, v in request_headers if k.lower() == "content-encoding"), "")
    return CapturedRequest(
        id="cli",
        method=method.upper(),
        url=_normalise_url(url),
        request_headers=request_headers,
        body=_decoded_body(body, encoding),
        # Pasted from devtools unless told: a page sending a server API's call is what decoders flag.
        source="server" if server else "browser",
    )


def _normalise_url(raw: str) -> str:
    url = raw.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise BadInput(
            f"URL: {raw!r} is not an http(s) URL; paste the full request URL, "
            "e.g. 'https://px.ads.linkedin.com/collect?pid=123&fmt=gif'"
        )
    return url


def _read_body(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BadInput(
            f"--body: cannot read {source!r} ({reason}); give a readable file, or - for stdin"
        ) from None


def _decoded_body(body: bytes, encoding: str) -> bytes:
    """The body as the decoders read it: decompressed per its Content-Encoding (gzip, deflate, br, zstd), as
    the capture proxy does; a body that does not decompress stays as given (the decoder then says so)."""
    if not body or encoding.strip().lower() in ("", "identity"):
        return body
    try:
        decoded = decode_content(body, encoding.strip().lower())
    except ValueError:
        return body
    return decoded if isinstance(decoded, bytes) else body


def _parse_header(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition(":")
    name = name.strip()
    if not sep or not _HEADER_NAME.match(name):
        raise BadInput(
            f"--header: {raw!r} is not 'Name: value'; write it like --header 'Content-Type: text/plain'"
        )
    return name, value.strip()


# --- output ---------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None or value == {} or value == "":
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number(number: float) -> str:
    # 116.0 reads as "116"; other values keep every digit (":g" would round 1234567.89).
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _pairs(mapping: dict[str, Any]) -> str:
    return " ".join(f"{key}={_show(value)}" for key, value in mapping.items()) or "-"


def _consent(event: DecodedEvent) -> str:
    consent = event.consent.model_dump(exclude_none=True, exclude_defaults=True)
    other = consent.pop("other", {})
    return _pairs({**consent, **other})


def format_event(index: int, event: DecodedEvent) -> str:
    """One human-readable block: the fixed fields in a fixed order, then the remaining parameters."""
    heading = f"[{index}] {event.vendor}  {event.event}"
    if event.source == "server":
        heading += "  (server)"
    if event.malformed:
        heading += f"  MALFORMED: {event.malformed_reason or 'unreadable hit'}"
    value = "-" if event.value is None else _number(event.value)
    if event.currency:
        value += f" {event.currency}"
    rows = [
        ("account", _show(event.account_id)),
        ("value", value),
        ("event_id", _show(event.event_id)),
        ("transaction_id", _show(event.transaction_id)),
        ("click_ids", _pairs(event.click_ids)),
        ("consent", _consent(event)),
        ("user_data", _pairs(event.user_data)),
        ("page_url", _show(event.page_url)),
    ]
    lines = [heading] + [f"    {label:<15}{text}" for label, text in rows]
    if event.params:
        lines.append("    params")
        lines += [f"      {key} = {_show(value)}" for key, value in event.params.items()]
    return "\n".join(lines)
