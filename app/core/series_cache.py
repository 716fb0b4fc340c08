"""Full-resolution metric series kept in memory, grown by appends only.

A series is stored as chunks (see the SDK's store): sealed chunks never change, and only the
last, open one is rewritten as it fills. The cache asks the store only for chunks changed
after its own cursor and appends the points it has not seen: of the open chunk, those past
what it already held; then every newer chunk. Arrays live in growable buffers, so a live tail
costs O(new points) in memory traffic, and :meth:`SeriesCache.arrays` is O(1) (views, no
concatenation). Anything that is not an append (a reset, a gap) rebuilds the series and bumps
its ``generation``, which tells a consumer that the old points may have changed.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from app.core.growable import Growable

if TYPE_CHECKING:
    from tracker_sdk import Store
    from tracker_sdk.entities import MetricChunk

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]
#: Generations are unique across entries and caches: a series loaded anew (after a reset, in
#: another store) never repeats the number a consumer saw for the old one.
_GENERATIONS = itertools.count(1)


def _empty() -> Arrays:
    return np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64)


@dataclass
class _Entry:
    arrays: Arrays = field(default_factory=_empty)
    owners: tuple[Growable | None, Growable | None, Growable | None] = (None, None, None)
    cursor: int = 0
    open_index: int = -1  # index of the last (open) chunk held
    open_start: int = 0  # where that chunk's points begin in ``arrays``
    generation: int = field(default_factory=lambda: next(_GENERATIONS))  # new when held points may change

    def append(self, steps: np.ndarray, values: np.ndarray, times: np.ndarray) -> None:
        grown = [Growable.extend(a, o, new) for a, o, new in zip(self.arrays, self.owners, (steps, values, times))]
        self.arrays = (grown[0][0], grown[1][0], grown[2][0])
        self.owners = (grown[0][1], grown[1][1], grown[2][1])

    def take(self, chunks: list[MetricChunk]) -> bool:
        """Append what ``chunks`` (sorted by index) add; False when they are not an append."""
        for c in chunks:
            if c.index == self.open_index:
                held = len(self.arrays[0]) - self.open_start
                if c.steps.size < held:
                    return False  # the open chunk shrank: not written by an append
                self.append(c.steps[held:], c.values[held:], c.timestamps[held:])
            elif c.index == self.open_index + 1:
                self.open_index, self.open_start = c.index, len(self.arrays[0])
                self.append(c.steps, c.values, c.timestamps)
            else:
                return False  # an older chunk changed, or one is missing
            self.cursor = max(self.cursor, c.seq)
        return True


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
        chunks = sorted(store.metric_chunks(run_id, key, since=since), key=lambda c: c.index)
        if not chunks:
            return False
        # Only a worker updates a series, one refresh at a time (LiveStore's lock); the lock
        # here guards the swap of arrays against readers on other threads.
        fresh = _Entry()
        ok = entry.take(chunks)
        if not ok:
            fresh.take(sorted(store.metric_chunks(run_id, key, since=0), key=lambda c: c.index))
        with self._lock:
            if not ok:
                self._entries[(run_id, key)] = fresh
        return True

    def arrays(self, run_id: str, key: str) -> Arrays | None:
        """(steps, values, timestamps) of a cached series, or None if never fetched. Views:
        valid for good, never written again (later points go past their end)."""
        with self._lock:
            entry = self._entries.get((run_id, key))
            return None if entry is None else entry.arrays

    def generation(self, run_id: str, key: str) -> int:
        """Changes when the points already held may differ (not on a plain append)."""
        with self._lock:
            entry = self._entries.get((run_id, key))
            return -1 if entry is None else entry.generation

    def drop_run(self, run_id: str) -> None:
        with self._lock:
            for k in [k for k in self._entries if k[0] == run_id]:
                del self._entries[k]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def nbytes(self) -> int:
        with self._lock:
            return sum(a.nbytes for e in self._entries.values() for a in e.arrays)
