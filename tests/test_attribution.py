"""Attributing backend hits to a run by the hashed email its journey typed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness.attribution import UnclaimedServerHits, belongs_to_run, hashed_email, run_keys
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, DecodedEvent, RunResult
from tests.checks.hits import LANDING, META_PIXEL_ID, THANK_YOU, Journey, ga4_hit, meta_pixel_hit

TYPED_EMAIL = "  Jane.Doe+run-7f3a@Example.com "  # as the fill step typed it, run-unique
TYPED_HASH = hashlib.sha256(b"jane.doe+run-7f3a@example.com").hexdigest()
OTHER_HASH = hashlib.sha256(b"someone.else@example.com").hexdigest()


def run_that_typed(email: str) -> RunResult:
    journey = Journey()
    journey.hit(ga4_hit("page_view", LANDING))
    journey.hit(meta_pixel_hit("PageView", LANDING))
    journey.step("email", action="fill", target="#email", typed=email)
    journey.step("pay")
    journey.hit(meta_pixel_hit("Purchase", THANK_YOU, value=59.9, currency="EUR"))
    return journey.result()


def server_events(url: str, body: dict[str, Any]) -> list[DecodedEvent]:
    request = CapturedRequest(
        id="backend-1",
        method="POST",
        url=url,
        request_headers=[("content-type", "application/json")],
        body=json.dumps(body).encode(),
        source="server",
        tag_hit=True,
    )
    events = DecoderRegistry.default().decode(request)
    assert events and not any(e.malformed for e in events)
    return events


def enhanced_conversion_upload(email_hash: str) -> list[DecodedEvent]:
    """An enhanced-conversions-for-leads upload: no click ID, no order ID, only the hashed email."""
    entry = {
        "conversionAction": "customers/1234567890/conversionActions/555",
        "conversionDateTime": "2024-05-29 16:26:40+00:00",
        "userIdentifiers": [{"userIdentifierSource": "FIRST_PARTY", "hashedEmail": email_hash}],
    }
    url = "https://googleads.googleapis.com/v17/customers/1234567890:uploadClickConversions"
    return server_events(url, {"conversions": [entry], "partialFailure": True})


def test_hashed_email_normalises_as_platforms_ask_and_skips_non_emails() -> None:
    assert hashed_email(TYPED_EMAIL) == TYPED_HASH
    assert hashed_email("4111 1111 1111 1111") is None
    assert hashed_email("Jane") is None


def test_run_keys_hold_the_hash_of_the_typed_email() -> None:
    keys = run_keys(run_that_typed(TYPED_EMAIL))
    assert TYPED_HASH in keys
    assert TYPED_EMAIL.strip() not in keys  # the raw email is no key: backends send it hashed


def test_google_ads_upload_with_only_the_typed_email_in_common_is_attributed() -> None:
    events = enhanced_conversion_upload(TYPED_HASH)
    assert events[0].click_ids == {} and events[0].transaction_id is None
    assert belongs_to_run(run_keys(run_that_typed(TYPED_EMAIL)), events)


def test_google_ads_upload_with_another_email_is_not_attributed() -> None:
    assert not belongs_to_run(run_keys(run_that_typed(TYPED_EMAIL)), enhanced_conversion_upload(OTHER_HASH))


def test_uppercase_hex_digest_still_matches() -> None:
    events = enhanced_conversion_upload(TYPED_HASH.upper())
    assert belongs_to_run(run_keys(run_that_typed(TYPED_EMAIL)), events)


def test_meta_capi_with_only_the_hashed_email_is_attributed() -> None:
    """meta_capi keeps the digests of user_data.em (never raw values) for attribution."""
    entry = {
        "event_name": "Lead",
        "event_time": 1717000000,
        "action_source": "website",
        "user_data": {"em": [TYPED_HASH]},
    }
    url = f"https://graph.facebook.com/v18.0/{META_PIXEL_ID}/events"
    events = server_events(url, {"data": [entry]})
    assert events[0].user_data == {"em": "sha256"}
    assert belongs_to_run(run_keys(run_that_typed(TYPED_EMAIL)), events)
    assert not belongs_to_run(run_keys(run_that_typed("someone.else@example.test")), events)


def test_unclaimed_server_hits_are_decoded_once_however_many_runs_ask() -> None:
    """A long session keeps backend hits that match no run; each run's question must not decode them again."""
    registry = DecoderRegistry.default()
    decoded: list[str] = []

    def counting_decode(request: CapturedRequest) -> list[DecodedEvent]:
        decoded.append(request.id)
        return registry.decode(request)

    def upload(request_id: str, email_hash: str) -> CapturedRequest:
        entry = {"conversionAction": "customers/1/conversionActions/5", "conversionDateTime": "2024-05-29 16:26:40+00:00",
                 "userIdentifiers": [{"hashedEmail": email_hash}]}
        return CapturedRequest(
            id=request_id, method="POST", url="https://googleads.googleapis.com/v17/customers/1:uploadClickConversions",
            request_headers=[("content-type", "application/json")], body=json.dumps({"conversions": [entry]}).encode(),
            source="server", tag_hit=True,
        )

    mine, stranger = upload("mine", TYPED_HASH), upload("stranger", OTHER_HASH)
    unclaimed = UnclaimedServerHits(counting_decode)
    keys = run_keys(run_that_typed(TYPED_EMAIL))
    assert list(unclaimed.matching(keys, [mine, stranger])) == ["mine"]
    assert list(unclaimed.matching(set(), [stranger])) == []  # "mine" was claimed: it left the list
    assert list(unclaimed.matching(keys, [stranger, mine])) == ["mine"]  # back: decoded anew, it was forgotten
    assert decoded == ["mine", "stranger", "mine"]
