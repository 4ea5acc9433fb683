"""A backend's calls made with a vendor's own Python SDK, once, then exit.

Run: ``python sdk_client.py SDK TOKEN``, SDK one of ``segment``, ``segment-gzip``, ``rudderstack``,
``rudderstack-hosted``, ``snowplow-post``, ``snowplow-get``, ``ga4mp``, ``pinterest``, ``snap``,
``google-ads`` (a click conversion and an enhancement, over gRPC). Every call
carries TOKEN (an order ID, a page URL) so a test finds its requests among others. Prints what the SDK
reported; exits non-zero if it reported a failure. Nothing here knows about eventpath: the environment
routes the SDK through the capture proxy.
"""

from __future__ import annotations

import sys

PAGE = "https://shop.example/thank-you?gclid=Cj0KCQsdkTestGclid&order={token}"


def segment(token: str, *, gzip: bool) -> None:
    import segment.analytics as analytics

    failures: list[str] = []
    analytics.write_key = "segment-sdk-write-key"
    analytics.gzip = gzip
    analytics.on_error = lambda error, _batch: failures.append(repr(error))
    analytics.track(
        "user-42",
        "Order Completed",
        {"order_id": token, "revenue": 99.5, "currency": "EUR"},
        context={"page": {"url": PAGE.format(token=token)}},
    )
    analytics.identify("user-42", {"plan": "pro"}, context={"page": {"url": PAGE.format(token=token)}})
    analytics.flush()
    analytics.shutdown()
    if failures:
        raise SystemExit(f"segment: {failures}")


def rudderstack(token: str, *, host: str | None) -> None:
    import rudderstack.analytics as analytics

    failures: list[str] = []
    analytics.write_key = "rudderstack-sdk-write-key"
    if host is not None:
        analytics.dataPlaneUrl = host
    analytics.on_error = lambda error, _batch: failures.append(repr(error))
    analytics.track("user-42", "Order Completed", {"order_id": token, "revenue": 42.0, "currency": "USD"})
    analytics.flush()
    analytics.shutdown()
    if failures:
        raise SystemExit(f"rudderstack: {failures}")


def snowplow(token: str, *, method: str) -> None:
    from snowplow_tracker import Emitter, PageView, StructuredEvent, Tracker

    failures: list[str] = []
    emitter = Emitter(
        "collector.shop.example",
        method=method,  # type: ignore[arg-type]
        batch_size=1,
        on_failure=lambda count, events: failures.append(f"{count} sent of {len(events) + count}"),
    )
    tracker = Tracker(namespace="backend", emitters=emitter, app_id="shop")
    tracker.track(PageView(page_url=PAGE.format(token=token), page_title="Thank you"))
    tracker.track(StructuredEvent(category="checkout", action="purchase", label=token, value=12.5))
    tracker.flush()
    if failures:
        raise SystemExit(f"snowplow: {failures}")


def ga4mp(token: str) -> None:
    from ga4mp import GtagMP

    client = GtagMP(api_secret="ga4mp-api-secret", measurement_id="G-SDKTEST01", client_id="1234567.7654321")
    event = client.create_new_event(name="purchase")
    event.set_event_param(name="currency", value="EUR")
    event.set_event_param(name="value", value=45.5)
    event.set_event_param(name="transaction_id", value=token)
    client.send(events=[event])


def pinterest(token: str) -> None:
    import hashlib
    import time

    from pinterest.ads.conversion_events import Conversion
    from pinterest.client import PinterestSDKClient

    client = PinterestSDKClient.create_client_with_token("pina-sdk-test-token")
    event = Conversion.create_conversion_event(
        event_name="checkout",
        action_source="web",
        event_time=int(time.time()),
        event_id=f"evt-{token}",
        event_source_url=PAGE.format(token=token),
        user_data={
            "em": [hashlib.sha256(b"joe@example.com").hexdigest()],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (Linux; Android 14)",
        },
        custom_data={"currency": "USD", "value": "72.50", "order_id": token, "num_items": 2},
    )
    # The SDK reads the reply into the API's response model: a reply it cannot read raises here.
    reply = Conversion.send_conversion_events(
        client=client, ad_account_id="549755885175", conversion_events=[event], test=True
    )
    if reply.num_events_processed != 1:
        raise SystemExit(f"pinterest: {reply}")


def snap(token: str) -> None:
    import time

    from snap_business_sdk.public.conversion_api import ConversionApi
    from snap_business_sdk.public.conversion_event import ConversionEvent

    event = ConversionEvent(
        pixel_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        event_type="PURCHASE",
        event_conversion_type="WEB",
        timestamp=str(int(time.time() * 1000)),
        email="joe@example.com",  # the SDK normalises and hashes
        price="45.50",
        currency="EUR",
        transaction_id=token,
        client_dedup_id=f"dedup-{token}",
        page_url=PAGE.format(token=token),
        click_id="snap-click-1",
        user_agent="Mozilla/5.0 (Linux; Android 14)",
    )
    reply = ConversionApi("snap-sdk-test-token").send_event_sync(event)
    if reply.get("status") != "SUCCESS":
        raise SystemExit(f"snap: {reply}")


def google_ads(token: str) -> None:
    import hashlib

    from google.ads.googleads.client import GoogleAdsClient
    from google.oauth2.credentials import Credentials

    # An access token as is: no refresh call to Google's OAuth server (offline, and not what is tested).
    client = GoogleAdsClient(
        credentials=Credentials(token="ya29.sdk-test-access-token"),
        developer_token="sdk-test-developer-token",
        login_customer_id="1112223333",
        use_proto_plus=True,
    )
    email = hashlib.sha256(b"joe@example.com").hexdigest()
    action = "customers/1234567890/conversionActions/987654321"

    conversion = client.get_type("ClickConversion")
    conversion.conversion_action = action
    conversion.gclid = "Cj0KCQsdkTestGclid"
    conversion.conversion_date_time = "2026-12-03 12:32:45-08:00"
    conversion.conversion_value = 23.4
    conversion.currency_code = "EUR"
    conversion.order_id = token
    identifier = client.get_type("UserIdentifier")
    identifier.hashed_email = email
    conversion.user_identifiers.append(identifier)
    conversion.consent.ad_user_data = client.enums.ConsentStatusEnum.GRANTED
    conversion.consent.ad_personalization = client.enums.ConsentStatusEnum.DENIED
    uploads = client.get_service("ConversionUploadService")
    request = client.get_type("UploadClickConversionsRequest")
    request.customer_id = "1234567890"
    request.conversions.append(conversion)
    request.partial_failure = True
    reply = uploads.upload_click_conversions(request=request, timeout=20)
    if len(reply.results) != 1 or reply.partial_failure_error.code:
        raise SystemExit(f"google-ads upload: {reply}")

    adjustment = client.get_type("ConversionAdjustment")
    adjustment.conversion_action = action
    adjustment.order_id = token
    adjustment.adjustment_type = client.enums.ConversionAdjustmentTypeEnum.RESTATEMENT
    adjustment.adjustment_date_time = "2026-12-04 09:00:00-08:00"
    adjustment.restatement_value.adjusted_value = 19.9
    adjustment.restatement_value.currency_code = "EUR"
    adjustments = client.get_service("ConversionAdjustmentUploadService")
    request = client.get_type("UploadConversionAdjustmentsRequest")
    request.customer_id = "1234567890"
    request.conversion_adjustments.append(adjustment)
    request.partial_failure = True
    reply = adjustments.upload_conversion_adjustments(request=request, timeout=20)
    if len(reply.results) != 1:
        raise SystemExit(f"google-ads adjustment: {reply}")


if __name__ == "__main__":
    sdk, run_token = sys.argv[1], sys.argv[2]
    calls = {
        "segment": lambda: segment(run_token, gzip=False),
        "segment-gzip": lambda: segment(run_token, gzip=True),
        "rudderstack": lambda: rudderstack(run_token, host=None),
        "rudderstack-hosted": lambda: rudderstack(run_token, host="https://hosted.rudderlabs.com"),
        "snowplow-post": lambda: snowplow(run_token, method="post"),
        "snowplow-get": lambda: snowplow(run_token, method="get"),
        "ga4mp": lambda: ga4mp(run_token),
        "pinterest": lambda: pinterest(run_token),
        "snap": lambda: snap(run_token),
        "google-ads": lambda: google_ads(run_token),
    }
    calls[sdk]()
    print(f"{sdk}: sent")
