"""Meta (Facebook) Pixel: the browser hits ``fbevents.js`` sends to ``www.facebook.com/tr/``.

fbevents.js picks a transport per hit and reports it in ``rqm``: an image GET (``GET``/``FGET``), a
``navigator.sendBeacon`` of a ``FormData`` (multipart, ``SB``), a hidden-iframe form POST
(urlencoded, ``formPOST``) or a keepalive ``fetch`` POST (urlencoded). Whatever the transport, the
parameters are the same flat list: ``id``, ``ev``, ``dl``..., plus one level of brackets for
custom data ``cd[...]`` and advanced matching ``ud[...]``/``udff[...]``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, ClassVar

from harness.decoders.base import (
    Decoder,
    VendorProfile,
    host_matches,
    new_consent,
    new_event,
    pixel_reply,
    register,
)
from harness.decoders.wire import parse_json, request_params, to_number, user_data_form
from harness.models import CapturedRequest, DecodedEvent, SinkholeReply, UserDataForm

# www.instagram.com/tr/ is fbevents' Instagram attribution endpoint (same parameter list).
PIXEL_HOSTS = ("www.facebook.com", "facebook.com", "web.facebook.com", "m.facebook.com", "www.instagram.com")
PIXEL_PATHS = ("/tr", "/tr/")

# Bracket groups that carry hashed (or, when a site builds the URL itself, raw) identifiers.
USER_DATA_GROUPS = ("ud", "udff", "aud")
# Data-use limits the hit declares (``fbq('dataProcessingOptions', ['LDU'], 1, 1000)``).
DATA_PROCESSING_KEYS = ("dpo", "dpoco", "dpost")
BOOLEAN_PARAMS = frozenset({"if", "coo", "cs_est", "iw", "noscript"})
INTEGER_PARAMS = frozenset({"ts", "it", "sw", "sh", "ec", "o", "tz"})
_TYPED_PARAMS = BOOLEAN_PARAMS | INTEGER_PARAMS | {"plt"}  # the only names ``_scalar`` may change

_BRACKET_KEY = re.compile(r"^([A-Za-z0-9_]+)\[([^\]]*)\]$")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(r'name="([^"]*)"', re.IGNORECASE)
_INTEGER = re.compile(r"-?\d{1,18}")


def multipart_params(request: CapturedRequest) -> list[tuple[str, str]]:
    """The text fields of a ``multipart/form-data`` body (what ``sendBeacon(url, FormData)`` sends).

    Total: a body that is not multipart, or is cut short, gives what could be read.
    """
    text = request.text
    match = _BOUNDARY.search(request.header("content-type") or "")
    if match:
        boundary = match.group(1)
    elif text.startswith("--"):
        boundary = text.split("\n", 1)[0].strip()[2:]  # no header: the first delimiter line names it
    else:
        return []
    if not boundary:
        return []
    pairs: list[tuple[str, str]] = []
    for part in text.split("--" + boundary):
        part = part.lstrip("\r\n")
        if not part or part.startswith("--"):
            continue
        head, sep, value = part.partition("\r\n\r\n")
        if not sep:
            head, sep, value = part.partition("\n\n")
        if sep and (name := _part_name(head)) is not None:
            pairs.append((name, value.removesuffix("\r\n").removesuffix("\n")))
    return pairs


@lru_cache(maxsize=4096)  # each part's header names one of the pixel's parameters: a small vocabulary
def _part_name(head: str) -> str | None:
    match = _PART_NAME.search(head)
    return match.group(1) if match else None


def fbclid_from_fbc(fbc: str) -> str | None:
    """The click ID inside an ``_fbc`` value ``fb.<subdomain index>.<creation ms>.<fbclid>[.<appendix>]``.

    fbevents escapes dots inside the payload as ``__DOT__``, so the fourth field is the whole fbclid.
    """
    parts = fbc.strip().split(".")
    if len(parts) < 4 or parts[0] != "fb" or not parts[3]:
        return None
    return parts[3].replace("__DOT__", ".")


def maybe_json(value: str) -> Any:
    """``cd[content_ids]``/``cd[contents]`` travel as JSON strings; anything else stays as sent."""
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        parsed = parse_json(stripped)
        return value if parsed is None else parsed
    return value


def _is_integer(value: str) -> bool:
    """``_INTEGER.fullmatch(value)`` without the regex: \\d is what ``isdecimal`` accepts (category Nd)."""
    digits = value[1:] if value[:1] == "-" else value
    return 0 < len(digits) <= 18 and digits.isdecimal()


def _scalar(name: str, value: str) -> Any:
    if name in BOOLEAN_PARAMS and value in ("true", "false"):
        return value == "true"
    if name in INTEGER_PARAMS and _is_integer(value):
        return int(value)
    if name == "plt":
        number = to_number(value)
        return number if number is not None else value
    return value


def split_pixel_params(
    pairs: list[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Flat parameters and bracket groups (``cd[value]`` -> groups["cd"]["value"]); first one wins."""
    flat: dict[str, str] = {}
    groups: dict[str, dict[str, str]] = {}
    for key, value in pairs:
        bracketed = _bracket_key(key) if "[" in key else None
        if bracketed:
            groups.setdefault(bracketed[0], {}).setdefault(bracketed[1], value)
        else:
            flat.setdefault(key, value)
    return flat, groups


@lru_cache(maxsize=4096)  # a hit carries dozens of cd[...]/ud[...] names, the same on every hit
def _bracket_key(key: str) -> tuple[str, str] | None:
    """(group, member) of ``group[member]``, else None."""
    match = _BRACKET_KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


@register
class MetaPixelDecoder(Decoder):
    vendor = "meta_pixel"
    profile = VendorProfile(
        tag_name="Meta Pixel",
        platform_name="Meta Pixel",
        consent="ad_tag",
        purchase_events=frozenset({"purchase"}),
        click_ids=("fbclid",),
        without_click_id="Meta: the Conversions API with hashed user data (em, ph) and external_id, sharing the "
        "pixel's event_id; _fbp still matches the browser",
        click_id_cookies={"fbclid": "_fbc"},
        event_id_reason="Meta cannot deduplicate Pixel and CAPI without eid",
    )
    claim_hosts = PIXEL_HOSTS
    source = "browser"
    volatile_params: ClassVar[frozenset[str]] = frozenset(
        {"ts", "it", "eid", "fbp", "fbc", "plt", "exp", "expv2", "hmd"}
    )

    def claims(self, request: CapturedRequest) -> bool:
        return self.surely_claims(request.host, request.method, request.path)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # Exact hosts and path: a site's own /tr is never the pixel, and connect.facebook.net is the script.
        return path in PIXEL_PATHS and host_matches(host, PIXEL_HOSTS)

    def decode(self, request: CapturedRequest) -> list[DecodedEvent]:
        pairs = request_params(request)
        # body.startswith(b"--") is request.text.startswith("--") without decoding the body again.
        if request.content_type == "multipart/form-data" or request.body.startswith(b"--"):
            pairs += multipart_params(request)
        flat, groups = split_pixel_params(pairs)
        pixel_id = flat.get("id", "").strip()
        event_name = flat.get("ev", "").strip()
        if not pixel_id or not event_name:
            missing = " and ".join(n for n, v in (("id", pixel_id), ("ev", event_name)) if not v)
            return [self.malformed(request, f"Meta pixel hit without {missing}")]

        custom = {key: maybe_json(value) for key, value in groups.pop("cd", {}).items()}
        value = to_number(custom.get("value"))
        if value is not None or custom.get("value") in (None, ""):
            custom.pop("value", None)  # a non-numeric value stays visible in params["cd"]
        currency = custom.pop("currency", None)
        order_id = custom.pop("order_id", None)

        user_data: dict[str, UserDataForm] = {}
        for group in USER_DATA_GROUPS:
            for key, raw in groups.pop(group, {}).items():
                if raw.strip() and key not in user_data:
                    user_data[key] = user_data_form(raw)

        click_ids: dict[str, str] = {}
        fbc = flat.pop("fbc", "").strip()
        if fbc:
            click_ids["fbc"] = fbc
            fbclid = fbclid_from_fbc(fbc)
            if fbclid:
                click_ids["fbclid"] = fbclid

        consent = new_consent(
            other={key: flat.pop(key) for key in DATA_PROCESSING_KEYS if key in flat},
        )
        # eid may arrive as eid[] (fbevents normalises over eid, eid[] and its encoded form).
        event_id = flat.pop("eid", "") or groups.pop("eid", {}).get("", "")
        page_url = flat.pop("dl", "") or request.header("referer")

        params: dict[str, Any] = {
            key: _scalar(key, raw) if key in _TYPED_PARAMS else raw
            for key, raw in flat.items()
            if key not in ("id", "ev")
        }
        if custom:
            params["cd"] = custom
        for group, members in groups.items():
            params[group] = {key: maybe_json(raw) for key, raw in members.items()}

        return [
            new_event(
                vendor=self.vendor,
                event=event_name,
                account_id=pixel_id,
                value=value,
                currency=currency if isinstance(currency, str) and currency else None,
                event_id=event_id or None,
                transaction_id=str(order_id) if order_id not in (None, "") else None,
                click_ids=click_ids,
                consent=consent,
                user_data=user_data,
                page_url=page_url or None,
                source=self.source,
                params=params,
            )
        ]

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        # facebook.com/tr answers an image GET with a 1x1 GIF and a form/beacon POST with an empty 200.
        return pixel_reply(request)


__all__ = ["MetaPixelDecoder", "fbclid_from_fbc", "maybe_json", "multipart_params"]
