"""A third party's vendor and check, installed as a distribution with entry points (``eventpath.decoders``,
``eventpath.checks``), in a fresh interpreter: the registries load them, and the vendor's profile is what
the checks and the report read of it (its names, consent role, purchase events, click ID and cookie), as
for a built-in vendor. Nothing of eventpath is edited to add it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = '''
from harness.checks.base import CheckContext, check
from harness.decoders.base import PIXEL_GIF, Decoder, VendorProfile, new_event
from harness.decoders.wire import query_dict
from harness.models import SinkholeReply


class AcmeAdsDecoder(Decoder):
    vendor = "acme_ads"
    claim_hosts = ("px.acme-ads.example",)
    profile = VendorProfile(
        tag_name="Acme Ads pixel",
        platform_name="Acme Ads",
        consent="ad_tag",
        purchase_events=frozenset({"sale"}),
        click_ids=("acmeclid", "acmevisit"),
        hit_click_ids=("acmeclid",),  # acmevisit ties the click to the landing page view only
        click_id_cookies={"acmeclid": "_acme_cid"},
    )

    def claims(self, request):
        return request.host == "px.acme-ads.example" and request.path == "/t"

    def decode(self, request):
        params = query_dict(request.url)
        if "ev" not in params:
            return [self.malformed(request, "no ev")]
        return [new_event(vendor=self.vendor, event=params["ev"], account_id=params.get("id"),
                          value=float(params["v"]) if "v" in params else None, currency=params.get("cur"))]

    def sinkhole_reply(self, request):
        return SinkholeReply(status=200, content_type="image/gif", body=PIXEL_GIF)


@check("acme_sale_has_value")
def acme_sale_has_value(ctx: CheckContext):
    for event in ctx.result.select("acme_ads", "sale"):
        if event.value is None:
            yield ctx.failure("acme_sale_has_value", "Acme sale without value", "Missing value",
                              expected="a value", seen="none")
'''

PROBE = '''
import json
from harness.checks.consent import pre_consent_problem
from harness.checks.events import vendor_name
from harness.checks.click_ids import default_cookies, default_hit_vendors
from harness.baseline import volatile_names
from harness.chain import param_fates
from harness.checks.click_ids import ad_click_ids
from harness.checks.registry import all_checks
from harness.decoders.registry import DecoderRegistry
from harness.models import CapturedRequest, RedirectHop
from harness.scenario import AdClick
from harness.report.reconcile import is_purchase, platform_name

registry = DecoderRegistry.default()
hit = CapturedRequest(id="r1", method="GET", url="https://px.acme-ads.example/t?ev=sale&id=A-1&v=12.5&cur=EUR")
(event,) = registry.decode(hit)
ad = "https://go.example/r?acmeclid=AC-1&gclid=G-1"
dropped = [RedirectHop(index=0, url=ad, kind="start", status=302),
           RedirectHop(index=1, url="https://shop.example/?gclid=G-1", kind="http", status=200)]
print(json.dumps({
    "chain": [[f.param, f.fate, f.hop] for f in param_fates(dropped)],
    "ad_click_ids": ad_click_ids(ad),
    "scenario_click_id": AdClick(url="https://shop.example/", click_ids={"acmeclid": "auto"}).click_ids,
    "volatile": "acmeclid" in volatile_names("ga4"),
    "claimant": registry.claimant(hit).vendor,
    "event": [event.vendor, event.event, event.account_id, event.value, event.currency],
    "sinkhole": registry.sinkhole_reply(hit).content_type,
    "vendor_name": vendor_name("acme_ads"),
    "platform_name": platform_name("acme_ads"),
    "pre_consent": pre_consent_problem(event),
    "is_purchase": is_purchase(event),
    "cookie": default_cookies().get("acmeclid"),
    "hit_vendors": default_hit_vendors().get("acmeclid"),
    "visit_hit_vendors": default_hit_vendors().get("acmevisit"),
    "visit_followed": ad_click_ids("https://shop.example/?acmevisit=V-1"),
    "check": "acme_sale_has_value" in {c.name for c in all_checks()},
}))
'''


def install_plugin(site: Path) -> None:
    """A distribution as pip would leave it in site-packages: the module and its dist-info."""
    (site / "acme_eventpath.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "acme_eventpath-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-eventpath\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[eventpath.decoders]\nacme_ads = acme_eventpath:AcmeAdsDecoder\n\n"
        "[eventpath.checks]\nacme_sale_has_value = acme_eventpath:acme_sale_has_value\n"
    )


def test_a_plugin_vendor_is_one_module_and_the_checks_and_report_read_its_profile(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["claimant"] == "acme_ads" and seen["sinkhole"] == "image/gif"
    assert seen["event"] == ["acme_ads", "sale", "A-1", 12.5, "EUR"]
    assert (seen["vendor_name"], seen["platform_name"]) == ("Acme Ads pixel", "Acme Ads")
    assert seen["pre_consent"] == "fired"  # an ad tag: it may not fire before consent
    assert seen["is_purchase"] is True  # a row of the reconciliation table
    assert seen["cookie"] == ["_acme_cid", ["acme_ads"]] and seen["hit_vendors"] == ["acme_ads"]
    # A click ID its hits need not carry is followed all the same.
    assert seen["visit_hit_vendors"] is None and seen["visit_followed"] == {"acmevisit": "V-1"}
    assert seen["check"] is True
    # Its click ID is followed like gclid: through the redirect chain (here dropped by the second hop), in a
    # scenario's ad click, in the check's reading of the ad URL, and as a volatile value in baselines.
    assert seen["chain"] == [["acmeclid", "dropped", 1], ["gclid", "kept", None]]
    assert seen["ad_click_ids"] == {"acmeclid": "AC-1", "gclid": "G-1"}
    assert seen["scenario_click_id"] == {"acmeclid": "auto"}
    assert seen["volatile"] is True


def test_without_a_profile_a_vendor_is_named_by_its_slug_and_judged_by_no_consent_rule() -> None:
    from harness.checks.consent import pre_consent_problem
    from harness.checks.events import vendor_name
    from harness.models import DecodedEvent
    from harness.report.reconcile import is_purchase, platform_name

    unknown = DecodedEvent(vendor="no_such_vendor", event="purchase")
    assert (vendor_name("no_such_vendor"), platform_name("no_such_vendor")) == ("no_such_vendor", "no_such_vendor")
    assert pre_consent_problem(unknown) is None and is_purchase(unknown) is False
