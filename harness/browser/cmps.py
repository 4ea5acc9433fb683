"""The consent management platforms (CMPs) a run recognises without selectors in the scenario.

``answer_consent`` races every entry's button (``conditions.py``) when ``consent_selectors`` leaves
``accept``/``reject`` unset; ``consent_selectors.cmp: <key>`` narrows the race to one CMP's entries.

Each entry is one banner as its vendor renders it: a CSS selector (Playwright's CSS, which pierces open
shadow roots, so Usercentrics needs no ``>>>``) for the one-click "accept all" and "reject all" buttons,
and ``frame`` when the banner lives in an iframe (the selector of that iframe). ``reject`` is None where
the first layer has no reliable one-click reject: rejecting such a CMP is a clear run error asking for
``consent_selectors.reject``, never an accept.

Every selector was checked against public material; the source is noted per entry:

- autoconsent: DuckDuckGo's consent-automation rules, github.com/duckduckgo/autoconsent
  (``rules/autoconsent/*.json``, ``lib/cmps/*.ts``), which run against real sites in CI;
- Consent-O-Matic: Aarhus University's rules, github.com/cavi-au/Consent-O-Matic (``rules/*.json``);
- the vendor's own npm package, where it is open source (its built file is vendored under
  ``tests/conditions/cmp_vendor/`` and driven by the tests);
- "real-site scripts": public automation code written against live sites with that CMP (Playwright,
  Selenium, Cypress), named where a selector has no rule-project source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.scenario import CmpName

__all__ = ["CMPS", "CmpName", "KnownCmp", "cmps_named"]


@dataclass(frozen=True)
class KnownCmp:
    key: CmpName
    name: str  # what the step label says: "consent: accept (OneTrust)"
    accept: str
    reject: str | None
    frame: str | None = None  # the banner's iframe; None: the page itself (shadow roots included)
    reject_hint: str = ""  # said when a reject is asked of a CMP without ``reject``

    def selector(self, choice: Literal["accept", "reject"]) -> str | None:
        return self.accept if choice == "accept" else self.reject

    def where(self, selector: str) -> str:
        """A selector as the step's target: ``button.sp_choice_type_11 in iframe[id^="sp_message_iframe"]``."""
        return f"{selector} in {self.frame}" if self.frame else selector

    def quoted(self, selector: str) -> str:
        """A selector as an error quotes it: ``'button.sp_choice_type_11' in iframe[id^="sp_message_iframe"]``."""
        return f"{selector!r} in {self.frame}" if self.frame else repr(selector)


CMPS: tuple[KnownCmp, ...] = (
    # autoconsent lib/cmps/onetrust.ts (banner #onetrust-banner-sdk); the two button ids are in countless
    # real-site scripts (find "#onetrust-accept-btn-handler" / "#onetrust-reject-all-handler" on GitHub).
    KnownCmp("onetrust", "OneTrust", "#onetrust-accept-btn-handler", "#onetrust-reject-all-handler"),
    # autoconsent lib/cmps/cookiebot.ts: #CybotCookiebotDialogBodyButtonAccept (older dialog) and
    # #CybotCookiebotDialogBodyButtonDecline; the current dialog's "Allow all" is
    # #CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll (real-site scripts, several CMP lists).
    KnownCmp(
        "cookiebot",
        "Cookiebot",
        "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll, #CybotCookiebotDialogBodyButtonAccept",
        "#CybotCookiebotDialogBodyButtonDecline",
    ),
    # Usercentrics CMP v2/v3 renders in the open shadow root of #usercentrics-root (autoconsent
    # rules/autoconsent/usercentrics-api.json); the data-testid buttons from real-site Selenium scripts
    # that open that shadow root: button[data-testid='uc-accept-all-button'] / 'uc-deny-all-button'.
    KnownCmp(
        "usercentrics",
        "Usercentrics",
        "button[data-testid='uc-accept-all-button']",
        "button[data-testid='uc-deny-all-button']",
    ),
    # autoconsent rules/autoconsent/didomi.json: optIn #didomi-notice-agree-button, optOut
    # #didomi-notice-disagree-button (or the "continue without agreeing" link, a reject too).
    KnownCmp(
        "didomi",
        "Didomi",
        "#didomi-notice-agree-button",
        "#didomi-notice-disagree-button, .didomi-continue-without-agreeing",
    ),
    # autoconsent rules/autoconsent/quantcast.json: optIn .qc-cmp2-summary-buttons > button[mode="primary"].
    # Its one-click reject (#disagree-btn) exists only when the publisher turns it on and renders disabled
    # first; otherwise rejecting goes through "more options" and per-purpose toggles. No reject here.
    KnownCmp(
        "quantcast",
        "Quantcast Choice",
        '.qc-cmp2-summary-buttons > button[mode="primary"]',
        None,
        reject_hint="Quantcast shows a one-click reject only when the publisher enables it "
        "(then consent_selectors.reject: '#disagree-btn')",
    ),
    # The message is an iframe whose id starts with sp_message_iframe_ (real-site Playwright/Selenium scripts:
    # iframe[id^='sp_message_iframe']; autoconsent's sourcepoint-top.ts finds its container
    # div[id^='sp_message_container_']). Buttons: autoconsent lib/cmps/sourcepoint-frame.ts, optIn
    # .sp_choice_type_11 (accept all), optOut button.sp_choice_type_13 (reject all / do not sell).
    KnownCmp(
        "sourcepoint",
        "Sourcepoint",
        "button.sp_choice_type_11",
        "button.sp_choice_type_13",
        frame='iframe[id^="sp_message_iframe"]',
    ),
    # autoconsent lib/cmps/trustarc-top.ts: the banner in the page, #truste-consent-button (opt in) and
    # #truste-consent-required (opt out, "required only").
    KnownCmp("trustarc", "TrustArc", "#truste-consent-button", "#truste-consent-required"),
    # The older TrustArc dialog is an iframe (iframe.truste_popframe in real-site scripts and autoconsent's
    # prehide list); autoconsent lib/cmps/trustarc-frame.ts clicks .call to opt in and .rejectAll, or
    # .required, to opt out.
    KnownCmp("trustarc", "TrustArc", ".call", ".rejectAll, .required", frame="iframe.truste_popframe"),
    # autoconsent rules/autoconsent/cookieyes.json.
    KnownCmp(
        "cookieyes",
        "CookieYes",
        ".cky-consent-container [data-cky-tag=accept-button]",
        ".cky-consent-container [data-cky-tag=reject-button]",
    ),
    # autoconsent rules/autoconsent/complianz-banner.json.
    KnownCmp("complianz", "Complianz", ".cmplz-cookiebanner .cmplz-accept", ".cmplz-cookiebanner .cmplz-deny"),
    # autoconsent rules/autoconsent/osano.json: optIn .osano-cm-accept-all. Its "Deny" button,
    # button.osano-cm-denyAll, from real-site scripts (autoconsent and Consent-O-Matic hide the banner or
    # go through the drawer's toggles instead).
    KnownCmp("osano", "Osano", ".osano-cm-accept-all", ".osano-cm-denyAll"),
    # autoconsent rules/autoconsent/iubenda.json: optIn .iubenda-cs-accept-btn. The banner's reject button
    # .iubenda-cs-reject-btn (shown when the publisher enables it) from the iubenda integration of the
    # WooCommerce Pixel Manager, which watches clicks on both classes, and real-site scripts.
    KnownCmp("iubenda", "iubenda", ".iubenda-cs-accept-btn", ".iubenda-cs-reject-btn"),
    # autoconsent rules/autoconsent/axeptio.json: optIn button#axeptio_btn_acceptAll, optOut
    # button#axeptio_btn_dismiss.
    KnownCmp("axeptio", "Axeptio", "button#axeptio_btn_acceptAll", "button#axeptio_btn_dismiss"),
    # autoconsent lib/cmps/consentmanager.ts (consentmanager.net, box #cmpbox): .cmpboxbtnyes / .cmpboxbtnno.
    KnownCmp("consentmanager", "consentmanager.net", ".cmpboxbtnyes", ".cmpboxbtnno"),
    # autoconsent lib/cmps/klaro.ts: optIn .klaro .cm-btn-accept-all (modal) or
    # .klaro .cookie-notice .cm-btn-success (notice); optOut .klaro .cn-decline. Checked in klaro 0.7.22's
    # dist/klaro.js: the notice's buttons are "cm-btn cm-btn-success" and "cm-btn cm-btn-danger cn-decline".
    KnownCmp(
        "klaro",
        "Klaro",
        ".klaro .cookie-notice .cm-btn-success, .klaro .cm-btn-accept-all",
        ".klaro .cn-decline",
    ),
    # orestbida/cookieconsent v3 (npm vanilla-cookieconsent): autoconsent rules/autoconsent/cookieconsent3.json,
    # .cm__btn[data-role=all] / .cm__btn[data-role=necessary] inside #cc-main; driven by the tests.
    KnownCmp(
        "cookieconsent",
        "CookieConsent",
        "#cc-main .cm__btn[data-role=all]",
        "#cc-main .cm__btn[data-role=necessary]",
    ),
    # Shopify's customer privacy banner: autoconsent rules/autoconsent/shopify.json (#shopify-pc__banner).
    KnownCmp("shopify", "Shopify", "#shopify-pc__banner__btn-accept", "#shopify-pc__banner__btn-decline"),
    # The embedded demo shop (harness/demo/pages.py): the harness's historical default selectors. Its step
    # keeps the label "consent: accept" it always had.
    KnownCmp("demo", "demo shop", "#consent-accept", "#consent-reject"),
)

def cmps_named(key: str) -> tuple[KnownCmp, ...]:
    """The entries to race: every CMP for ``auto``, else the named CMP's (TrustArc has two)."""
    if key == "auto":
        return CMPS
    return tuple(c for c in CMPS if c.key == key)
