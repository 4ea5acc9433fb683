"""Snowplow decoder: what the shared fixture test cannot say (encodings, claims on probes, replies, pins)."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.base import PIXEL_GIF
from harness.decoders.registry import DecoderRegistry
from harness.decoders.vendors.snowplow import SnowplowDecoder
from harness.models import CapturedRequest
from tests.decoders.fixture_loader import FIXTURES, fixture_request
from tests.decoders.npm_clients.pins import npm_recorded, pinned_versions, recorded_with

decoder = SnowplowDecoder()
TP2 = "https://collector.shop.test/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_SCHEMA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def get(params: dict[str, str], host: str = "https://sp.shop.test") -> CapturedRequest:
    return CapturedRequest(id="g", method="GET", url=f"{host}/i?{urlencode(params)}")


def post(url: str, events: list[dict[str, str]] | str) -> CapturedRequest:
    body = events if isinstance(events, str) else json.dumps({"schema": PAYLOAD_SCHEMA, "data": events})
    return CapturedRequest(
        id="p", method="POST", url=url, body=body.encode(), request_headers=[("content-type", "application/json")]
    )


def self_describing(schema: str, data: dict[str, object]) -> dict[str, object]:
    return {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", "data": {"schema": schema, "data": data}}


# --- npm recordings ------------------------------------------------------------------------------


def test_npm_fixtures_name_the_pinned_client_version() -> None:
    recorded = npm_recorded("snowplow")
    assert len(recorded) >= 8, "expected the browser-tracker recordings under fixtures/snowplow/npm-*.json"
    pins = pinned_versions()
    for path, data in recorded:
        named = recorded_with(data["source"])
        assert named is not None, f"{path.name}: source does not name package@version"
        package, version = named
        assert pins.get(package) == version, f"{path.name}: recorded with {package}@{version}, pinned {pins.get(package)}"
        # The tracker stamps its own version into every event: it must agree with the pin.
        assert f"js-{version}" in data["request"]["url"] + data["request"].get("body", "")


def test_recordings_cover_get_post_and_custom_path() -> None:
    requests = [data["request"] for _, data in npm_recorded("snowplow")]
    assert any(r["method"] == "GET" and "/i?" in r["url"] for r in requests)
    assert any(r["url"].endswith("/com.snowplowanalytics.snowplow/tp2") for r in requests)
    assert any(r["url"].endswith("/com.example-shop/collect") for r in requests)


def test_recorded_post_batch_decodes_every_event_in_order() -> None:
    [(_, data)] = [(p, d) for p, d in npm_recorded("snowplow") if p.name.startswith("npm-post-batched")]
    events = DecoderRegistry([decoder]).decode(fixture_request(data))
    assert [e.event for e in events] == ["page_view", "add-to-basket", "newsletter_signup", "snowplow_ecommerce_action"]
    assert [e.position for e in events] == [0, 1, 2, 3]
    purchase = events[3]
    assert (purchase.value, purchase.currency, purchase.transaction_id) == (59.9, "EUR", "ORD-2002")
    schemas = [c["schema"] for c in purchase.params["contexts"]]
    assert "iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0" in schemas


# --- claims --------------------------------------------------------------------------------------


def test_pixel_claims_need_an_event_code_and_tracker_version() -> None:
    assert decoder.claims(get({"e": "pv", "tv": "js-4.10.1", "eid": "x"}))
    assert decoder.claims(get({"e": "pv", "tv": "no-js-0.1.0"}))  # the pixel tracker sends no eid
    assert not decoder.claims(get({"e": "pv"}))
    assert not decoder.claims(get({"e": "checkout", "tv": "1"}))
    assert not decoder.claims(CapturedRequest(id="x", method="GET", url="https://shop.test/img?e=pv&tv=js-4"))


def test_tp2_path_is_claimed_even_for_a_preflight_probe() -> None:
    # The proxy judges a CORS preflight as the announced POST with no body; tp2 is Snowplow's own path.
    probe = CapturedRequest(id="o", method="POST", url=TP2, request_headers=[("access-control-request-method", "POST")])
    assert decoder.claims(probe)


def test_custom_post_path_needs_the_payload_data_schema() -> None:
    event = {"e": "pv", "eid": "1", "tv": "js-4", "aid": "a"}
    assert decoder.claims(post("https://t.shop.test/com.acme/collect", [event]))
    other = json.dumps({"schema": "iglu:com.acme/cart/jsonschema/1-0-0", "data": [event]})
    assert not decoder.claims(post("https://t.shop.test/com.acme/collect", other))
    assert not decoder.claims(post("https://t.shop.test/api/checkout", "not json"))


# --- decoding ------------------------------------------------------------------------------------


def test_ue_px_decodes_in_base64url_without_padding_and_in_standard_base64() -> None:
    wrapper = json.dumps(self_describing("iglu:com.acme/purchase/jsonschema/1-0-0", {"revenue": 19.99, "currency": "EUR", "note": "??>>"}))
    for encoded in (
        base64.urlsafe_b64encode(wrapper.encode()).decode().rstrip("="),
        base64.b64encode(wrapper.encode()).decode(),
    ):
        [event] = decoder.decode(get({"e": "ue", "tv": "js-4", "aid": "shop", "ue_px": encoded}))
        assert (event.event, event.value, event.currency, event.malformed) == ("purchase", 19.99, "EUR", False)
        assert event.params["ue"]["data"]["note"] == "??>>"
        assert "ue_px" not in event.params


def test_ue_pr_and_co_are_plain_json() -> None:
    contexts = {"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
                "data": [{"schema": "iglu:com.acme/user/jsonschema/1-0-0", "data": {"tier": "gold"}}]}
    event_payload = {
        "e": "ue", "eid": "e1", "tv": "js-4", "aid": "shop",
        "ue_pr": json.dumps(self_describing("iglu:com.acme/signup/jsonschema/1-0-0", {"value": "5"})),
        "co": json.dumps(contexts),
    }
    [event] = decoder.decode(post(TP2, [event_payload]))
    assert (event.event, event.value, event.event_id) == ("signup", 5.0, "e1")
    assert event.params["contexts"] == contexts["data"]


def test_structured_event_is_named_by_its_action_and_valued_by_se_va() -> None:
    [event] = decoder.decode(get({"e": "se", "tv": "js-4", "se_ca": "video", "se_ac": "play", "se_va": "12"}))
    assert (event.event, event.value, event.params["e"]) == ("play", 12.0, "se")


def test_structured_event_without_an_action_is_a_struct_event_not_a_malformed_one() -> None:
    # TinyMCE Cloud's own tracker (sp.tinymce.com, js-2.6.1) sends se_ca=focus and no se_ac on pages that
    # load the editor: a readable event whose category stays in params.
    data = json.loads((FIXTURES / "snowplow" / "capture-tinymce-cloud-se-without-action.json").read_text())
    [event] = decoder.decode(fixture_request(data))
    assert not event.malformed, event.malformed_reason
    assert (event.event, event.params["se_ca"], event.account_id) == ("struct", "focus", "TINYMCE_API_KEY")
    [blank] = decoder.decode(get({"e": "se", "tv": "js-4", "se_ca": "video", "se_ac": " "}))
    assert (blank.malformed, blank.event) == (False, "struct")


def test_legacy_transaction_and_item() -> None:
    [tr] = decoder.decode(get({"e": "tr", "tv": "js-2", "tr_id": "o1", "tr_tt": "99.5", "tr_cu": "GBP"}))
    assert (tr.event, tr.value, tr.currency, tr.transaction_id) == ("transaction", 99.5, "GBP", "o1")
    [ti] = decoder.decode(get({"e": "ti", "tv": "js-2", "ti_id": "o1", "ti_sk": "S", "ti_pr": "10", "ti_qu": "2"}))
    assert (ti.event, ti.transaction_id, ti.value) == ("transaction_item", "o1", None)


def test_page_url_click_ids_and_email_uid() -> None:
    url = "https://shop.test/landing?gclid=G1&msclkid=M1&utm_source=x"
    [event] = decoder.decode(get({"e": "pv", "tv": "js-4", "url": url, "uid": "a@b.test"}))
    assert event.page_url == url
    assert event.click_ids == {"gclid": "G1", "msclkid": "M1"}
    assert event.user_data == {"em": "raw"}
    [opaque] = decoder.decode(get({"e": "pv", "tv": "js-4", "uid": "user-42"}))
    assert opaque.user_data == {}


def test_empty_and_non_list_payloads_are_malformed() -> None:
    assert decoder.decode(post(TP2, []))[0].malformed
    [event] = decoder.decode(post(TP2, json.dumps({"schema": PAYLOAD_SCHEMA, "data": {"e": "pv"}})))
    assert event.malformed and "data list" in (event.malformed_reason or "")


def test_sinkhole_replies_gif_for_get_and_empty_200_for_post() -> None:
    pixel = decoder.sinkhole_reply(get({"e": "pv", "tv": "js-4"}))
    assert (pixel.status, pixel.content_type, pixel.body) == (200, "image/gif", PIXEL_GIF)
    batch = decoder.sinkhole_reply(post(TP2, []))
    assert (batch.status, batch.body) == (200, b"")


def test_volatile_params_are_the_per_run_ids_and_clocks() -> None:
    assert {"eid", "dtm", "stm", "sid", "duid"} <= decoder.volatile_params
    assert "aid" not in decoder.volatile_params


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(["e", "eid", "tv", "aid", "ue_px", "ue_pr", "cx", "co", "se_ac", "tr_tt", "url", "uid"]),
            st.one_of(st.text(max_size=30), st.sampled_from(["pv", "ue", "se", "tr", "pp", "e30", "{}", "[]"])),
            max_size=8,
        ),
        max_size=4,
    )
)
def test_decode_never_raises_and_always_says_something(entries: list[dict[str, str]]) -> None:
    for request in (post(TP2, entries), get(entries[0] if entries else {"e": "pv", "tv": "x"})):
        events = decoder.decode(request)
        assert events
        for event in events:
            assert event.vendor == "snowplow"
            assert event.malformed == (event.malformed_reason is not None)
