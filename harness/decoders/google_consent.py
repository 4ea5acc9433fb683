"""Google consent mode as the tags put it on the wire: ``gcs``, ``gcd`` and their companion flags.

``gcs`` ("G1" + ad_storage + analytics_storage, each "1" granted, "0" denied, "-" not set) is the state
in force when the hit left. ``gcd`` also covers ad_user_data and ad_personalization and says how each
signal got its state. Shape, e.g. ``13r3r3r3r5l1`` or ``11l1l1l1l5``::

    1 | 3r | 3r | 3r | 3r | 5 | l1
    version, then ad_storage, analytics_storage, ad_user_data, ad_personalization as <digit><letter>,
    then a flags character, then (newer tags) container-scoped defaults.

Each signal letter is one base64url digit (alphabet ``0-9a-zA-Z-_``) packing three 2-bit states,
``declared << 4 | default << 2 | update``, where a state is 1 not set, 2 denied, 3 granted. The common
letters, cross-checked against the published tables (Simo Ahava's consent mode v2 article, Analytics
Debugger's sGTM "Google Consent Parser" template):

    ====== ================= ================
    letter default           update
    ====== ================= ================
    l      not set           not set
    p      denied            not set
    q      denied            denied
    t      granted           not set
    r      denied            granted
    m      not set           denied
    n      not set           granted
    u      granted           denied
    v      granted           granted
    e      granted           denied   (declared bits 0)
    f      granted           granted  (declared bits 0)
    ====== ================= ================

The effective state of a signal is its update when there is one, else its default. The flags character
after the four signals (``5``, ``1``, ``2`` on real hits) is kept as sent (``gcd.flags``): what its bits
mean is not published (a Global Privacy Control bit is said of it, unsourced, so not read as such).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from harness.decoders.base import validate_consent
from harness.models import ConsentState, ConsentValue

SIGNALS: tuple[str, ...] = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")

_BASE64URL = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
_STATE: dict[int, ConsentValue | None] = {0: None, 1: None, 2: "denied", 3: "granted"}
_GCD = re.compile(r"^1(?:[0-9A-Za-z_-][0-9A-Za-z_-]){4}([0-9A-Za-z_-])?")
_GCS = re.compile(r"^G1([01-])([01-])")

# Consent-related flags the Google tags send next to gcs/gcd; kept raw in ConsentState.other.
CONSENT_FLAG_PARAMS: tuple[str, ...] = (
    "npa",
    "dma",
    "dma_cps",
    "pscdl",
    "gdpr",
    "gdpr_consent",
    "us_privacy",
    "gpp",  # IAB Global Privacy Platform string and its section IDs (a delife.de Floodlight capture)
    "gpp_sid",
    "rdp",  # restricted data processing (CCPA)
    "tcfd",
    "tag_for_child_directed_treatment",
    "tfua",
    "ltd",
)
# A hit to a server container carries some flags as its own copies (gtag to sGTM: sst.us_privacy=1YNY):
# the same signal, kept under the flag's name when the hit has no plain one.
_SERVER_COPIES = {f"sst.{name}": name for name in ("us_privacy", "gdpr", "gdpr_consent", "gpp", "gpp_sid")}
_FLAG_SET = frozenset(CONSENT_FLAG_PARAMS) | frozenset(_SERVER_COPIES)


def decode_gcs(gcs: str | None) -> dict[str, ConsentValue | None]:
    """ad_storage and analytics_storage from a ``gcs`` string; empty when it is not one."""
    match = _GCS.match((gcs or "").strip())
    if not match:
        return {}
    as_state: dict[str, ConsentValue | None] = {"1": "granted", "0": "denied", "-": None}
    return {"ad_storage": as_state[match.group(1)], "analytics_storage": as_state[match.group(2)]}


def decode_gcd_letter(letter: str) -> dict[str, ConsentValue | None] | None:
    """The default, update and effective state one ``gcd`` signal letter encodes; None if not base64url."""
    index = _BASE64URL.find(letter) if len(letter) == 1 else -1
    if index < 0:
        return None
    default = _STATE[(index >> 2) & 3]
    update = _STATE[index & 3]
    return {"default": default, "update": update, "effective": update or default}


def decode_gcd(gcd: str | None) -> dict[str, dict[str, ConsentValue | None]]:
    """Per signal (see ``SIGNALS``) its default/update/effective states; empty when ``gcd`` is unreadable."""
    text = (gcd or "").strip()
    if not _GCD.match(text):
        return {}
    decoded: dict[str, dict[str, ConsentValue | None]] = {}
    for position, signal in enumerate(SIGNALS):
        letter_state = decode_gcd_letter(text[2 + 2 * position])
        if letter_state is not None:
            decoded[signal] = letter_state
    return decoded


def gcd_flags(gcd: str | None) -> str | None:
    """The ``gcd`` flags character as sent (its meaning is not published); None when absent."""
    match = _GCD.match((gcd or "").strip())
    return match.group(1) if match else None


def consent_from_params(params: Mapping[str, str]) -> ConsentState:
    """What a Google hit's parameters say about consent.

    ``gcs`` wins for the two storage signals (it is the state when the hit was sent); ``gcd`` fills
    in the rest. Each signal's gcd default/update and the companion flags land in ``other``.
    """
    gcs = params.get("gcs") or None
    gcd = params.get("gcd") or None
    decoded, gcd_details = _signal_states(gcs, gcd)
    other = gcd_details.copy()
    if not params.keys().isdisjoint(_FLAG_SET):  # most hits carry none of the flags
        for name in CONSENT_FLAG_PARAMS:
            if name in params:
                other[name] = params[name]
        for copy, name in _SERVER_COPIES.items():
            if copy in params and name not in other:
                other[name] = params[copy]
    fields: dict[str, object] = {**decoded, "other": other}
    return validate_consent(fields)


# A site sends the same few gcs/gcd strings on every hit: decode each pair once. The dicts are shared by
# every call, so only ever copied.
@lru_cache(maxsize=1024)
def _signal_states(gcs: str | None, gcd: str | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """The four signals' states with gcs and gcd (ConsentState fields), and the gcd details and flags
    character for ``ConsentState.other``."""
    states: dict[str, ConsentValue | None] = dict.fromkeys(SIGNALS)
    other: dict[str, str] = {}
    for signal, detail in decode_gcd(gcd).items():
        states[signal] = detail["effective"]
        other[f"{signal}.default"] = detail["default"] or "not_set"
        other[f"{signal}.update"] = detail["update"] or "not_set"
    for signal, state in decode_gcs(gcs).items():
        if state is not None:
            states[signal] = state
    flags = gcd_flags(gcd)
    if flags is not None:
        other["gcd.flags"] = flags
    return {**states, "gcs": gcs, "gcd": gcd}, other


def consumed_consent_params() -> frozenset[str]:
    """Parameter names ``consent_from_params`` accounts for, so decoders leave them out of ``params``."""
    return frozenset(("gcs", "gcd", *CONSENT_FLAG_PARAMS))
