"""Read an MLflow file store (``mlruns/``) in place, incrementally, and never write to it.

MLflow's layout: ``<experiment>/meta.yaml``, ``<experiment>/<run>/meta.yaml``, one file per
param and tag (``params/<key>``, ``tags/<key>``) and per metric (``metrics/<key>``: lines
``timestamp value step``); a key with "/" is nested folders. A deleted experiment moves to
``.trash/``; a deleted run only says so in its meta.yaml.

Live by size: MLflow only ever appends to a metric file, so a poll reads the bytes past what it
read before, up to the last complete line (a line MLflow is still writing waits for the next
poll). meta.yaml, params and tags are re-read only when their stat signature changed. A poll
reads at most ``PAGE_BYTES`` and says ``more``. Runs map to Runwatch as in
:mod:`tracker_sdk.sources.mlflow_common`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import yaml

from tracker_sdk.errors import StoreError
from tracker_sdk.sources.base import Delta, ForeignRun, Points
from tracker_sdk.sources.mlflow_common import artifact_dir, mlflow_run

#: Bytes read per poll at most (metric lines; each small file counts ``_FILE_COST`` more).
PAGE_BYTES = 4 << 20
_FILE_COST = 2048  # opening a small file costs about as much as parsing this many metric bytes
_MIN_READ = 64 << 10  # a metric read always gets at least this far, so a long line can complete
TRASH = ".trash"
#: Folders of an experiment that are not runs (MLflow's FileStore.RESERVED_EXPERIMENT_FOLDERS).
_RESERVED = frozenset({"tags", "datasets", "traces", "models"})
_RUN_PARTS = frozenset({"metrics", "params", "tags"})
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

Sig = tuple[int, int, int, int]


def is_mlflow_file_store(path: Path) -> bool:
    """Whether ``path`` is a folder laid out as MLflow's file store: a ``.trash`` folder, or
    experiments (``<digits>/meta.yaml``)."""
    try:
        if not path.is_dir():
            return False
        if (path / TRASH).is_dir():
            return True
        with os.scandir(path) as entries:
            return any(e.name.isdigit() and e.is_dir() and os.path.isfile(os.path.join(e.path, "meta.yaml"))
                       for e in entries)
    except OSError:
        return False


def mlflow_file_store_at(location: str | os.PathLike[str]) -> Path | None:
    """The folder ``location`` (a path or a ``file:`` URI) names when it is an MLflow file
    store and not a Runwatch store."""
    path = _as_path(location)
    if (path / "runwatch.db").exists() or not is_mlflow_file_store(path):
        return None
    return path


def _as_path(location: str | os.PathLike[str]) -> Path:
    text = os.fspath(location)
    if text.startswith("file:"):
        text = unquote(urlparse(text).path)
    return Path(text).expanduser()


@dataclass
class _Run:
    """What was read of one run folder: the inputs of its snapshot and its metrics' offsets."""

    meta_sig: Sig | None = None
    meta: dict | None = None  # type: ignore[type-arg]  # the last meta.yaml that parsed
    params: dict[str, tuple[Sig, str]] = field(default_factory=dict)
    tags: dict[str, tuple[Sig, str]] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)  # metric key -> bytes read (whole lines)
    place: tuple[str, bool] | None = None  # (experiment name, experiment deleted)
    snapshot: ForeignRun | None = None


class MlflowFileReader:
    """A ForeignReader over an MLflow file store (``./mlruns``, ``file:///…/mlruns``)."""

    kind = "MLflow"

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = _as_path(location).resolve()
        if not self.location.is_dir():
            raise StoreError(f"no MLflow file store at {self.location}")
        self.watch_root = self.location
        self._experiments: dict[Path, tuple[Sig, dict | None]] = {}  # type: ignore[type-arg]
        self._runs: dict[str, _Run] = {}
        self._warned: set[Path] = set()
        self._left = PAGE_BYTES

    # --- ForeignReader ----------------------------------------------------------------------
    def is_relevant(self, path: Path) -> bool:
        try:
            parts = path.relative_to(self.watch_root).parts
        except ValueError:
            return False
        if parts[:1] == (TRASH,):
            parts = parts[1:]
        if not parts or not parts[0].isdigit() or (len(parts) > 1 and parts[1] in _RESERVED):
            return False  # not an experiment (the model registry's models/), or not a run in one
        if len(parts) <= 2:
            return True  # an experiment's meta.yaml, or a run or experiment folder itself
        return parts[2] in _RUN_PARTS or (len(parts) == 3 and parts[2] == "meta.yaml")

    def notice(self) -> str | None:
        return None

    def close(self) -> None:
        pass

    def poll(self) -> Delta:
        self._left = PAGE_BYTES
        delta = Delta()
        present = set()
        try:
            folders = dict(self._experiment_dirs())
            self._experiments = {f: m for f, m in self._experiments.items() if f in folders}
            for exp_dir, trashed in folders.items():
                exp = self._experiment(exp_dir)
                if exp is None:
                    continue
                place = (str(exp.get("name") or exp_dir.name), trashed or exp.get("lifecycle_stage") == "deleted")
                for run_dir in _subdirs(exp_dir):
                    if run_dir.name in _RESERVED:
                        continue
                    present.add(run_dir.name)
                    if self._left <= 0:
                        delta.more = True
                        continue
                    try:
                        self._read_run(run_dir, place, delta)
                    except (FileNotFoundError, NotADirectoryError):
                        continue  # moved (experiment deleted, restored) or removed while read
        except OSError as e:
            raise StoreError(f"cannot read the MLflow file store {self.location}: {e}") from e
        for run_id in [r for r in self._runs if r not in present]:
            if self._runs.pop(run_id).snapshot is not None:
                delta.removed.append(run_id)  # gone for good (mlflow gc)
        delta.live = [rid for rid, r in self._runs.items() if r.snapshot is not None
                      and r.snapshot.status == "RUNNING" and r.snapshot.deleted_time is None]
        return delta

    # --- reading ----------------------------------------------------------------------------
    def _experiment_dirs(self) -> Iterator[tuple[Path, bool]]:
        yield from ((d, False) for d in _subdirs(self.location) if not d.name.startswith("."))
        yield from ((d, True) for d in _subdirs(self.location / TRASH))

    def _experiment(self, folder: Path) -> dict | None:  # type: ignore[type-arg]
        path = folder / "meta.yaml"
        try:
            sig = _sig(path.stat())
        except (FileNotFoundError, NotADirectoryError):
            return None  # not an experiment (the model registry's models/), or being created
        known = self._experiments.get(folder)
        if known is None or known[0] != sig:
            parsed = self._yaml(path, "name")
            known = (sig, parsed if parsed is not None else (known[1] if known else None))
            self._experiments[folder] = known
        return known[1]

    def _read_run(self, run_dir: Path, place: tuple[str, bool], delta: Delta) -> None:
        run_id = run_dir.name
        state = self._runs.setdefault(run_id, _Run())
        meta_path = run_dir / "meta.yaml"
        st = meta_path.stat()
        changed = state.place != place
        if _sig(st) != state.meta_sig:
            self._left -= st.st_size + _FILE_COST
            state.meta_sig = _sig(st)
            parsed = self._yaml(meta_path, "run_id", "run_uuid")
            if parsed is not None:
                state.meta, changed = parsed, True
        if state.meta is None:
            return  # malformed (warned) or still being written
        changed |= self._refresh(run_dir / "params", state.params)
        changed |= self._refresh(run_dir / "tags", state.tags)
        if changed or state.snapshot is None:
            state.place = place
            run = self._snapshot(run_id, run_dir, state.meta, state, place)
            if run != state.snapshot:
                delta.runs.append(run)
                state.snapshot = run
        self._read_metrics(run_id, run_dir / "metrics", state, delta)

    def _snapshot(self, run_id: str, run_dir: Path, meta: dict, state: _Run,  # type: ignore[type-arg]
                  place: tuple[str, bool]) -> ForeignRun:
        status = meta.get("status")
        uri = _text(meta.get("artifact_uri"))
        folder = artifact_dir(uri, self.location.parent / "mlartifacts")
        if (folder is None or not folder.is_dir()) and (run_dir / "artifacts").is_dir():
            folder = run_dir / "artifacts"  # the store was moved or copied: its URIs name the old place
        return mlflow_run(
            run_id, place[0], name=_text(meta.get("run_name")),
            status=_STATUS.get(status) if isinstance(status, int) else _text(status),
            start=_int(meta.get("start_time")), end=_int(meta.get("end_time")),
            deleted=place[1] or meta.get("lifecycle_stage") == "deleted",
            deleted_time=_int(meta.get("deleted_time")), user=_text(meta.get("user_id")),
            artifact_uri=uri, tags={k: v for k, (_, v) in state.tags.items()},
            params={k: v for k, (_, v) in state.params.items()}, artifact_dir=folder)

    def _refresh(self, folder: Path, known: dict[str, tuple[Sig, str]]) -> bool:
        """Re-read the one-value files (params, tags) whose signature changed; True if any did."""
        found = _files(folder)
        changed = False
        for key in [k for k in known if k not in found]:
            del known[key]  # a deleted tag
            changed = True
        for key, st in found.items():
            sig = _sig(st)
            if key in known and known[key][0] == sig:
                continue
            self._left -= st.st_size + _FILE_COST
            try:
                known[key] = (sig, (folder / key).read_text(encoding="utf-8", errors="replace"))
            except FileNotFoundError:
                known.pop(key, None)
            changed = True
        return changed

    def _read_metrics(self, run_id: str, folder: Path, state: _Run, delta: Delta) -> None:
        for key, st in _files(folder).items():
            done = state.offsets.get(key, 0)
            if st.st_size < done:
                # Rewritten, not appended to (a store copied over this one): read the run anew.
                del self._runs[run_id]
                delta.removed.append(run_id)
                delta.points = {k: v for k, v in delta.points.items() if k[0] != run_id}
                delta.runs = [r for r in delta.runs if r.id != run_id]
                delta.more = True
                return
            if st.st_size == done:
                continue
            if self._left <= 0:
                delta.more = True
                return
            want = min(st.st_size - done, max(self._left, _MIN_READ))
            with open(folder / key, "rb") as f:
                f.seek(done)
                data = f.read(want)
            end = data.rfind(b"\n") + 1  # 0: one line, still being written
            delta.more |= want < st.st_size - done
            self._left -= end
            if end:
                state.offsets[key] = done + end
                points = self._parse(data[:end], folder / key)
                if points[0].size:
                    delta.points[(run_id, key)] = points

    def _parse(self, data: bytes, path: Path) -> Points:
        """Whole lines of a metric file -> (steps, values, timestamps); NaN and ±inf as written."""
        n = data.count(b"\n")
        tokens = data.split()
        if len(tokens) == 3 * n and _three_fields(data):
            try:
                return (np.fromiter(map(int, tokens[2::3]), np.int64, n),
                        np.fromiter(map(float, tokens[1::3]), np.float64, n),
                        np.fromiter(map(int, tokens[0::3]), np.int64, n))
            except ValueError:
                pass
        # MLflow also writes "timestamp value" (no step) and "... dataset digest" lines.
        rows, bad = [], 0
        for line in data.splitlines():
            parts = line.split()
            try:
                if len(parts) not in (2, 3, 5):
                    raise ValueError
                rows.append((int(parts[2]) if len(parts) > 2 else 0, float(parts[1]), int(parts[0])))
            except ValueError:
                bad += 1
        if bad:
            self._warn(path, f"skipped {bad} malformed line(s) of the MLflow metric file {path}")
        steps, values, times = zip(*rows) if rows else ((), (), ())
        return (np.array(steps, np.int64), np.array(values, np.float64), np.array(times, np.int64))

    def _yaml(self, path: Path, *keys: str) -> dict | None:  # type: ignore[type-arg]
        """``path`` parsed when it is a mapping with one of ``keys``; None (warned once) if not.
        An empty file is one MLflow is writing: None, quietly."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            return self._malformed(path, e)
        if not text.strip():
            return None
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as e:
            return self._malformed(path, e)
        if not isinstance(parsed, dict) or not any(k in parsed for k in keys):
            return self._malformed(path, f"no {keys[0]}")
        self._warned.discard(path)
        return parsed

    def _malformed(self, path: Path, why: object) -> None:
        reason = str(why).strip().splitlines()[0] if str(why).strip() else type(why).__name__
        self._warn(path, f"skipped {path}: not a valid MLflow meta.yaml ({reason}); fix or remove it")

    def _warn(self, path: Path, text: str) -> None:
        if path not in self._warned:  # once per file, not at every poll
            self._warned.add(path)
            warnings.warn(f"runwatch: {text}", RuntimeWarning, stacklevel=2)


def _three_fields(data: bytes) -> bool:
    """Whether every line has exactly two spaces ("timestamp value step")."""
    b = np.frombuffer(data, np.uint8)
    spaces = np.cumsum(b == 32)[b == 10]
    return bool((np.diff(spaces, prepend=0) == 2).all())


def _sig(st: os.stat_result) -> Sig:
    # ctime too: MLflow replaces meta.yaml by a copy that keeps the temporary file's mtime.
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _subdirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _files(folder: Path | str, prefix: str = "") -> dict[str, os.stat_result]:
    """Files under ``folder`` by key ("a/b" for folder a, file b) with their stat. Plain
    strings, not Paths: this runs for every file of the store at each poll."""
    found: dict[str, os.stat_result] = {}
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.is_dir():
                    found.update(_files(e.path, f"{prefix}{e.name}/"))
                elif e.is_file():
                    try:
                        found[prefix + e.name] = e.stat()
                    except FileNotFoundError:
                        continue
    except (FileNotFoundError, NotADirectoryError):
        pass
    return found


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
