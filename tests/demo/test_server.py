from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from harness.cli import build_parser
from harness.cli.demo import serve
from harness.demo.catalog import (
    API_HOST,
    PRODUCTS_BY_SKU,
    SAMPLE_CLICK_PARAMS,
    SITE_HOST,
    TAG_IDS,
    TRACKER_HOST,
)
from harness.demo.server import DemoShop
from harness.demo.server_events import OutgoingRequest, RecordingSender, UrllibSender, VendorEndpoints
from harness.demo.web import Request
from harness.options import HostMapping
from tests.demo.client import call

SITE_ORIGIN = f"https://{SITE_HOST}"
COOKIES = (
    "_fbc=fb.1.1712000000000.IwAR2xKp9vQ7; _fbp=fb.1.1712000000000.1234567890; ttclid=E.C.P.abc; "
    "_ttp=2dKq0pZ7Xv1; _ga=GA1.3.123456789.1712000000; shop_session=sess-a"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def page_config(html: str) -> dict:
    return json.loads(re.search(r"window\.EVENTPATH_DEMO=(\{.*?\});</script>", html).group(1))


def checkout(port: int, cookie: str = COOKIES, headers: dict[str, str] | None = None, **extra):
    body = {"items": [{"sku": "SKU-TRAIL-42", "quantity": 2, "price": 0.01}], "email": " Jane.Doe@Example.com ",
            "phone": "+49 151 23456789", **extra}  # fmt: skip
    return call(port, API_HOST, "/api/checkout", "POST", body=body,
                headers={"Origin": SITE_ORIGIN, "Cookie": cookie, "User-Agent": "TestUA/1.0", **(headers or {})})  # fmt: skip


# ------------------------------------------------------------------ lifecycle


def test_shop_starts_on_a_free_port_maps_its_hosts_and_stops() -> None:
    shop = DemoShop(sender=RecordingSender())
    with pytest.raises(RuntimeError):
        _ = shop.port
    with shop:
        assert shop.port > 0
        assert shop.host_mappings() == [
            HostMapping(host=h, addr="127.0.0.1", port=shop.port) for h in (TRACKER_HOST, SITE_HOST, API_HOST)
        ]
        assert call(shop.port, SITE_HOST, "/").status == 200
    with pytest.raises(RuntimeError):
        _ = shop.port


def test_click_url_carries_sample_click_ids_and_switches(shop: DemoShop) -> None:
    url = shop.click_url(switches=("slow_page", "missing_tag"))
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.path) == ("https", TRACKER_HOST, "/click")
    query = dict(parse_qsl(parts.query))
    assert query["eventpath_bugs"] == "missing_tag,slow_page"
    assert {k: query[k] for k in SAMPLE_CLICK_PARAMS} == SAMPLE_CLICK_PARAMS
    assert shop.click_url(direct=True).startswith(f"http://{TRACKER_HOST}:{shop.port}/click?")


# ------------------------------------------------------------------ redirects


def test_tracker_302s_to_the_shop_keeping_every_parameter(shop: DemoShop) -> None:
    query = urlsplit(shop.click_url()).query
    reply = call(shop.port, TRACKER_HOST, f"/click?{query}")
    assert reply.status == 302
    location = urlsplit(reply.header("Location"))
    assert (location.scheme, location.netloc, location.path) == ("http", f"{SITE_HOST}:{shop.port}", "/go")
    assert parse_qsl(location.query) == parse_qsl(query)


def test_behind_the_proxy_redirects_stay_on_https_without_a_port(shop: DemoShop) -> None:
    reply = call(shop.port, TRACKER_HOST, "/click?gclid=abc", with_port=False)
    assert reply.header("Location") == f"https://{SITE_HOST}/go?gclid=abc"
    forwarded = call(shop.port, SITE_HOST, "/go?a=1", with_port=False, headers={"X-Forwarded-Proto": "http"})
    assert forwarded.header("Location") == f"http://{SITE_HOST}/?a=1"


def test_go_301s_to_the_landing_page_keeping_click_ids_and_utms(shop: DemoShop) -> None:
    query = urlsplit(shop.click_url()).query
    reply = call(shop.port, SITE_HOST, f"/go?{query}")
    assert reply.status == 301
    assert reply.header("Cache-Control") == "no-store"  # else Chromium caches it across runs
    location = urlsplit(reply.header("Location"))
    assert location.path == "/"
    assert dict(parse_qsl(location.query)) == SAMPLE_CLICK_PARAMS


def test_gclid_dropped_by_redirect_drops_only_gclid(shop: DemoShop) -> None:
    query = urlsplit(shop.click_url(switches=("gclid_dropped_by_redirect",))).query
    location = urlsplit(call(shop.port, SITE_HOST, f"/go?{query}").header("Location"))
    kept = dict(parse_qsl(location.query))
    assert "gclid" not in kept
    assert {k: v for k, v in SAMPLE_CLICK_PARAMS.items() if k != "gclid"}.items() <= kept.items()


def test_fbclid_js_hop_only_with_the_switch_and_an_fbclid(shop: DemoShop) -> None:
    hop = call(shop.port, SITE_HOST, "/?fbclid=IwAR1&gclid=x&eventpath_bugs=fbclid_dropped_by_js_redirect")
    assert "location.replace" in hop.text and 'searchParams.delete("fbclid")' in hop.text
    assert "EVENTPATH_DEMO" not in hop.text  # no tags on the hop
    after = call(shop.port, SITE_HOST, "/?gclid=x&eventpath_bugs=fbclid_dropped_by_js_redirect")
    assert page_config(after.text)["page"] == "landing"
    assert "location.replace" not in call(shop.port, SITE_HOST, "/?fbclid=IwAR1").text


def test_unknown_tracker_path_is_404(shop: DemoShop) -> None:
    assert call(shop.port, TRACKER_HOST, "/elsewhere").status == 404


# ------------------------------------------------------------------ switches per request


def test_switches_from_the_url_are_stored_in_a_demo_test_cookie(shop: DemoShop) -> None:
    reply = call(shop.port, TRACKER_HOST, "/click?gclid=a&eventpath_bugs=slow_page,missing_tag")
    assert (
        "eventpath_bugs=missing_tag,slow_page; Path=/; SameSite=Lax; Domain=.demo.test"
        in reply.headers_named("Set-Cookie")
    )
    cleared = call(shop.port, SITE_HOST, "/?eventpath_bugs=")
    assert any(c.startswith("eventpath_bugs=;") for c in cleared.headers_named("Set-Cookie"))


def test_switches_reach_the_page_from_url_header_or_cookie(shop: DemoShop) -> None:
    by_url = call(shop.port, SITE_HOST, "/cart?eventpath_bugs=missing_value")
    by_header = call(shop.port, SITE_HOST, "/cart", headers={"X-Eventpath-Bugs": "missing_currency"})
    by_cookie = call(
        shop.port, SITE_HOST, "/cart", headers={"Cookie": "eventpath_bugs=wrong_trigger,missing_tag"}
    )
    plain = call(shop.port, SITE_HOST, "/cart")
    assert page_config(by_url.text)["bugs"] == ["missing_value"]
    assert page_config(by_header.text)["bugs"] == ["missing_currency"]
    assert page_config(by_cookie.text)["bugs"] == ["missing_tag", "wrong_trigger"]
    assert page_config(plain.text)["bugs"] == []


def test_an_unknown_switch_is_a_400_naming_the_known_ones(shop: DemoShop) -> None:
    reply = call(shop.port, SITE_HOST, "/?eventpath_bugs=missing_tagg")
    assert reply.status == 400
    assert "missing_tagg" in reply.text and "slow_page" in reply.text


def test_parallel_requests_with_different_switches_do_not_interfere(shop: DemoShop) -> None:
    names = [
        "missing_tag",
        "slow_page",
        "broken_dedupe",
        "missing_value",
        "wrong_trigger",
        "raw_email_in_hit",
    ]
    results: dict[str, list[str]] = {}

    def worker(name: str) -> None:
        seen = []
        for _ in range(15):
            seen.append(
                ",".join(
                    page_config(call(shop.port, SITE_HOST, "/cart", headers={"X-Eventpath-Bugs": name}).text)[
                        "bugs"
                    ]
                )
            )
        results[name] = seen

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [n] * 15 for n in names}


def test_slow_page_holds_only_the_hero_image(shop: DemoShop) -> None:
    def respond(path: str, switches: str) -> float:
        request = Request("GET", SITE_HOST, None, path, [], {"x-eventpath-bugs": switches}, b"", "127.0.0.1")
        return shop.respond(request).delay_seconds

    assert respond("/hero.png", "slow_page") >= 4.0
    assert respond("/hero.png", "") == 0
    assert respond("/", "slow_page") == 0


# ------------------------------------------------------------------ pages


@pytest.mark.parametrize(
    ("path", "page"),
    [("/", "landing"), ("/product/SKU-TRAIL-42", "product"), ("/cart", "cart"), ("/checkout", "checkout"),
     ("/lead", "lead")],
)  # fmt: skip
def test_pages_render_with_banner_tags_and_config(shop: DemoShop, path: str, page: str) -> None:
    reply = call(shop.port, SITE_HOST, path)
    assert reply.status == 200
    config = page_config(reply.text)
    assert config["page"] == page
    assert config["ids"]["ga4"] == TAG_IDS.ga4 and config["ids"]["meta_pixel"] == TAG_IDS.meta_pixel
    for element in ("consent-banner", "consent-accept", "consent-reject", "consent-close"):
        assert f'id="{element}"' in reply.text
    for script in ("/static/sha256.js", "/static/tags.js", "/static/shop.js"):
        assert f'src="{script}"' in reply.text
    assert "//www.googletagmanager.com" not in reply.text  # no CDN: every tag script is local


def test_the_site_sets_a_session_cookie_on_the_shop_domain_once(shop: DemoShop) -> None:
    first = call(shop.port, SITE_HOST, "/")
    cookie = [c for c in first.headers_named("Set-Cookie") if c.startswith("shop_session=")]
    assert cookie and "Domain=.shop.demo.test" in cookie[0] and "HttpOnly" in cookie[0]
    again = call(shop.port, SITE_HOST, "/", headers={"Cookie": "shop_session=abc"})
    assert not [c for c in again.headers_named("Set-Cookie") if c.startswith("shop_session=")]


def test_checkout_form_fields_have_the_documented_ids(shop: DemoShop) -> None:
    html = call(shop.port, SITE_HOST, "/checkout").text
    for field in (
        "email",
        "phone",
        "first-name",
        "last-name",
        "address",
        "postcode",
        "city",
        "country",
        "place-order",
    ):
        assert f'id="{field}"' in html


def test_unknown_product_is_404(shop: DemoShop) -> None:
    assert call(shop.port, SITE_HOST, "/product/SKU-NOPE").status == 404


def test_static_scripts_and_hero_image_are_served(shop: DemoShop) -> None:
    script = call(shop.port, SITE_HOST, "/static/tags.js")
    assert script.status == 200 and "javascript" in script.header("Content-Type")
    assert "region1.google-analytics.com/g/collect" in script.text
    assert call(shop.port, SITE_HOST, "/static/../server.py").status == 404
    hero = call(shop.port, SITE_HOST, "/hero.png")
    assert hero.header("Content-Type") == "image/png" and hero.body.startswith(b"\x89PNG")
    assert len(hero.body) > 150_000  # noise: high entropy, so Chrome counts it for LCP


# ------------------------------------------------------------------ backend API


def test_checkout_prices_from_the_catalogue_and_answers_with_the_thank_you_url(shop: DemoShop) -> None:
    reply = checkout(shop.port)
    assert reply.status == 200
    data = reply.json()
    assert re.fullmatch(r"ORD-\d{5}", data["order_id"])
    assert data["value"] == round(2 * PRODUCTS_BY_SKU["SKU-TRAIL-42"].price, 2)  # not the browser's 0.01
    assert data["currency"] == "EUR"
    assert data["thank_you_url"] == f"{SITE_ORIGIN}/thank-you?order={data['order_id']}"
    order = shop.orders.order(data["order_id"])
    assert order is not None and order.event_id == data["event_id"] and order.session == "sess-a"
    thank_you = call(shop.port, SITE_HOST, f"/thank-you?order={data['order_id']}")
    assert f'<strong id="order-id">{data["order_id"]}</strong>' in thank_you.text
    assert f'data-value="{data["value"]}"' in thank_you.text
    assert page_config(thank_you.text)["purchase"]["event_id"] == data["event_id"]


def test_checkout_rejects_an_empty_cart_or_missing_email(shop: DemoShop) -> None:
    empty = call(shop.port, API_HOST, "/api/checkout", "POST", body={"items": [], "email": "a@b.c"})
    assert empty.status == 400 and "empty" in empty.json()["error"]
    no_email = call(shop.port, API_HOST, "/api/checkout", "POST", body={"items": [{"sku": "SKU-PACK-18"}]})
    assert no_email.status == 400
    assert call(shop.port, SITE_HOST, "/thank-you?order=ORD-1").status == 404


def test_cors_allows_the_site_origin_with_credentials_only(shop: DemoShop) -> None:
    preflight = call(shop.port, API_HOST, "/api/checkout", "OPTIONS",
                     headers={"Origin": f"http://{SITE_HOST}:{shop.port}", "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert preflight.status == 204
    assert preflight.header("Access-Control-Allow-Origin") == f"http://{SITE_HOST}:{shop.port}"
    assert preflight.header("Access-Control-Allow-Credentials") == "true"
    assert "Content-Type" in preflight.header("Access-Control-Allow-Headers")
    foreign = call(shop.port, API_HOST, "/api/orders", headers={"Origin": "https://evil.example"})
    assert foreign.header("Access-Control-Allow-Origin") is None


def test_orders_api_answers_per_session_by_cookie_param_or_all(shop: DemoShop) -> None:
    mine = checkout(shop.port, cookie="shop_session=sess-orders-1").json()["order_id"]
    theirs = checkout(shop.port, cookie="shop_session=sess-orders-2").json()["order_id"]

    def ids(path: str, cookie: str = "") -> list[str]:
        reply = call(shop.port, API_HOST, path, headers={"Cookie": cookie} if cookie else {})
        return [o["order_id"] for o in reply.json()["orders"]]

    assert ids("/api/orders", "shop_session=sess-orders-1") == [mine]
    assert ids("/api/orders?session=sess-orders-2") == [theirs]
    assert {mine, theirs} <= set(ids("/api/orders?all=1"))
    assert ids("/api/orders") == []
    order = call(shop.port, API_HOST, "/api/orders?session=sess-orders-1").json()["orders"][0]
    assert {"order_id", "value", "currency", "items", "event_id", "email", "server_event_ids"} <= order.keys()
    assert order["server_event_ids"]["meta_capi"] == [order["event_id"]]


def test_lead_api_stores_the_hidden_click_id_fields(shop: DemoShop) -> None:
    body = {"name": "Jane", "email": "jane@example.com", "gclid": "Cj0K", "fbc": "fb.1.1.IwAR", "ttclid": "",
            "msclkid": "4f6c"}  # fmt: skip
    reply = call(
        shop.port, API_HOST, "/api/lead", "POST", body=body, headers={"Cookie": "shop_session=lead-1"}
    )
    assert reply.status == 200 and reply.json()["lead_id"].startswith("LEAD-")
    leads = call(shop.port, API_HOST, "/api/leads?session=lead-1").json()["leads"]
    assert leads[0]["click_ids"] == {"gclid": "Cj0K", "fbc": "fb.1.1.IwAR", "msclkid": "4f6c"}


# ------------------------------------------------------------------ server-side events


def sent_for(sender: RecordingSender, order_id: str) -> list[OutgoingRequest]:
    return [r for r in sender.wait_for(3) if order_id.encode() in r.body]


def capi_event(request: OutgoingRequest) -> dict:
    form = parse_qs(request.body.decode())
    assert form["access_token"] == [TAG_IDS.meta_access_token]
    events = json.loads(form["data"][0])
    assert len(events) == 1
    return events[0]


def test_purchase_sends_capi_tiktok_and_mp_in_their_real_formats(
    shop: DemoShop, sender: RecordingSender
) -> None:
    sender.clear()
    data = checkout(shop.port, headers={"X-Forwarded-For": "203.0.113.9"}).json()
    capi, tiktok, mp = sent_for(sender, data["order_id"])

    assert capi.vendor == "meta_capi" and capi.method == "POST"
    assert capi.url == f"https://graph.facebook.com/v19.0/{TAG_IDS.meta_pixel}/events"
    assert capi.headers["Content-Type"] == "application/x-www-form-urlencoded"
    event = capi_event(capi)
    assert event["event_name"] == "Purchase" and event["action_source"] == "website"
    assert event["event_id"] == data["event_id"]
    assert event["event_source_url"] == data["thank_you_url"]
    user = event["user_data"]
    assert user["em"] == [sha256("jane.doe@example.com")]
    assert user["ph"] == [sha256("4915123456789")]
    assert user["fbc"] == "fb.1.1712000000000.IwAR2xKp9vQ7" and user["fbp"] == "fb.1.1712000000000.1234567890"
    assert user["client_ip_address"] == "203.0.113.9" and user["client_user_agent"] == "TestUA/1.0"
    assert event["custom_data"]["value"] == data["value"] and event["custom_data"]["currency"] == "EUR"
    assert event["custom_data"]["order_id"] == data["order_id"]

    assert tiktok.url == "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    assert tiktok.headers["Access-Token"] == TAG_IDS.tiktok_access_token
    body = json.loads(tiktok.body)
    assert body["event_source"] == "web" and body["event_source_id"] == TAG_IDS.tiktok_pixel
    (tt_event,) = body["data"]
    assert tt_event["event"] == "CompletePayment" and tt_event["event_id"] == data["event_id"]
    assert tt_event["user"]["ttclid"] == "E.C.P.abc" and tt_event["user"]["email"] == sha256(
        "jane.doe@example.com"
    )
    assert tt_event["properties"]["value"] == data["value"] and tt_event["properties"]["currency"] == "EUR"

    assert urlsplit(mp.url)[:3] == ("https", "www.google-analytics.com", "/mp/collect")
    assert dict(parse_qsl(urlsplit(mp.url).query)) == {
        "measurement_id": TAG_IDS.ga4,
        "api_secret": TAG_IDS.ga4_api_secret,
    }
    payload = json.loads(mp.body)
    assert payload["client_id"] == "123456789.1712000000"
    (mp_event,) = payload["events"]
    assert mp_event["name"] == "purchase"
    assert (
        mp_event["params"]["transaction_id"] == data["order_id"]
        and mp_event["params"]["value"] == data["value"]
    )


def test_server_switches_break_dedupe_drop_fbc_and_double_send(
    shop: DemoShop, sender: RecordingSender
) -> None:
    sender.clear()
    data = checkout(shop.port, headers={"X-Eventpath-Bugs": "broken_dedupe,server_event_without_fbc"}).json()
    event = capi_event(sent_for(sender, data["order_id"])[0])
    assert event["event_id"] != data["event_id"]
    assert "fbc" not in event["user_data"] and "fbp" in event["user_data"]
    assert shop.orders.order(data["order_id"]).server_event_ids["meta_capi"] == [event["event_id"]]

    sender.clear()
    twice = checkout(shop.port, cookie=COOKIES + "; eventpath_bugs=server_event_twice").json()
    sent = sender.wait_for(6)
    assert [r.vendor for r in sent] == ["meta_capi"] * 2 + ["tiktok_events_api"] * 2 + ["ga4_mp"] * 2
    assert {capi_event(r)["event_id"] for r in sent[:2]} == {twice["event_id"]}


class _RecordingProxy(BaseHTTPRequestHandler):
    """A plain forward proxy stand-in: records absolute-form requests and answers like the vendors."""

    received: list[tuple[str, str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.command, self.path, dict(self.headers), body))
        reply = b'{"events_received":1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forward_proxy() -> Iterator[tuple[str, list]]:
    _RecordingProxy.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _RecordingProxy.received
    server.shutdown()
    server.server_close()


def test_server_events_really_go_out_through_the_given_proxy(forward_proxy: tuple[str, list]) -> None:
    proxy_url, received = forward_proxy
    endpoints = VendorEndpoints(
        meta_capi="http://graph.facebook.test/v19.0/{pixel_id}/events",
        tiktok_events_api="http://business-api.tiktok.test/open_api/v1.3/event/track/",
        ga4_mp="http://www.google-analytics.test/mp/collect",
    )
    with DemoShop(server_events_proxy=proxy_url, endpoints=endpoints) as shop:
        data = checkout(shop.port).json()
        for _ in range(100):
            if len(received) >= 3:
                break
            threading.Event().wait(0.05)
    paths = sorted(path for _, path, _, _ in received)
    assert paths == [
        "http://business-api.tiktok.test/open_api/v1.3/event/track/",
        f"http://graph.facebook.test/v19.0/{TAG_IDS.meta_pixel}/events",
        f"http://www.google-analytics.test/mp/collect?measurement_id={TAG_IDS.ga4}&api_secret={TAG_IDS.ga4_api_secret}",
    ]
    capi = next(body for _, path, _, body in received if "graph.facebook" in path)
    assert json.loads(parse_qs(capi.decode())["data"][0])[0]["event_id"] == data["event_id"]
    tiktok_headers = next(h for _, path, h, _ in received if "tiktok" in path)
    assert tiktok_headers["Access-Token"] == TAG_IDS.tiktok_access_token


def test_a_failing_server_event_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    sender = UrllibSender(proxy="http://127.0.0.1:9", timeout=2)  # nothing listens on the discard port
    request = OutgoingRequest(
        vendor="meta_capi", event_name="Purchase", event_id="e1", url="http://graph.facebook.test/x"
    )
    with caplog.at_level(logging.WARNING, logger="harness.demo.server_events"):
        sender._send_now(request)
    assert "meta_capi" in caplog.text and "failed" in caplog.text


def test_url_sender_reads_the_ca_bundle_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/proxy-ca.pem")
    assert UrllibSender().ca_file == "/tmp/proxy-ca.pem"
    assert UrllibSender(ca_file="/given.pem").ca_file == "/given.pem"


# ------------------------------------------------------------------ command line


def test_cli_registers_demo_with_serve_and_port() -> None:
    args = build_parser().parse_args(["demo", "--serve", "--port", "8123"])
    assert args.serve and args.port == 8123


def test_serve_prints_the_mappings_and_click_url_then_stops() -> None:
    stop = threading.Event()
    out = io.StringIO()
    result: list[int] = []

    def run() -> None:
        with redirect_stdout(out):
            result.append(serve(port=0, bugs="missing_tag", stop=stop))

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(100):
        if "press Ctrl-C" in out.getvalue():
            break
        threading.Event().wait(0.05)
    port = int(re.search(r"listening on http://127\.0\.0\.1:(\d+)", out.getvalue()).group(1))
    assert call(port, SITE_HOST, "/").status == 200
    stop.set()
    thread.join(timeout=10)
    text = out.getvalue()
    assert result == [0]
    for host in (TRACKER_HOST, SITE_HOST, API_HOST):
        assert f"--resolve {host}=127.0.0.1:{port}" in text
    assert f"https://{TRACKER_HOST}/click?" in text and "eventpath_bugs=missing_tag" in text


def test_a_browser_that_goes_away_mid_request_prints_no_traceback(shop: DemoShop, capfd: pytest.CaptureFixture[str]) -> None:
    # A closed context resets its connections: socketserver's default prints a traceback per reset.
    baseline = threading.active_count()
    with socket.create_connection(("127.0.0.1", shop.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: www.shop.demo.test")  # the request line never ends
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)  # the handler thread ends once it has read the reset
    assert threading.active_count() <= baseline, "the handler thread saw the reset"
    assert "Traceback" not in capfd.readouterr().err
    assert call(shop.port, "www.shop.demo.test", "/").status == 200, "and the shop serves on"
