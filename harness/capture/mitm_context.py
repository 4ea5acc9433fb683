"""Make mitmproxy's ``ctx`` per thread, so several capture proxies can live in one process.

mitmproxy keeps ``ctx.master`` and ``ctx.options`` as module globals that every new ``Master`` overwrites;
its addons read them on every hook. With two proxies in one process (a pytest session harness and the
CLI under test, say) the first proxy would then serve TLS with the second one's options and CA. Each of
our proxies creates its Master on, and runs every hook on, a thread of its own, so thread-local values
give each proxy its own context. A thread that never created a Master sees the newest one, as before.
"""

from __future__ import annotations

import threading
import types
from typing import Any

from mitmproxy import ctx

_NAMES = ("master", "options", "log")


class _ThreadLocalContext(types.ModuleType):
    _local = threading.local()
    _latest: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name in _NAMES:
            value = getattr(_ThreadLocalContext._local, name, None)
            if value is not None:
                return value
            if name in _ThreadLocalContext._latest:
                return _ThreadLocalContext._latest[name]
        raise AttributeError(f"module 'mitmproxy.ctx' has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _NAMES:
            setattr(_ThreadLocalContext._local, name, value)
            _ThreadLocalContext._latest[name] = value
        else:
            super().__setattr__(name, value)


def install() -> None:
    """Idempotent: switch ``mitmproxy.ctx`` to per-thread values (keeping any already set)."""
    if isinstance(ctx, _ThreadLocalContext):
        return
    existing = {name: ctx.__dict__.pop(name) for name in _NAMES if name in ctx.__dict__}
    ctx.__class__ = _ThreadLocalContext
    for name, value in existing.items():
        setattr(ctx, name, value)


install()
