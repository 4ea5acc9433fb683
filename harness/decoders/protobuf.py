"""Protocol Buffers on the wire, read without generated code: gRPC's message framing, and a message's
fields turned into the dict its proto3 JSON form would be, by a small schema of the fields a decoder reads.

Some vendors' official server clients speak gRPC, not JSON (the Google Ads API's client libraries): the
same upload a REST client sends as JSON arrives as a framed protobuf message. A decoder names the fields
it needs by number (numbers never change across API versions, names may not be on the wire at all);
fields the schema does not name are skipped, as a newer message's would be.
"""

from __future__ import annotations

import base64
import gzip
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# gRPC frames each message: a compressed flag (1 byte), its length (4 bytes, big-endian), the message.
_FRAME_HEADER = 5
_MAX_DEPTH = 32  # nested messages read before giving up (a hostile body must not recurse for ever)

Kind = Literal["string", "bytes", "double", "float", "int", "bool", "enum", "message"]


@dataclass(frozen=True)
class ProtoField:
    """One field a decoder reads: its proto3 JSON name and how its value is spelled on the wire."""

    name: str  # lowerCamelCase, as proto3 JSON names it
    kind: Kind
    repeated: bool = False
    message: Mapping[int, ProtoField] | None = None  # the schema of a "message" field
    enum: Mapping[int, str] = field(default_factory=dict)  # an "enum" field's value names


def grpc_messages(body: bytes, encoding: str | None = None) -> list[bytes]:
    """The messages of a gRPC request or response body, decompressed (``grpc-encoding`` gzip or deflate).
    Raises ValueError on a body that is not gRPC framing."""
    messages: list[bytes] = []
    at = 0
    while at < len(body):
        if at + _FRAME_HEADER > len(body):
            raise ValueError("gRPC frame header cut short")
        compressed, length = body[at], int.from_bytes(body[at + 1 : at + _FRAME_HEADER], "big")
        at += _FRAME_HEADER
        if at + length > len(body):
            raise ValueError(f"gRPC message cut short ({len(body) - at} of {length} bytes)")
        message = body[at : at + length]
        at += length
        if compressed == 1:
            message = _decompress(message, (encoding or "").strip().lower())
        elif compressed != 0:
            raise ValueError(f"gRPC frame flag {compressed} is neither 0 nor 1")
        messages.append(message)
    return messages


def grpc_frame(message: bytes) -> bytes:
    """``message`` framed as gRPC sends it, uncompressed."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _decompress(message: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(message)
    if encoding == "deflate":
        return zlib.decompress(message)
    raise ValueError(f"gRPC message compressed with {encoding or 'an undeclared encoding'}")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ValueError("varint cut short")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def wire_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, raw value) of each field in order: an int for a varint, bytes for the
    others (8 or 4 bytes for fixed-width, the payload for length-delimited). Raises ValueError when the
    bytes are not a protobuf message."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        value: int | bytes
        if wire_type == 0:
            value, at = _varint(data, at)
        elif wire_type in (1, 5):
            width = 8 if wire_type == 1 else 4
            if at + width > len(data):
                raise ValueError("fixed-width field cut short")
            value, at = data[at : at + width], at + width
        elif wire_type == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("length-delimited field cut short")
            value, at = data[at : at + length], at + length
        else:  # 3 and 4: groups, long gone from the APIs we read
            raise ValueError(f"wire type {wire_type}")
        yield number, wire_type, value


def message_dict(data: bytes, schema: Mapping[int, ProtoField], _depth: int = 0) -> dict[str, Any]:
    """The fields of ``data`` that ``schema`` names, as proto3 JSON spells them (enum values by name, a
    repeated field as a list; a later value of a singular field wins, as in protobuf). Raises ValueError
    when the bytes are not a message of this shape."""
    if _depth > _MAX_DEPTH:
        raise ValueError("messages nested too deep")
    found: dict[str, Any] = {}
    for number, wire_type, raw in wire_fields(data):
        spec = schema.get(number)
        if spec is None:
            continue
        values = _values(spec, wire_type, raw, _depth)
        if spec.repeated:
            found.setdefault(spec.name, []).extend(values)
        elif values:
            found[spec.name] = values[-1]
    return found


def _values(spec: ProtoField, wire_type: int, raw: int | bytes, depth: int) -> list[Any]:
    """One field's value(s): a packed repeated scalar carries many in one length-delimited field."""
    if spec.kind in ("string", "bytes", "message"):
        if not isinstance(raw, bytes) or wire_type != 2:
            raise ValueError(f"{spec.name}: expected a length-delimited field")
        if spec.kind == "string":
            return [raw.decode("utf-8", "replace")]
        if spec.kind == "bytes":
            return [base64.b64encode(raw).decode("ascii")]
        return [message_dict(raw, spec.message or {}, depth + 1)]
    if wire_type == 2 and isinstance(raw, bytes):  # packed scalars
        return [_scalar(spec, item) for item in _packed(spec, raw)]
    return [_scalar(spec, raw)]


def _packed(spec: ProtoField, raw: bytes) -> Iterator[int | bytes]:
    if spec.kind in ("double", "float"):
        width = 8 if spec.kind == "double" else 4
        if len(raw) % width:
            raise ValueError(f"{spec.name}: packed {spec.kind}s cut short")
        yield from (raw[at : at + width] for at in range(0, len(raw), width))
        return
    at = 0
    while at < len(raw):
        value, at = _varint(raw, at)
        yield value


def _scalar(spec: ProtoField, raw: int | bytes) -> Any:
    if spec.kind == "double":
        if not isinstance(raw, bytes) or len(raw) != 8:
            raise ValueError(f"{spec.name}: expected a 64-bit double")
        return struct.unpack("<d", raw)[0]
    if spec.kind == "float":
        if not isinstance(raw, bytes) or len(raw) != 4:
            raise ValueError(f"{spec.name}: expected a 32-bit float")
        return struct.unpack("<f", raw)[0]
    if not isinstance(raw, int):
        raise ValueError(f"{spec.name}: expected a varint")
    if spec.kind == "bool":
        return raw != 0
    if spec.kind == "enum":
        return spec.enum.get(raw, raw)  # an unknown value prints as its number, as proto3 JSON does
    return raw - (1 << 64) if raw >= 1 << 63 else raw  # int32/int64: negatives are 10-byte varints
