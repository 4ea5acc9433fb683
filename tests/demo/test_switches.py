from __future__ import annotations

from pathlib import Path
from typing import get_args
from urllib.parse import parse_qsl, urlsplit

import pytest

from harness.checks.registry import all_checks
from harness.demo.switches import (
    SWITCH_NAMES,
    SWITCHES,
    RootCause,
    parse_switch_list,
    render_markdown,
    switch,
    switches_for_request,
    with_switches,
)
from harness.errors import BadInput

DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-switches.md"

# The switches the issue asks for, by name: none may go missing.
REQUIRED = {
    "missing_tag", "wrong_trigger", "duplicate_trigger", "broken_dedupe", "server_event_without_fbc",
    "server_event_twice", "missing_value", "missing_currency", "tags_before_consent",
    "gclid_dropped_by_redirect", "fbclid_dropped_by_js_redirect", "click_ids_not_stored",
    "raw_email_in_hit", "lead_form_without_click_id", "slow_page",
}  # fmt: skip


def test_the_list_holds_every_required_switch_once_with_a_known_root_cause() -> None:
    names = [s.name for s in SWITCHES]
    assert len(names) == len(set(names))
    assert set(names) == REQUIRED
    assert {s.root_cause for s in SWITCHES} <= set(get_args(RootCause))
    assert switch("slow_page").root_cause == "Slow page"
    registered = {c.name for c in all_checks()}
    assert all(s.catching_check in registered for s in SWITCHES if s.catching_check), "a catching check exists"
    assert all(set(s.side_effects) <= set(get_args(RootCause)) for s in SWITCHES)


def test_checked_in_docs_page_equals_the_generated_text() -> None:
    assert DOCS.read_text() == render_markdown(), (
        "regenerate: python -m harness.demo.switches > docs/demo-switches.md"
    )


def test_docs_page_has_one_row_per_switch() -> None:
    text = render_markdown()
    for item in SWITCHES:
        assert f"| `{item.name}` | {item.breaks} | {item.root_cause} |" in text


def test_parse_accepts_commas_spaces_and_case() -> None:
    assert parse_switch_list(" Missing_Tag,slow_page  broken_dedupe,") == {
        "missing_tag",
        "slow_page",
        "broken_dedupe",
    }
    assert parse_switch_list("") == frozenset()


def test_parse_rejects_a_typo_naming_the_known_switches() -> None:
    with pytest.raises(BadInput, match="unknown demo switch missing_tags.*missing_tag"):
        parse_switch_list("missing_tags")


def test_url_wins_over_header_and_header_over_cookie() -> None:
    query = [("gclid", "x"), ("eventpath_bugs", "missing_tag")]
    header = {"X-Eventpath-Bugs": "slow_page"}
    cookie = {"eventpath_bugs": "broken_dedupe"}
    assert switches_for_request(query, header, cookie) == ({"missing_tag"}, True)
    assert switches_for_request([], {"x-eventpath-bugs": "slow_page"}, cookie) == ({"slow_page"}, False)
    assert switches_for_request([], {}, cookie) == ({"broken_dedupe"}, False)
    assert switches_for_request([], {}, {}) == (frozenset(), False)


def test_an_empty_url_value_switches_everything_off() -> None:
    assert switches_for_request([("eventpath_bugs", "")], {}, {"eventpath_bugs": "slow_page"}) == (
        frozenset(),
        True,
    )


def test_with_switches_replaces_the_parameter_and_keeps_the_rest() -> None:
    url = with_switches(
        "https://ads.demo.test/click?gclid=abc&eventpath_bugs=slow_page", "missing_tag", "wrong_trigger"
    )
    query = parse_qsl(urlsplit(url).query)
    assert query == [("gclid", "abc"), ("eventpath_bugs", "missing_tag,wrong_trigger")]
    with pytest.raises(BadInput):
        with_switches("https://ads.demo.test/click", "nope")


def test_names_are_the_documented_set() -> None:
    assert SWITCH_NAMES == REQUIRED
