"""Turning a scenario's steps into a journey: each step performed with Playwright and recorded."""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, FrameLocator, Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from harness.browser.pace import requests_in_flight
from harness.browser.page_calls import bounded
from harness.models import StepRecord
from harness.scenario import (
    ClickStep,
    FillStep,
    GotoStep,
    PressStep,
    ScriptStep,
    ScrollStep,
    SelectStep,
    WaitForStep,
    WaitForUrlStep,
    _ElementStep,
    _Step,
    step_action,
    step_label,
)


class StepFailed(PlaywrightError):
    """A step could not be performed; the message names the step."""


def substitute(text: str, run_token: str) -> str:
    """``{run}`` in typed values becomes a run-unique token (qa+{run}@example.test)."""
    return text.replace("{run}", run_token)


def _selector(step: _Step) -> str | None:
    for attr in ("goto", "click", "fill", "select", "press", "wait_for", "wait_for_url", "scroll"):
        value = getattr(step, attr, None)
        if isinstance(value, str):
            return value
    return None


def _target(step: _Step) -> str | None:
    """What the step acts on, as the report shows it: the selector, and the iframe it is in."""
    selector = _selector(step)
    frames = step.frames() if isinstance(step, _ElementStep) else []
    return f"{selector} (in {' > '.join(frames)})" if selector and frames else selector


def _locate(page: Page, step: _ElementStep, selector: str) -> Locator:
    """The step's element: in the page, or through each iframe of ``frame`` (outermost first)."""
    scope: Page | FrameLocator = page
    for frame in step.frames():
        scope = scope.frame_locator(frame)
    return scope.locator(selector).first


_SCROLL_TO_END = """(html, end) => {
  const doc = html.ownerDocument;
  doc.defaultView.scrollTo(0, end === 'bottom' ? doc.body.scrollHeight : 0);
}"""

# Steps after which a new document may be on its way (a link, a submit, a script that sets location).
_MAY_NAVIGATE = (ClickStep, PressStep, ScriptStep, SelectStep)
# Steps that may unload their page: what it has set off must have left it first (harness.browser.pace).
_MAY_UNLOAD = (*_MAY_NAVIGATE, GotoStep)


class _LoadPatience:
    """How long an action waits for its page's ``load``: half the step's time, once per document. A page
    that never loads (a hanging image or ad) costs that grace on its first action, not on every one."""

    def __init__(self, page: Page) -> None:
        self._document = 0
        self._gave_up_on = -1
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self._document += 1

    async def wait_for_load(self, page: Page, timeout: float) -> None:
        if self._gave_up_on == self._document:
            return
        try:
            # Answered locally (Playwright tracks load states from events) once the page has loaded.
            await page.wait_for_load_state("load", timeout=max(1.0, timeout / 2))
        except PlaywrightTimeout:
            self._gave_up_on = self._document  # go on as a person would, and do not wait on it again


async def _wait_until_wired(
    page: Page, element: Locator, timeout: float, navigation_possible: bool, patience: _LoadPatience
) -> float:
    """Wait for ``selector``'s page to finish loading before touching it; return the time left to act.

    An element is on screen as soon as it is parsed, but the scripts that give it a handler (and the tags
    that listen to it) run later: a click at first sight hits a dead button and the journey stalls, where
    a person would have waited for the page. After a step that may have started a navigation, the element
    is awaited first so that the load state read is its own document's, not the one being left.
    """
    started = time.monotonic()
    if navigation_possible:
        await element.wait_for(state="attached", timeout=timeout)
    await patience.wait_for_load(page, timeout)
    # Playwright reads a timeout of 0 as "no timeout": never hand it one.
    return max(1.0, timeout - (time.monotonic() - started) * 1000)


class _Cursor:
    """The page the journey acts on: the landing page, until a step opens a popup (then that one)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.patience = _LoadPatience(page)

    def move_to(self, page: Page) -> None:
        self.page = page
        self.patience = _LoadPatience(page)
        requests_in_flight(page)


async def _perform(cursor: _Cursor, step: _Step, run_token: str, timeout: float, after: _Step | None) -> str | None:
    """Do one step (``after`` the one before it, if any); return what it typed, if anything."""
    page, patience = cursor.page, cursor.patience
    step_timeout = timeout  # what the step was given; ``timeout`` is what is left of it once the page is ready
    element = _locate(page, step, _selector(step) or "") if isinstance(step, _ElementStep) else None
    if element is not None and isinstance(step, ClickStep | FillStep | SelectStep | PressStep):
        navigation_possible = isinstance(after, _MAY_NAVIGATE)
        timeout = await _wait_until_wired(page, element, timeout, navigation_possible, patience)
    if isinstance(step, _MAY_UNLOAD):
        await requests_in_flight(page).calm()
    match step:
        case GotoStep(goto=url):
            await page.goto(urljoin(page.url, url), timeout=timeout)
        case ClickStep(popup=True) | PressStep(popup=True) if element is not None:
            acted = False
            try:
                async with page.expect_popup(timeout=timeout) as opened:
                    if isinstance(step, PressStep):
                        await element.press(step.key, timeout=timeout)
                    else:
                        await element.click(timeout=timeout)
                    acted = True
                popup = await opened.value
            except PlaywrightTimeout:
                if not acted:
                    raise  # the element itself never came: the usual message names it
                raise StepFailed(
                    f"no new tab or window opened within {step_timeout:.0f} ms (popup: true); if the page opens in "
                    "the same tab, drop popup"
                ) from None
            cursor.move_to(popup)  # the steps after this one act in the new tab
        case ClickStep() if element is not None:
            await element.click(timeout=timeout)
        case FillStep(value=value) if element is not None:
            typed = substitute(value, run_token)
            await element.fill(typed, timeout=timeout)
            return typed
        case SelectStep(value=value) if element is not None:
            await element.select_option(value, timeout=timeout)
            return None
        case PressStep(key=key) if element is not None:
            await element.press(key, timeout=timeout)
        case WaitForStep() if element is not None:
            await element.wait_for(state="visible", timeout=timeout)
        case WaitForUrlStep(wait_for_url=pattern):
            await page.wait_for_url(pattern, timeout=timeout)
        case ScrollStep(scroll="bottom" | "top" as end):
            # The document that scrolls is the page's, or the frame's when the step names one.
            await bounded(_locate(page, step, "html").evaluate(_SCROLL_TO_END, end), timeout)
        case ScrollStep() if element is not None:
            await element.scroll_into_view_if_needed(timeout=timeout)
        case ScriptStep(script=script):
            await bounded(page.evaluate(script), timeout)
    return None


def _step_error(exc: PlaywrightError, target: str | None, timeout_ms: float) -> str:
    """One line: a timeout names what it waited for (Playwright's first line does not); else its message."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, PlaywrightTimeout) and target:
        return f"waited {timeout_ms:.0f} ms for {target!r}, it never came ({first})"
    return first


def scenario_journey(steps: Sequence[_Step], run_token: str, default_timeout_ms: int):  # type: ignore[no-untyped-def]
    """An async journey for ``run_visit`` that performs ``steps`` and appends a record of each."""

    async def journey(page: Page, records: list[StepRecord]) -> Page:
        """Returns the page it ended on: the landing page, or a popup a step moved to."""
        cursor = _Cursor(page)
        requests_in_flight(page)  # already watched when the run started it; else from now on
        for index, step in enumerate(steps):
            record = StepRecord(
                index=index,
                label=step_label(index, step),
                action=step_action(step),
                target=_target(step),
                started_at=time.time(),
                consent=step.consent,
            )
            records.append(record)
            timeout = step.timeout_ms or default_timeout_ms
            try:
                before = steps[index - 1] if index else None
                record.typed = await _perform(cursor, step, run_token, timeout, before)
            except PlaywrightError as exc:
                record.error = _step_error(exc, record.target, timeout)
                record.ended_at = time.time()
                raise StepFailed(f"{record.label}: {record.error}") from None
            record.ended_at = time.time()
            record.url_after = cursor.page.url
        return cursor.page

    return journey
