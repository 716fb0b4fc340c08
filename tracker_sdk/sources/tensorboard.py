"""Read a TensorBoard log dir in place, incrementally, and never write to it.

As TensorBoard shows them, a run is a folder holding ``events.out.tfevents.*`` files; its name is
the folder's path relative to the log dir and its id a hash of that path (stable across opens).
Each poll reads only the bytes appended to each event file since the previous one (a per-file
byte offset), at most ``PAGE_BYTES`` in all; new files and folders are found by a walk of the
log dir. A record a writer is still writing (a truncated tail) is read again on the next poll; a
record whose checksum fails is dropped with one warning per file (a bad length ends the file).

Mapping to Runwatch: scalars are series (step, wall time in ms); the hparams plugin's
``session_start_info`` gives params. ``add_hparams`` (tensorboardX, PyTorch) writes them with
their metrics into a subfolder of the training run's folder: that subfolder is folded into the
run above it, so the training run carries its own params and ``hparam/*`` metrics (as an
MLflow user expects, and so the sweep's curves are what gets charted, not one-point "runs");
a folder of hparams with no run above it stays a run of its own. Images are written as PNG files
into a private folder
that serves as the run's artifacts. TensorBoard has no run status: a run is RUNNING while its
files changed within ``LIVE_WINDOW_S``, else FINISHED, ending at its last event.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracker_sdk.errors import StoreError
from tracker_sdk.sources.base import Delta, ForeignRun
from tracker_sdk.sources.tfrecord import FOOTER, HEADER, Events, read_events

PREFIX = "events.out.tfevents."
#: A run whose files changed this recently is RUNNING, else FINISHED. Longer than the writers'
#: default flush interval (tensorboardX, PyTorch and TF2 flush every 120 s) so that a run
#: logging slowly does not flip to FINISHED between two flushes.
LIVE_WINDOW_S = 150.0
#: Bytes of event files read per poll at most (~200k scalar events, ~0.15 s): a first read of a
#: big log dir goes on over several polls (``Delta.more``).
PAGE_BYTES = 8 << 20
#: How deep and how far :func:`is_tensorboard_logdir` looks before it says no.
DETECT_DEPTH = 3
DETECT_ENTRIES = 2000
_ID_NAMESPACE = uuid.UUID("6f1d1f9e-5a8c-4b43-9a57-2d1bfb0c7a11")


def is_tensorboard_logdir(path: Path) -> bool:
    """Whether ``path`` is a folder with an event file at most ``DETECT_DEPTH`` levels down
    (stops at the first one, and after ``DETECT_ENTRIES`` entries)."""
    level, seen = [path], 0
    for _ in range(DETECT_DEPTH + 1):
        below = []
        for folder in level:
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        seen += 1
                        if entry.name.startswith(PREFIX) and entry.is_file():
                            return True
                        if entry.is_dir(follow_symlinks=False):
                            below.append(entry.path)
                        if seen >= DETECT_ENTRIES:
                            return False
            except OSError:
                continue
        level = below
    return False


@dataclass
class _File:
    path: Path
    offset: int = 0  # bytes read: whole records
    size: int = 0
    mtime: float = 0.0
    dead: bool = False  # a corrupt length: nothing after it can be framed
    warned: bool = False


@dataclass
class _Run:
    rel: str
    id: str
    folder: Path
    files: dict[str, _File] = field(default_factory=dict)
    first_ms: int | None = None
    last_ms: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    plugins: dict[str, str] = field(default_factory=dict)  # tag -> plugin name
    artifact_dir: Path | None = None
    into: _Run | None = None  # an add_hparams subfolder: its data goes to this run


class TensorBoardReader:
    """A ForeignReader over a TensorBoard log dir (``runwatch ui ./tb_logs``)."""

    kind = "TensorBoard"

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        self.location = Path(logdir).expanduser().resolve()
        if not self.location.is_dir():
            raise StoreError(f"no TensorBoard log dir at {self.location}")
        self.watch_root = self.location
        self.experiment = self.location.name or str(self.location)
        self._runs: dict[str, _Run] = {}  # by relative folder
        self._sent: dict[str, ForeignRun] = {}
        self._images: Path | None = None  # private folder for decoded images (never the log dir)

    # --- ForeignReader ----------------------------------------------------------------------
    def is_relevant(self, path: Path) -> bool:
        return path.name.startswith(PREFIX) and path.is_relative_to(self.watch_root)

    def notice(self) -> str | None:
        return None

    def close(self) -> None:
        if self._images is not None:
            shutil.rmtree(self._images, ignore_errors=True)
            self._images = None

    def poll(self) -> Delta:
        delta = Delta()
        self._discover(delta)
        budget = PAGE_BYTES
        for run in sorted(self._runs.values(), key=lambda r: r.rel):
            for name in sorted(run.files):
                f = run.files[name]
                if f.dead or f.size <= f.offset:
                    continue
                if budget <= 0:
                    delta.more = True
                    break
                try:
                    budget -= self._read(run, f, budget, delta)
                except OSError:  # gone since the walk (its offset is kept should it return)
                    continue
        self._snapshots(delta, time.time())
        return delta

    # --- reading ----------------------------------------------------------------------------
    def _discover(self, delta: Delta) -> None:
        seen = set()
        for folder, dirs, files in os.walk(self.location):
            dirs.sort()
            names = [n for n in files if n.startswith(PREFIX)]
            if not names:
                continue
            rel = Path(folder).relative_to(self.location).as_posix()
            seen.add(rel)
            run = self._runs.get(rel)
            if run is None:
                run = self._runs[rel] = _Run(rel, uuid.uuid5(_ID_NAMESPACE, rel).hex, Path(folder))
            for n in names:
                f = run.files.get(n)
                if f is None:
                    f = run.files[n] = _File(Path(folder) / n)
                try:
                    st = f.path.stat()
                except OSError:  # removed meanwhile
                    continue
                f.size, f.mtime = st.st_size, st.st_mtime
        for rel in set(self._runs) - seen:  # the folder was deleted
            run = self._runs.pop(rel)
            if self._sent.pop(run.id, None) is not None:
                delta.removed.append(run.id)

    def _read(self, run: _Run, f: _File, budget: int, delta: Delta) -> int:
        """Read what ``f`` gained (up to ``budget`` bytes, or one whole record) into ``delta``;
        the number of bytes read."""
        want = min(f.size - f.offset, max(budget, HEADER))
        data = _read_bytes(f.path, f.offset, want)
        events = read_events(data, run.plugins)
        if events.end == 0 and events.next_length is not None:  # one record bigger than the budget
            whole = events.next_length + HEADER + FOOTER
            if f.offset + whole <= f.size:
                data = _read_bytes(f.path, f.offset, whole)
                events = read_events(data, run.plugins)
        if events.corrupt or events.bad_records:
            self._warn(f, f.offset + (events.bad_at or 0), events.corrupt)
            f.dead = events.corrupt
        if not f.dead and f.offset + len(data) < f.size:
            delta.more = True  # stopped at the page, not at the end of the file
        f.offset += events.end
        self._take(run, events, delta)
        return len(data)

    def _warn(self, f: _File, at: int, dead: bool) -> None:
        if f.warned:
            return
        f.warned = True
        rest = "the rest of the file is skipped" if dead else "the damaged records are skipped"
        warnings.warn(f"{f.path}: corrupt TensorBoard event file (bad checksum at byte {at}); "
                      f"{rest}, everything else is read", RuntimeWarning, stacklevel=4)

    def _take(self, run: _Run, events: Events, delta: Delta) -> None:
        if events.hparams and run.into is None:
            run.into = self._folder_above(run.rel)
        if run.into is not None:
            run.into.params.update(events.hparams)
            self._add_points(run.into, events, delta)
            return
        if events.first_wall is not None and events.last_wall is not None:
            first, last = round(events.first_wall * 1000), round(events.last_wall * 1000)
            run.first_ms = first if run.first_ms is None else min(run.first_ms, first)
            run.last_ms = last if run.last_ms is None else max(run.last_ms, last)
        run.params.update(events.hparams)
        self._add_points(run, events, delta)
        for tag, step, image in events.images:
            self._save_image(run, tag, step, image)

    def _add_points(self, run: _Run, events: Events, delta: Delta) -> None:
        for tag, points in events.scalars.items():
            known = delta.points.get((run.id, tag))
            delta.points[(run.id, tag)] = points if known is None else tuple(  # type: ignore[assignment]
                np.concatenate(pair) for pair in zip(known, points))

    def _save_image(self, run: _Run, tag: str, step: int, image: bytes) -> None:
        if self._images is None:
            self._images = Path(tempfile.mkdtemp(prefix="runwatch-tb-images-"))
        run.artifact_dir = self._images / run.id
        parts = [re.sub(r"[^\w.\- ]", "_", p) or "_" for p in tag.split("/") if p not in ("", ".", "..")]
        folder = run.artifact_dir.joinpath(*(parts or ["image"]))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"step-{step}{_extension(image)}").write_bytes(image)

    # --- runs -------------------------------------------------------------------------------
    def _snapshots(self, delta: Delta, now: float) -> None:
        for run in self._runs.values():
            if run.first_ms is None or run.into is not None:
                continue  # no event yet (TensorBoard shows no run either), or folded above
            live = any(now - f.mtime < LIVE_WINDOW_S for f in run.files.values())
            snap = ForeignRun(
                id=run.id, experiment=self.experiment, name=run.rel, start_time=run.first_ms,
                status="RUNNING" if live else "FINISHED", end_time=None if live else run.last_ms,
                parent_id=self._parent(run.rel), params=dict(run.params),
                environment={"tensorboard_dir": str(run.folder)}, artifact_dir=run.artifact_dir)
            if self._sent.get(run.id) != snap:
                delta.runs.append(snap)
                self._sent[run.id] = snap
            if live:
                delta.live.append(run.id)

    def _parent(self, rel: str) -> str | None:
        """The run of the nearest folder above: nests a run in a run's folder."""
        above = self._folder_above(rel)
        return None if above is None else above.id

    def _folder_above(self, rel: str) -> _Run | None:
        for up in Path(rel).parents:
            parent = self._runs.get(up.as_posix())
            if parent is not None and parent.first_ms is not None and parent.into is None:
                return parent
        return None


def _read_bytes(path: Path, offset: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _extension(image: bytes) -> str:
    if image.startswith(b"\x89PNG"):
        return ".png"
    if image.startswith(b"\xff\xd8"):
        return ".jpg"
    if image.startswith(b"GIF8"):
        return ".gif"
    return ".bin"
