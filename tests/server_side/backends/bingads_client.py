"""A backend's offline conversion upload made with Microsoft Advertising's own Python SDK (``bingads``), once,
then exit.

Run: ``python bingads_client.py TOKEN [--sandbox]``. Calls the Campaign Management service (SOAP, through
the SDK's ``ServiceClient`` and its suds client) three times: ``ApplyOfflineConversions`` with two
conversions, ``ApplyOfflineConversionAdjustments`` with a restatement and ``ApplyOnlineConversionAdjustments``
with a retraction by transaction ID. Every call carries TOKEN (in a conversion name, a transaction ID) so a
test finds its requests among others. Prints what the SDK reported; exits non-zero if it raised or reported
partial errors.

The access token is a fixed string with no expiry, so the SDK never calls Microsoft's OAuth server.

Nothing here knows about eventpath or proxies: suds, the SDK's SOAP client, turns ``HTTPS_PROXY`` off (its
transport installs ``ProxyHandler(options.proxy)``, ``{}`` by default), and the environment's Python shim
(``harness.app_env``) turns it back on. (``SSL_CERT_FILE`` is read: urllib verifies with OpenSSL's defaults.)
"""

from __future__ import annotations

import hashlib
import sys

DEVELOPER_TOKEN = "bingads-sdk-test-developer-token"
ACCESS_TOKEN = "bingads-sdk-test-access-token"
CUSTOMER_ID = 251186883
ACCOUNT_ID = 180535609
MSCLKID = "6e1f4b2c9d3a4e5f8a7b6c5d4e3f2a1b"


def main(token: str, *, sandbox: bool) -> None:
    from bingads.authorization import AuthorizationData, OAuthDesktopMobileAuthCodeGrant, OAuthTokens
    from bingads.service_client import ServiceClient

    environment = "sandbox" if sandbox else "production"
    authentication = OAuthDesktopMobileAuthCodeGrant(
        client_id="00000000-0000-0000-0000-000000000000",
        # No expiry: the SDK only refreshes a token that says it expired.
        oauth_tokens=OAuthTokens(access_token=ACCESS_TOKEN, access_token_expires_in_seconds=None),
        env=environment,
    )
    authorization = AuthorizationData(
        developer_token=DEVELOPER_TOKEN,
        authentication=authentication,
        customer_id=CUSTOMER_ID,
        account_id=ACCOUNT_ID,
    )
    service = ServiceClient(
        "CampaignManagementService",
        version=13,
        authorization_data=authorization,
        environment=environment,
    )
    factory = service.factory

    first = factory.create("OfflineConversion")
    first.ConversionName = f"Offline purchase {token}"
    first.ConversionTime = "2026-12-03T12:32:45Z"
    first.ConversionValue = 49.95
    first.ConversionCurrencyCode = "EUR"
    first.MicrosoftClickId = MSCLKID
    first.HashedEmailAddress = hashlib.sha256(b"joe@example.com").hexdigest()
    first.HashedPhoneNumber = hashlib.sha256(b"+14155550000").hexdigest()
    first.ExternalAttributionCredit = 0.6
    first.ExternalAttributionModel = "data-driven"
    second = factory.create("OfflineConversion")
    second.ConversionName = f"Offline purchase {token}"
    second.ConversionTime = "2026-12-03T13:00:00Z"
    second.MicrosoftClickId = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    conversions = factory.create("ArrayOfOfflineConversion")
    conversions.OfflineConversion.extend([first, second])
    reply = service.ApplyOfflineConversions(OfflineConversions=conversions)
    report("ApplyOfflineConversions", reply)

    restatement = factory.create("OfflineConversionAdjustment")
    restatement.AdjustmentType = "Restate"
    restatement.AdjustmentValue = 39.95
    restatement.AdjustmentCurrencyCode = "EUR"
    restatement.AdjustmentTime = "2026-12-04T09:00:00Z"
    restatement.ConversionName = f"Offline purchase {token}"
    restatement.ConversionTime = "2026-12-03T12:32:45Z"
    restatement.MicrosoftClickId = MSCLKID
    adjustments = factory.create("ArrayOfOfflineConversionAdjustment")
    adjustments.OfflineConversionAdjustment.append(restatement)
    reply = service.ApplyOfflineConversionAdjustments(OfflineConversionAdjustments=adjustments)
    report("ApplyOfflineConversionAdjustments", reply)

    retraction = factory.create("OnlineConversionAdjustment")
    retraction.AdjustmentType = "Retract"
    retraction.AdjustmentTime = "2026-12-05T10:00:00Z"
    retraction.ConversionName = "Online purchase"
    retraction.TransactionId = token
    online = factory.create("ArrayOfOnlineConversionAdjustment")
    online.OnlineConversionAdjustment.append(retraction)
    reply = service.ApplyOnlineConversionAdjustments(OnlineConversionAdjustments=online)
    report("ApplyOnlineConversionAdjustments", reply)
    print("tracking id:", service.get_response_header().get("TrackingId"))


def report(method: str, reply: object) -> None:
    """Print the SDK's answer; exit non-zero on partial errors (the SDK raises on a fault itself)."""
    errors = getattr(reply, "PartialErrors", None)
    batch_errors = getattr(errors, "BatchError", None) if errors is not None else None
    print(f"{method}: {reply!r}")
    if batch_errors:
        raise SystemExit(f"{method}: partial errors {batch_errors}")


if __name__ == "__main__":
    main(sys.argv[1], sandbox="--sandbox" in sys.argv[2:])
