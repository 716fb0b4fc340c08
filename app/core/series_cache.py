"""Full-resolution metric series kept in memory, updated chunk by chunk.

A series is stored as chunks (see the SDK's store); the cache keeps the chunks it has and asks
the store only for chunks changed after its own cursor, so a live tail costs one small query per
displayed series, never a reload.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from tracker_sdk import Store
from tracker_sdk.entities import MetricChunk


@dataclass
class _Entry:
    chunks: dict[int, MetricChunk] = field(default_factory=dict)
    cursor: int = 0
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


class SeriesCache:
    """Thread-safe: workers call :meth:`update`; anyone may call :meth:`arrays`."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def __contains__(self, item: tuple[str, str]) -> bool:
        return item in self._entries

    def known(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._entries)

    def update(self, store: Store, run_id: str, key: str) -> bool:
        """Fetch what changed for one series; True when its data changed."""
        with self._lock:
            entry = self._entries.setdefault((run_id, key), _Entry())
            since = entry.cursor
        chunks = store.metric_chunks(run_id, key, since=since)
        if not chunks:
            return False
        with self._lock:
            for c in chunks:
                entry.chunks[c.index] = c
                entry.cursor = max(entry.cursor, c.seq)
            entry.arrays = None
        return True

    def arrays(self, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(steps, values, timestamps) of a cached series, or None if never fetched."""
        with self._lock:
            entry = self._entries.get((run_id, key))
            if entry is None:
                return None
            if entry.arrays is None:
                parts = [entry.chunks[i] for i in sorted(entry.chunks)]
                if parts:
                    entry.arrays = (np.concatenate([p.steps for p in parts]),
                                    np.concatenate([p.values for p in parts]),
                                    np.concatenate([p.timestamps for p in parts]))
                else:
                    e = np.empty(0, np.int64)
                    entry.arrays = (e, np.empty(0, np.float64), e)
            return entry.arrays

    def drop_run(self, run_id: str) -> None:
        with self._lock:
            for k in [k for k in self._entries if k[0] == run_id]:
                del self._entries[k]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def nbytes(self) -> int:
        with self._lock:
            return sum(c.steps.nbytes * 3 for e in self._entries.values() for c in e.chunks.values())
