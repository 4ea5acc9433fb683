"""``eventpath decode`` end to end: the real CLI entry point on real hits of several vendors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

PINTEREST_CHECKOUT = (
    "https://ct.pinterest.com/v3/?event=checkout"
    "&ed=%7B%22value%22%3A116%2C%22currency%22%3A%22USD%22%2C%22order_id%22%3A%22A-1%22%7D&tid=abc123"
    "&pd=%7B%22em%22%3A%22f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a%22%7D&cb=1583868246432"
)
X_PURCHASE = (
    "https://analytics.twitter.com/i/adsct?p_id=Twitter&txn_id=abc123&tw_sale_amount=29.95"
    "&events=%5B%5B%22purchase%22%2C%7B%22value%22%3A%2229.95%22%2C%22currency%22%3A%22USD%22%7D%5D%5D"
    "&tw_document_href=https%3A%2F%2Fwww.example.com%2F%3Ftwclid%3Dtw-click-1"
)
SNAP_FORM = b"pid=b2ade379&ev=PURCHASE&e_pr=89.90&e_cur=EUR&e_tid=ORD-9911&client_dedup_id=ORD-9911-p"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["decode", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_human_output_shows_the_fixed_fields_then_params(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, PINTEREST_CHECKOUT)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "[1] pinterest  checkout"
    labels = [line.split()[0] for line in lines[1:9]]
    assert labels == [
        "account",
        "value",
        "event_id",
        "transaction_id",
        "click_ids",
        "consent",
        "user_data",
        "page_url",
    ]
    assert "    value          116 USD" in lines
    assert "    transaction_id A-1" in lines
    assert "    user_data      em=sha256" in lines
    assert lines[9:] == ["    params", "      cb = 1583868246432"]


def test_a_pasted_url_without_scheme_is_taken_as_https(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, X_PURCHASE.removeprefix("https://"), "--json")
    (event,) = json.loads(out)
    assert code == 0
    assert (event["vendor"], event["event"], event["value"], event["click_ids"]) == (
        "x",
        "purchase",
        29.95,
        {"twclid": "tw-click-1"},
    )


def test_json_output_is_the_list_of_dumped_events(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=15939,543&conversionId=42&time=1"
    code, out, _ = run_cli(capsys, url, "--json")
    events = json.loads(out)
    assert code == 0
    assert [(e["vendor"], e["event"], e["account_id"], e["position"]) for e in events] == [
        ("linkedin", "conversion", "15939", 0),
        ("linkedin", "conversion", "543", 1),
    ]
    assert set(events[0]) >= {"consent", "user_data", "params", "malformed", "request_id"}


def test_body_from_a_file_implies_post(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "snap.txt"
    body.write_bytes(SNAP_FORM)
    code, out, _ = run_cli(
        capsys,
        "https://tr.snapchat.com/p",
        "--body",
        str(body),
        "--header",
        "Content-Type: application/x-www-form-urlencoded",
    )
    assert code == 0
    assert "[1] snapchat  PURCHASE" in out
    assert "    value          89.9 EUR" in out
    assert "    event_id       ORD-9911-p" in out


def test_body_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SNAP_FORM)))
    code, out, _ = run_cli(capsys, "https://tr.snapchat.com/p", "--body", "-", "--json")
    (event,) = json.loads(out)
    assert (code, event["transaction_id"]) == (0, "ORD-9911")


def test_malformed_events_are_clearly_marked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "https://alb.reddit.com/rp.gif?id=t2_abc&m.itemCount=2")
    assert code == 0
    assert out.splitlines()[0] == "[1] reddit  (malformed)  MALFORMED: no event parameter"


def test_an_unclaimed_request_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "https://shop.example/api/checkout?event=checkout")
    assert (code, out) == (1, "")
    assert err == "no decoder claimed https://shop.example/api/checkout?event=checkout\n"


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["https://tr.snapchat.com/p", "--body", "/nonexistent/body.txt"], "--body"),
        (["https://tr.snapchat.com/p", "--header", "no colon here"], "--header"),
        (["https://tr.snapchat.com/p", "--header", ": empty name"], "--header"),
        (["http://[::1/collect"], "URL"),
        (["https://"], "URL"),
        (["ftp://px.ads.linkedin.com/collect?pid=1"], "URL"),
        (["https://px.ads.linkedin.com/collect?pid=1", "--method", "PO ST"], "--method"),
    ],
)
def test_bad_input_is_one_line_naming_the_argument(
    argv: list[str], names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"eventpath: error: {names}") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_the_console_script_decodes_a_hit() -> None:
    script = shutil.which("eventpath")
    if script is None:
        pytest.skip("the eventpath console script is not installed (pip install -e .)")
    done = subprocess.run(
        [script, "decode", X_PURCHASE, "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    (event,) = json.loads(done.stdout)
    assert (event["vendor"], event["account_id"], event["currency"]) == ("x", "abc123", "USD")


def test_a_ga4_hit_decodes(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("harness.decoders.vendors.ga4")
    url = "https://www.google-analytics.com/g/collect?v=2&tid=G-ABC123XYZ&cid=1.2&en=page_view&dl=https%3A%2F%2Fshop.example%2F"
    code, out, _ = run_cli(capsys, url, "--json")
    events = json.loads(out)
    assert code == 0
    assert [(e["vendor"], e["event"], e["account_id"]) for e in events] == [
        ("ga4", "page_view", "G-ABC123XYZ")
    ]


CAPI_BODY = json.dumps({"data": [{"event_name": "Purchase", "event_time": 1700000000, "event_id": "evt-1",
                                  "action_source": "website", "user_data": {"em": ["a" * 64]},
                                  "custom_data": {"value": 10, "currency": "EUR"}}],
                        "test_event_code": "TEST41541"})  # fmt: skip


def test_server_says_the_hit_came_from_a_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = tmp_path / "capi.json"
    body.write_text(CAPI_BODY)
    url = "https://graph.facebook.com/v19.0/123456789012345/events"
    header = "Content-Type: application/json"
    code, out, _ = run_cli(capsys, url, "--body", str(body), "--header", header, "--json")
    (pasted,) = json.loads(out)
    # Pasted from devtools by default: a page that sends a server API's call gives its token away.
    assert code == 0 and pasted["params"].get("sent_from_browser") is True
    code, out, _ = run_cli(capsys, url, "--body", str(body), "--header", header, "--json", "--server")
    (logged,) = json.loads(out)
    assert code == 0 and logged["source"] == "server" and "sent_from_browser" not in logged["params"]
    assert (logged["event"], logged["event_id"], logged["params"]["test_event_code"]) == ("Purchase", "evt-1", "TEST41541")



def test_a_compressed_body_is_read_as_the_proxy_reads_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # RudderStack's Python SDK gzips its batches by default; a body copied from its log or a capture is gzip.
    import gzip

    batch = {"batch": [{"type": "track", "event": "Order Completed", "messageId": "rs-py-msg-1",
                        "properties": {"order_id": "RS-9001", "revenue": 42.0, "currency": "USD"},
                        "context": {"library": {"name": "analytics-python", "version": "2.1.9"}}}]}  # fmt: skip
    body = tmp_path / "batch.gz"
    body.write_bytes(gzip.compress(json.dumps(batch).encode()))
    args = ["https://hosted.rudderlabs.com/v1/batch", "--body", str(body), "--server", "--json",
            "--header", "Content-Type: application/json", "--header", "Content-Encoding: gzip"]  # fmt: skip
    code, out, _ = run_cli(capsys, *args)
    (event,) = json.loads(out)
    assert code == 0 and (event["vendor"], event["event"], event["transaction_id"]) == ("rudderstack", "Order Completed", "RS-9001")
    # A body that says gzip but is not: read as given, and the decoder says what it is.
    body.write_bytes(b"not gzip")
    code, out, _ = run_cli(capsys, *args)
    (event,) = json.loads(out)
    assert code == 0 and event["malformed"] is True
