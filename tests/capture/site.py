"""A local test site for the capture core, served on loopback and reached under mapped host names.

``ads.test`` is a click tracker, ``www.site.test`` the site with redirects of every kind, a page that
fires tag hits on load and on unload, and its own checkout API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit

from harness.options import HostMapping
from tests.local_site import LocalSite

HOSTS = ("ads.test", "www.site.test", "js.pay.test")

HIT_PAGE = """<!doctype html><html><head><title>Landing</title></head><body>
<h1>Landing</h1><button id="buy">Buy</button><div id="result"></div>
<input id="email"><select id="country"><option value="DE">Germany</option><option value="FR">France</option></select>
<div style="height: 3000px"></div><p id="footer">end</p>
<script>
const q = location.search.slice(1);
// On load: a GA4 batched POST via fetch, a Meta image ping, a keepalive fetch.
fetch('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=page_view&dl=' +
      encodeURIComponent(location.href), {method: 'POST', body: 'en=scroll\\nen=view_item', keepalive: true});
new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=PageView&dl=' + encodeURIComponent(location.href);
// A first-party (server-side GTM) collector on the site's own host: a tag hit, never the site's business.
navigator.sendBeacon('/g/collect?v=2&tid=G-TEST123&cid=1.2&en=first_party_view', '');
// On unload: what tags send last, and what a harness most easily loses.
addEventListener('pagehide', () => {
  for (let i = 0; i < UNLOAD_HITS; i++) {
    navigator.sendBeacon('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=user_engagement&_n=' + i, '');
  }
  fetch('https://www.facebook.com/tr/?id=1234567890&ev=Leave', {method: 'POST', keepalive: true, mode: 'no-cors', body: 'x=1'});
});
document.getElementById('buy').addEventListener('click', async () => {
  const r = await fetch('/api/checkout', {method: 'POST', headers: {'content-type': 'application/json'},
                                          body: JSON.stringify({sku: 'SKU-1', qty: 1, gclid: new URLSearchParams(location.search).get('gclid')})});
  document.getElementById('result').textContent = JSON.stringify(await r.json());
});
</script></body></html>"""


# A page that sends its hit, then the visitor on to its twin, which sends them back: a loop in script.
SCRIPT_LOOP_PAGE = """<!doctype html><html><body>Loop<script>
new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=PageView&dl=' + encodeURIComponent(location.href);
setTimeout(() => location.replace('OTHER'), 20);
</script></body></html>"""


# A page whose own navigation is on its way just as the run leaves it: a timer's task that ends by sending
# the visitor on (seen under load with pages that move on by themselves). The moment is made certain here:
# once the page has loaded, a pagehide listener added to it (the run's end beacon, armed just before the
# run leaves) sets off a long task that ends in the navigation, so the run's leave arrives while it runs.
MOVES_ON_AS_LEFT_PAGE = """<!doctype html><html><body>Moving on<script>
new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=PageView&dl=' + encodeURIComponent(location.href);
addEventListener('load', () => {
  const add = EventTarget.prototype.addEventListener;
  window.addEventListener = function (type, ...rest) {
    if (type === 'pagehide') setTimeout(() => {
      const began = performance.now();
      while (performance.now() - began < 400) {}
      location.href = '/landing' + location.search;
    }, 0);
    return add.call(this, type, ...rest);
  };
});
</script></body></html>"""


# Tags that run off the page's main thread, as Partytown runs GTM and Shopify runs its web pixels: in a web
# worker (its hits sent with fetch from there) and in a service worker that sends a hit of its own.
WORKER_TAGS_PAGE = """<!doctype html><html><body>Workers<script>
// Each worker says when its hits are sent; the page shows it (#tags-sent), for a journey to wait on.
let reported = 0;
const sent = () => { if (++reported === 2) document.body.insertAdjacentHTML('beforeend', '<p id="tags-sent">sent</p>'); };
const tagWorker = new Worker('/tag-worker.js');
tagWorker.onmessage = sent;
tagWorker.postMessage(location.href);
navigator.serviceWorker.addEventListener('message', sent);
navigator.serviceWorker.register('/tag-sw.js').then((registration) => {
  const worker = registration.installing || registration.waiting || registration.active;
  const send = () => worker.postMessage(location.href);
  if (worker.state === 'activated') send();
  else worker.addEventListener('statechange', () => { if (worker.state === 'activated') send(); });
});
</script></body></html>"""

TAG_WORKER = """onmessage = async (event) => {
  const dl = encodeURIComponent(event.data);
  await Promise.all([
    fetch('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=worker_view&dl=' + dl,
          {method: 'POST', keepalive: true}),
    fetch('https://www.facebook.com/tr/?id=1234567890&ev=WorkerPageView&dl=' + dl, {mode: 'no-cors'}),
  ]);
  postMessage('sent');
};"""

TAG_SERVICE_WORKER = """self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => {
  event.waitUntil(fetch('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=sw_view&dl=' +
                        encodeURIComponent(event.data), {method: 'POST'})
    .then(() => event.source.postMessage('sent')));
});"""


# Deferred hits (fetchLater): the browser sends them when the page is left, or once activateAfter has passed.
FETCH_LATER_PAGE = """<!doctype html><html><body>Later<script>
fetchLater('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=deferred_engagement', {method: 'POST'});
fetchLater('https://www.facebook.com/tr/?id=1234567890&ev=DeferredView', {activateAfter: 100});
</script></body></html>"""


# A tag that posts JSON with credentials to a first-party collector on a host of its own, at a path only its
# payload tells apart from an API (Snowplow's custom postPath): the browser sends a CORS preflight first, and
# the collector's host does not resolve here.
UNRESOLVED_COLLECTOR_PAGE = """<!doctype html><html><body>Collector<script>
fetch('https://t.collector-nowhere.test/com.acme/collect', {
  method: 'POST', credentials: 'include', keepalive: true,
  headers: {'content-type': 'application/json; charset=UTF-8'},
  body: JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
    data: [{e: 'pv', url: location.href, page: 'Collector', tv: 'js-4.10.1', p: 'web', aid: 'shop-web',
            eid: '0b5e6b3c-6f2e-4c1e-9f5e-3c9b7a1d2e4f', dtm: String(Date.now()), stm: String(Date.now())}],
  }),
});
</script></body></html>"""


# A checkout that greets with an alert and asks "are you sure?" before it places the order.
CONFIRM_CHECKOUT_PAGE = """<!doctype html><html><body><button id="place">Place order</button><p id="done"></p><script>
addEventListener('load', () => alert('Free shipping today!'));
document.getElementById('place').addEventListener('click', () => {
  if (!confirm('Place the order for 12.50 EUR?')) { document.getElementById('done').textContent = 'cancelled'; return; }
  new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=Purchase&eid=EVT-9&cd[value]=12.5&cd[currency]=EUR';
  document.getElementById('done').textContent = 'ORD-9';
});
</script></body></html>"""


# A checkout form that guards against leaving with "Changes you made may not be saved" (beforeunload), as
# many do once a field has been typed in; its tag says goodbye on pagehide.
LEAVE_GUARD_PAGE = """<!doctype html><html><body><input id="email"><a id="away" href="/leave-guard?again=1">Back</a>
<script>
addEventListener('beforeunload', (event) => { event.preventDefault(); event.returnValue = ''; });
addEventListener('pagehide', () => {
  navigator.sendBeacon('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=form_leave&dl=' + encodeURIComponent(location.href));
});
</script></body></html>"""


# A product page as many shops build it: the markup first, the script that wires the button at the end.
LATE_HANDLER_PAGE = """<!doctype html><html><head><title>Product</title></head><body>
<button id="checkout-now">Checkout</button>
<script src="/late-handler.js"></script></body></html>"""
LATE_HANDLER_JS = (
    b"document.getElementById('checkout-now').addEventListener('click', () => { location.href = '/landing'; });"
)

# The largest paint comes late: a headline 800 ms after load, where LCP stops only at the first input.
LATE_LCP_PAGE = """<!doctype html><html><head><title>Sale</title></head><body>
<p>Loading offers</p><button id="buy">Buy</button>
<script>addEventListener('load', () => setTimeout(() => {
  const late = document.createElement('h1');
  late.id = 'late';
  late.style.cssText = 'font-size: 64px; margin: 0';
  late.textContent = 'Summer tents, 20% off, only this week, while stocks last';
  document.body.appendChild(late);
}, 800));</script></body></html>"""

# Fetches and beacons only to the vendors: none to the page's own origin (an API-less brochure site).
STRICT_CSP = "default-src 'self' 'unsafe-inline'; connect-src https://www.google-analytics.com https://www.facebook.com"

# A checkout whose card fields live in a payment provider's cross-site iframe, the CVC one frame deeper, as
# Stripe, Adyen and Braintree build them; paying sends the site's purchase hit from the top page.
CARD_CHECKOUT_PAGE = """<!doctype html><html><head><title>Checkout</title></head><body><h1>Pay</h1>
<iframe id="card-frame" title="Secure card payment" src="https://js.pay.test/card" style="width:360px;height:200px"></iframe>
<div id="paid"></div>
<script>addEventListener('message', (m) => {
  if (m.origin !== 'https://js.pay.test') return;
  document.getElementById('paid').textContent = 'ORD-' + m.data.last4;
  new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=Purchase&cd[value]=10&cd[currency]=EUR&cd[last4]=' + m.data.last4;
});</script></body></html>"""
CARD_FRAME = """<!doctype html><html><body><input name="cardnumber" autocomplete="cc-number">
<iframe id="cvc-frame" title="Secure CVC" src="/cvc" style="width:200px;height:60px"></iframe>
<select name="country"><option>DE</option><option>FR</option></select>
<button id="pay" onclick="parent.postMessage({last4: document.querySelector('input').value.slice(-4)}, '*'); this.textContent = 'Paid'">Pay</button>
</body></html>"""
CVC_FRAME = """<!doctype html><html><body><input name="cvc" autocomplete="cc-csc"></body></html>"""

# "Book now" opens the shop in a new tab; the purchase happens there, and that tab says goodbye on pagehide.
OPENER_PAGE = """<!doctype html><html><body><h1>Deals</h1>
<a id="open" href="/popup-shop" target="_blank">Book now</a><button id="stay">Stay</button></body></html>"""
POPUP_SHOP_PAGE = """<!doctype html><html><body><h1>Shop</h1><button id="buy-in-popup">Buy</button><p id="done"></p>
<script>
document.getElementById('buy-in-popup').addEventListener('click', () => {
  new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=Purchase&cd[value]=10&cd[currency]=EUR';
  document.getElementById('done').textContent = 'ORD-POPUP';
});
addEventListener('pagehide', () => {
  navigator.sendBeacon('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=popup_leave');
});
</script></body></html>"""

# A page that keeps connections open as long as it lives, as chat widgets and live stock badges do: an
# event stream, a WebSocket and (with ?poll=N) a long poll answered after N seconds.
LIVE_PAGE = """<!doctype html><html><head><title>Live</title></head><body><h1>Live stock</h1>
<script>
new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=PageView';
const stream = new EventSource('/events');
stream.onmessage = (m) => { document.body.dataset.stream = m.data; };
const socket = new WebSocket('wss://' + location.host + '/socket');
socket.onopen = () => { document.body.dataset.socket = 'open'; };
const poll = new URLSearchParams(location.search).get('poll');
if (poll) fetch('/poll?seconds=' + poll).then(() => {
  new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=AfterPoll';
});
addEventListener('pagehide', () => {
  navigator.sendBeacon('https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=user_engagement');
});
</script></body></html>"""

# A consent banner whose "accept" sends the page view to every pixel host at once (each a first contact: a
# new tunnel to the proxy) and loads a vendor's script that sends its own (the script slow to come, as a
# tag manager's often is); and a link on to the next page, which a journey clicks at once, a person not.
PACE_HOSTS = ("www.facebook.com", "facebook.com", "web.facebook.com", "m.facebook.com", "www.instagram.com")
PACE_PAGE = """<!doctype html><html><body><button id="accept">Accept</button><a id="next" href="/landing">Shop</a>
<script>
const keep = [];
document.getElementById('accept').addEventListener('click', () => {
  for (const host of HOSTS) {
    const ping = new Image();
    ping.src = 'https://' + host + '/tr/?id=1234567890&ev=PageView&cd[from]=' + host;
    keep.push(ping);
  }
  const tag = document.createElement('script');
  tag.src = '/slow-tag.js';
  document.head.appendChild(tag);
});
</script></body></html>""".replace("HOSTS", repr(list(PACE_HOSTS)))
SLOW_TAG = b"""keep.push(Object.assign(new Image(), {
  src: 'https://www.facebook.com/tr/?id=1234567890&ev=Lead&cd[from]=slow-tag'}));"""

HANGING_FORM_PAGE = """<!doctype html><html><head><title>Checkout</title></head><body>
<input id="a"><input id="b"><input id="c"><input id="d"><img src="/hang.png" alt=""></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: CaptureTestSite  # type: ignore[assignment]

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, html: str) -> None:
        self._send(200, html.encode(), {"content-type": "text/html; charset=utf-8"})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        host = (self.headers.get("host") or "").split(":")[0]
        self.server.seen.append((self.command, host, self.path, self.headers.get("x-forwarded-proto")))
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        qs = "?" + parts.query if parts.query else ""
        route = (host, parts.path)
        if route == ("ads.test", "/click"):
            to = dict(query).get("to", "/r301")
            rest = urlencode([(k, v) for k, v in query if k != "to"])
            self._send(302, headers={"location": f"https://www.site.test{to}?{rest}"})
        elif route == ("ads.test", "/track"):  # a click tracker: the landing URL rides encoded in ?url=
            self._send(302, headers={"location": dict(query)["url"]})
        elif route == ("ads.test", "/track-js"):  # a tracker page whose script sends the browser on
            self._html("<script>location.replace(new URLSearchParams(location.search).get('url'))</script>")
        elif route == ("ads.test", "/track-without-query"):  # one that hands on the landing page, not its query
            self._send(302, headers={"location": dict(query)["url"].split("?", 1)[0]})
        elif parts.path == "/r301":
            self._send(301, headers={"location": "/landing" + qs})
        elif parts.path == "/drop-gclid":
            kept = urlencode([(k, v) for k, v in query if k != "gclid"])
            self._send(301, headers={"location": "/landing?" + kept})
        elif parts.path == "/meta":
            self._html(f'<html><head><meta http-equiv="refresh" content="0;url=/landing{qs}"></head></html>')
        elif parts.path == "/meta-zstd":  # the interstitial as a CDN serves it to a browser that asks for zstd
            html = f'<html><head><meta http-equiv="refresh" content="0;url=/landing{qs}"></head></html>'.encode()
            if "zstd" not in (self.headers.get("accept-encoding") or ""):
                self._send(406, b"this test wants a browser that accepts zstd")
            else:
                import zstandard  # mitmproxy's dependency

                self._send(200, zstandard.ZstdCompressor().compress(html), {"content-type": "text/html", "content-encoding": "zstd"})
        elif parts.path == "/meta-later":  # an interstitial: "you are being redirected" for 1.2 s
            self._html(f'<html><head><meta http-equiv="refresh" content="1.2; url=/landing{qs}"></head></html>')
        elif parts.path == "/js-after-load":  # a tracker that redirects once its script has run, after load
            self._html(
                "<html><body><script>addEventListener('load', () => setTimeout("
                "() => location.replace('/landing' + location.search), 30));</script></body></html>"
            )
        elif parts.path == "/js-to-slow-landing":  # a fast interstitial before a landing page slow to answer
            self._html(
                "<html><body><script>addEventListener('load', () => "
                "location.replace('/slow-landing' + location.search));</script></body></html>"
            )
        elif parts.path == "/slow-landing":
            time.sleep(0.2)
            self._html(HIT_PAGE.replace("UNLOAD_HITS", str(self.server.unload_hits)))
        elif parts.path == "/late-lcp":
            self._html(LATE_LCP_PAGE)
        elif parts.path == "/js":
            self._html("<html><body><script>location.replace('/landing' + location.search)</script></body></html>")
        elif parts.path == "/js-drop-fbclid":
            self._html(
                "<html><body><script>const u = new URL(location.href); u.searchParams.delete('fbclid');"
                "location.href = '/landing' + u.search;</script></body></html>"
            )
        elif parts.path == "/loop":
            self._send(302, headers={"location": "/loop" + qs})
        elif parts.path in ("/script-loop-a", "/script-loop-b"):  # two pages that send each other on, for ever
            other = "/script-loop-b" if parts.path.endswith("a") else "/script-loop-a"
            self._html(SCRIPT_LOOP_PAGE.replace("OTHER", other + qs))
        elif parts.path == "/refresh-header":  # a click tracker's 'Refresh' header instead of a meta tag
            delay = dict(query).get("delay", "0")  # a delayed one, past the landing's settle window, too
            rest = urlencode([(k, v) for k, v in query if k != "delay"])
            self._send(200, b"<!doctype html><title>Redirecting</title>", {"content-type": "text/html", "refresh": f"{delay}; url=/landing?{rest}"})
        elif parts.path == "/get-the-app":  # an app-install campaign: the store, with the click in its referrer
            gclid = dict(query).get("gclid", "")
            self._send(302, headers={"location": f"market://details?id=com.shop.app&referrer=gclid%3D{gclid}"})
        elif parts.path in ("/open-in-app", "/open-in-app-now"):  # a deep-link page: script sends the browser to the app
            # "-now" hands off before the page's load (an image still loading), which cancels the load.
            later = "/open-in-app-now" != parts.path
            # ("-now" also means to send a Lead once the page has loaded, which the hand-off never lets happen.)
            on_load = "addEventListener('load', () => { new Image().src = 'https://www.facebook.com/tr/?id=1234567890&ev=Lead'; });"
            self._html("<!doctype html><html><body>Opening the app..." + ("" if later else "<img src='/hang.png'>") + "<script>"
                       + ("" if later else on_load)
                       # Handing off at once cancels the page's loads: a pixel still loading is lost, a beacon is not.
                       + ("new Image().src = " if later else "navigator.sendBeacon(")
                       + "'https://www.facebook.com/tr/?id=1234567890&ev=PageView'" + (";" if later else ");")
                       + ("addEventListener('load', () => setTimeout(() => {" if later else "(() => {")
                       + "location.href = 'intent://product/42' + location.search +"
                       " '#Intent;scheme=shopapp;package=com.shop.app;end';"
                       + ("}, 30));" if later else "})();") + "</script></body></html>")
        elif parts.path == "/get-the-ios-app":  # the App Store takes no click ID
            self._send(302, headers={"location": "itms-apps://apps.apple.com/app/id123456789"})
        elif parts.path == "/unresolved-collector":
            self._html(UNRESOLVED_COLLECTOR_PAGE)
        elif parts.path == "/fetch-later":
            self._html(FETCH_LATER_PAGE)
        elif parts.path == "/worker-tags":
            self._html(WORKER_TAGS_PAGE)
        elif parts.path in ("/tag-worker.js", "/tag-sw.js"):
            script = TAG_WORKER if parts.path == "/tag-worker.js" else TAG_SERVICE_WORKER
            self._send(200, script.encode(), {"content-type": "text/javascript"})
        elif parts.path == "/moves-on-as-left":
            self._html(MOVES_ON_AS_LEFT_PAGE)
        elif parts.path == "/confirm-checkout":
            self._html(CONFIRM_CHECKOUT_PAGE)
        elif parts.path == "/refresh-loop":  # a page that refreshes itself at once, for ever
            self._html(f'<!doctype html><html><head><meta http-equiv="refresh" content="0;url=/refresh-loop{qs}"></head><body>'
                       '<img src="https://www.facebook.com/tr/?id=1234567890&ev=PageView"></body></html>')
        elif parts.path == "/landing":
            self._html(HIT_PAGE.replace("UNLOAD_HITS", str(self.server.unload_hits)))
        elif parts.path == "/late-handler":  # the button is on screen before the script that makes it work
            self._html(LATE_HANDLER_PAGE)
        elif parts.path == "/leave-guard":
            self._html(LEAVE_GUARD_PAGE)
        elif parts.path == "/accept-and-go":
            self._html(PACE_PAGE)
        elif parts.path == "/slow-tag.js":
            time.sleep(0.3)
            self._send(200, SLOW_TAG, {"content-type": "text/javascript"})
        elif parts.path == "/hanging-form":  # the form is all there, but an image keeps `load` from firing
            self._html(HANGING_FORM_PAGE)
        elif parts.path == "/hang.png":  # long past the journey's waits; short enough not to hold the run's end
            time.sleep(3)
            self._send(204)
        elif parts.path in ("/strict-csp", "/strict-csp-meta", "/strict-csp-regional", "/strict-csp-wildcard"):
            # A policy that leaves the page's own origin out.
            page = HIT_PAGE.replace("UNLOAD_HITS", str(self.server.unload_hits))
            policy = STRICT_CSP
            if parts.path.endswith(("-regional", "-wildcard")):  # unload hits to a host the page had not talked to
                page = page.replace("https://www.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=user_engagement&_n=",
                                    "https://region1.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=user_engagement&_n=")
                policy += " https://region1.google-analytics.com"
            if parts.path.endswith("-wildcard"):
                policy = policy.replace("https://www.google-analytics.com", "https://*.google-analytics.com")
            if parts.path != "/strict-csp-meta":
                self._send(200, page.encode(), {"content-type": "text/html; charset=utf-8", "content-security-policy": policy})
            else:
                meta = f'<meta http-equiv="Content-Security-Policy" content="{STRICT_CSP}">'
                self._html(page.replace("<head>", "<head>" + meta, 1))
        elif parts.path == "/early-hints":  # 103 Early Hints before the page, as Rails and CDN origins send
            self.protocol_version = "HTTP/1.1"
            self.send_response_only(103)
            self.send_header("link", "</late-handler.js>; rel=preload; as=script")
            self.end_headers()
            self.wfile.flush()
            self._html(HIT_PAGE.replace("UNLOAD_HITS", str(self.server.unload_hits)))
        elif route == ("www.site.test", "/opener"):
            self._html(OPENER_PAGE)
        elif route == ("www.site.test", "/popup-shop"):
            self._html(POPUP_SHOP_PAGE)
        elif route == ("www.site.test", "/card-checkout"):
            self._html(CARD_CHECKOUT_PAGE)
        elif route == ("js.pay.test", "/card"):
            self._html(CARD_FRAME)
        elif route == ("js.pay.test", "/cvc"):
            self._html(CVC_FRAME)
        elif parts.path == "/live":
            self._html(LIVE_PAGE)
        elif parts.path == "/events":  # server-sent events: a tick now and then, for as long as the page lives
            self._stream_events()
        elif parts.path == "/socket":
            self._accept_websocket()
        elif parts.path == "/poll":  # a long poll: nothing to say for a while
            time.sleep(float(dict(query).get("seconds", "0")))
            self._send(204)
        elif parts.path == "/late-handler.js":
            time.sleep(0.5)
            self._send(200, LATE_HANDLER_JS, {"content-type": "text/javascript"})
        else:
            self._send(404, b"not found", {"content-type": "text/plain"})

    def _stream_events(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        try:
            for tick in range(600):
                self.wfile.write(f"data: tick {tick}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the page was left

    def _accept_websocket(self) -> None:
        """The handshake by hand (RFC 6455), then silence until the browser closes the socket."""
        self.protocol_version = "HTTP/1.1"  # a 101 answer is an HTTP/1.1 one
        key = self.headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("upgrade", "websocket")
        self.send_header("connection", "Upgrade")
        self.send_header("sec-websocket-accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        try:
            self.rfile.read(1)
        except OSError:
            pass
        self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802
        host = (self.headers.get("host") or "").split(":")[0]
        self.server.seen.append((self.command, host, self.path, self.headers.get("x-forwarded-proto")))
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        if urlsplit(self.path).path == "/api/checkout":
            self.server.checkouts.append(json.loads(body or b"{}"))
            payload = json.dumps({"order": "ORD-1001", "ok": True}).encode()
            self._send(200, payload, {"content-type": "application/json"})
        else:
            self._send(404)


class CaptureTestSite(LocalSite):
    def __init__(self, unload_hits: int = 3) -> None:
        super().__init__(_Handler)
        self.unload_hits = unload_hits
        self.checkouts: list[dict[str, object]] = []
        self.seen: list[tuple[str, str, str, str | None]] = []  # (method, host, path, x-forwarded-proto)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # browsers drop connections mid-request when a page is left; that is not the site's error

    def mappings(self) -> list[HostMapping]:
        return [HostMapping(host=h, addr="127.0.0.1", port=self.port) for h in HOSTS]
