"""``StoreSession``: one open store, kept live (watcher + debounce + poll → incremental refresh).

All store access happens on the session's worker thread; the GUI thread receives immutable
results through signals. Refreshes are coalesced: while one runs, further triggers only mark
the session dirty, and one more refresh follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.live import LiveStore, Refresh
from app.core.watcher import StoreWatcher, foreign_classifier
from app.qt.workers import Worker
from tracker_sdk import Store, TrackerError, open_store

#: Wait this long after the last file event before reading: the -wal event can precede the
#: commit's visibility (measured: 10 ms gave 100/100 fresh reads).
DEBOUNCE_MS = 30
#: Safety net for file systems without inotify, and for CRASHED detection (time-derived).
POLL_MS = 2000


class StoreSession(QObject):
    sig_opened = Signal(object)  # Store
    """The store opened; a full refresh follows."""
    sig_refreshed = Signal(object)  # Refresh
    """Changes applied since the last refresh (runs, series, experiments)."""
    sig_series_loaded = Signal(object)  # frozenset[(run_id, key)]
    """Series the view asked for are in the cache."""
    sig_checked = Signal()
    """A refresh finished, whether or not it found changes (the registry is read on this)."""
    sig_error = Signal(str)
    """A one-line, user-facing error (open failed, edit failed)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = Worker(self)
        self.store: Store | None = None
        self.live: LiveStore | None = None
        self._watcher: StoreWatcher | None = None
        self._busy = False
        self._dirty = False
        self._artifacts_dirty = False
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self.refresh)
        self._touched.connect(self._on_touched)
        self.refresh_count = 0

    _touched = Signal(str)  # from watchdog's thread; queued to ours

    # --- opening ------------------------------------------------------------------------------
    def open(self, path: str | Path, *, create: bool = False) -> None:
        self.close()

        def work() -> Store:
            # A Runwatch store, or another tool's (MLflow) opened in place, read-only.
            return Store(path, create=True) if create else open_store(path)

        self.worker.submit(work, self._on_opened, self._on_open_failed)

    def _on_opened(self, store: Store) -> None:
        self.store = store
        self.live = LiveStore(store)
        try:
            self._watcher = _watcher_for(store, self._touched.emit)
            self._watcher.start()
        except OSError:
            self._watcher = None  # no inotify: the poll still keeps the view live
        self._poll.start()
        self.sig_opened.emit(store)
        self.refresh()

    def _on_open_failed(self, e: BaseException) -> None:
        self.sig_error.emit(str(e) if isinstance(e, TrackerError | OSError) else f"cannot open the store: {e}")

    def close(self) -> None:
        self._poll.stop()
        self._debounce.stop()
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self.store is not None:
            store = self.store
            self.worker.submit(store.close)
        self.store = None
        self.live = None

    # --- live refresh -------------------------------------------------------------------------
    def _on_touched(self, kind: str) -> None:
        if kind == "artifacts":
            self._artifacts_dirty = True
        self._debounce.start()

    def refresh(self) -> None:
        live = self.live
        if live is None:
            return
        if self._busy:
            self._dirty = True
            return
        self._busy, self._dirty = True, False
        artifacts, self._artifacts_dirty = self._artifacts_dirty, False

        def done(result: Refresh) -> None:
            self._busy = False
            self.refresh_count += 1
            if live is self.live and not result.empty:
                self.sig_refreshed.emit(result)
            if live is self.live:
                self.sig_checked.emit()
            # A foreign store's first read continues in slices until it has caught up.
            if self._dirty or (live is self.live and not live.store.caught_up):
                self.refresh()

        def failed(e: BaseException) -> None:
            self._busy = False
            self.sig_error.emit(f"refresh failed: {e}")

        self.worker.submit(lambda: live.refresh(artifacts_changed=artifacts), done, failed)

    def want_series(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Make these series live; load any not yet cached (result: sig_series_loaded)."""
        live = self.live
        if live is None:
            return
        pairs = list(pairs)
        live.set_wanted(set(live._wanted) | set(pairs))
        missing = [p for p in pairs if p not in live.cache]
        if missing:
            self.worker.submit(lambda: live.load_series(missing), self.sig_series_loaded.emit)

    def submit(self, read: Callable[[Store], Any], done: Callable[[Any], None]) -> None:
        """Run ``read(store)`` on the worker; ``done(result)`` back on the GUI thread (dropped
        if another store was opened meanwhile). Errors go to sig_error as one line."""
        store = self.store
        if store is None:
            return

        def finished(result: Any) -> None:
            if store is self.store:
                done(result)

        self.worker.submit(lambda: read(store), finished,
                           lambda e: self.sig_error.emit(str(e) if isinstance(e, TrackerError) else f"{e}"))

    def arrays(self, run_id: str, key: str) -> Any:
        return None if self.live is None else self.live.cache.arrays(run_id, key)

    def generation(self, run_id: str, key: str) -> int:
        """Changes when a cached series' earlier points may have changed (see SeriesCache)."""
        return -1 if self.live is None else self.live.cache.generation(run_id, key)

    # --- edits (through the SDK's public write API) -------------------------------------------
    def edit(self, fn: Callable[[Store], Any], on_done: Callable[[Any], None] | None = None) -> None:
        store = self.store
        if store is None:
            return

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)
            self.refresh()

        self.worker.submit(lambda: fn(store), done,
                           lambda e: self.sig_error.emit(str(e) if isinstance(e, TrackerError) else f"edit failed: {e}"))

    def call(self, fn: Callable[[Store], Any], on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None] | None = None) -> None:
        """A read on the worker thread (e.g. a filtered search)."""
        store = self.store
        if store is not None:
            self.worker.submit(lambda: fn(store), on_done, on_error or (lambda e: self.sig_error.emit(str(e))))

    def shutdown(self) -> None:
        self.close()
        self.worker.shutdown()


def _watcher_for(store: Store, notify: Callable[[str], None]) -> StoreWatcher:
    """A Runwatch store's folder, or the files another tool's reader reads (MLflow: the folder
    holding its database, not below it; TensorBoard: the whole log dir)."""
    reader = getattr(store, "reader", None)
    if reader is None:
        return StoreWatcher(store.path, notify)
    return StoreWatcher(reader.watch_root, notify, classifier=foreign_classifier(reader.is_relevant),
                        recursive=getattr(reader, "watch_recursive", True))
