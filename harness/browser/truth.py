"""Reading the backend truth of a run (what the site really did) from the source a scenario names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from harness.browser.page_calls import bounded
from harness.models import BackendTruth, TruthOrder
from harness.scenario import TruthSource

_NUMBER = re.compile(r"-?\d[\d.,]*")


def _number(text: Any) -> float | None:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    match = _NUMBER.search(str(text or ""))
    if not match:
        return None
    raw = match.group(0)
    # "1.299,00" and "1,299.00": the last separator is the decimal one.
    if "," in raw and "." in raw:
        raw = raw.replace(",", "") if raw.rfind(".") > raw.rfind(",") else raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


def orders_from_json(data: Any) -> list[TruthOrder]:
    """Orders from ``[{...}]`` or ``{"orders": [{...}]}``; ids and amounts under their common names."""
    items = data.get("orders", []) if isinstance(data, dict) else data
    orders: list[TruthOrder] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        order_id = item.get("order_id") or item.get("id") or item.get("transaction_id")
        value = next((item[k] for k in ("value", "total", "revenue", "amount") if k in item), None)
        orders.append(
            TruthOrder(
                order_id=str(order_id) if order_id is not None else None,
                value=_number(value),
                currency=item.get("currency"),
            )
        )
    return orders


_READ_TIMEOUT_MS = 2_000


async def read_truth(
    source: TruthSource, page: Page | None, context: BrowserContext, base: Path | None
) -> BackendTruth:
    """Never raises: a source that cannot be read is reported in ``error``. ``page`` is None when the final
    page can no longer be read (it crashed or stopped answering)."""
    if source.order_api:
        label = f"order API {source.order_api}"
        try:
            # The run's own context: its cookies (the shop session) come along.
            response = await context.request.get(source.order_api, timeout=10_000)
            if not response.ok:
                return BackendTruth(source=label, error=f"HTTP {response.status}")
            return BackendTruth(source=label, orders=orders_from_json(await response.json()))
        except (PlaywrightError, ValueError) as exc:
            return BackendTruth(source=label, error=str(exc).splitlines()[0])
    if source.page:
        if page is None:
            return BackendTruth(source="page", error="the final page crashed or stopped answering: nothing to read")
        label = f"page {page.url}"
        values: dict[str, str | None] = {}
        try:
            for key, selector in source.page.items():
                locator = page.locator(selector).first
                found = await bounded(locator.count(), _READ_TIMEOUT_MS)
                values[key] = await locator.text_content(timeout=_READ_TIMEOUT_MS) if found else None
        except PlaywrightError as exc:
            return BackendTruth(source=label, error=str(exc).splitlines()[0])
        if not any(values.values()):
            return BackendTruth(source=label, error="none of the selectors matched on the final page")
        order = TruthOrder(
            order_id=(values.get("order_id") or "").strip() or None,
            value=_number(values.get("value")),
            currency=(values.get("currency") or "").strip() or None,
        )
        return BackendTruth(source=label, orders=[order])
    if source.file:
        path = Path(source.file)
        if base is not None and not path.is_absolute():
            path = base / path
        label = f"file {path}"
        try:
            return BackendTruth(source=label, orders=orders_from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            return BackendTruth(source=label, error=str(exc))
    return BackendTruth(source="(none named)", error="the truth source names no order_api, page or file")
