"""``eventpath proxy``: the capture proxy in the foreground for a backend you start yourself.

    eventpath proxy --port 8899 --confdir ~/.cache/eventpath/proxy          # terminal 1: runs until Ctrl-C
    eval "$(eventpath proxy --port 8899 --confdir ~/.cache/eventpath/proxy --print-env)"   # terminal 2
    ./start-my-backend                                                      # its CAPI calls show in terminal 1

The CA lives in ``--confdir`` and persists across runs, so the printed environment stays valid; with a
fixed ``--port`` ``--print-env`` needs no running proxy. Without ``--print-env`` the proxy prints the
same lines (as ``export``s, with ``#`` comments, so the output itself can be eval'd), then one line per
server hit: vendor, event, event_id, transaction_id, value.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from harness.app_env import app_environment, format_env
from harness.capture.ca import ensure_ca
from harness.capture.proxy import CaptureProxy
from harness.decoders.registry import DecoderRegistry
from harness.errors import BadInput, EventpathError
from harness.models import CapturedRequest, DecodedEvent
from harness.options import HostMapping
from harness.urls import host_matches

NAME = "proxy"
HELP = "run the capture proxy for a backend: print the environment that routes it, log its server hits"
DEFAULT_CONFDIR = Path.home() / ".cache" / "eventpath" / "proxy"
POLL_S = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="backend port (HTTPS_PROXY); 0 picks a free one")
    parser.add_argument(
        "--confdir",
        type=Path,
        default=DEFAULT_CONFDIR,
        help=f"where the CA and the CA bundle live, kept across runs (default: {DEFAULT_CONFDIR})",
    )
    parser.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST=ADDR:PORT",
        help="send http and https requests for HOST to a plain-HTTP server at ADDR:PORT; repeatable",
    )
    parser.add_argument(
        "--live", action="store_true", help="forward hits to the real vendors (default: answer locally)"
    )
    parser.add_argument(
        "--sinkhole", action="append", default=[], metavar="HOST", help="also answer HOST locally; repeatable"
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print only the environment for a proxy on --port with this --confdir, and exit (for eval)",
    )
    parser.add_argument(
        "--shell", choices=("sh", "fish", "dotenv"), default="sh", help="format of the environment lines"
    )


def proxy_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def event_line(event: DecodedEvent) -> str:
    parts = [event.vendor, event.event]
    for name in ("event_id", "transaction_id"):
        parts.append(f"{name}={getattr(event, name) or '-'}")
    if event.value is not None or event.currency:
        parts.append(f"value={event.value} {event.currency or ''}".rstrip())
    if event.malformed:
        parts.append(f"MALFORMED: {event.malformed_reason}")
    return "  ".join(parts)


def request_lines(request: CapturedRequest, registry: DecoderRegistry) -> list[str]:
    """What one backend request looked like, one line per decoded event (or one for the request)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(request.started_at or time.time()))
    events = registry.decode(request) if request.tag_hit else []
    if events:
        return [f"{stamp}  {event_line(e)}" for e in events]
    status = request.status if request.status is not None else request.error or "no answer"
    note = "tag hit, not decoded" if request.tag_hit else "not a tag hit"
    if not request.tag_hit and (vendor := vendor_of_host(registry, request.host)) is not None:
        # A platform's host, but no call eventpath knows: if it reports a conversion, it went on unread.
        note += (
            f"; a {vendor} host: if this reports a conversion, eventpath does not know its format and it was "
            f"sent on to the platform (--sinkhole {request.host} answers it locally)"
        )
    return [f"{stamp}  {request.method} {request.url} -> {status} ({note})"]


def vendor_of_host(registry: DecoderRegistry, host: str) -> str | None:
    """The vendor whose decoder names ``host`` among the only hosts its hits go to, if any."""
    for decoder in registry.decoders:
        hosts = decoder.platform_hosts or decoder.claim_hosts
        if hosts is not None and host_matches(host, hosts):
            return decoder.vendor
    return None


def follow_server_hits(
    proxy: CaptureProxy, registry: DecoderRegistry, out: TextIO, stop: threading.Event
) -> None:
    """Print each new unattributed (backend) request until ``stop`` is set."""
    seen: set[str] = set()
    while not stop.is_set():
        for request in proxy.unattributed():
            if request.id in seen:
                continue
            seen.add(request.id)
            for line in request_lines(request, registry):
                print(line, file=out, flush=True)
        stop.wait(POLL_S)


def print_env(port: int, confdir: Path, shell: str, out: TextIO) -> None:
    if not port:
        raise BadInput("--print-env needs the --port the proxy runs on (a fixed one, not 0)")
    ca = ensure_ca(confdir)  # the same CA the running proxy uses: it lives in confdir
    print(format_env(app_environment(proxy_url(port), ca.cert_path, confdir), shell), file=out)


def run(args: argparse.Namespace, out: TextIO | None = None, stop: threading.Event | None = None) -> int:
    out = out or sys.stdout
    confdir = Path(args.confdir).expanduser()
    if args.print_env:
        print_env(args.port, confdir, args.shell, out)
        return 0
    registry = DecoderRegistry.default()
    proxy = CaptureProxy(
        registry.sinkhole_reply,
        resolve=[HostMapping.parse(r) for r in args.resolve],
        sinkhole=args.sinkhole,
        live=args.live,
        server_port=args.port,
        confdir=confdir,
    )
    with proxy:
        env = app_environment(proxy.server_url, proxy.ca.cert_path, confdir)
        mode = "forwarding hits to the vendors" if args.live else "answering tag hits locally"
        print(f"# eventpath proxy on {proxy.server_url} ({mode}); CA {proxy.ca.cert_path}", file=out)
        print("# route a backend through it with:", file=out)
        print(format_env(env, args.shell), file=out)
        print("# server hits (Ctrl-C to stop):", file=out, flush=True)
        try:
            follow_server_hits(proxy, registry, out, stop or threading.Event())
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.cli.proxy``: the same command without the ``eventpath`` front door."""
    parser = argparse.ArgumentParser(prog="eventpath proxy", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except EventpathError as exc:
        print(f"eventpath: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
