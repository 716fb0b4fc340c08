"""The charts' run grouping glue: which runs form which group (from their RunInfo), the
engine computing each grouped panel's lines, and each panel's band overlay.

``BandEngine``: small groups are computed in the redraw; big ones (200 runs x 50k points:
~0.6 s) on a worker thread, one job per panel at a time, coalesced: while a job runs only
the newest request waits, and the last result with the same settings stays on screen so
live data keeps flowing. A generation counter drops results computed before a settings
change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.chart_settings import ChartSettings
from app.core.colors import PALETTE, run_color
from app.core.grouping import Band, group_label
from app.qt.charts.bands import (
    GROUP_PREFIX, BandOverlay, GroupKey, GroupLine, Spec, compute, group_fields, partition,
)
from app.qt.charts.plot import Displays, MetricPlot, RunEntry, ViewState
from app.qt.charts.series import SeriesStore

log = logging.getLogger(__name__)

#: Up to this many member points (to smooth and aggregate) a panel's groups are computed
#: in the redraw (~15 ms); more go to the worker thread.
SYNC_POINTS = 200_000
WORKERS = 2


class BandEngine(QObject):
    """Computes and keeps every grouped panel's lines. ``sig_ready(key)`` when a
    background result for a panel arrived (the view redraws it)."""

    sig_ready = Signal(str)
    _sig_done = Signal(object)  # (generation, key, spec, result or exception), from a worker

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: list[ThreadPoolExecutor] = []  # created on first use
        self._gen = 0  # bumped by clear(): results of older jobs are dropped
        self._results: dict[str, tuple[Spec, list[GroupLine]]] = {}
        self._running: dict[str, Spec] = {}
        self._wanted: dict[str, Spec] = {}
        self._cache: dict[str, dict] = {}
        self._colors: dict[str, str] = {}  # group label -> colour, kept for the session
        self._sig_done.connect(self._on_done)
        self.destroyed.connect(partial(_shutdown, self._pool))

    def lines(self, key: str, spec: Spec) -> list[GroupLine] | None:
        """The groups of panel ``key`` for ``spec``. Computed now when cheap; otherwise
        a job is started and meanwhile the last result with the same settings (or None)
        is returned; ``sig_ready(key)`` follows."""
        res = self._results.get(key)
        if res is not None and res[0] == spec:
            return res[1]
        if key in self._running:
            self._wanted[key] = spec
        elif self._cost(key, spec) <= SYNC_POINTS:
            try:
                out, self._cache[key] = compute(spec, self._cache.get(key))
            except Exception:  # noqa: BLE001 - a bad series must not break the redraw
                log.exception("grouping %s failed", key)
                out = []
            lines = self._lines(spec, out)
            self._results[key] = (spec, lines)
            return lines
        else:
            self._submit(key, spec)
        return res[1] if res is not None and res[0].params == spec.params else None

    def busy(self) -> bool:
        return bool(self._running or self._wanted)

    def clear(self, keys: Sequence[str] | None = None) -> None:
        """Forget the results of ``keys`` (None: all, and drop running jobs' results)."""
        if keys is None:
            self._gen += 1
            for d in (self._results, self._running, self._wanted, self._cache):
                d.clear()
            return
        for k in keys:
            for d in (self._results, self._wanted, self._cache):
                d.pop(k, None)

    # ---------------------------------------------------------------- internals
    def _cost(self, key: str, spec: Spec) -> int:
        cache = self._cache.get(key)
        old = cache["groups"] if cache and cache["params"] == spec.params else {}
        return sum(n for gk, members in spec.groups
                   if (hit := old.get(gk)) is None or hit[0] != members
                   for *_, n in members)

    def _submit(self, key: str, spec: Spec) -> None:
        if not self._pool:
            self._pool.append(ThreadPoolExecutor(WORKERS, thread_name_prefix="runwatch-bands"))
        self._running[key] = spec
        gen, cache = self._gen, self._cache.get(key)

        def job() -> None:
            try:
                result: Any = compute(spec, cache)
            except Exception as e:  # noqa: BLE001 - reported on the GUI thread
                result = e
            try:
                self._sig_done.emit((gen, key, spec, result))
            except RuntimeError:  # the view was deleted meanwhile
                pass

        self._pool[0].submit(job)

    def _on_done(self, msg: tuple) -> None:
        gen, key, spec, result = msg
        if gen != self._gen:
            return
        self._running.pop(key, None)
        if isinstance(result, Exception):
            log.error("grouping %s failed", key, exc_info=result)
            lines: list[GroupLine] = []
        else:
            out, self._cache[key] = result
            lines = self._lines(spec, out)
        self._results[key] = (spec, lines)
        wanted = self._wanted.pop(key, None)
        if wanted is not None and wanted != spec:
            self._submit(key, wanted)
        self.sig_ready.emit(key)

    def _lines(self, spec: Spec, out: list[tuple[GroupKey, tuple, Band]]) -> list[GroupLine]:
        by = spec.params[4]
        shown = [(group_label(by, gk), ids, b) for gk, ids, b in out if b.n_runs]
        colors = self._assign_colors([label for label, _, _ in shown])
        return [GroupLine(GROUP_PREFIX + label, label, colors[label], ids, b)
                for label, ids, b in shown]

    def _assign_colors(self, labels: list[str]) -> dict[str, str]:
        """Distinct palette colours in group order (the palette's order is its most
        distinct one); a group keeps its colour for the session while no earlier group
        holds it, so colours do not shuffle when groups come and go."""
        out: dict[str, str] = {}
        taken: set[str] = set()
        for label in labels:
            c = self._colors.get(label)
            if c is not None and c not in taken:
                out[label] = c
                taken.add(c)
        for label in labels:
            if label in out:
                continue
            c = next((c for c in PALETTE if c not in taken), None) or run_color(label, 99)
            out[label] = self._colors[label] = c
            taken.add(c)
        return out


def _shutdown(pool: list[ThreadPoolExecutor], *_args: Any) -> None:
    for p in pool:
        p.shutdown(wait=False, cancel_futures=True)


class Grouping(QObject):
    """What the ChartsView needs to draw grouped panels. ``sig_ready(key)``: a panel's
    groups were computed in the background and it should be redrawn."""

    sig_ready = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = BandEngine(self)
        self.engine.sig_ready.connect(self.sig_ready)
        self._infos: dict[str, Any] = {}
        self._partition: dict | None = None  # group key -> run ids
        self.overlays: dict[str, BandOverlay] = {}
        self.lines: dict[str, list[GroupLine]] = {}

    def set_info(self, runs: Mapping[str, Any]) -> bool:
        """Keep the RunInfo by id; True if any run's params or tags changed."""
        old = {r: (i.params, i.tags) for r, i in self._infos.items()}
        self._infos = dict(runs)
        changed = {r: (i.params, i.tags) for r, i in self._infos.items()} != old
        if changed:
            self._partition = None
        return changed

    def fields(self, runs: Sequence[RunEntry]) -> list[str]:
        return group_fields([self._infos[r.run_id] for r in runs if r.run_id in self._infos])

    def reset(self, settings: bool = False) -> None:
        """The runs (or, with ``settings``, the grouping settings) changed."""
        self._partition = None
        if settings:
            self.engine.clear()

    def attach(self, plot: MetricPlot) -> None:
        plot.bands = self.overlays[plot.key] = BandOverlay(plot)

    def detach(self, key: str) -> None:
        self.overlays.pop(key, None)
        self.lines.pop(key, None)
        self.engine.clear([key])

    def content(self, key: str, runs: Sequence[RunEntry], store: SeriesStore,
                s: ChartSettings, state: ViewState) -> tuple[list[RunEntry], Displays, bool]:
        """(entries, displays, pending) of a grouped panel: one line per group."""
        if self._partition is None:
            self._partition = partition([r.run_id for r in runs], self._infos, s.group_by)
        starts = {r.run_id: r.start_ms for r in runs}
        groups, pending = [], False
        for gk, ids in self._partition.items():
            found = [(r, store.get(r, key)) for r in ids]
            pending = pending or any(s is None for _, s in found)
            groups.append((gk, tuple((r, starts[r], s, len(s)) for r, s in found if s is not None)))
        params = (s.x_axis, s.smoothing, s.group_center, s.group_band, s.group_by)
        lines = self.engine.lines(key, Spec(params, tuple(groups)))
        self.set_lines(key, lines or [], state.log_y)
        entries = [RunEntry(g.id, g.legend, g.color, 0) for g in lines or ()]
        return entries, {g.id: (None, g.display(state.log_y)) for g in lines or ()}, \
            pending or lines is None

    def set_lines(self, key: str, lines: list[GroupLine], log_y: bool) -> None:
        self.lines[key] = lines
        self.overlays[key].set_lines(lines, log_y)

    def sync(self, key: str, x_range: tuple[float, float] | None) -> None:
        self.overlays[key].sync(x_range)

    def apply_theme(self) -> None:
        for overlay in self.overlays.values():
            overlay.apply_theme()

    def busy(self) -> bool:
        return self.engine.busy()
