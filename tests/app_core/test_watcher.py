"""The store watcher reacts to writes, and not to a reader's own activity."""

from __future__ import annotations

import threading

import tracker_sdk
from app.core.watcher import StoreWatcher


class Recorder:
    """Collects the watcher's notifications; waits for one kind without sleeping."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, kind: str) -> None:
        with self._changed:
            self.kinds.append(kind)
            self._changed.notify_all()

    def wait_for(self, kind: str | None, timeout: float, since: int = 0) -> bool:
        """True once ``kind`` (any kind when None) was reported at index >= ``since``."""
        def arrived() -> bool:
            return any(kind is None or k == kind for k in self.kinds[since:])

        with self._changed:
            return self._changed.wait_for(arrived, timeout)


def test_a_write_is_reported_and_reads_are_not(tmp_path):
    path = tmp_path / "store"
    run = tracker_sdk.init(store=path)
    run.log({"a": 1.0})
    run.flush()
    seen = Recorder()
    watcher = StoreWatcher(path, seen)
    watcher.start()
    try:
        reader = tracker_sdk.Store(path)
        for _ in range(20):  # a reader opening, reading and closing must not look like a change
            reader.search_runs()
            reader.metric_history(run.id, "a")
        reader.close()
        assert not seen.wait_for(None, 0.3), f"reads were reported as changes: {seen.kinds}"
        run.log({"a": 2.0})
        run.flush()
        assert seen.wait_for("db", 5), "a committed write was not reported"
        # Later "db" events (the writer's heartbeat, a checkpoint) may still arrive: wait for
        # the artifact's own kind rather than for "anything after this point".
        mark = len(seen.kinds)
        run.log_text("hello", "notes/a.txt")
        assert seen.wait_for("artifacts", 5, since=mark), f"an artifact was not reported: {seen.kinds}"
    finally:
        watcher.stop()
        run.finish()
