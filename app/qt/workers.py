"""Run blocking work off the GUI thread and deliver the result on it.

One serial executor per owner keeps store reads ordered (a refresh never races another). The
callback crosses threads through a Qt signal, which Qt queues to the receiver's (GUI) thread.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

_log = logging.getLogger("runwatch.app")


class Worker(QObject):
    """``submit(fn, on_done, on_error)``: fn runs on a worker thread, callbacks on the GUI thread."""

    _finished = Signal(object, object, object)  # callback, result, error

    def __init__(self, parent: QObject | None = None, threads: int = 1, name: str = "runwatch-io") -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        # Always queued: a job that finishes before submit() returns must not call back inside it.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.pending = 0
        self._shut = False

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> Future[Any]:
        if self._shut:  # a late callback asking for more work while the window closes: drop it
            fut: Future[Any] = Future()
            fut.cancel()
            return fut
        self.pending += 1

        def done(f: Future[Any]) -> None:
            if f.cancelled():  # shutting down: nobody waits for this any more
                return
            err = f.exception()
            self._finished.emit((on_done, on_error), None if err else f.result(), err)

        fut = self._pool.submit(fn)
        fut.add_done_callback(done)
        return fut

    def _deliver(self, callbacks: tuple[Any, Any], result: Any, error: BaseException | None) -> None:
        self.pending -= 1
        on_done, on_error = callbacks
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                _log.error("background task failed: %s", "".join(traceback.format_exception(error)))
        elif on_done is not None:
            on_done(result)

    def shutdown(self) -> None:
        self._shut = True
        self._pool.shutdown(wait=False, cancel_futures=True)
