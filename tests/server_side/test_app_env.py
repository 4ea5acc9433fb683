"""app_environment: the CA bundle, the variables, and that a client in another process trusts and uses
the harness through them alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.app_env import app_environment, format_env, merge_env, system_ca_bundle
from harness.capture.proxy import CaptureProxy
from tests.server_side.conftest import wait_for

CAPI_URL = "https://graph.facebook.com/v19.0/1402533720264604/events"


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def clean_base() -> dict[str, str]:
    """os.environ without any proxy or CA settings of the machine running the tests."""
    drop = {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    return {k: v for k, v in os.environ.items() if k.upper() not in drop}


def test_bundle_holds_the_system_cas_and_the_harness_ca(capture_proxy: CaptureProxy, tmp_path: Path) -> None:
    env = app_environment(capture_proxy.server_url, capture_proxy.ca.cert_path, tmp_path)
    bundle = Path(env["SSL_CERT_FILE"]).read_text()
    harness_ca = capture_proxy.ca.cert_path.read_text().strip()
    system = system_ca_bundle()
    assert system is not None
    assert harness_ca in bundle
    assert bundle.count("BEGIN CERTIFICATE") == system.read_text().count("BEGIN CERTIFICATE") + 1
    assert env["REQUESTS_CA_BUNDLE"] == env["CURL_CA_BUNDLE"] == env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"]
    assert env["NODE_EXTRA_CA_CERTS"] == str(capture_proxy.ca.cert_path)  # Node adds it to its own roots
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        assert env[name] == capture_proxy.server_url
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1"


def test_requests_in_another_process_sends_through_the_proxy_by_env_alone(
    capture_proxy: CaptureProxy, tmp_path: Path
) -> None:
    env = merge_env(
        clean_base(), app_environment(capture_proxy.server_url, capture_proxy.ca.cert_path, tmp_path)
    )
    event = {"event_name": "Purchase", "event_time": 1717000000, "event_id": "env-only-evt-1",
             "action_source": "website", "user_data": {"client_user_agent": "curl"}}  # fmt: skip
    code = (
        "import json, requests\n"
        f"r = requests.post({CAPI_URL!r}, data={{'data': json.dumps([{event!r}]), 'access_token': 't'}})\n"
        "print(r.status_code, r.json()['events_received'])\n"
    )
    done = run_python(code, env)
    assert done.stdout.split() == ["200", "1"], done.stderr[-600:]
    captured = wait_for(capture_proxy, lambda r: "env-only-evt-1" in r.text)
    assert captured.tag_hit and captured.sinkholed and captured.source == "server"


def test_without_the_bundle_the_harness_ca_is_not_trusted(
    capture_proxy: CaptureProxy, tmp_path: Path
) -> None:
    # The control for the test above: the proxy alone is not enough, the CA bundle is what makes TLS work.
    env = app_environment(capture_proxy.server_url, capture_proxy.ca.cert_path, tmp_path)
    routed_only = {k: v for k, v in env.items() if "PROXY" in k.upper()}
    done = run_python(
        f"import requests; requests.post({CAPI_URL!r}, data={{'data': '[]'}})",
        {**clean_base(), **routed_only},
    )
    assert done.returncode != 0 and "SSLError" in done.stderr


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"direct": True}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_loopback_stays_direct(capture_proxy: CaptureProxy, tmp_path: Path) -> None:
    """The app's own localhost services (database, cache, sidecar) are not sent through the proxy."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/health-check-direct"
        env = merge_env(
            clean_base(), app_environment(capture_proxy.server_url, capture_proxy.ca.cert_path, tmp_path)
        )
        done = run_python(f"import requests; print(requests.get({url!r}).json()['direct'])", env)
        assert done.stdout.strip() == "True", done.stderr[-600:]
        assert not [r for r in capture_proxy.unattributed() if "health-check-direct" in r.url]
    finally:
        server.shutdown()


def test_format_env_round_trips_through_sh(tmp_path: Path) -> None:
    env = {"HTTPS_PROXY": "http://127.0.0.1:8899", "ODD": 'it\'s a $HOME `x` "y"', "PYTHONPATH": "/shim dir"}
    script = format_env(env) + '\nprintf "%s\\n" "$ODD" "$PYTHONPATH" "$HTTPS_PROXY"'
    done = subprocess.run(["sh", "-c", script], env={"PATH": os.environ["PATH"], "PYTHONPATH": "/app/lib"},
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.splitlines() == [env["ODD"], "/shim dir:/app/lib", "http://127.0.0.1:8899"]
    assert format_env({"A": "1"}, "fish") == "set -gx A 1"
    assert format_env({"A": "x y", "B": "/p"}, "dotenv") == 'A="x y"\nB=/p'


def test_merge_env_prepends_pythonpath_and_lets_later_layers_win() -> None:
    merged = merge_env(
        {"PYTHONPATH": "/app", "HTTPS_PROXY": "corp"}, {"HTTPS_PROXY": "harness", "PYTHONPATH": "/shim"}
    )
    assert merged == {"PYTHONPATH": f"/shim{os.pathsep}/app", "HTTPS_PROXY": "harness"}
