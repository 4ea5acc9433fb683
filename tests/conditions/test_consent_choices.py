"""Consent beyond accept/reject: granting named purposes in a CMP's settings, and seeding the stored
answer (cookie, localStorage) before the first navigation. Models, labels and schema, then a real
Chromium against the loopback site."""

from __future__ import annotations

import pytest
import yaml
from playwright.async_api import Page
from pydantic import ValidationError

from harness.browser.conditions import ConsentNotAnswered, answer_consent, seed_consent
from harness.cli.schema import scenario_schema
from harness.gap import consent_loss_cause, describe_conditions
from harness.scenario import (
    ConditionMatrix,
    ConsentSelectors,
    CustomConsent,
    RunConditions,
    SeededConsent,
    consent_means,
)
from tests.conditions.conftest import BrowserRunner, Site

MATRIX_YAML = """
consent:
  - accept
  - custom: [analytics]
  - custom: []
  - seed:
      cookies: [{name: shop_consent, value: granted, domain: .shop.demo.test}]
      means: accept
  - seed: {local_storage: {cmp_state: '{"ads":false}'}, means: reject}
"""
SELECTORS = ConsentSelectors(
    settings="#cmp-settings", purposes={"analytics": "#p-analytics", "ads": "#p-ads"}, save="#cmp-save"
)


def _matrix() -> list[RunConditions]:
    return ConditionMatrix.model_validate(yaml.safe_load(MATRIX_YAML)).expand()


def test_yaml_forms_parse_and_each_run_gets_a_distinct_label() -> None:
    runs = _matrix()
    assert [type(r.consent).__name__ for r in runs] == ["str", "CustomConsent", "CustomConsent", "SeededConsent", "SeededConsent"]
    assert [describe_conditions(r) for r in runs] == [
        "consent=accept",
        "consent=custom(analytics)",
        "consent=custom(none)",
        "consent=seeded(accept:shop_consent)",
        "consent=seeded(reject:cmp_state)",
    ]
    # What the consent checks and the gap table may assume of each choice.
    assert [consent_means(r.consent) for r in runs] == ["accept", None, "reject", "accept", "reject"]
    assert [consent_loss_cause(r) for r in runs] == [
        None, "consent custom(analytics)", "consent rejected", None, "consent rejected",
    ]
    # The conditions round-trip through results.json.
    assert [RunConditions.model_validate_json(r.model_dump_json()) for r in runs] == runs


def test_bad_consent_values_are_rejected_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="consent"):
        RunConditions.model_validate({"consent": "maybe"})
    with pytest.raises(ValidationError, match="at least one cookie or localStorage entry"):
        RunConditions.model_validate({"consent": {"seed": {"means": "accept"}}})
    with pytest.raises(ValidationError):
        RunConditions.model_validate({"consent": {"custom": ["analytics"], "extra": 1}})


def test_the_json_schema_describes_each_consent_form() -> None:
    schema = scenario_schema()
    forms = schema["$defs"]["ConditionMatrix"]["properties"]["consent"]["items"]["anyOf"]  # type: ignore[index]
    assert {"enum": ["accept", "reject", "ignore"], "type": "string"} in forms
    assert {"$ref": "#/$defs/CustomConsent"} in forms and {"$ref": "#/$defs/SeededConsent"} in forms
    seed = schema["$defs"]["ConsentSeed"]["properties"]  # type: ignore[index]
    assert set(seed) == {"cookies", "local_storage", "origin", "means"}


# --- in a real browser --------------------------------------------------------------------------

pytest_browser = pytest.mark.browser



@pytest_browser
def test_custom_consent_sets_each_purpose_and_saves(chromium: BrowserRunner, site: Site) -> None:
    async def answer(page: Page) -> tuple[object, object]:
        record = await answer_consent(page, CustomConsent(custom=["analytics"]), SELECTORS, index=0)
        return record, await page.evaluate("window.__purposes")

    record, purposes = chromium.on_page(f"{site.url}/cmp-settings", answer)
    # Analytics ticked, advertising (pre-ticked by the CMP) unticked: only what was named is granted.
    assert purposes == {"analytics": True, "ads": False}
    assert record is not None and record.label == "consent: custom(analytics)" and record.error is None
    assert record.consent is None  # a partial answer is neither an accept nor a reject for the checks


@pytest_browser
def test_custom_consent_with_an_unknown_purpose_is_a_clear_run_error(chromium: BrowserRunner, site: Site) -> None:
    async def answer(page: Page) -> None:
        await answer_consent(page, CustomConsent(custom=["marketing"]), SELECTORS, timeout_ms=300)

    with pytest.raises(ConsentNotAnswered, match="purpose 'marketing' has no selector") as caught:
        chromium.on_page(f"{site.url}/cmp-settings", answer)
    assert "known: analytics, ads" in str(caught.value)


@pytest_browser
def test_seeded_consent_is_in_place_before_the_first_page_script(chromium: BrowserRunner, site: Site) -> None:
    host = site.url.split("//", 1)[1].split(":", 1)[0]
    choice = SeededConsent.model_validate(
        {"seed": {"cookies": [{"name": "cmp_consent", "value": "granted", "domain": host}],
                  "local_storage": {"cmp_state": '{"ads":true}'}, "origin": site.url, "means": "accept"}}
    )

    async def visit() -> tuple[object, object, object]:
        assert chromium.browser is not None
        context = await chromium.browser.new_context()
        try:
            record = await seed_consent(context, choice)
            page = await context.new_page()
            await page.goto(f"{site.url}/cmp-state")
            # The banner is left alone: a seeded run clicks nothing.
            clicked = await answer_consent(page, choice, ConsentSelectors())
            return record, await page.evaluate("window.__seen"), clicked
        finally:
            await context.close()

    record, seen, clicked = chromium.run(visit())
    assert seen == {"cookie": "cmp_consent=granted", "stored": '{"ads":true}'}
    assert clicked is None
    assert record is not None and record.consent == "accept" and record.action == "seed"
    assert record.label == "consent: seeded (accept)"
    assert record.target == f"cookie cmp_consent on {host}; localStorage cmp_state"  # names only, no values


@pytest_browser
def test_seed_consent_ignores_plain_choices(chromium: BrowserRunner) -> None:
    async def seed() -> object:
        assert chromium.browser is not None
        context = await chromium.browser.new_context()
        try:
            return [await seed_consent(context, choice) for choice in ("accept", None, CustomConsent(custom=[]))]
        finally:
            await context.close()

    assert chromium.run(seed()) == [None, None, None]
