"""The store watcher reacts to writes, and not to a reader's own activity."""

from __future__ import annotations

import threading

import tracker_sdk
from app.core.watcher import StoreWatcher


def test_a_write_is_reported_and_reads_are_not(tmp_path):
    path = tmp_path / "store"
    run = tracker_sdk.init(store=path)
    run.log({"a": 1.0})
    run.flush()
    kinds: list[str] = []
    seen = threading.Event()

    def notify(kind: str) -> None:
        kinds.append(kind)
        seen.set()

    watcher = StoreWatcher(path, notify)
    watcher.start()
    try:
        reader = tracker_sdk.Store(path)
        for _ in range(20):  # a reader opening, reading and closing must not look like a change
            reader.search_runs()
            reader.metric_history(run.id, "a")
        reader.close()
        assert not seen.wait(0.3), f"reads were reported as changes: {kinds}"
        run.log({"a": 2.0})
        run.flush()
        assert seen.wait(5), "a committed write was not reported"
        assert "db" in kinds
        seen.clear()
        run.log_text("hello", "notes/a.txt")
        assert seen.wait(5)
        assert "artifacts" in kinds
    finally:
        watcher.stop()
        run.finish()
