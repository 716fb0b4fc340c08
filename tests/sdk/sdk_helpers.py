"""Helpers shared by the SDK tests: polling with a deadline, child processes, a fresh reader."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class Child:
    """A ``python -c`` child process whose stdout lines are collected by a reader thread."""

    def __init__(self, code: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)], cwd=str(cwd or REPO), env=full_env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.stderr = ""
        self._out = threading.Thread(target=self._read_stdout, daemon=True)
        self._err = threading.Thread(target=self._read_stderr, daemon=True)
        self._out.start()
        self._err.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def wait_for_line(self, prefix: str, timeout: float = 30.0) -> str:
        def found() -> str | None:
            for line in reversed(self.lines):
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None and not self._out.is_alive():
                pytest.fail(f"child exited ({self.proc.returncode}) before printing {prefix!r}:\n"
                            f"{self.finish_output()}")
            return None

        return wait_until(found, timeout, message=f"the child to print {prefix!r}")

    def finish_output(self) -> str:
        self._err.join(5.0)
        return f"stdout: {self.lines[-5:]}\nstderr: {self.stderr[-3000:]}"

    def wait(self, timeout: float = 60.0) -> int:
        rc = self.proc.wait(timeout)
        self._out.join(5.0)
        self._err.join(5.0)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()


def wait_for_environment(store: Any, run_id: str, timeout: float = 10.0) -> None:
    """Wait until the run's background environment capture has reached the store."""
    wait_until(lambda: "cwd" in store.get_run(run_id).environment, timeout,
               message=f"the environment of run {run_id} to be captured")


def close_sdk_state() -> None:
    """Finish every live run and close every writer and cached store the SDK holds, so no
    thread or open database outlives a test."""
    import sys

    api = sys.modules.get("tracker_sdk.api")
    if api is None:
        return
    api._finish_all("FINISHED")
    with api._lock:
        writers, stores = list(api._writers.values()), list(api._stores.values())
        api._writers.clear()
        api._stores.clear()
    for w in writers:
        w.close(timeout=30.0)
    for s in stores:
        s.close()
