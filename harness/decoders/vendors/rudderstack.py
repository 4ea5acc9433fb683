"""RudderStack: the JavaScript SDK (``@rudderstack/analytics-js`` v3, and v1.1) and the server SDKs on a data plane.

The SDK posts one message per request to ``<dataPlaneUrl>/v1/<call>`` (``track``, ``page``, ``identify``,
``group``, ``alias``, ``screen``) or, when batching, ``{"batch": [...], "sentAt": ...}`` to ``/v1/batch``.
Messages follow the Segment spec (type, event, properties, traits, messageId, anonymousId, context) and
name the SDK in ``context.library.name`` ("RudderLabs JavaScript SDK"); the write key travels only as
``Authorization: Basic base64(writeKey:)``. So they decode as Segment's do (``segment.py``); what is
RudderStack's own is where they go and how the data plane answers.

Claims: RudderStack's hosted data planes (``*.dataplane.rudderstack.com``, and the SDKs' default hosts
``hosted.rudderlabs.com`` and ``api.rudderstack.com``) by host and path; any other host (a self-hosted or
first-party proxied data plane) only with the path *and* a JSON body whose ``context.library.name`` is one
of RudderStack's SDKs, so a site's own ``/v1/track`` API is never taken. ``segment`` leaves both alone.
The Python and Node server SDKs, forks of Segment's, name Segment's libraries: on a custom host they are
told from Segment's by nothing, and decode as ``segment``.

Real hits checked against it (fixtures ``capture-*``): Omnibug's provider test (a v3.0.0-beta.1 page call on
www.rudderstack.com), the Go SDK's own ``/v1/batch`` test fixture and an Android SDK batch from
rudder-server's jobsdb tests (gateway-added fields removed).
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.decoders.base import VendorProfile, host_matches, register
from harness.decoders.vendors.segment import (
    RUDDERSTACK_HOSTS,
    SegmentDecoder,
    call_from_path,
    is_rudderstack_library,
)
from harness.decoders.wire import BodyHandoff, json_body
from harness.models import CapturedRequest, SinkholeReply


def _is_rudderstack_body(body: Any) -> bool:
    """A message, or a batch whose first message, names one of RudderStack's SDKs as its library."""
    if not isinstance(body, dict):
        return False
    batch = body.get("batch")
    if isinstance(batch, list):
        return bool(batch) and is_rudderstack_library(batch[0])
    return is_rudderstack_library(body)


@register
class RudderstackDecoder(SegmentDecoder):
    vendor = "rudderstack"
    profile = VendorProfile(
        tag_name="RudderStack",
        platform_name="RudderStack",
        purchase_events=frozenset({"order completed"}),
    )
    volatile_params: ClassVar[frozenset[str]] = SegmentDecoder.volatile_params | {"rudderId"}

    # A custom host's body, parsed by claims, is not parsed again by the decode that follows.
    _parsed: ClassVar[BodyHandoff] = BodyHandoff()

    def claims(self, request: CapturedRequest) -> bool:
        if request.method != "POST" or call_from_path(request.path) is None:
            return False
        if host_matches(request.host, RUDDERSTACK_HOSTS):
            return True
        # Any other host: the path alone could be a site's own API, so the body must name the SDK.
        return self._parsed.hand_on_if(request, json_body(request), _is_rudderstack_body)

    def surely_claims(self, host: str, method: str, path: str) -> bool:
        # RudderStack's own data planes; on any other host the body decides.
        return method == "POST" and call_from_path(path) is not None and host_matches(host, RUDDERSTACK_HOSTS)

    def sinkhole_reply(self, request: CapturedRequest) -> SinkholeReply:
        return SinkholeReply(status=200, content_type="text/plain", body=b"OK")
