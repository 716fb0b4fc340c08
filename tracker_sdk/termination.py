"""SIGTERM: finish every run as KILLED, write everything queued, then die of SIGTERM.

A Python signal handler runs on the main thread between two of its bytecodes, possibly while
that thread holds a lock the writer thread needs (inside ``Event.set()``, say). Waiting for the
writer from the handler then deadlocks: seen as a process hung for good when SIGTERM landed
in ``finish()``. So the handler takes no lock and waits for nothing: it wakes a helper thread
through a pipe (``os.write`` is signal-safe). The helper finishes the runs and flushes, then
sends SIGTERM again, which the handler now lets through with the default action. Meanwhile
the training loop goes on; logging into a run that was finished this way is silently dropped.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

#: How long the helper may take to write what is queued before the process dies anyway.
DEADLINE_S = 30.0

#: A SIGTERM is being handled: runs are finishing, the process ends when they are written.
terminating = False
_flushed = False
_pid = 0
_wake_fd = -1
_helper: threading.Thread | None = None


def install(finish_all: Callable[[float], None]) -> bool:
    """Handle SIGTERM with ``finish_all(deadline)`` (a time.monotonic() deadline), if nobody
    else handles it and we are on the main thread (Python allows handlers nowhere else).
    Once per process: a forked child inherits the handler but not the helper thread, so it
    gets its own on its first call."""
    global _pid, _wake_fd, _helper, terminating, _flushed
    if _pid == os.getpid():
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None, _on_sigterm):
            return False
        read_fd, wake_fd = os.pipe()
        helper = threading.Thread(target=_serve, args=(read_fd, finish_all), name="runwatch-sigterm",
                                  daemon=True)
        terminating = _flushed = False
        _pid, _wake_fd, _helper = os.getpid(), wake_fd, helper
        helper.start()
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return False
    return True


def wait_for_helper(timeout: float = DEADLINE_S + 5.0) -> None:
    """At interpreter exit during a SIGTERM: let the helper write and end the process."""
    if terminating and _helper is not None:
        _helper.join(timeout)


def _on_sigterm(signum: int, frame: object) -> None:
    global terminating
    if _flushed or os.getpid() != _pid:  # written already, or a forked child: die now
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if not terminating:
        terminating = True
        os.write(_wake_fd, b"t")


def _serve(read_fd: int, finish_all: Callable[[float], None]) -> None:
    global _flushed
    try:
        if not os.read(read_fd, 1):
            return
    except OSError:
        return
    try:
        finish_all(time.monotonic() + DEADLINE_S)
    finally:
        _flushed = True
        os.kill(_pid, signal.SIGTERM)  # the handler lets this one end the process
