"""Incremental refreshes of a store for a live view (Qt-free; runs on a worker thread).

``LiveStore.refresh()`` asks the store what changed since its cursor, refetches only the
displayed series that changed, and returns an immutable :class:`Refresh` for the GUI thread to
apply. Runs whose stored status is RUNNING are re-read on every refresh, because CRASHED is
derived from time (a heartbeat that stops), not from a write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.core.series_cache import SeriesCache
from tracker_sdk import Store
from tracker_sdk.entities import Experiment, RunInfo, RunStatus


@dataclass(frozen=True)
class Refresh:
    cursor: int
    runs: dict[str, RunInfo] = field(default_factory=dict)  # changed or re-read runs
    reset: bool = False  # ``runs`` is the complete set: drop anything not in it
    series: frozenset[tuple[str, str]] = frozenset()  # wanted series whose data changed
    experiments: list[Experiment] | None = None
    artifacts_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.runs or self.reset or self.series or self.experiments or self.artifacts_changed)


class LiveStore:
    def __init__(self, store: Store, cache: SeriesCache | None = None) -> None:
        self.store = store
        self.cache = cache or SeriesCache()
        self.cursor = 0
        self._wanted: frozenset[tuple[str, str]] = frozenset()
        self._live: set[str] = set()  # runs last seen RUNNING
        self._lock = threading.Lock()  # one refresh at a time: the cursor is shared state

    def set_wanted(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The series on screen; only these are fetched when they change."""
        self._wanted = frozenset(pairs)

    def refresh(self, *, artifacts_changed: bool = False) -> Refresh:
        with self._lock:
            # A foreign store (MLflow) is mirrored: pull what it gained first. A big first
            # sync goes on over the next refreshes (``caught_up``), the view filling meanwhile.
            self.store.sync()
            # Series the view does not show are not even listed; a series asked for later is
            # loaded whole by load_series (each cache entry keeps its own cursor).
            cs = self.store.changes_since(self.cursor, series=bool(self._wanted))
            runs = {r.id: r for r in cs.runs}
            for rid in self._live - set(runs):
                try:
                    again = self.store.get_run(rid)
                except KeyError:
                    continue
                if again.status is not RunStatus.RUNNING:  # its process died: CRASHED
                    runs[rid] = again
            self._live = {r.id for r in runs.values() if r.status is RunStatus.RUNNING} | (
                self._live - set(runs))
            if cs.reset:
                self.cache.clear()
            wanted = self._wanted
            changed = {p for p in cs.series if p in wanted}
            updated = frozenset(p for p in changed if self.cache.update(self.store, *p))
            exps = self.store.experiments() if (cs.runs or cs.reset) else None
            self.cursor = cs.cursor
            return Refresh(cs.cursor, runs, cs.reset, updated, exps, artifacts_changed)

    def load_series(self, pairs: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
        """Fetch (or top up) series the view just asked for."""
        with self._lock:
            return frozenset(p for p in pairs if self.cache.update(self.store, *p) or p in self.cache)
