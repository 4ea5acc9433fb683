"""The schema-less protobuf reader and gRPC framing (harness.decoders.protobuf), and the Google Ads API
decoder's gRPC path built on them. The recorded client requests are fixtures (fixtures/google_ads_api/grpc_*);
what is here are the wire's corners, checked against protobuf's own encoder where it is installed."""

from __future__ import annotations

import gzip
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.decoders.protobuf import ProtoField, grpc_frame, grpc_messages, message_dict, wire_fields
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest

UPLOAD = "https://googleads.googleapis.com/google.ads.googleads.v26.services.ConversionUploadService/UploadClickConversions"


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def text(number: int, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return key(number, 2) + varint(len(data)) + data


SCHEMA = {
    1: ProtoField("name", "string"),
    2: ProtoField("count", "int"),
    3: ProtoField("price", "double"),
    4: ProtoField("tags", "string", repeated=True),
    5: ProtoField("flag", "bool"),
    6: ProtoField("state", "enum", enum={1: "ON", 2: "OFF"}),
    7: ProtoField("child", "message", message={1: ProtoField("id", "string")}),
    8: ProtoField("numbers", "int", repeated=True),
    9: ProtoField("blob", "bytes"),
    10: ProtoField("ratio", "float"),
}


def test_every_kind_reads_as_proto3_json_spells_it() -> None:
    data = (
        text(1, "café")
        + key(2, 0) + varint(-5)  # a negative int64 is a 10-byte varint
        + key(3, 1) + struct.pack("<d", 19.99)
        + text(4, "a") + text(4, "b")
        + key(5, 0) + varint(1)
        + key(6, 0) + varint(2)
        + text(7, text(1, "c-1"))
        + text(8, varint(1) + varint(300))  # packed
        + key(8, 0) + varint(7)  # and one more unpacked: both count
        + text(9, b"\x00\xff")
        + key(10, 5) + struct.pack("<f", 0.5)
        + key(99, 0) + varint(1) + text(98, "unknown fields are skipped")
    )  # fmt: skip
    assert message_dict(data, SCHEMA) == {
        "name": "café", "count": -5, "price": 19.99, "tags": ["a", "b"], "flag": True, "state": "OFF",
        "child": {"id": "c-1"}, "numbers": [1, 300, 7], "blob": "AP8=", "ratio": 0.5,
    }  # fmt: skip


def test_a_later_singular_value_wins_and_an_unknown_enum_value_stays_a_number() -> None:
    data = text(1, "first") + text(1, "second") + key(6, 0) + varint(9)
    assert message_dict(data, SCHEMA) == {"name": "second", "state": 9}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (key(1, 2) + varint(10) + b"abc", "length-delimited field cut short"),
        (key(3, 1) + b"\x00\x00", "fixed-width field cut short"),
        (b"\x80", "varint cut short"),
        (b"\xff" * 11, "varint longer than 10 bytes"),
        (key(1, 3), "wire type 3"),
        (b"\x00", "field number 0"),
        (key(1, 0) + varint(1), "name: expected a length-delimited field"),  # a string sent as a varint
        (key(3, 5) + b"\x00" * 4, "price: expected a 64-bit double"),
    ],
)
def test_bytes_that_are_no_such_message_raise_value_error_saying_why(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        message_dict(data, SCHEMA)


def test_nesting_is_bounded() -> None:
    schema: dict[int, ProtoField] = {}
    schema[1] = ProtoField("inner", "message", message=schema)  # a message that may hold itself
    data = b""
    for _ in range(40):
        data = text(1, data)
    with pytest.raises(ValueError, match="nested too deep"):
        message_dict(data, schema)


def test_grpc_frames_round_trip_and_compressed_frames_are_read() -> None:
    assert grpc_messages(grpc_frame(b"one") + grpc_frame(b"") + grpc_frame(b"two")) == [b"one", b"", b"two"]
    packed = gzip.compress(b"hello")
    assert grpc_messages(b"\x01" + len(packed).to_bytes(4, "big") + packed, "gzip") == [b"hello"]
    deflated = zlib.compress(b"hello")
    assert grpc_messages(b"\x01" + len(deflated).to_bytes(4, "big") + deflated, "deflate") == [b"hello"]
    for body, why in [
        (b"\x00\x00\x00", "header cut short"),
        (b"\x00\x00\x00\x00\x09abc", "cut short"),
        (b"\x02\x00\x00\x00\x00", "flag 2"),
        (b"\x01\x00\x00\x00\x01x", "undeclared encoding"),
    ]:
        with pytest.raises(ValueError, match=why):
            grpc_messages(body)


def test_the_reader_agrees_with_protobufs_own_encoder() -> None:
    descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
    # A FileDescriptorProto is a message every protobuf install has: strings, a repeated message, enums.
    proto = descriptor_pb2.FileDescriptorProto(name="shop.proto", package="shop", dependency=["a.proto", "b.proto"])
    message = proto.message_type.add(name="Order")
    message.field.add(name="value", number=3, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE)
    field_schema = {1: ProtoField("name", "string"), 3: ProtoField("number", "int"),
                    5: ProtoField("type", "enum", enum={1: "TYPE_DOUBLE"})}  # fmt: skip
    schema = {
        1: ProtoField("name", "string"),
        2: ProtoField("package", "string"),
        3: ProtoField("dependency", "string", repeated=True),
        4: ProtoField("messageType", "message", repeated=True, message={
            1: ProtoField("name", "string"), 2: ProtoField("field", "message", repeated=True, message=field_schema),
        }),
    }  # fmt: skip
    assert message_dict(proto.SerializeToString(), schema) == {
        "name": "shop.proto", "package": "shop", "dependency": ["a.proto", "b.proto"],
        "messageType": [{"name": "Order", "field": [{"name": "value", "number": 3, "type": "TYPE_DOUBLE"}]}],
    }  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_read_or_raise_value_error(data: bytes) -> None:
    try:
        list(wire_fields(data))
        message_dict(data, SCHEMA)
    except ValueError:
        pass


# --- the Google Ads API's gRPC path ----------------------------------------------------------------


def grpc_upload(body: bytes, url: str = UPLOAD, headers: list[tuple[str, str]] | None = None) -> CapturedRequest:
    return CapturedRequest(
        id="g1",
        method="POST",
        url=url,
        request_headers=[("content-type", "application/grpc"), *(headers or [])],
        body=body,
        source="server",
    )


def click_conversion(gclid: str, value: float, order: str) -> bytes:
    return text(9, gclid) + key(12, 1) + struct.pack("<d", value) + text(13, "EUR") + text(14, order)


def test_grpc_uploads_are_claimed_on_both_services_and_nothing_else_on_the_host() -> None:
    registry = DecoderRegistry.default()
    adjust = UPLOAD.replace("ConversionUploadService/UploadClickConversions", "ConversionAdjustmentUploadService/UploadConversionAdjustments")
    for url in (UPLOAD, UPLOAD.replace("v26", "v19"), adjust):
        claimant = registry.claimant(grpc_upload(b"", url))
        assert claimant is not None and claimant.vendor == "google_ads_api", url
    for other in (
        "https://googleads.googleapis.com/google.ads.googleads.v26.services.GoogleAdsService/SearchStream",
        "https://googleads.googleapis.com/google.ads.googleads.v26.services.ConversionUploadService/UploadCallConversions",
        "https://shop.example/google.ads.googleads.v26.services.ConversionUploadService/UploadClickConversions",
    ):
        assert registry.claimant(grpc_upload(b"", other)) is None, other


def test_a_grpc_upload_decodes_each_conversion_and_a_broken_one_is_malformed() -> None:
    registry = DecoderRegistry.default()
    message = text(1, "1234567890") + text(2, click_conversion("g-1", 10.5, "O-1")) + text(2, click_conversion("g-2", 3.0, "O-2"))
    events = registry.decode(grpc_upload(grpc_frame(message)))
    assert [(e.event, e.value, e.currency, e.transaction_id, e.click_ids) for e in events] == [
        ("conversion", 10.5, "EUR", "O-1", {"gclid": "g-1"}),
        ("conversion", 3.0, "EUR", "O-2", {"gclid": "g-2"}),
    ]
    assert {e.account_id for e in events} == {"1234567890"} and events[0].params["transport"] == "grpc"
    for body, why in [
        (grpc_frame(message)[:-3], "cut short"),
        (grpc_frame(text(1, "1234567890") + key(2, 0) + varint(1)), "conversions: expected a length-delimited"),
        (grpc_frame(message) + grpc_frame(message), "2 messages in a unary call"),
        (b"\x01\x00\x00\x00\x03abc", "undeclared encoding"),
    ]:
        (event,) = registry.decode(grpc_upload(body))
        assert event.malformed and why in (event.malformed_reason or ""), (why, event.malformed_reason)
    (empty,) = registry.decode(grpc_upload(grpc_frame(text(1, "1234567890"))))
    assert empty.malformed and "empty conversions list" in (empty.malformed_reason or "")


def test_the_grpc_sinkhole_reply_has_one_result_per_conversion_and_an_ok_status_trailer() -> None:
    registry = DecoderRegistry.default()
    message = text(1, "1") + text(2, click_conversion("g-1", 1.0, "O-1")) + text(2, click_conversion("g-2", 1.0, "O-2"))
    reply = registry.sinkhole_reply(grpc_upload(grpc_frame(message)))
    assert reply is not None and (reply.status, reply.content_type) == (200, "application/grpc")
    (answer,) = grpc_messages(reply.body)
    assert [(n, w) for n, w, _ in wire_fields(answer)] == [(2, 2), (2, 2)]  # two (empty) results
    assert dict(reply.trailers) == {"grpc-status": "0", "grpc-message": ""}
