"""Consent answered on the common CMPs without selectors in the scenario: the known CMPs' buttons are raced
(page and CMP iframes) and the first banner's is clicked. Real runs through the harness (proxy, Chromium,
decoders) against ``cmp_site``: the real vanilla-cookieconsent and Klaro code, and the closed CMPs'
documented markup; short error cases drive ``answer_consent`` on a page directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args
from urllib.parse import unquote

import pytest
import yaml
from playwright.async_api import Page

from harness.browser.cmps import CMPS, CmpName, cmps_named
from harness.browser.conditions import ConsentNotAnswered, answer_consent
from harness.browser.visit import VisitPlan
from harness.cli.schema import scenario_schema
from harness.engine import Harness
from harness.models import RunResult, StepRecord
from harness.options import RunOptions
from harness.scenario import ConsentSelectors, RunConditions, Scenario
from tests.conditions.cmp_site import CmpSite
from tests.conditions.conftest import BrowserRunner

# --- the table and the scenario field -----------------------------------------------------------------


def test_every_cmp_name_has_entries_and_the_schema_offers_them() -> None:
    assert {c.key for c in CMPS} == set(get_args(CmpName))
    assert len(CMPS) >= 17 and all(c.accept for c in CMPS)
    assert [c.name for c in cmps_named("trustarc")] == ["TrustArc", "TrustArc"]  # the page banner and the iframe
    assert cmps_named("auto") == CMPS
    enum = scenario_schema()["$defs"]["ConsentSelectors"]["properties"]["cmp"]["enum"]  # type: ignore[index]
    assert enum[0] == "auto" and set(enum[1:]) == set(get_args(CmpName))


def test_selectors_left_unset_are_detected_and_written_ones_are_kept() -> None:
    def selectors(text: str) -> ConsentSelectors:
        doc = f"name: s\nad_click: {{url: 'https://shop.example/'}}\n{text}"
        return Scenario.model_validate(yaml.safe_load(doc)).consent_selectors

    auto = selectors("")
    assert (auto.cmp, auto.explicit("accept"), auto.explicit("reject")) == ("auto", None, None)
    # The defaults' values are unchanged for code that reads them.
    assert (auto.accept, auto.reject) == ("#consent-accept", "#consent-reject")
    mixed = selectors("consent_selectors: {cmp: onetrust, reject: '#no-thanks'}")
    assert (mixed.cmp, mixed.explicit("accept"), mixed.explicit("reject")) == ("onetrust", None, "#no-thanks")
    # Writing the old default out keeps it exactly as before: clicked as written, no detection.
    assert selectors("consent_selectors: {accept: '#consent-accept'}").explicit("accept") == "#consent-accept"
    with pytest.raises(ValueError, match="'onetrust', 'cookiebot'"):
        selectors("consent_selectors: {cmp: one-trust}")


# --- real runs through the harness ----------------------------------------------------------------------

pytest_browser = pytest.mark.browser


@pytest.fixture(scope="module")
def cmp_site() -> Iterator[CmpSite]:
    with CmpSite() as site:
        yield site


@pytest.fixture(scope="module")
def cmp_harness(cmp_site: CmpSite) -> Iterator[Harness]:
    options = RunOptions(resolve=cmp_site.mappings(), navigation_timeout_ms=10_000, capture_timeout_ms=3_000)
    with Harness(options) as started:
        yield started


def run(harness: Harness, site: CmpSite, path: str, choice: str, **selectors: Any) -> RunResult:
    plan = VisitPlan(
        conditions=RunConditions.model_validate({"consent": choice}),
        consent_selectors=ConsentSelectors.model_validate(selectors),
    )
    return harness.visit(site.url(path), plan=plan)


def consent_step(result: RunResult) -> StepRecord:
    [step] = [s for s in result.capture.steps if s.consent]
    return step


def clicked(result: RunResult) -> list[str]:
    """The ``data-hit`` of every banner button the run clicked, from the GA4 hits the clicks sent."""
    return [e.params.get("event_params", {}).get("hit", "") for e in result.events if e.vendor == "ga4"]


def cookie(result: RunResult, name: str) -> str | None:
    return next((unquote(c.value) for c in result.capture.cookies if c.name == name), None)


CLOSED_CMPS = [
    ("onetrust", "OneTrust", {"accept": "#onetrust-accept-btn-handler", "reject": "#onetrust-reject-all-handler"}),
    (
        "cookiebot",
        "Cookiebot",
        {
            "accept": "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll, #CybotCookiebotDialogBodyButtonAccept",
            "reject": "#CybotCookiebotDialogBodyButtonDecline",
        },
    ),
    (
        "didomi",
        "Didomi",
        {
            "accept": "#didomi-notice-agree-button",
            "reject": "#didomi-notice-disagree-button, .didomi-continue-without-agreeing",
        },
    ),
    (
        "usercentrics",
        "Usercentrics",
        {
            "accept": "button[data-testid='uc-accept-all-button']",
            "reject": "button[data-testid='uc-deny-all-button']",
        },
    ),
    (
        "sourcepoint",
        "Sourcepoint",
        {
            "accept": 'button.sp_choice_type_11 in iframe[id^="sp_message_iframe"]',
            "reject": 'button.sp_choice_type_13 in iframe[id^="sp_message_iframe"]',
        },
    ),
    (
        "trustarc-frame",
        "TrustArc",
        {"accept": ".call in iframe.truste_popframe", "reject": ".rejectAll, .required in iframe.truste_popframe"},
    ),
]


@pytest_browser
@pytest.mark.parametrize("choice", ["accept", "reject"])
@pytest.mark.parametrize(("banner", "name", "targets"), CLOSED_CMPS, ids=[c[0] for c in CLOSED_CMPS])
def test_a_closed_cmp_is_found_and_its_button_clicked(
    cmp_harness: Harness, cmp_site: CmpSite, banner: str, name: str, targets: dict[str, str], choice: str
) -> None:
    result = run(cmp_harness, cmp_site, f"/banners?show={banner}", choice)
    assert result.capture.error is None, result.capture.error
    step = consent_step(result)
    assert (step.label, step.target, step.consent, step.error) == (
        f"consent: {choice} ({name})", targets[choice], choice, None
    )
    # The page saw exactly that button clicked: never the other answer, nor settings.
    assert clicked(result) == [f"{banner.removesuffix('-frame')}-{choice}"]


@pytest_browser
@pytest.mark.parametrize("choice", ["accept", "reject"])
def test_the_real_vanilla_cookieconsent_records_the_answer(cmp_harness: Harness, cmp_site: CmpSite, choice: str) -> None:
    result = run(cmp_harness, cmp_site, "/cookieconsent", choice)
    assert result.capture.error is None, result.capture.error
    step = consent_step(result)
    assert step.label == f"consent: {choice} (CookieConsent)"
    assert step.target == ("#cc-main .cm__btn[data-role=all]" if choice == "accept" else "#cc-main .cm__btn[data-role=necessary]")
    stored = cookie(result, "cc_cookie")
    assert stored is not None, [c.name for c in result.capture.cookies]
    categories = json.loads(stored)["categories"]
    assert categories == (["necessary", "analytics"] if choice == "accept" else ["necessary"])


@pytest_browser
@pytest.mark.parametrize("choice", ["accept", "reject"])
def test_the_real_klaro_records_the_answer(cmp_harness: Harness, cmp_site: CmpSite, choice: str) -> None:
    result = run(cmp_harness, cmp_site, "/klaro", choice)
    assert result.capture.error is None, result.capture.error
    step = consent_step(result)
    assert step.label == f"consent: {choice} (Klaro)"
    stored = cookie(result, "klaro")
    assert stored is not None, [c.name for c in result.capture.cookies]
    assert json.loads(stored) == {"analytics": choice == "accept"}


@pytest_browser
def test_a_cmp_without_a_known_reject_is_refused_not_accepted(cmp_harness: Harness, cmp_site: CmpSite) -> None:
    result = run(cmp_harness, cmp_site, "/banners?show=quantcast", "reject")
    error = result.capture.error or ""
    assert error.startswith("consent banner not answered: Quantcast Choice's banner is up but has no known"), error
    assert "set consent_selectors.reject" in error and "'#disagree-btn'" in error
    step = consent_step(result)
    assert step.label == "consent: reject (Quantcast Choice)" and step.error and step.consent == "reject"
    assert clicked(result) == []  # AGREE was not clicked
    # Accept on the same banner works: the refusal is about reject only.
    accepted = run(cmp_harness, cmp_site, "/banners?show=quantcast", "accept")
    assert accepted.capture.error is None and clicked(accepted) == ["quantcast-accept"]


@pytest_browser
def test_explicit_selectors_win_over_detection(cmp_harness: Harness, cmp_site: CmpSite) -> None:
    # OneTrust shows at once, the site's own banner 600 ms later: detection would click OneTrust.
    path = "/banners?show=onetrust,custom&d_onetrust=0&d_custom=600"
    detected = run(cmp_harness, cmp_site, path, "accept")
    assert clicked(detected) == ["onetrust-accept"]
    written = run(cmp_harness, cmp_site, path, "accept", accept="#my-accept")
    assert written.capture.error is None, written.capture.error
    step = consent_step(written)
    assert (step.label, step.target) == ("consent: accept", "#my-accept")
    assert clicked(written) == ["custom-accept"]


@pytest_browser
def test_a_named_cmp_is_the_only_one_raced(cmp_harness: Harness, cmp_site: CmpSite) -> None:
    path = "/banners?show=onetrust,didomi&d_onetrust=0&d_didomi=500"
    result = run(cmp_harness, cmp_site, path, "reject", cmp="didomi")
    assert result.capture.error is None, result.capture.error
    assert consent_step(result).label == "consent: reject (Didomi)"
    assert clicked(result) == ["didomi-reject"]


@pytest_browser
def test_the_first_banner_to_show_wins_across_frames(cmp_harness: Harness, cmp_site: CmpSite) -> None:
    # Sourcepoint's iframe shows first, OneTrust (earlier in the table, in the page) a second later.
    result = run(cmp_harness, cmp_site, "/banners?show=sourcepoint,onetrust&d_sourcepoint=0&d_onetrust=1500", "accept")
    assert result.capture.error is None, result.capture.error
    assert consent_step(result).label == "consent: accept (Sourcepoint)"
    assert clicked(result) == ["sourcepoint-accept"]


# --- error cases, on a page directly (short timeouts) ---------------------------------------------------



@pytest_browser
def test_the_fake_banners_are_where_the_vendors_put_them(chromium: BrowserRunner, cmp_site: CmpSite) -> None:
    """Usercentrics' buttons are in a shadow root and Sourcepoint's in another site's iframe, so the runs
    above really pierced a shadow root and entered a cross-site frame."""

    async def look(page: Page) -> object:
        await page.wait_for_function("document.getElementById('usercentrics-root')?.shadowRoot?.querySelector('button')")
        frame = page.frame_locator('iframe[id^="sp_message_iframe"]').locator("button.sp_choice_type_11")
        await frame.wait_for()
        return await page.evaluate(
            """() => [document.querySelector("[data-testid='uc-accept-all-button']"),
                      document.querySelector('button.sp_choice_type_11'),
                      new URL(document.querySelector('iframe').src).host !== location.host]"""
        )

    url = cmp_site.direct("/banners?show=usercentrics,sourcepoint&delay=0")
    assert chromium.on_page(url, look) == [None, None, True]


@pytest_browser
@pytest.mark.parametrize("choice", ["accept", "reject"])
def test_no_banner_is_a_clear_error_naming_what_was_tried(chromium: BrowserRunner, cmp_site: CmpSite, choice: str) -> None:
    async def answer(page: Page) -> None:
        await answer_consent(page, choice, ConsentSelectors(), timeout_ms=400)  # type: ignore[arg-type]

    with pytest.raises(ConsentNotAnswered) as caught:
        chromium.on_page(cmp_site.direct("/banners"), answer)
    error = str(caught.value)
    assert error.startswith("no consent banner found: no known CMP's banner appeared within 400 ms (looked for OneTrust '#onetrust-")
    sourcepoint = "'button.sp_choice_type_11'" if choice == "accept" else "'button.sp_choice_type_13, button.sp_choice_type_11'"
    for tried in ("Cookiebot '#Cybot", "Quantcast Choice '.qc-cmp2", f"Sourcepoint {sourcepoint} in iframe[id^=\"sp_message_iframe\"]",
                  "TrustArc '.call' in iframe.truste_popframe" if choice == "accept" else "in iframe.truste_popframe",
                  "Klaro '.klaro", f"demo shop '#consent-{choice}"):
        assert tried in error, tried
    assert error.endswith(f"set consent_selectors.{choice} to this site's {choice} button")
    record = caught.value.record
    assert record.consent == choice and record.target and record.target.startswith("known CMPs: OneTrust, Cookiebot")


@pytest_browser
def test_a_missing_reject_button_never_falls_back_to_accept(chromium: BrowserRunner, cmp_site: CmpSite) -> None:
    async def answer(page: Page) -> tuple[str, object]:
        try:
            await answer_consent(page, "reject", ConsentSelectors(), timeout_ms=1_000)
        except ConsentNotAnswered as exc:
            return str(exc), await page.evaluate("window.__clicked || []")
        raise AssertionError("answered a banner without a reject button")

    error, clicks = chromium.on_page(cmp_site.direct("/banners?show=onetrust-noreject&delay=0"), answer)
    assert error == (
        "consent banner not answered: OneTrust's banner is up but its reject button '#onetrust-reject-all-handler' did "
        "not appear within 1000 ms: set consent_selectors.reject to this site's reject button"
    )
    assert clicks == []
