"""gcs/gcd decoding against the published letter table and strings captured from live sites."""

from __future__ import annotations

import pytest

from harness.decoders.google_consent import (
    consent_from_params,
    consumed_consent_params,
    decode_gcd,
    decode_gcd_letter,
    decode_gcs,
    gcd_flags,
)

# (letter, default, update) from Simo Ahava's consent mode v2 table / Analytics Debugger's parser.
LETTER_TABLE = [
    ("l", None, None),
    ("p", "denied", None),
    ("q", "denied", "denied"),
    ("t", "granted", None),
    ("r", "denied", "granted"),
    ("m", None, "denied"),
    ("n", None, "granted"),
    ("u", "granted", "denied"),
    ("v", "granted", "granted"),
    ("e", "granted", "denied"),
    ("f", "granted", "granted"),
]


@pytest.mark.parametrize(("letter", "default", "update"), LETTER_TABLE)
def test_gcd_letter_table(letter: str, default: str | None, update: str | None) -> None:
    state = decode_gcd_letter(letter)
    assert state == {"default": default, "update": update, "effective": update or default}


def test_gcd_letter_outside_base64url_is_unknown() -> None:
    assert decode_gcd_letter("*") is None
    assert decode_gcd_letter("") is None
    assert decode_gcd_letter("ll") is None


@pytest.mark.parametrize(
    ("gcs", "expected"),
    [
        ("G111", {"ad_storage": "granted", "analytics_storage": "granted"}),
        ("G100", {"ad_storage": "denied", "analytics_storage": "denied"}),
        ("G101", {"ad_storage": "denied", "analytics_storage": "granted"}),
        ("G110", {"ad_storage": "granted", "analytics_storage": "denied"}),
        ("G1-1", {"ad_storage": None, "analytics_storage": "granted"}),
        ("G1--", {"ad_storage": None, "analytics_storage": None}),
    ],
)
def test_gcs(gcs: str, expected: dict[str, str | None]) -> None:
    assert decode_gcs(gcs) == expected


@pytest.mark.parametrize("junk", [None, "", "G2", "X111", "G1", "111"])
def test_gcs_junk_says_nothing(junk: str | None) -> None:
    assert decode_gcs(junk) == {}


def test_gcd_granted_after_update_live_string() -> None:
    # Observed on accept (live site): 13p3p3p3p5l1 -> 13r3r3r3r5l1.
    decoded = decode_gcd("13r3r3r3r5l1")
    assert set(decoded) == {"ad_storage", "analytics_storage", "ad_user_data", "ad_personalization"}
    assert all(
        s == {"default": "denied", "update": "granted", "effective": "granted"} for s in decoded.values()
    )


def test_gcd_mixed_signals_in_order() -> None:
    decoded = decode_gcd("13v3v3l3l5l1")  # ccm/collect capture: storage granted, v2 signals not set
    assert decoded["ad_storage"]["effective"] == "granted"
    assert decoded["analytics_storage"]["effective"] == "granted"
    assert decoded["ad_user_data"]["effective"] is None
    assert decoded["ad_personalization"]["effective"] is None


def test_gcd_legacy_short_form() -> None:
    decoded = decode_gcd("11t1t1t1t5")
    assert {s["effective"] for s in decoded.values()} == {"granted"}


@pytest.mark.parametrize("junk", [None, "", "xyz", "2" + "3r" * 4, "13r3r"])
def test_gcd_junk_says_nothing(junk: str | None) -> None:
    assert decode_gcd(junk) == {}


def test_gcd_flags_character_is_kept_as_sent_not_read() -> None:
    # Its bits are not published: the character is reported, never turned into a signal such as GPC.
    assert gcd_flags("13p3p3p3pdl1") == "d"
    assert gcd_flags("13r3r3r3r5l1") == "5"
    assert gcd_flags("13r3r3r3r") is None
    assert consent_from_params({"gcd": "13p3p3p3pdl1"}).other.get("gcd.flags") == "d"
    assert "gpc" not in consent_from_params({"gcd": "13p3p3p3pdl1"}).other


def test_consent_gcs_wins_for_storage_and_gcd_fills_v2_signals() -> None:
    # gcd's storage letters say denied, but gcs is the state at send time.
    state = consent_from_params(
        {"gcs": "G111", "gcd": "13q3q3r3p5l1", "npa": "1", "dma": "1", "dma_cps": "sypham"}
    )
    assert state.ad_storage == "granted"
    assert state.analytics_storage == "granted"
    assert state.ad_user_data == "granted"
    assert state.ad_personalization == "denied"
    assert state.gcs == "G111" and state.gcd == "13q3q3r3p5l1"
    assert state.other["ad_storage.default"] == "denied"
    assert state.other["ad_personalization.update"] == "not_set"
    assert state.other["npa"] == "1" and state.other["dma_cps"] == "sypham"
    assert state.declared


def test_consent_without_signals_is_undeclared() -> None:
    state = consent_from_params({"en": "page_view"})
    assert not state.declared
    assert state.gcs is None and state.gcd is None and state.other == {}


def test_consent_gcs_unset_storage_falls_back_to_gcd() -> None:
    state = consent_from_params({"gcs": "G1--", "gcd": "13t3p3l3l5"})
    assert state.ad_storage == "granted"
    assert state.analytics_storage == "denied"


def test_consumed_params_cover_the_consent_inputs() -> None:
    assert {"gcs", "gcd", "npa", "dma", "gdpr", "gdpr_consent"} <= consumed_consent_params()
