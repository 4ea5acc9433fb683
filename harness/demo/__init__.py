"""The demo shop: an offline shop with real-format tags and seed bugs that ``eventpath demo``, the
example scenarios and most tests run against. See ``server.DemoShop`` and ``switches.SWITCHES``."""

from __future__ import annotations

from typing import Any

__all__ = ["DemoShop"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``python -m harness.demo.switches`` and light imports do not load the server.
    if name == "DemoShop":
        from harness.demo.server import DemoShop

        return DemoShop
    raise AttributeError(name)
