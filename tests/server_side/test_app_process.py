"""AppProcess: environment, readiness by port, one-line errors, stopping the whole process group."""

from __future__ import annotations

import sys
import time

import pytest

from harness.app_process import AppProcess, AppStartError, port_open
from harness.errors import EventpathError
from harness.scenario import AppUnderTest
from tests.server_side.conftest import free_port

HARNESS_ENV = {"HTTPS_PROXY": "http://127.0.0.1:1", "EVENTPATH_MARK": "from-harness"}


def test_shell_command_gets_the_env_waits_for_the_port_and_dies_with_its_children() -> None:
    port = free_port()
    # A shell whose child (python) holds the port: stopping must reach the child too.
    command = (
        'echo "proxy=$HTTPS_PROXY mark=$EVENTPATH_MARK own=$APP_OWN"; '
        f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
    )
    app = AppUnderTest(command=command, port=port, env={"APP_OWN": "yes", "EVENTPATH_MARK": "from-scenario"})
    with AppProcess(app, HARNESS_ENV) as process:
        assert port_open(port)
        assert "proxy=http://127.0.0.1:1 mark=from-harness own=yes" in process.output()
    deadline = time.monotonic() + 5
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_open(port), "the shell's child outlived stop()"


def test_list_command_is_executed_without_a_shell() -> None:
    port = free_port()
    app = AppUnderTest(
        command=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], port=port
    )
    process = AppProcess(app, {}).start()
    try:
        assert port_open(port)
    finally:
        assert process.stop() is not None


def test_command_that_exits_names_command_code_and_its_last_output() -> None:
    code = (
        "import sys; print('starting'); print('error: DATABASE_URL is not set', file=sys.stderr); sys.exit(3)"
    )
    app = AppUnderTest(command=[sys.executable, "-c", code], port=free_port())
    with pytest.raises(AppStartError) as raised:
        AppProcess(app, {}).start()
    message = str(raised.value)
    assert isinstance(raised.value, EventpathError) and "\n" not in message
    assert "exited with code 3" in message and "DATABASE_URL is not set" in message and "-c" in message


def test_port_that_never_opens_times_out_and_stops_the_app() -> None:
    port = free_port()
    app = AppUnderTest(command="echo waiting for nothing; sleep 30", port=port, startup_timeout_ms=400)
    process = AppProcess(app, {})
    began = time.monotonic()
    with pytest.raises(AppStartError, match=rf"did not open port {port} within 400 ms.*waiting for nothing"):
        process.start()
    assert time.monotonic() - began < 10
    assert process.process is not None and process.process.poll() is not None  # stopped, not leaked


def test_without_a_port_an_app_that_survives_startup_is_up() -> None:
    app = AppUnderTest(command=[sys.executable, "-c", "import time; time.sleep(30)"])
    with AppProcess(app, {}) as process:
        assert process.process is not None and process.process.poll() is None
    assert process.process.poll() is not None
