"""``eventpath demo``: the embedded demo shop. ``--serve`` runs it in the foreground."""

from __future__ import annotations

import argparse
import threading

from harness.demo.catalog import API_HOST

NAME = "demo"
HELP = "Run the embedded demo shop (an offline shop with real-format tags and switchable seed bugs)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serve", action="store_true", help="serve the demo shop in the foreground until Ctrl-C"
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--bugs",
        default="",
        metavar="NAME[,NAME]",
        help="seed bugs to put on the printed ad click URL (see docs/demo-switches.md)",
    )


def run(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(port=args.port, bugs=args.bugs)
    print("eventpath demo: nothing to do yet; use --serve to run the demo shop")
    return 0


def serve(port: int = 0, bugs: str = "", stop: threading.Event | None = None) -> int:
    """Start the shop, print how to reach it, block until ``stop`` is set or Ctrl-C."""
    from harness.demo.server import DemoShop
    from harness.demo.switches import parse_switch_list

    switches = tuple(sorted(parse_switch_list(bugs))) if bugs else ()
    with DemoShop(port=port) as shop:
        mappings = " ".join(f"--resolve {m}" for m in shop.host_mappings())
        print(f"demo shop listening on http://127.0.0.1:{shop.port}", flush=True)
        print(f"host mappings: {mappings}")
        print(f"ad click URL (through the harness proxy): {shop.click_url(switches=switches)}")
        print(f"  e.g. eventpath trace {mappings} '{shop.click_url(switches=switches)}'")
        print(
            f'ad click URL (direct, Chromium --host-resolver-rules="MAP *.demo.test 127.0.0.1"): '
            f"{shop.click_url(switches=switches, direct=True)}"
        )
        print(f"backend orders: {shop.url('/api/orders?all=1', host=API_HOST, direct=True)}")
        print("press Ctrl-C to stop", flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("demo shop stopped")
    return 0
