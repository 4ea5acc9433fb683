"""A local site whose pages carry consent banners: the real open-source CMPs (vendored under
``cmp_vendor/``) and, for the closed ones, their documented markup (ids, classes, shadow root, iframe).

Routes (the banner is drawn ``delay`` ms after load, 200 by default, as a CMP draws it once its script ran):

- ``/banners?show=onetrust,didomi`` : those banners (``BANNERS``), each after ``delay`` or ``d_<name>`` ms;
- ``/sp-message``: the Sourcepoint message, the document of the ``sp_message_iframe_*`` iframe;
- ``/truste-frame``: the older TrustArc dialog, the document of the ``truste_popframe`` iframe;
- ``/cookieconsent`` and ``/klaro``: the real CMPs; ``/vendor/<path>``: their files.

Every fake button carries ``data-hit``: a click records it in ``window.__clicked`` and, when the page came
through the harness (a ``.test`` host), sends a GA4 hit with ``ep.hit=<data-hit>``, so a run shows exactly
which button was clicked. Iframes come from another site (``consent.cmpvendor.test`` through the harness,
``localhost`` when the page was opened as ``127.0.0.1``), as a CMP's iframe does.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from harness.options import HostMapping
from tests.local_site import LocalSite

SITE_HOST = "www.cmp.test"
VENDOR_HOST = "consent.cmpvendor.test"
VENDOR_DIR = Path(__file__).parent / "cmp_vendor"
COLLECT = "https://www.google-analytics.com/g/collect?v=2&tid=G-CMPTEST1&cid=5.5&en=consent"

_ANSWERED_JS = """
function answered(id) {
  window.__clicked = (window.__clicked || []).concat([id]);
  if (location.hostname.endsWith('.test')) new Image().src = __COLLECT__ + '&ep.hit=' + encodeURIComponent(id);
}
function draw(html, delay, root) {
  setTimeout(() => {
    const holder = document.createElement('div');
    holder.innerHTML = html;
    holder.addEventListener('click', (e) => {
      const button = e.target.closest('[data-hit]');
      if (button) { answered(button.dataset.hit); holder.remove(); }
    });
    (root || document.body).appendChild(holder);
  }, delay);
}
""".replace("__COLLECT__", json.dumps(COLLECT))

# Each CMP's first layer as the vendor renders it (ids and classes from the sources in harness/browser/cmps.py).
BANNERS: dict[str, str] = {
    "onetrust": """<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk" class="otFlat" role="region"
aria-label="Cookie banner"><div id="onetrust-policy"><p id="onetrust-policy-text">We use cookies.</p></div>
<div id="onetrust-button-group-parent"><div id="onetrust-button-group">
<button id="onetrust-pc-btn-handler" data-hit="onetrust-settings">Cookie Settings</button>
<button id="onetrust-reject-all-handler" data-hit="onetrust-reject">Reject All</button>
<button id="onetrust-accept-btn-handler" data-hit="onetrust-accept">Accept All Cookies</button>
</div></div></div></div>""",
    # OneTrust configured without "Reject All" on the banner: only settings and accept.
    "onetrust-noreject": """<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk" role="region">
<button id="onetrust-pc-btn-handler" data-hit="onetrust-settings">Cookie Settings</button>
<button id="onetrust-accept-btn-handler" data-hit="onetrust-accept">Accept All Cookies</button></div></div>""",
    "cookiebot": """<div id="CybotCookiebotDialog" role="dialog" class="CybotCookiebotDialogActive">
<div id="CybotCookiebotDialogBody"><p>This website uses cookies</p></div>
<div id="CybotCookiebotDialogFooter"><div id="CybotCookiebotDialogBodyButtonsWrapper">
<button id="CybotCookiebotDialogBodyButtonDecline" data-hit="cookiebot-reject">Deny</button>
<button id="CybotCookiebotDialogBodyLevelButtonCustomize" data-hit="cookiebot-customize">Customize</button>
<button id="CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll" data-hit="cookiebot-accept">Allow all</button>
</div></div></div>""",
    "didomi": """<div id="didomi-host"><div class="didomi-popup-container"><div id="didomi-notice"
class="didomi-popup-notice didomi-notice-banner"><p>We and our partners use cookies</p>
<button id="didomi-notice-learn-more-button" data-hit="didomi-learn-more">Learn more</button>
<button id="didomi-notice-disagree-button" data-hit="didomi-reject">Disagree</button>
<button id="didomi-notice-agree-button" data-hit="didomi-accept">Agree and close</button></div></div></div>""",
    "quantcast": """<div id="qc-cmp2-container"><div id="qc-cmp2-main" class="qc-cmp2-main"><div id="qc-cmp2-ui"
role="dialog"><p>We value your privacy</p><div class="qc-cmp2-summary-buttons">
<button mode="secondary" data-hit="quantcast-more-options">MORE OPTIONS</button>
<button mode="primary" data-hit="quantcast-accept">AGREE</button></div></div></div></div>""",
    # The site's own banner, for the explicit-selector test.
    "custom": """<div id="my-cmp"><button id="my-accept" data-hit="custom-accept">OK</button>
<button id="my-reject" data-hit="custom-reject">No</button></div>""",
}

# Usercentrics (v2/v3) renders its UI in the open shadow root of #usercentrics-root.
USERCENTRICS_JS = """
setTimeout(() => {
  const host = document.createElement('div');
  host.id = 'usercentrics-root';
  document.body.appendChild(host);
  const root = host.attachShadow({mode: 'open'});
  draw(`<div data-testid="uc-container" role="dialog"><p>Privacy settings</p>
    <button role="button" data-testid="uc-more-button" data-hit="usercentrics-settings">Settings</button>
    <button role="button" data-testid="uc-deny-all-button" data-hit="usercentrics-reject">Deny</button>
    <button role="button" data-testid="uc-accept-all-button" data-hit="usercentrics-accept">Accept All</button>
  </div>`, 0, root);
}, %d);
"""

# Sourcepoint: the page holds the container and the message iframe; the buttons are in the iframe.
SOURCEPOINT_HTML = """<div id="sp_message_container_1047" class="sp-message-open">
<iframe id="sp_message_iframe_1047" title="SP Consent Message" src="%s/sp-message" style="width:600px;height:240px"></iframe></div>"""
SP_MESSAGE = """<div class="message-container"><p>We care about your privacy</p>
<button class="message-component message-button no-children focusable sp_choice_type_12" title="Options" data-hit="sourcepoint-options">Options</button>
<button class="message-component message-button no-children focusable sp_choice_type_13" title="Reject All" data-hit="sourcepoint-reject">Reject All</button>
<button class="message-component message-button no-children focusable sp_choice_type_11" title="Accept All" data-hit="sourcepoint-accept">Accept All</button></div>"""

# The older TrustArc dialog: an iframe.truste_popframe whose buttons are a.call / a.required.
TRUSTE_HTML = """<div class="truste_box_overlay"><iframe class="truste_popframe" title="TrustArc Cookie Consent Manager"
src="%s/truste-frame" style="width:600px;height:240px"></iframe></div>"""
TRUSTE_FRAME = """<div class="pdynamicbutton"><a class="call" role="button" tabindex="0" data-hit="trustarc-accept">Agree and Proceed</a>
<a class="required" role="button" tabindex="0" data-hit="trustarc-reject">Required Cookies Only</a></div>"""

# orestbida/cookieconsent v3: its state lands in the cc_cookie cookie.
COOKIECONSENT_PAGE = """<!doctype html><html><head><title>CookieConsent</title>
<link rel="stylesheet" href="/vendor/vanilla-cookieconsent/cookieconsent.css"></head><body><h1>Shop</h1>
<script src="/vendor/vanilla-cookieconsent/cookieconsent.umd.js"></script>
<script>
CookieConsent.run({
  // hideFromBots at its default (on): the banner shows because the harness's browser does not announce automation
  categories: { necessary: { enabled: true, readOnly: true }, analytics: {} },
  language: { default: 'en', translations: { en: {
    consentModal: { title: 'We use cookies', description: 'Analytics helps us improve the shop.',
      acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Manage preferences' },
    preferencesModal: { title: 'Preferences', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all',
      savePreferencesBtn: 'Save', sections: [] } } } },
});
</script></body></html>"""

# Klaro: reads window.klaroConfig when its script loads; its state lands in the klaro cookie.
KLARO_PAGE = """<!doctype html><html><head><title>Klaro</title></head><body><h1>Shop</h1>
<script>
var klaroConfig = {
  version: 1, elementID: 'klaro', storageMethod: 'cookie', cookieName: 'klaro', default: false,
  mustConsent: false, acceptAll: true, hideDeclineAll: false, hideLearnMore: false,
  translations: { zz: { privacyPolicyUrl: '/privacy' },
    en: { purposes: { analytics: 'Analytics' }, analytics: { description: 'Visit statistics' } } },
  services: [{ name: 'analytics', title: 'Analytics', purposes: ['analytics'] }],
};
</script>
<script defer src="/vendor/klaro/klaro.js"></script></body></html>"""


def page(title: str, script: str) -> str:
    return f"""<!doctype html><html><head><title>{title}</title></head><body><h1>Summer tents</h1>
<p>Free delivery on all orders.</p><script>{_ANSWERED_JS}{script}</script></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: CmpSite  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("cache-control", "no-store")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, html: str) -> None:
        self._send(html.encode(), "text/html; charset=utf-8")

    def _vendor_origin(self) -> str:
        """The CMP iframe's origin: another site than the page's."""
        host = self.headers.get("host", "")
        if host.endswith(".test"):
            return f"https://{VENDOR_HOST}"
        return f"http://localhost:{self.server.port}"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        delay = int(query.get("delay", "200"))
        if parts.path == "/banners":
            script = ""
            for name in filter(None, query.get("show", "").split(",")):
                shown_after = int(query.get(f"d_{name}", delay))
                if name == "usercentrics":
                    script += USERCENTRICS_JS % shown_after
                    continue
                html = {
                    "sourcepoint": SOURCEPOINT_HTML % self._vendor_origin(),
                    "trustarc-frame": TRUSTE_HTML % self._vendor_origin(),
                }.get(name) or BANNERS[name]
                script += f"draw({json.dumps(html)}, {shown_after});\n"
            self._html(page("Landing", script))
        elif parts.path == "/sp-message":
            self._html(page("SP message", f"draw({json.dumps(SP_MESSAGE)}, 0);"))
        elif parts.path == "/truste-frame":
            self._html(page("TrustArc", f"draw({json.dumps(TRUSTE_FRAME)}, 0);"))
        elif parts.path == "/cookieconsent":
            self._html(COOKIECONSENT_PAGE)
        elif parts.path == "/klaro":
            self._html(KLARO_PAGE)
        elif parts.path.startswith("/vendor/"):
            file = (VENDOR_DIR / parts.path.removeprefix("/vendor/")).resolve()
            if VENDOR_DIR.resolve() not in file.parents or not file.is_file():
                self._send(b"not found", "text/plain", 404)
                return
            kind = "text/css" if file.suffix == ".css" else "application/javascript"
            self._send(file.read_bytes(), kind)
        else:
            self._send(b"not found", "text/plain", 404)


class CmpSite(LocalSite):
    def __init__(self) -> None:
        super().__init__(_Handler)

    def url(self, path: str) -> str:
        """Through the harness (mapped host names, HTTPS from the proxy)."""
        return f"https://{SITE_HOST}{path}"

    def direct(self, path: str) -> str:
        """Straight from a browser without the harness."""
        return f"http://127.0.0.1:{self.port}{path}"

    def mappings(self) -> list[HostMapping]:
        return [HostMapping(host=h, addr="127.0.0.1", port=self.port) for h in (SITE_HOST, VENDOR_HOST)]
