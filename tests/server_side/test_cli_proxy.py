"""``eventpath proxy`` as a user runs it: a foreground process printing the app environment, then one
decoded line per server hit; a port in use is one line and exit 2."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.cli import COMMANDS
from tests.server_side.conftest import free_port

CAPI_URL = "https://graph.facebook.com/v19.0/1402533720264604/events"
PROXY = [sys.executable, "-m", "harness.cli.proxy"]


class LineReader:
    """Reads a process's stdout on a thread, so the test can wait for a line with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self.lines.put(line.rstrip("\n")) for line in stream], daemon=True
        ).start()

    def until(self, predicate: object, timeout: float = 20.0) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(line)
            if callable(predicate) and predicate(line):
                return seen
        raise AssertionError(f"no such line within {timeout} s; saw {seen}")


def exported(lines: list[str]) -> dict[str, str]:
    """The variables of ``export K='v'`` lines (the PYTHONPATH suffix keeps the caller's own)."""
    env = {}
    for line in lines:
        if line.startswith("export "):
            key, _, rest = line[len("export ") :].partition("=")
            env[key] = shlex.split(rest.split('"${', 1)[0])[0]
    return env


@pytest.fixture
def running_proxy(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    process = subprocess.Popen(
        [*PROXY, "--port", str(port), "--confdir", str(tmp_path / "ca")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    reader = LineReader(process)
    try:
        header = reader.until(lambda line: line.startswith("# server hits"))
        yield process, reader, port, header, tmp_path / "ca"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_prints_the_env_and_a_decoded_line_per_server_hit(running_proxy) -> None:  # type: ignore[no-untyped-def]
    process, reader, port, header, confdir = running_proxy
    env = exported(header)
    assert env["HTTPS_PROXY"] == f"http://127.0.0.1:{port}"
    assert Path(env["SSL_CERT_FILE"]).parent == confdir
    event = {"event_name": "Purchase", "event_time": int(time.time()), "event_id": "cli-evt-42",
             "custom_data": {"value": 12.5, "currency": "EUR", "order_id": "ORD-CLI-1"}}  # fmt: skip
    curl = subprocess.run(
        ["curl", "-sS", "-X", "POST", CAPI_URL, "-H", "content-type: application/json",
         "--data", json.dumps({"data": [event], "access_token": "t"})],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert curl.returncode == 0 and json.loads(curl.stdout)["events_received"] == 1, curl.stderr
    (line,) = reader.until(lambda text: "cli-evt-42" in text)[-1:]
    assert "meta_capi  Purchase  event_id=cli-evt-42  transaction_id=ORD-CLI-1  value=12.5 EUR" in line
    # A call to the platform's host that is no hit eventpath knows is named so: it went on unread.
    unknown = f"https://graph.facebook.com/v19.0/{CAPI_URL.split('/')[-2]}/customconversions"
    subprocess.run(
        ["curl", "-sS", "-m", "10", "-X", "POST", unknown, "--data", "name=x"],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    (line,) = reader.until(lambda text: "customconversions" in text)[-1:]
    assert "not a tag hit; a meta_capi host" in line and "--sinkhole graph.facebook.com" in line
    process.send_signal(signal.SIGINT)
    assert process.wait(15) == 0


def test_print_env_matches_the_running_proxy_because_the_ca_persists(running_proxy) -> None:  # type: ignore[no-untyped-def]
    _process, _reader, port, header, confdir = running_proxy
    printed = subprocess.run(
        [*PROXY, "--port", str(port), "--confdir", str(confdir), "--print-env"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert exported(printed.stdout.splitlines()) == exported(header)
    assert not printed.stdout.startswith("#")  # only eval-able lines


def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*PROXY, "--port", str(port), "--confdir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.startswith("eventpath: error:") and done.stderr.count("\n") == 1, done.stderr
    assert str(port) in done.stderr


def test_print_env_needs_a_fixed_port(tmp_path: Path) -> None:
    done = subprocess.run([*PROXY, "--print-env", "--confdir", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "--port" in done.stderr


@pytest.mark.skipif("proxy" not in COMMANDS, reason="harness/cli/__init__.py does not list 'proxy' yet")
def test_eventpath_front_door_knows_the_command(tmp_path: Path) -> None:
    from harness.cli import main

    assert main(["proxy", "--print-env", "--port", "8899", "--confdir", str(tmp_path)]) == 0
