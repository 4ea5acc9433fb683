"""Spotify Pixel (Spotify Ad Analytics, formerly Podsights) decoder behaviour beyond the fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.decoders.vendors.spotify_pixel import SpotifyPixelDecoder
from harness.models import CapturedRequest

DECODER = SpotifyPixelDecoder()
INGEST = "https://pixels.spotify.com/v1/ingest"
PODSIGHTS = "https://us-central1-adaptive-growth.cloudfunctions.net/pdst-events-prod-sink"
KEY = "18858202ee0c4082a0f7e6d3d8b53c94"
SHA256 = "f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a"


def request(
    url: str, body: Any = None, method: str = "POST", headers: list[tuple[str, str]] | None = None
) -> CapturedRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    return CapturedRequest(id="t", method=method, url=url, request_headers=headers or [], body=raw)


def ingest(*events: dict[str, Any], pid: str = KEY) -> dict[str, Any]:
    return {"batch": [{"pid": pid, "events": list(events)}]}


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        (INGEST, True),
        (PODSIGHTS, True),
        ("https://pixel.byspotify.com/ping.min.js", False),
        ("https://cdn.pdst.fm/ping.min.js", False),
        ("https://pixels.spotify.com/v1/config", False),
        ("https://us-central1-adaptive-growth.cloudfunctions.net/other-function", False),
        ("https://pixels.spotify.com.example/v1/ingest", False),
        ("https://shop.example/v1/ingest", False),
    ],
)
def test_claims_the_two_collectors_only(url: str, claimed: bool) -> None:
    hit = request(url, ingest({"action": "view"}))
    assert DECODER.claims(hit) is claimed
    assert DECODER.surely_claims(hit.host, hit.method, hit.path) is claimed
    if claimed:
        assert DECODER.may_claim_host(hit.host) and DECODER.may_claim_path(hit.method, hit.path)


def test_every_event_of_every_batched_request_in_order() -> None:
    body = {
        "batch": [
            {"pid": KEY, "events": [{"action": "view", "body": {"url": "https://shop.example/"}}]},
            {"pid": "otherpixel", "events": [{"action": "lead"}, {"action": "signup"}]},
        ]
    }
    events = DECODER.decode(request(INGEST, body))
    assert [(e.event, e.account_id) for e in events] == [
        ("view", KEY),
        ("lead", "otherpixel"),
        ("signup", "otherpixel"),
    ]


def test_purchase_properties_become_typed_fields() -> None:
    purchase = {
        "action": "purchase",
        "body": {"url": "https://shop.example/thanks", "value": "49.90", "currency": "usd", "order_id": 77},
    }
    (event,) = DECODER.decode(request(INGEST, ingest(purchase)))
    assert (event.value, event.currency, event.transaction_id, event.page_url) == (
        49.9,
        "usd",  # as sent: the pixel does not normalise it
        "77",
        "https://shop.example/thanks",
    )
    assert not {"value", "currency", "order_id", "url", "pid"} & event.params.keys()


def test_unreadable_value_is_kept_as_sent() -> None:
    (event,) = DECODER.decode(request(INGEST, ingest({"action": "purchase", "body": {"value": "49,90"}})))
    assert event.value is None and event.params["value_raw"] == "49,90"


def test_alias_identifiers_are_user_data_not_params() -> None:
    alias = {"action": "alias", "body": {"email": SHA256, "phone_number": "+15551234567", "id": SHA256}}
    (event,) = DECODER.decode(request(INGEST, ingest(alias)))
    assert event.user_data == {"email": "sha256", "phone_number": "raw", "id": "sha256"}
    assert not {"email", "phone_number", "id"} & event.params.keys()


def test_a_view_body_id_is_not_user_data() -> None:
    # Only the alias call names the visitor; other events' body fields stay as sent.
    (event,) = DECODER.decode(request(INGEST, ingest({"action": "view", "body": {"id": "abc"}})))
    assert event.user_data == {} and event.params["id"] == "abc"


def test_podsights_sink_names_the_pixel_by_key_never_by_its_random_pid() -> None:
    body = [{"pid": "random-page-id", "uid": "u1", "events": [{"action": "view"}]}]
    (event,) = DECODER.decode(request(PODSIGHTS, body))
    assert event.account_id is None
    assert event.params["pid"] == "random-page-id"
    with_key = [{"pid": "random-page-id", "key": KEY, "events": [{"action": "view"}]}]
    (keyed,) = DECODER.decode(request(PODSIGHTS, with_key))
    assert keyed.account_id == KEY


def test_page_url_falls_back_to_the_referer() -> None:
    hit = request(INGEST, ingest({"action": "view"}), headers=[("referer", "https://shop.example/p")])
    (event,) = DECODER.decode(hit)
    assert event.page_url == "https://shop.example/p"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "Spotify Pixel body is not a JSON batch of events"),
        ({"batch": []}, "Spotify Pixel batch without events"),
        ({"something": "else"}, "Spotify Pixel body is not a JSON batch of events"),
        ([{"pid": KEY}], "Spotify Pixel request without an events list"),
    ],
)
def test_unreadable_hits_are_one_malformed_event(body: Any, reason: str) -> None:
    (event,) = DECODER.decode(request(INGEST, body))
    assert (event.malformed, event.malformed_reason) == (True, reason)


def test_an_event_without_action_is_malformed_beside_the_good_ones() -> None:
    events = DECODER.decode(request(INGEST, ingest({"action": "view"}, {"body": {}}, "junk")))
    assert [(e.event, e.malformed) for e in events] == [
        ("view", False),
        ("(malformed)", True),
        ("(malformed)", True),
    ]


def test_visitor_session_and_times_are_volatile() -> None:
    assert {"uid", "sid", "time", "pid", "event.time"} <= DECODER.volatile_params


def test_profile_counts_purchase_and_carries_no_click_id() -> None:
    assert DECODER.profile.purchase_events == frozenset({"purchase"})
    assert DECODER.profile.click_ids == ()


def test_ingest_names_the_pixel_by_pid_and_keeps_a_key_as_sent() -> None:
    body = {"batch": [{"pid": KEY, "key": "other", "events": [{"action": "view"}]}]}
    (event,) = DECODER.decode(request(INGEST, body))
    assert event.account_id == KEY and event.params["key"] == "other"
