"""no_pii: typed personal data in any form, and email shapes, in tag hits; never IDs, timestamps or hashes."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote

from harness.checks.base import CheckContext
from harness.checks.pii import TypedValue, classify, mask, no_pii, value_forms
from harness.models import CapturedRequest
from tests.checks.hits import SHOP, THANK_YOU, Journey, ga4_hit, meta_pixel_hit, tiktok_pixel_hit
from tests.checks.pii_builders import GCLID, ad_url, context_for, with_header, with_params

EMAIL = "qa.tester@example.test"
PHONE = "0151 1234 5678"
NAME = "Anna Maria Schmidt"
ZIP = "10115"
DE_SHOP = "https://shop.example.de"


def checkout_journey() -> Journey:
    """A checkout that types an email, a phone, a name and a ZIP code, and a search term."""
    journey = Journey()
    journey.step("search", action="fill", typed="tents", target="#search")
    journey.step("email", action="fill", typed=EMAIL, target="#email")
    journey.step("phone", action="fill", typed=PHONE, target="#phone")
    journey.step("name", action="fill", typed=NAME, target="#name")
    journey.step("zip", action="fill", typed=ZIP, target="#zip")
    return journey


def tiktok_with_user(**user: str) -> CapturedRequest:
    hit = tiktok_pixel_hit("CompletePayment", THANK_YOU, value=59.9, currency="EUR", order_id="ORD-10023")
    payload = json.loads(hit.body)
    payload["context"]["user"].update(user)
    return hit.model_copy(update={"body": json.dumps(payload).encode()})


def run(journey: Journey, base: str = f"{SHOP}/", **expect: object) -> CheckContext:
    return context_for(journey, ad_url({"gclid": GCLID}, base=base), **expect)  # type: ignore[arg-type]


def test_raw_email_in_a_json_body_names_vendor_parameter_and_form_masked() -> None:
    journey = checkout_journey()
    hit_id = journey.hit(tiktok_with_user(email=EMAIL))
    [failure] = no_pii(run(journey))
    assert failure.root_cause == "PII in hit"
    assert failure.title == (
        "tiktok_pixel CompletePayment sends the typed email q***@example.test (as typed) in context.user.email (body)"
    )
    assert EMAIL not in failure.title + failure.seen + failure.expected
    assert failure.evidence[0].request_id == hit_id


def test_url_encoded_email_in_meta_ud_em() -> None:
    journey = checkout_journey()
    journey.hit(
        with_params(meta_pixel_hit("Lead", f"{SHOP}/signup"), **{"ud[em]": EMAIL})
    )  # encodes @ as %40
    [failure] = no_pii(run(journey))
    assert "q***@example.test (URL-encoded) in ud[em] (URL)" in failure.title
    assert failure.title.startswith("meta_pixel Lead")


def test_name_with_plus_for_spaces_and_lowercased_email_in_a_ga4_body() -> None:
    journey = checkout_journey()
    hit = ga4_hit("generate_lead", f"{SHOP}/signup")
    body = hit.body + f"&ep.customer={NAME.replace(' ', '+')}&ep.mail={EMAIL.upper()}".encode()
    journey.hit(hit.model_copy(update={"body": body}))
    titles = sorted(f.title for f in no_pii(run(journey)))
    assert titles == [
        "ga4 generate_lead sends the text typed in 'name' A*** (URL-encoded, + for spaces) in ep.customer (body)",
        "ga4 generate_lead sends the typed email q***@example.test (as typed, case changed) in ep.mail (body)",
    ]


def test_phone_as_e164_with_the_pages_country_and_as_digits() -> None:
    journey = checkout_journey()
    journey.hit(tiktok_with_user(phone_number="+4915112345678"))
    journey.hit(with_params(ga4_hit("purchase", f"{DE_SHOP}/thank-you"), **{"ep.tel": "015112345678"}))
    failures = list(no_pii(run(journey, base=f"{DE_SHOP}/")))
    forms = {f.title.split("(")[1].split(")")[0] for f in failures}
    assert forms == {"E.164", "digits only"}
    assert all("***78" in f.title for f in failures)


def test_base64_of_the_email_is_found() -> None:
    journey = checkout_journey()
    encoded = base64.urlsafe_b64encode(EMAIL.encode()).decode().rstrip("=")
    journey.hit(with_params(ga4_hit("sign_up", f"{SHOP}/signup"), **{"ep.uid": encoded}))
    [failure] = no_pii(run(journey))
    assert "(base64" in failure.title and "ep.uid (URL)" in failure.title


def test_email_in_the_page_url_leaks_through_every_hits_referer_once() -> None:
    journey = checkout_journey()
    page = f"{SHOP}/thank-you?email={quote(EMAIL)}"
    for _ in range(2):
        journey.hit(with_header(meta_pixel_hit("PageView", f"{SHOP}/"), "referer", page))
    [failure] = no_pii(run(journey))
    assert "in the page URL's email= parameter (Referer header) in 2 hits" in failure.title
    assert len(failure.evidence) == 2
    assert "POST" in failure.fix_direction


def test_an_email_nobody_typed_is_still_reported_as_email_shaped() -> None:
    journey = Journey()
    journey.hit(tiktok_with_user(email="crm.customer@shop.example"))
    [failure] = no_pii(run(journey))
    assert "an email-shaped string c***@shop.example" in failure.title


def test_ids_timestamps_hashes_and_masked_values_are_never_pii() -> None:
    journey = checkout_journey()
    hashed = hashlib.sha256(EMAIL.encode()).hexdigest()
    meta = with_params(
        meta_pixel_hit(
            "Purchase", THANK_YOU, value=59.9, currency="EUR", order_id="ORD-10023", event_id="ORD-10023"
        ),
        # the ZIP inside a timestamp, the phone's digits inside a longer number
        **{
            "ud[em]": hashed,
            "cud[em]": "****@****.**",
            "ts": "1710115000123",
            "exp": "9015112345678123",
            "cd[property]": "UA-10115-1",
        },
    )
    journey.hit(meta)
    journey.hit(tiktok_with_user(email=hashed, phone_number=hashlib.sha256(b"+4915112345678").hexdigest()))
    journey.hit(with_params(ga4_hit("purchase", f"{SHOP}/?gclid={GCLID}"), **{"ep.logo": "logo@2x.png"}))
    journey.hit(with_params(ga4_hit("search", f"{SHOP}/search?q=tents"), **{"ep.search_term": "tents"}))
    assert list(no_pii(run(journey, base=f"{DE_SHOP}/"))) == []


def test_disabled_check_reports_nothing() -> None:
    journey = checkout_journey()
    journey.hit(tiktok_with_user(email=EMAIL))
    assert list(no_pii(run(journey, no_pii=False))) == []


def test_value_forms_and_masking() -> None:
    assert classify(EMAIL) == "email" and classify(PHONE) == "phone" and classify(NAME) == "text"
    assert classify("ORD-10023") == "text"
    forms = {f.name: f.text for f in value_forms(TypedValue(PHONE, "phone", "phone"), "49")}
    assert forms["E.164"] == "+4915112345678"
    assert forms["digits only"] == "015112345678"
    assert mask(EMAIL, "email") == "q***@example.test"
    assert mask(PHONE, "phone") == "***78"


def test_an_email_a_vendor_scrambles_is_found_once_its_decoder_decodes_it() -> None:
    # AdRoll's identify sends the address base64'd, reversed and letter-rotated in epq: no form of the typed
    # value matches the bytes; the vendor's decoder says what epq holds, and the scan reads that too.
    from tests.decoders.test_adroll import ADV, reg_lpq

    journey = checkout_journey()
    epq = reg_lpq({"idsource": "adroll-identify", "email": EMAIL, "email_domain": "example.test"})
    hit = CapturedRequest(
        id="h", method="GET", url=f"https://d.adroll.com/id/{ADV}/?epq={epq}&pv=1", tag_hit=True, sinkholed=True
    )
    assert EMAIL not in hit.url and EMAIL.split("@")[0] not in hit.url
    hit_id = journey.hit(hit)
    [failure] = no_pii(run(journey))
    assert failure.root_cause == "PII in hit" and "adroll" in failure.title
    assert "AdRoll epq, decoded" in failure.title and failure.evidence[0].request_id == hit_id
