"""The app under test as a process of the suite: started with the harness's environment, ready when its
port accepts connections, stopped (with its children) afterwards, its output kept in a log file.

    with AppProcess(scenario.app, app_environment(proxy.server_url, proxy.ca.cert_path, tmp)) as app:
        ...  # run the scenario; app.log_path goes into the report
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from harness.app_env import merge_env
from harness.errors import EventpathError
from harness.scenario import AppUnderTest

STOP_GRACE_S = 5.0
POLL_INTERVAL_S = 0.05
ERROR_TAIL_LINES = 3
# When no port is given, the app is "up" once it has survived this long (it did not die on startup).
NO_PORT_SETTLE_S = 0.3


class AppStartError(EventpathError):
    pass


def command_text(command: str | list[str]) -> str:
    return command if isinstance(command, str) else " ".join(command)


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class AppProcess:
    """Start ``app.command`` (a string runs in a shell, a list is exec'd) in its own process group.

    Environment: ``base_env`` (default ``os.environ``), then ``app.env``, then ``harness_env`` (the app
    environment wins, so a scenario cannot route the app around the proxy by accident; ``PYTHONPATH``
    is merged). Output (stdout and stderr, interleaved) goes to ``log_path``.
    """

    def __init__(
        self,
        app: AppUnderTest,
        harness_env: Mapping[str, str],
        *,
        log_path: Path | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.env = merge_env(os.environ if base_env is None else base_env, app.env, harness_env)
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="eventpath-app-")) / "app.log"
        self.process: subprocess.Popen[bytes] | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> AppProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # The child keeps its own descriptor; ours can close right away.
            self.process = subprocess.Popen(
                self.app.command,
                shell=isinstance(self.app.command, str),
                cwd=self.app.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group: shell children are stopped with it
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        port = self.app.port
        deadline = time.monotonic() + self.app.startup_timeout_ms / 1000
        settle_until = time.monotonic() + NO_PORT_SETTLE_S
        while True:
            code = self.process.poll()
            if code is not None:
                raise AppStartError(self._describe(f"exited with code {code} before it was ready"))
            if port is not None and port_open(port):
                return
            if port is None and time.monotonic() >= settle_until:
                return
            if time.monotonic() >= deadline:
                raise AppStartError(
                    self._describe(
                        f"did not open port {port} within {self.app.startup_timeout_ms} ms (still running)"
                    )
                )
            time.sleep(POLL_INTERVAL_S)

    def stop(self) -> int | None:
        """Terminate the process group, kill it after a grace period; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                process.wait(STOP_GRACE_S)
        # Children that outlived their shell parent still belong to the group.
        self._signal_group(signal.SIGKILL)
        return process.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- output -----------------------------------------------------------------------------------

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def output_tail(self, lines: int = ERROR_TAIL_LINES) -> str:
        tail = [line.strip() for line in self.output().splitlines() if line.strip()][-lines:]
        return " | ".join(tail)

    def _describe(self, what: str) -> str:
        # One line: the command, what happened, the last lines it printed.
        tail = self.output_tail()
        said = f"; last output: {tail}" if tail else "; it printed nothing"
        return f"app {command_text(self.app.command)!r} {what}{said} (log: {self.log_path})"
